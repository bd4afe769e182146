"""Frozen value types shared by every part. Times are float seconds from the start of the video."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class VideoInfo:
    """What the catalog knows about one video file (from probing, before any expert runs)."""

    video_id: str
    path: str
    size: int
    mtime: float
    content_hash: str
    duration: float
    fps: float
    width: int
    height: int
    has_audio: bool
    n_frames: int | None = None
    streams: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class FrameBatch:
    """Frames sampled at requested timestamps. frames: (T, H, W, 3) uint8 RGB; times: (T,) seconds."""

    times: np.ndarray
    frames: np.ndarray


@dataclass(frozen=True)
class AudioChunk:
    """Mono float32 PCM in [-1, 1] at sample_rate, its first sample at `start` seconds."""

    start: float
    sample_rate: int
    pcm: np.ndarray


@dataclass
class Features:
    """One expert's output rows for one video.

    times: (N, 2) float64 (start, end) per row. values: (N, dim) float32 (dim may be 0 for
    text-only experts). probs: (N, C) class probabilities for classifier experts. texts: one
    string per row for speech / on-screen text. meta: one JSON-able dict per row (word times,
    boxes, padding notes).
    """

    expert: str
    times: np.ndarray
    values: np.ndarray
    probs: np.ndarray | None = None
    texts: list[str] | None = None
    meta: list[dict[str, Any]] | None = None

    def __post_init__(self) -> None:
        self.times = np.asarray(self.times, dtype=np.float64).reshape(-1, 2)
        n = len(self.times)
        self.values = _rows(self.values, n)
        if self.probs is not None:
            self.probs = _rows(self.probs, n)
        for name in ("texts", "meta"):
            col = getattr(self, name)
            if col is not None and len(col) != n:
                raise ValueError(f"Features.{name} has {len(col)} rows, times has {n}")

    def __len__(self) -> int:
        return len(self.times)

    @property
    def dim(self) -> int:
        return int(self.values.shape[1])

    @classmethod
    def empty(cls, expert: str, dim: int) -> Features:
        return cls(expert, np.zeros((0, 2)), np.zeros((0, dim), np.float32))


def _rows(a: np.ndarray, n: int) -> np.ndarray:
    """(n, d) float32; keeps d of an empty array, where reshape(n, -1) cannot infer it."""
    a = np.asarray(a, dtype=np.float32)
    if a.size == 0:
        return a.reshape(n, a.shape[-1] if a.ndim == 2 else 0)
    return a.reshape(n, -1)


@dataclass(frozen=True)
class Hit:
    """One search result: a moment of a video, best first in a result list."""

    video: str
    path: str
    start: float
    end: float
    score: float
    why: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "video": self.video,
            "path": self.path,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "score": round(float(self.score), 6),
        }
        if self.why:
            out["why"] = self.why
        return out


@dataclass(frozen=True)
class ExpertSpec:
    """What an expert is and what it asks of the decoder.

    fps: frames per second it wants (None: no frames). sample_rate: audio Hz (None: no audio).
    window / stride: seconds covered by one output row and the step between rows.
    """

    name: str
    modality: str  # "appearance" | "motion" | "audio" | "speech" | "ocr"
    dim: int
    fps: float | None = None
    sample_rate: int | None = None
    window: float = 1.0
    stride: float = 1.0


@dataclass(frozen=True)
class WeightsInfo:
    """Which weights an expert runs with; recorded next to every feature it makes."""

    sha256: str
    source: str  # a path, a package name, or "random-init"
    random: bool = False
