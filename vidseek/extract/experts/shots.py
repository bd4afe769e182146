"""`shots`: shot cuts found from the decoded frames, stored as their own expert's rows.

Frames at 4 fps (`ExpertOptions.fps` changes it) from the one decode pass; the detector is
vidseek.extract.shots (HSV histogram distance, adaptive threshold, minimum shot length; its
knobs via options.extra: min_score, ratio, window, min_shot_s). One row per shot: times =
(start, end), the first shot starting at 0 and the last ending at the video's duration; values
(width 1) = the cut score that opened the shot (0 for the first); meta = {"cut_score"}.
So a search reads the cuts as the starts of this expert's rows, and a cut is only ever as
precise as the sampling (1 / fps seconds). No weights: the provenance hash is that of the
detector's settings, so changing them re-extracts.

In the default set: search snaps moment boundaries to its cuts (search/localize.py), and it is
cheap: 2.9-3.6 ms per 4 fps frame (HSV histograms of a subsampled frame; 0.35 s for the 30 s
720p big_buck_bunny_0_30, 0.50 s for the 35 s women_long_jump, at load 9.6 on the shared 2-core
box, /tmp/moments/shots_cost.py in docs/moment-benchmark.md), against 200+ s of I3D on the same
clip; its frames come from the decode pass I3D's 25 fps already makes.
"""

from __future__ import annotations

import hashlib

import numpy as np

from vidseek.extract.experts._common import option
from vidseek.extract.experts.base import (
    Expert,
    ExpertOptions,
    ExpertSession,
    ExpertSpec,
    WeightsInfo,
)
from vidseek.extract.experts.cards import ExpertCard, register_expert
from vidseek.extract.shots import (
    BINS,
    MAX_SIDE,
    CutParams,
    cut_indices,
    cut_scores,
    descriptors,
    shots_from_cuts,
)
from vidseek.types import Features, FrameBatch, VideoInfo

FPS = 4.0


class ShotsSession(ExpertSession):
    """Keeps one small histogram per frame (not the frames) until the video ends."""

    def __init__(self, expert: ShotsExpert, info: VideoInfo) -> None:
        self.e, self.info = expert, info
        self.desc: list[np.ndarray] = []
        self.times: list[float] = []

    def add_frames(self, batch: FrameBatch) -> None:
        if len(batch.times):
            self.desc.append(descriptors(batch.frames))
            self.times.extend(float(t) for t in batch.times)

    def finish(self) -> Features:
        if not self.times:
            return Features.empty(self.e.spec.name, 1)
        times = np.asarray(self.times)
        scores = cut_scores(np.concatenate(self.desc))
        idx = cut_indices(scores, times, self.e.params)
        period = 1.0 / float(self.e.spec.fps or FPS)
        duration = self.info.duration if self.info.duration > times[-1] else times[-1] + period
        spans = shots_from_cuts(times[idx], float(duration))
        opened = [0.0] + [round(float(scores[i]), 4) for i in idx if times[i] < duration]
        return Features(self.e.spec.name, spans, np.asarray(opened, np.float32).reshape(-1, 1),
                        meta=[{"cut_score": s} for s in opened])


class ShotsExpert(Expert):
    def __init__(self, name: str, options: ExpertOptions) -> None:
        d = CutParams()
        self.params = CutParams(
            min_score=float(option(options, "min_score", d.min_score)),
            ratio=float(option(options, "ratio", d.ratio)),
            window=int(option(options, "window", d.window)),
            min_shot_s=float(option(options, "min_shot_s", d.min_shot_s)),
        )
        fps = float(options.fps or FPS)
        self.spec = ExpertSpec(name, "shots", 1, fps=fps, window=1.0 / fps, stride=1.0 / fps)
        settings = f"hsv{BINS}:side{MAX_SIDE}:{self.params}:fps{fps}"
        self.weights = WeightsInfo(hashlib.sha256(settings.encode()).hexdigest(),
                                   f"no weights: vidseek.extract.shots {settings}")

    def session(self, info: VideoInfo) -> ShotsSession:
        return ShotsSession(self, info)


def build_shots(options: ExpertOptions) -> Expert:
    """Shot cuts at 4 fps from colour histograms; weight-free, so tiny=True is the same expert."""
    return ShotsExpert("shots", options)


register_expert(ExpertCard(
    name="shots", modality="shots", builder=build_shots, fetch="none", default=True,
    summary="shot cuts from HSV colour histograms at 4 fps (no weights): one row per shot",
))
