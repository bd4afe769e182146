"""Pure time math for sampling frames: schedules, their union, and time -> frame mapping.

Times are float64 seconds, computed as exact fractions k / fps and rounded once, so a 29.97 fps
(30000/1001) schedule has no drift after hours; fps is never floored to an int.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

# A frame whose pts lies at most this far after a requested time still counts as displayed then:
# containers with millisecond time bases (mkv, webm) round pts up to 0.5 ms past k / fps.
# Kept under 1 ms: a 29.97 fps frame at 1.001 s must not count as on screen at 1.0 s.
PTS_SLACK = 6e-4


def as_fraction(fps: float | Fraction) -> Fraction:
    """The rational behind a float rate (29.97002997 -> 30000/1001, 19.62 -> 981/50)."""
    if isinstance(fps, Fraction):
        return fps
    return Fraction(fps).limit_denominator(100_000)


def sample_times(duration: float, fps: float | Fraction, start: float = 0.0) -> np.ndarray:
    """Timestamps start + k / fps (k = 0, 1, ...) with t < duration, float64."""
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    if duration <= start:
        return np.zeros(0, np.float64)
    rate = as_fraction(fps)
    start_q = Fraction(start)
    # number of k with start + k / rate < duration (exact, then guard the float edge)
    n = int(np.ceil(float((Fraction(duration) - start_q) * rate)))
    k = np.arange(n, dtype=np.int64)
    # exact rational k * den / num, rounded once to float64 (no accumulation of 1/fps)
    times = (k * rate.denominator) / np.float64(rate.numerator) + float(start_q)
    return times[times < duration]


def merge_schedules(
    schedules: dict[str, np.ndarray], tol: float = 1e-6
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Union of every expert's timestamps (sorted, within `tol` deduplicated) and, per expert,
    the position of each of its timestamps in the union: decode the union once, hand each
    expert `batch[positions]`."""
    names = list(schedules)
    arrays = [np.asarray(schedules[n], np.float64).ravel() for n in names]
    if not arrays or sum(len(a) for a in arrays) == 0:
        return np.zeros(0, np.float64), {n: np.zeros(0, np.int64) for n in names}
    allt = np.concatenate(arrays)
    order = np.argsort(allt, kind="stable")
    sorted_t = allt[order]
    # a new union entry starts where the gap to the previous time exceeds tol
    new = np.empty(len(sorted_t), bool)
    new[0] = True
    new[1:] = np.diff(sorted_t) > tol
    group = np.cumsum(new) - 1
    union = sorted_t[new]
    slot = np.empty(len(allt), np.int64)
    slot[order] = group
    positions: dict[str, np.ndarray] = {}
    offset = 0
    for name, a in zip(names, arrays, strict=True):
        positions[name] = slot[offset:offset + len(a)]
        offset += len(a)
    return union, positions


def frame_index_at(times: np.ndarray, pts: np.ndarray, eps: float = PTS_SLACK) -> np.ndarray:
    """For each requested time, the index of the frame displayed then: the last frame with
    pts <= t + eps (the first frame for times before it). `pts` must be non-decreasing."""
    times = np.asarray(times, np.float64)
    pts = np.asarray(pts, np.float64)
    if len(pts) == 0:
        raise ValueError("no frame timestamps")
    idx = np.searchsorted(pts, times + eps, side="right") - 1
    return np.clip(idx, 0, len(pts) - 1).astype(np.int64)


def slack(fps: float | None) -> float:
    """PTS_SLACK, but never more than a tenth of a frame (very high frame rates)."""
    if fps and fps > 0:
        return min(PTS_SLACK, 0.1 / fps)
    return PTS_SLACK
