"""Shot cuts from decoded frames: colour-histogram distance with an adaptive threshold.

Why histograms: a pan or a person moving shifts pixels but keeps the colours of a shot, so the
histogram of frame t stays close to that of frame t-1; a cut replaces them. Each frame is
reduced to normalised HSV histograms (hue 16 bins, saturation 8, value 8, on a subsampled
frame, so a 1080p frame costs as little as a small one); the score of frame t is half the L1
distance between its histograms and those of frame t-1, averaged over the three channels (0:
same colours, 1: disjoint).

Frame t starts a new shot when (as PySceneDetect's AdaptiveDetector) its score is at least
MIN_SCORE and at least RATIO times the mean score of the WINDOW frames on either side of it
(a busy shot raises its own bar; a cut stands out of its neighbourhood), it is the highest
score of that neighbourhood (a change spread over two frames cuts once), and it comes at least
MIN_SHOT_S seconds after the previous cut (and after the first frame), so a flash or a fast
pan across a few frames does not split a shot into slivers. Pure numpy: tested on synthetic
frames with known cut frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BINS = (16, 8, 8)  # hue, saturation, value
MAX_SIDE = 96  # frames are subsampled (strided) to about this many pixels on the long side
MIN_SCORE = 0.25
RATIO = 3.0
WINDOW = 2
MIN_SHOT_S = 0.5


@dataclass(frozen=True)
class CutParams:
    """The detector's knobs (defaults above)."""

    min_score: float = MIN_SCORE
    ratio: float = RATIO
    window: int = WINDOW
    min_shot_s: float = MIN_SHOT_S


def rgb_to_hsv(rgb: np.ndarray) -> np.ndarray:
    """uint8 RGB (..., 3) -> float32 HSV in [0, 1] each (hue as a fraction of the circle)."""
    x = rgb.astype(np.float32) / 255.0
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    v = x.max(-1)
    c = v - x.min(-1)
    s = np.where(v > 0, c / np.maximum(v, 1e-12), 0.0)
    safe = np.maximum(c, 1e-12)
    h = np.where(v == r, ((g - b) / safe) % 6.0,
                 np.where(v == g, (b - r) / safe + 2.0, (r - g) / safe + 4.0))
    h = np.where(c > 0, h / 6.0, 0.0)
    return np.stack([h, s, v], -1).astype(np.float32)


def descriptors(frames: np.ndarray) -> np.ndarray:
    """(T, H, W, 3) uint8 RGB -> (T, sum(BINS)) float32: each channel's histogram sums to 1."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must be (T, H, W, 3), got {frames.shape}")
    step = max(1, int(np.ceil(max(frames.shape[1:3]) / MAX_SIDE)))
    hsv = rgb_to_hsv(frames[:, ::step, ::step])
    t = len(frames)
    out = []
    for ch, nb in enumerate(BINS):
        idx = np.minimum((hsv[..., ch] * nb).astype(np.int64), nb - 1).reshape(t, -1)
        counts = np.zeros((t, nb))
        for k, row in enumerate(idx):
            counts[k] = np.bincount(row, minlength=nb)
        out.append(counts / max(1, idx.shape[1]))
    return np.concatenate(out, 1).astype(np.float32)


def cut_scores(desc: np.ndarray) -> np.ndarray:
    """(T,) distance of each frame to the one before (0 for the first), in [0, 1]."""
    desc = np.asarray(desc, np.float64)
    scores = np.zeros(len(desc))
    if len(desc) < 2:
        return scores
    diff = np.abs(np.diff(desc, axis=0))
    per_channel = []
    lo = 0
    for nb in BINS:
        per_channel.append(0.5 * diff[:, lo:lo + nb].sum(1))
        lo += nb
    scores[1:] = np.mean(per_channel, axis=0)
    return scores


def pick_cuts(scores: np.ndarray, times: np.ndarray, params: CutParams | None = None) -> np.ndarray:
    """Times of the frames that start a new shot (see the module docstring), ascending."""
    return np.asarray(times, np.float64)[cut_indices(scores, times, params)]


def cut_indices(scores: np.ndarray, times: np.ndarray, params: CutParams | None = None) -> np.ndarray:
    """Indices of the frames that start a new shot, ascending."""
    p = params or CutParams()
    scores, times = np.asarray(scores, np.float64), np.asarray(times, np.float64)
    if len(scores) != len(times):
        raise ValueError(f"{len(scores)} scores for {len(times)} times")
    cuts: list[int] = []
    last = float(times[0]) if len(times) else 0.0
    for i in range(1, len(scores)):
        if scores[i] < p.min_score:
            continue
        near = np.r_[scores[max(1, i - p.window):i], scores[i + 1:i + 1 + p.window]]
        local = float(near.mean()) if len(near) else 0.0
        if scores[i] < p.ratio * local:
            continue
        if times[i] - last < p.min_shot_s:
            continue
        # a cut must also be the peak of its neighbourhood (a two-frame transition cuts once)
        if len(near) and scores[i] < near.max():
            continue
        cuts.append(i)
        last = float(times[i])
    return np.asarray(cuts, np.int64)


def find_cuts(frames: np.ndarray, times: np.ndarray, params: CutParams | None = None) -> np.ndarray:
    """Cut times (seconds) of uint8 RGB frames sampled at `times`."""
    return pick_cuts(cut_scores(descriptors(frames)), times, params)


def shots_from_cuts(cuts: np.ndarray, duration: float, start: float = 0.0) -> np.ndarray:
    """(S, 2) (start, end) of the shots the cuts delimit, covering [start, duration]."""
    edges = [start] + [float(c) for c in cuts if start < c < duration] + [duration]
    return np.asarray(list(zip(edges[:-1], edges[1:], strict=True)), np.float64).reshape(-1, 2)
