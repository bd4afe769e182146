"""From a fused per-bin curve to ranked moments: multi-scale proposals, contrast score, NMS.

Proposals: sliding spans of 1, 2, 4, 8, 16, ... seconds and of 1/4, 1/2, 3/4 and all of the
video (stride a quarter of the span), plus runs of adjacent high bins (above the curve's mean,
gaps of one bin bridged) and the maximum-sum span of (curve - baseline).

Score of a span: mean inside minus the larger of the mean outside and the collection baseline b,
both means shrunk towards b with a prior of m = PRIOR_BINS pseudo-bins:
in = (Σ_in + m·b) / (n_in + m), out likewise, score = in - max(out, b). A span is good when it
holds the high bins and leaves the high ones no room outside, so a planted span beats its
sub-spans (they leave high bins outside) and its super-spans (they take low bins in). The
shrinkage keeps one noisy bin (0.5 s) from beating a sustained 5 s plateau: a short span needs
proportionally more evidence. The max with b keeps scores comparable across videos (they rank
videos): a video is not rewarded for being dull outside its moment, only for the moment
standing above the collection. A whole video that matches throughout scores (Σ + m·b)/(n + m) - b.
Bins no expert covers count as the baseline.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vidseek.metrics.moments import temporal_iou

SCALES_S: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0)
FRACTIONS: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0)
PRIOR_BINS = 4.0
NMS_IOU = 0.5


@dataclass
class Moment:
    """A ranked span of one video. `why`: evidence the moment's producer already has, keyed by
    space in types.Explanation's vocabulary ({"fvmr": {"cosine", "z"}}), plus "rerank" (a
    types.RerankNote as JSON); the Searcher turns it into the hit's typed Why (search/explain.py)."""

    start: float
    end: float
    score: float
    why: dict[str, Any] = field(default_factory=dict)


def _unique_spans(parts: list[np.ndarray]) -> np.ndarray:
    """(P, 2) int64 spans of every part, deduplicated, in (start, end) order."""
    rows = [np.asarray(x, np.int64).reshape(-1, 2) for x in parts]
    allr = np.concatenate(rows) if rows else np.zeros((0, 2), np.int64)
    if len(allr) == 0:
        return allr
    base = int(allr.max()) + 1  # one int64 key per span: sorts as (start, end) does
    keys = np.unique(allr[:, 0] * base + allr[:, 1])
    return np.stack([keys // base, keys % base], 1)


@functools.lru_cache(maxsize=512)
def scale_spans(nb: int, bin_s: float) -> np.ndarray:
    """Multi-scale sliding spans: each length of SCALES_S / FRACTIONS at a quarter-length
    stride, the last start flush with the end (deduplicated). Depends on the curve's length
    only, so it is computed once per video length (read-only)."""
    lengths = {max(1, round(s / bin_s)) for s in SCALES_S} | {max(1, round(f * nb)) for f in FRACTIONS}
    parts = []
    for L in sorted(x for x in lengths if x <= nb):
        starts = np.arange(0, nb - L + 1, max(1, L // 4), dtype=np.int64)
        if starts[-1] != nb - L:
            starts = np.append(starts, nb - L)
        parts.append(np.stack([starts, starts + L], 1))
    out = _unique_spans(parts)
    out.flags.writeable = False
    return out


@functools.lru_cache(maxsize=512)
def _scale_keys(nb: int, bin_s: float) -> np.ndarray:
    """scale_spans as sorted int64 keys start * (nb + 1) + end (read-only)."""
    spans = scale_spans(nb, bin_s)
    out = spans[:, 0] * (nb + 1) + spans[:, 1]
    out.flags.writeable = False
    return out


def unite_with_scales(nb: int, bin_s: float, parts: list[np.ndarray]) -> np.ndarray:
    """_unique_spans([scale_spans(nb, bin_s), *parts]) for spans within [0, nb], without
    sorting the (cached, large) scale set again: only the few other spans are sorted and
    inserted where they belong."""
    big = _scale_keys(nb, bin_s)
    rows = [np.asarray(x, np.int64).reshape(-1, 2) for x in parts]
    extra = np.concatenate(rows) if rows else np.zeros((0, 2), np.int64)
    if len(extra) and (extra.min() < 0 or extra.max() > nb):
        return _unique_spans([scale_spans(nb, bin_s), *parts])
    small = np.unique(extra[:, 0] * (nb + 1) + extra[:, 1])
    pos = np.searchsorted(big, small)
    new = ~((pos < len(big)) & (big[np.minimum(pos, len(big) - 1)] == small)) if len(big) else \
        np.ones(len(small), bool)
    keys = np.insert(big, pos[new], small[new])
    return np.stack([keys // (nb + 1), keys % (nb + 1)], 1)


def proposal_parts(curve: np.ndarray, baseline: float = 0.0) -> list[np.ndarray]:
    """The curve's own span sets that `proposals` unites with the (cached) scale spans;
    callers adding their own sets unite them all once, with unite_with_scales."""
    return [np.array(_runs(curve > np.mean(curve), gap=1)), np.array([_max_subarray(curve - baseline)])]


def proposals(curve: np.ndarray, bin_s: float, baseline: float = 0.0) -> np.ndarray:
    """(P, 2) int bin spans [i, j) over a curve of B bins (deduplicated, sorted)."""
    return unite_with_scales(len(curve), float(bin_s), proposal_parts(curve, baseline))


def _runs(mask: np.ndarray, gap: int = 1) -> list[tuple[int, int]]:
    """Contiguous runs of True, runs separated by at most `gap` False bins merged."""
    idx = np.nonzero(mask)[0]
    if len(idx) == 0:
        return []
    cut = np.flatnonzero(np.diff(idx) > gap + 1)  # a run ends at idx[cut], the next starts after
    starts = np.concatenate([idx[:1], idx[cut + 1]])
    ends = np.concatenate([idx[cut], idx[-1:]]) + 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def _max_subarray(x: np.ndarray) -> tuple[int, int]:
    """Kadane: the span [i, j) with the largest sum (at least one bin). In prefix sums: each
    end j + 1 starts after the latest running minimum of the prefix, and the first best end
    wins, as the loop (_max_subarray_loop, kept for non-finite input) decides."""
    x = np.asarray(x, np.float64).ravel()
    if len(x) == 0 or not np.isfinite(x).all():
        return _max_subarray_loop(x)
    pre = np.concatenate([[0.0], np.cumsum(x)])
    head = pre[:-1]
    run_min = np.minimum.accumulate(head)
    prev_min = np.concatenate([[np.inf], run_min[:-1]])
    start = np.maximum.accumulate(np.where(head <= prev_min, np.arange(len(x)), 0))
    j = int(np.argmax(pre[1:] - run_min))
    return int(start[j]), j + 1


def _max_subarray_loop(x: np.ndarray) -> tuple[int, int]:
    best, best_span = -np.inf, (0, 1)
    cur, cur_start = 0.0, 0
    for j, v in enumerate(x):
        if cur <= 0:
            cur, cur_start = float(v), j
        else:
            cur += float(v)
        if cur > best:
            best, best_span = cur, (cur_start, j + 1)
    return best_span


def span_scores(curve: np.ndarray, spans: np.ndarray, baseline: float = 0.0,
                prior_bins: float = PRIOR_BINS) -> np.ndarray:
    """Shrunk contrast per span: (Σ_in + m·b)/(n_in + m) - max((Σ_out + m·b)/(n_out + m), b)."""
    c = np.concatenate([[0.0], np.cumsum(curve)])
    total, nb = c[-1], len(curve)
    i, j = spans[:, 0], spans[:, 1]
    s_in = c[j] - c[i]
    n_in = (j - i).astype(np.float64)
    prior = prior_bins * baseline
    inside = (s_in + prior) / (n_in + prior_bins)
    out = (total - s_in + prior) / (nb - n_in + prior_bins)
    return inside - np.maximum(out, baseline)


def best_first(scores: np.ndarray, k: int) -> np.ndarray:
    """np.argsort(-scores, kind="stable")[:k] (ties in index order) without sorting all of a
    long array: the k best are selected first, then only they are sorted."""
    scores = np.asarray(scores)
    n = len(scores)
    if k >= n or n <= 4096 or not np.isfinite(scores).all():
        return np.argsort(-scores, kind="stable")[:k]
    if k <= 0:
        return np.zeros(0, np.int64)
    kth = np.partition(scores, n - k)[n - k]  # the k-th largest value
    above = np.flatnonzero(scores > kth)
    ties = np.flatnonzero(scores == kth)[: k - len(above)]  # in index order, as stable sort
    idx = np.concatenate([above, ties])
    return idx[np.lexsort((idx, -scores[idx]))]


def nms(spans: np.ndarray, scores: np.ndarray, iou: float = NMS_IOU, top: int | None = None) -> np.ndarray:
    """Indices kept by greedy temporal NMS (a span is dropped when its IoU with a kept one is
    >= iou), best first. With `top`, only as much of the order is sorted as the loop reaches.
    Each kept span drops the spans it overlaps from the rest of the order in one array step
    (IoU is symmetric, so this keeps exactly what the span-by-span loop keeps)."""
    n = len(scores)
    want = n if top is None else min(n, max(256, 32 * top))
    order = best_first(scores, want)
    keep: list[int] = []
    spans = np.asarray(spans, np.float64).reshape(-1, 2)
    rest = order
    while True:
        while rest.size:
            k = int(rest[0])
            keep.append(k)
            if top is not None and len(keep) >= top:
                return np.array(keep, dtype=np.int64)
            rest = rest[1:]
            rest = rest[temporal_iou(spans[k:k + 1], spans[rest])[0] < iou]
        if len(order) >= n:
            return np.array(keep, dtype=np.int64)
        seen, want = len(order), min(n, want * 8)  # a stable order's prefix does not change
        order = best_first(scores, want)
        rest = order[seen:]
        rest = rest[temporal_iou(spans[rest], spans[keep]).max(1) < iou]


def find_moments(curve: np.ndarray, bin_s: float, duration: float, baseline: float = 0.0,
                 top: int = 5, iou: float = NMS_IOU) -> list[Moment]:
    """Ranked moments of one video from its fused per-bin curve (nan bins = baseline)."""
    curve = np.where(np.isfinite(curve), curve, baseline).astype(np.float64)
    if len(curve) == 0:
        return []
    spans = proposals(curve, bin_s, baseline)
    scores = span_scores(curve, spans, baseline)
    keep = nms(spans * bin_s, scores, iou=iou, top=top)
    out = []
    for k in keep:
        s, e = spans[k] * bin_s
        out.append(Moment(float(s), float(min(e, duration)), float(scores[k])))
    return out
