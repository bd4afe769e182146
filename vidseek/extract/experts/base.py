"""The Expert and TextEncoder interfaces (their cards and registries live in cards.py).

An expert says what it wants from the decoder (frames at `fps`, audio at `sample_rate`) and turns
what it is fed into timed feature rows. The extraction pipeline decodes each video once and feeds
every expert's session from that one pass; experts never open files themselves.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from vidseek.types import AudioChunk, ExpertSpec, Features, FrameBatch, VideoInfo, WeightsInfo


@dataclass(frozen=True)
class ExpertOptions:
    """Options every expert builder takes. None never overrides an expert's own default."""

    device: str = "cpu"
    random_weights: bool = False  # for timing only; recorded in the store
    tiny: bool = False  # tiny random-init twin for tests (implies random weights)
    weights_path: str | None = None
    batch_size: int | None = None
    fps: float | None = None
    extra: dict[str, object] = field(default_factory=dict)


class ExpertSession(ABC):
    """Per-video state. Frames and audio arrive in time order, in chunks."""

    def add_frames(self, batch: FrameBatch) -> None:  # noqa: B027 - optional for audio experts
        """Called with frames sampled at this expert's timestamps."""

    def add_audio(self, chunk: AudioChunk) -> None:  # noqa: B027 - optional for frame experts
        """Called with consecutive PCM chunks at this expert's sample rate."""

    @abstractmethod
    def finish(self) -> Features:
        """All rows for the video (possibly zero rows, e.g. no audio track)."""


class Expert(ABC):
    spec: ExpertSpec
    weights: WeightsInfo
    labels: list[str] | None = None  # class names when the expert is a classifier

    @abstractmethod
    def session(self, info: VideoInfo) -> ExpertSession:
        """Start extracting one video."""


class TextEncoder(ABC):
    name: str
    dim: int
    weights: WeightsInfo

    @abstractmethod
    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32, L2-normalised rows."""
