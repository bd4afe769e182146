"""Small deterministic experts for pipeline tests: they read real decoded frames and PCM (so the
decode-once dispatch is exercised for real) but need no weights. Not registered outside tests."""

from __future__ import annotations

import time

import numpy as np

from vidseek.extract.experts.base import Expert, ExpertSession, ExpertSpec, WeightsInfo
from vidseek.extract.experts.cards import EXPERTS, ExpertCard, register_expert
from vidseek.types import AudioChunk, Features, FrameBatch, VideoInfo


class _MeanColorSession(ExpertSession):
    def __init__(self, spec: ExpertSpec, info: VideoInfo, delay: float) -> None:
        self.spec, self.info, self.delay = spec, info, delay
        self.times: list[float] = []
        self.rows: list[np.ndarray] = []

    def add_frames(self, batch: FrameBatch) -> None:
        time.sleep(self.delay)
        self.times.extend(batch.times.tolist())
        self.rows.extend(batch.frames.reshape(len(batch.times), -1, 3).mean(1))

    def finish(self) -> Features:
        t = np.asarray(self.times)
        end = np.minimum(t + 1.0 / float(self.spec.fps or 1), self.info.duration)
        return Features(self.spec.name, np.stack([t, end], 1) if len(t) else np.zeros((0, 2)),
                        np.asarray(self.rows).reshape(len(t), 3))


class MeanColor(Expert):
    def __init__(self, name: str, fps: float, delay: float = 0.0) -> None:
        self.spec = ExpertSpec(name, "appearance", dim=3, fps=fps, window=1 / fps, stride=1 / fps)
        self.weights = WeightsInfo("test-" + name, "test")
        self.delay = delay

    def session(self, info: VideoInfo) -> ExpertSession:
        return _MeanColorSession(self.spec, info, self.delay)


class _RmsSession(ExpertSession):
    def __init__(self, spec: ExpertSpec) -> None:
        self.spec = spec
        self.pcm: list[np.ndarray] = []
        self.start: float | None = None

    def add_audio(self, chunk: AudioChunk) -> None:
        self.start = chunk.start if self.start is None else self.start
        self.pcm.append(chunk.pcm)

    def finish(self) -> Features:
        if not self.pcm:
            return Features.empty(self.spec.name, 1)
        pcm = np.concatenate(self.pcm)
        hop = int(self.spec.window * (self.spec.sample_rate or 1))
        n = len(pcm) // hop
        rms = np.sqrt((pcm[: n * hop].reshape(n, hop) ** 2).mean(1, keepdims=True))
        t = np.arange(n) * self.spec.window
        return Features(self.spec.name, np.stack([t, t + self.spec.window], 1), rms)


class Rms(Expert):
    spec = ExpertSpec("test_rms", "audio", dim=1, sample_rate=8000, window=0.5, stride=0.5)
    weights = WeightsInfo("test-rms", "test")

    def session(self, info: VideoInfo) -> ExpertSession:
        return _RmsSession(self.spec)


class Broken(Expert):
    spec = ExpertSpec("test_broken", "appearance", dim=1, fps=1.0)
    weights = WeightsInfo("test-broken", "test")

    def session(self, info: VideoInfo) -> ExpertSession:
        raise RuntimeError("this expert always fails")


def register() -> None:
    cards = [
        ExpertCard("test_meancolor", "appearance", "test: mean colour at 2 fps",
                   lambda o: MeanColor("test_meancolor", 2.0)),
        ExpertCard("test_meancolor_fast", "appearance", "test: mean colour at 29.97 fps",
                   lambda o: MeanColor("test_meancolor_fast", 29.97)),
        ExpertCard("test_slow", "appearance", "test: 0.4 s per chunk",
                   lambda o: MeanColor("test_slow", 4.0, delay=0.4)),
        ExpertCard("test_rms", "audio", "test: RMS per 0.5 s", lambda o: Rms()),
        ExpertCard("test_broken", "appearance", "test: always fails", lambda o: Broken()),
    ]
    for card in cards:
        if card.name not in EXPERTS:  # register() may run twice (worker processes)
            register_expert(card)



register()
