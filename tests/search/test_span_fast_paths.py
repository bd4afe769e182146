"""The O(windows + bins) resample and the array-built span candidates equal their direct forms
(the (windows x bins) overlap matrix; sets of span tuples), on random windows and curves."""

from __future__ import annotations

import numpy as np
import pytest

from vidseek.search import localize, moments
from vidseek.search.fusion import n_bins, resample


def dense_resample(times: np.ndarray, scores: np.ndarray, duration: float,
                   bin_s: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    nb = n_bins(duration, bin_s)
    lo = np.arange(nb) * bin_s
    ov = np.clip(np.minimum(lo[None, :] + bin_s, times[:, 1:2]) - np.maximum(lo[None, :], times[:, 0:1]), 0, None)
    mass = ov.sum(0)
    return np.divide(ov.T @ scores, mass, out=np.zeros(nb), where=mass > 0), np.clip(mass / bin_s, 0, 1)


def set_runs(mask: np.ndarray, gap: int = 1) -> list[tuple[int, int]]:
    out, start, prev = [], None, None
    for i in np.nonzero(mask)[0].tolist():
        if start is None:
            start = prev = i
        elif i - prev > gap + 1:
            out.append((start, prev + 1))
            start = i
        prev = i
    return out + ([(start, prev + 1)] if start is not None else [])


def set_candidates(curve: np.ndarray, bin_s: float, boundaries: np.ndarray) -> np.ndarray:
    nb = len(curve)
    spans: set[tuple[int, int]] = set()
    lengths = {max(1, round(s / bin_s)) for s in moments.SCALES_S} | \
        {max(1, round(f * nb)) for f in moments.FRACTIONS}
    for L in sorted(x for x in lengths if x <= nb):
        starts = list(range(0, nb - L + 1, max(1, L // 4)))
        if starts[-1] != nb - L:
            starts.append(nb - L)
        spans.update((i, i + L) for i in starts)
    spans.update(set_runs(curve > np.mean(curve)))
    spans.add(moments._max_subarray(curve))
    mu, sd = float(np.mean(curve)), float(np.std(curve))
    for k in localize.LEVELS:
        spans.update(set_runs(curve > mu + k * sd))
    edges = sorted({0, nb} | {int(round(b / bin_s)) for b in boundaries if 0 < b / bin_s < nb})
    for a in range(len(edges) - 1):
        for b in range(a + 1, min(a + 4, len(edges))):
            spans.add((edges[a], edges[b]))
    return np.array(sorted(s for s in spans if s[1] > s[0]), np.int64).reshape(-1, 2)


def test_resample_equals_the_overlap_matrix() -> None:
    rng = np.random.default_rng(0)
    for trial in range(300):
        dur = float(rng.uniform(0.3, 400))
        n = int(rng.integers(0, 60))
        start = rng.uniform(-5, dur + 5, n)
        if trial % 3 == 0:
            start = np.round(start * 2) / 2  # windows on bin edges
        length = rng.choice([0.0, 0.25, 0.5, 1.0, 2.56, 17.3], n)
        times, scores = np.stack([start, start + length], 1), rng.normal(size=n)
        for got, want in zip(resample(times, scores, dur), dense_resample(times, scores, dur), strict=True):
            np.testing.assert_allclose(got, want, atol=1e-9)


def test_runs_and_candidates_equal_the_set_forms() -> None:
    rng = np.random.default_rng(1)
    for _ in range(150):
        nb = int(rng.integers(localize.MAX_EXHAUSTIVE_BINS + 1, 3000))
        curve = rng.normal(size=nb).cumsum() * 0.1 + rng.normal(size=nb)
        mask = rng.random(nb) < rng.random()
        assert moments._runs(mask, 1) == set_runs(mask)
        bounds = rng.uniform(0, nb * 0.5, int(rng.integers(0, 30)))
        np.testing.assert_array_equal(localize.candidate_spans(curve, 0.5, bounds),
                                      set_candidates(curve, 0.5, bounds))


@pytest.mark.parametrize("seed", range(40))
def test_kadane_in_prefix_sums_equals_the_loop(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    x = rng.normal(size=n)
    if seed % 4 == 0:
        x = np.round(x)  # ties: the loop's first best end and latest start must win
    if seed % 7 == 0:
        x = -np.abs(x)  # all negative: the single best bin
    assert moments._max_subarray(x) == moments._max_subarray_loop(x)


@pytest.mark.parametrize("nb", [1, 7, 600, 601, 5000])
def test_uniting_with_the_cached_scales_equals_the_full_unique(nb: int) -> None:
    rng = np.random.default_rng(nb)
    parts = [np.sort(rng.integers(0, nb + 1, size=(int(rng.integers(0, 50)), 2)), 1)
             for _ in range(4)] + [np.zeros((0,))]
    for bin_s in (0.5, 2.0):
        got = moments.unite_with_scales(nb, bin_s, parts)
        want = moments._unique_spans([moments.scale_spans(nb, bin_s), *parts])
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("seed", range(12))
def test_best_first_is_the_stable_order_prefix(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4097, 30000))
    scores = rng.normal(size=n)
    if seed % 3 == 0:
        scores = np.round(scores, 1)  # many ties
    full = np.argsort(-scores, kind="stable")
    for k in (1, 5, 100, 4000, n):
        np.testing.assert_array_equal(moments.best_first(scores, k), full[:k])


@pytest.mark.parametrize("top", [1, 3, 50, None])
def test_nms_with_partial_order_equals_nms_over_the_full_order(top) -> None:
    rng = np.random.default_rng(3)
    n = 6000
    starts = rng.integers(0, 500, n)
    spans = np.stack([starts, starts + rng.integers(1, 40, n)], 1).astype(np.float64)
    scores = np.round(rng.normal(size=n), 2)
    want: list[int] = []
    for k in np.argsort(-scores, kind="stable"):
        if want and moments.temporal_iou(spans[k:k + 1], spans[want]).max() >= 0.3:
            continue
        want.append(int(k))
        if top is not None and len(want) >= top:
            break
    assert moments.nms(spans, scores, iou=0.3, top=top).tolist() == want
