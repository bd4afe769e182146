"""Shared pieces of the frame and clip experts: weights provenance, device, row times, resize/crop,
and sessions that batch frames across the decoder's chunks (one forward per `batch_size` frames
or clips, not one per chunk).

torch is imported inside functions, so importing this module stays cheap.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vidseek.extract.experts.base import ExpertOptions, ExpertSession, ExpertSpec, WeightsInfo
from vidseek.extract.experts.cards import read_label_file
from vidseek.types import AudioChunk, Features, FrameBatch, VideoInfo
from vidseek.weights import WeightSpec, file_sha256, resolve

if TYPE_CHECKING:
    import torch

RANDOM_INIT = WeightsInfo(sha256="random-init", source="random-init", random=True)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# (values (B, dim), probs (B, C) or None) from a uint8 batch
BatchFn = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray | None]]


# --- weights and device ------------------------------------------------------------------------
def weights_for(spec: WeightSpec, options: ExpertOptions) -> tuple[Path | None, WeightsInfo]:
    """(path, provenance) for a pretrained build; (None, RANDOM_INIT) for tiny / random builds.

    Raises WeightsNotFoundError (naming the file and the folder) when the file is missing."""
    if options.tiny or options.random_weights:
        return None, RANDOM_INIT
    path = resolve(spec, options.weights_path)
    return path, WeightsInfo(sha256=file_sha256(path), source=str(path), random=False)


def torch_device(name: str) -> torch.device:
    """torch.device for `name`; asking for CUDA on a machine without it is an error, not a
    silent fallback to a CPU run that takes 100x longer."""
    import torch

    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {name!r} requested but torch.cuda.is_available() is False")
    return dev


def inference(device: torch.device, amp: bool = False) -> contextlib.ExitStack:
    """inference_mode, plus bf16 autocast on CUDA when `amp` (options.extra["amp"])."""
    import torch

    stack = contextlib.ExitStack()
    stack.enter_context(torch.inference_mode())
    if amp and device.type == "cuda":
        stack.enter_context(torch.autocast("cuda", dtype=torch.bfloat16))
    return stack


def option(options: ExpertOptions, key: str, default: Any) -> Any:
    """options.extra[key] unless unset (None never overrides an expert's default)."""
    value = options.extra.get(key)
    return default if value is None else value


def load_labels(filename: str, expected: int | None = None) -> list[str]:
    """Class names, one per line, from vidseek/data/<filename>, checked against the net's width."""
    labels = read_label_file(filename)
    if expected is not None and len(labels) != expected:
        raise ValueError(f"vidseek/data/{filename} holds {len(labels)} names, expected {expected}")
    return labels


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


# --- time math ---------------------------------------------------------------------------------
def frame_rows(times: np.ndarray, fps: float, duration: float) -> np.ndarray:
    """(N, 2) rows: a frame sampled at t covers [t, t + 1/fps), clipped to the video's end."""
    t = np.asarray(times, dtype=np.float64).reshape(-1)
    end = np.minimum(t + 1.0 / fps, duration) if duration > 0 else t + 1.0 / fps
    return np.stack([t, np.maximum(end, t)], axis=1) if len(t) else np.zeros((0, 2))


# --- image transforms ----------------------------------------------------------------------------
def resize_center_crop(frames: np.ndarray, size: int | tuple[int, int], crop: int,
                       mode: str = "bilinear") -> torch.Tensor:
    """(T, H, W, 3) uint8 -> (T, 3, crop, crop) float32 in [0, 255].

    size: an int resizes the shorter side to it (aspect kept); (h, w) resizes to exactly that
    (torchvision's video transforms). Antialiased like PIL; then a center crop."""
    import torch
    import torch.nn.functional as F

    x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float()
    h, w = x.shape[-2:]
    if isinstance(size, int):
        scale = size / min(h, w)
        nh, nw = round(h * scale), round(w * scale)
    else:
        nh, nw = size
    nh, nw = max(crop, nh), max(crop, nw)
    if (nh, nw) != (h, w):
        x = F.interpolate(x, size=(nh, nw), mode=mode, align_corners=False, antialias=True)
    top, left = (nh - crop) // 2, (nw - crop) // 2
    return x[:, :, top:top + crop, left:left + crop].clamp_(0, 255)


def crops_uint8(frames: np.ndarray, size: int | tuple[int, int], crop: int,
                mode: str = "bilinear") -> np.ndarray:
    """resize_center_crop as uint8 (T, crop, crop, 3): what sessions buffer (small)."""
    x = resize_center_crop(frames, size, crop, mode).round_().to(dtype=_uint8())
    return x.permute(0, 2, 3, 1).contiguous().numpy()


def _uint8() -> torch.dtype:
    import torch

    return torch.uint8


def to_tensor(crops: np.ndarray, device: torch.device, mean: tuple[float, ...] | float,
              std: tuple[float, ...] | float, scale: float = 1.0) -> torch.Tensor:
    """uint8 (..., H, W, 3) -> float (..., 3, H, W) on device: (x * scale - mean) / std.
    ImageNet models: scale=1/255 with IMAGENET_MEAN/STD; EfficientNet-Lite: mean=127, std=128."""
    import torch

    x = torch.from_numpy(np.ascontiguousarray(crops)).to(device).float().movedim(-1, -3)
    if scale != 1.0:
        x = x * scale
    m = torch.as_tensor(mean, dtype=x.dtype, device=device).reshape(-1, 1, 1)
    s = torch.as_tensor(std, dtype=x.dtype, device=device).reshape(-1, 1, 1)
    return (x - m) / s


# --- sessions ------------------------------------------------------------------------------------
class WholeAudioSession(ExpertSession):
    """Buffers a video's PCM for experts that need the whole track at once (ASR, VGGish)."""

    def __init__(self) -> None:
        self.start: float | None = None
        self.pcm: list[np.ndarray] = []

    def add_audio(self, chunk: AudioChunk) -> None:
        if self.start is None:
            self.start = float(chunk.start)
        self.pcm.append(np.asarray(chunk.pcm, np.float32).reshape(-1))

    def audio(self) -> np.ndarray:
        return np.concatenate(self.pcm) if self.pcm else np.zeros(0, np.float32)


class FrameSession(ExpertSession):
    """One row per sampled frame. Frames are cropped as they arrive (`prepare`), buffered across
    add_frames calls and run `batch_size` at a time through `run`."""

    def __init__(self, spec: ExpertSpec, info: VideoInfo, prepare: Callable[[np.ndarray], np.ndarray],
                 run: BatchFn, batch_size: int) -> None:
        self.spec, self.info, self.prepare, self.run = spec, info, prepare, run
        self.batch_size = max(1, int(batch_size))
        self._pending: list[np.ndarray] = []
        self._n_pending = 0
        self._times: list[np.ndarray] = []
        self._values: list[np.ndarray] = []
        self._probs: list[np.ndarray] = []

    def add_frames(self, batch: FrameBatch) -> None:
        if len(batch.times) == 0:
            return
        self._times.append(np.asarray(batch.times, np.float64))
        self._pending.append(self.prepare(batch.frames))
        self._n_pending += len(batch.times)
        while self._n_pending >= self.batch_size:
            self._flush(self.batch_size)

    def _flush(self, n: int) -> None:
        buf = np.concatenate(self._pending) if len(self._pending) > 1 else self._pending[0]
        head, rest = buf[:n], buf[n:]
        self._pending = [rest] if len(rest) else []
        self._n_pending = len(rest)
        values, probs = self.run(head)
        self._values.append(np.asarray(values, np.float32))
        if probs is not None:
            self._probs.append(np.asarray(probs, np.float32))

    def finish(self) -> Features:
        if self._n_pending:
            self._flush(self._n_pending)
        if not self._times:
            return Features.empty(self.spec.name, self.spec.dim)
        times = np.concatenate(self._times)
        rows = frame_rows(times, float(self.spec.fps or 1.0), self.info.duration)
        probs = np.concatenate(self._probs) if self._probs else None
        return Features(self.spec.name, rows, np.concatenate(self._values), probs=probs)


class ClipSession(ExpertSession):
    """One row per clip of `clip_frames` consecutive sampled frames, every `stride_frames`.

    A video shorter than one clip, or a tail of at least `min_tail` uncovered frames, gives a
    clip padded by repeating its last frame; the row keeps its true times and says
    {"padded_frames": n} in meta. Clips are batched `batch_size` at a time through `run`,
    which gets uint8 (B, T, crop, crop, 3)."""

    def __init__(self, spec: ExpertSpec, info: VideoInfo, prepare: Callable[[np.ndarray], np.ndarray],
                 run: BatchFn, clip_frames: int, stride_frames: int, batch_size: int,
                 min_tail: int | None = None) -> None:
        self.spec, self.info, self.prepare, self.run = spec, info, prepare, run
        self.clip_frames, self.stride = int(clip_frames), max(1, int(stride_frames))
        self.min_tail = self.clip_frames // 2 if min_tail is None else int(min_tail)
        self.batch_size = max(1, int(batch_size))
        self._frames: list[np.ndarray] = []  # prepared frames not yet dropped
        self._times: list[float] = []
        self._base = 0  # index (in the video's sampled frames) of self._frames[0]
        self._next = 0  # start index of the next clip
        self._clips: list[np.ndarray] = []
        self._rows: list[tuple[float, float]] = []
        self._meta: list[dict[str, Any]] = []
        self._values: list[np.ndarray] = []
        self._probs: list[np.ndarray] = []

    def add_frames(self, batch: FrameBatch) -> None:
        if len(batch.times) == 0:
            return
        self._frames.extend(self.prepare(batch.frames))
        self._times.extend(np.asarray(batch.times, np.float64).tolist())
        while self._next + self.clip_frames <= self._base + len(self._frames):
            self._cut(self._next, self.clip_frames)
            self._next += self.stride
        drop = min(self._next - self._base, len(self._frames))
        if drop > 0:
            del self._frames[:drop], self._times[:drop]
            self._base += drop

    def _cut(self, start: int, n: int) -> None:
        i = start - self._base
        frames = self._frames[i:i + n]
        t0, t_last = self._times[i], self._times[i + n - 1]
        pad = self.clip_frames - n
        if pad:
            frames = frames + [frames[-1]] * pad
        dt = 1.0 / float(self.spec.fps or 1.0)
        end = min(t_last + dt, self.info.duration) if self.info.duration > 0 else t_last + dt
        self._clips.append(np.stack(frames))
        self._rows.append((t0, max(end, t0)))
        self._meta.append({"padded_frames": pad} if pad else {})
        if len(self._clips) >= self.batch_size:
            self._run()

    def _run(self) -> None:
        values, probs = self.run(np.stack(self._clips))
        self._clips = []
        self._values.append(np.asarray(values, np.float32))
        if probs is not None:
            self._probs.append(np.asarray(probs, np.float32))

    def finish(self) -> Features:
        total = self._base + len(self._frames)
        covered = self._next - self.stride + self.clip_frames if self._rows else 0
        left = total - max(covered, self._next)
        if total and (not self._rows or left >= max(1, self.min_tail)):
            self._cut(self._next, min(self.clip_frames, total - self._next))
        if self._clips:
            self._run()
        if not self._rows:
            return Features.empty(self.spec.name, self.spec.dim)
        probs = np.concatenate(self._probs) if self._probs else None
        return Features(self.spec.name, np.asarray(self._rows), np.concatenate(self._values),
                        probs=probs, meta=self._meta)


__all__ = [
    "IMAGENET_MEAN", "IMAGENET_STD", "RANDOM_INIT", "ClipSession", "FrameSession", "crops_uint8",
    "frame_rows", "inference", "load_labels", "option", "resize_center_crop", "softmax", "to_tensor",
    "torch_device", "weights_for",
]
