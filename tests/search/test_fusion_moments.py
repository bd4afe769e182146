"""Fusion per time and moments, against hand-computed cases and planted curves."""

from __future__ import annotations

import numpy as np
import pytest

from vidseek.metrics.moments import temporal_iou
from vidseek.search.fusion import Normaliser, fuse, n_bins, resample
from vidseek.search.moments import (
    _max_subarray,
    _runs,
    find_moments,
    nms,
    proposals,
    span_scores,
)

IDENT = Normaliser(0.0, 1.0)


def test_resample_overlap_weighted_hand_case() -> None:
    vals, cov = resample(np.array([[0, 1], [1, 2]]), np.array([1.0, 3.0]), 2.0, 0.5)
    np.testing.assert_allclose(vals, [1, 1, 3, 3])
    np.testing.assert_allclose(cov, [1, 1, 1, 1])
    # a 2.56 s window and a 1 s window overlapping bin [2.5, 3): mean weighted by overlap
    vals, cov = resample(np.array([[0, 2.56], [2.56, 3.56]]), np.array([2.0, 4.0]), 3.0, 0.5)
    assert vals[5] == pytest.approx((0.06 * 2 + 0.44 * 4) / 0.5)
    # a window over half a bin covers half of it; bins it does not reach are absent
    vals, cov = resample(np.array([[0.25, 0.75]]), np.array([5.0]), 1.5, 0.5)
    np.testing.assert_allclose(cov, [0.5, 0.5, 0.0])
    np.testing.assert_allclose(vals, [5, 5, 0])
    assert n_bins(1.5, 0.5) == 3 and n_bins(1.6, 0.5) == 4


def test_normaliser_zscore_and_floor() -> None:
    n = Normaliser.fit([np.array([1.0, 3.0]), np.array([2.0])])
    assert n.mean == pytest.approx(2.0) and n.std == pytest.approx(np.std([1, 3, 2]))
    flat = Normaliser.fit([np.array([0.5, 0.5, 0.5])], std_floor=0.05)
    assert flat.std == 0.05 and flat(np.array([0.5]))[0] == 0.0


def test_missing_expert_contributes_nothing() -> None:
    t = np.array([[0, 1], [1, 2]])
    a = (t, np.array([2.0, -1.0]))
    b = (t, np.array([-3.0, -3.0]))
    norms = {"a": IDENT, "b": IDENT}
    only_a = fuse("v1", 2.0, {"a": a}, norms, bin_s=1.0)
    np.testing.assert_allclose(only_a.fused, [2.0, -1.0])  # renormalised over "a": no penalty
    both = fuse("v2", 2.0, {"a": a, "b": b}, norms, bin_s=1.0)
    np.testing.assert_allclose(both.fused, [-0.5, -2.0])
    assert set(only_a.per_expert) == {"a"}
    # an expert with zero rows for the video is the same as absent
    empty = fuse("v3", 2.0, {"a": a, "b": (np.zeros((0, 2)), np.zeros(0))}, norms, bin_s=1.0)
    np.testing.assert_allclose(empty.fused, only_a.fused)


def test_weights_respected_and_partial_coverage() -> None:
    t = np.array([[0, 2]])
    norms = {"a": IDENT, "b": IDENT}
    c = fuse("v", 2.0, {"a": (t, np.array([1.0])), "b": (t, np.array([5.0]))}, norms,
             weights={"a": 3.0, "b": 1.0}, bin_s=1.0)
    np.testing.assert_allclose(c.fused, [(3 * 1 + 5) / 4] * 2)
    off = fuse("v", 2.0, {"a": (t, np.array([1.0])), "b": (t, np.array([5.0]))}, norms,
               weights={"b": 0.0}, bin_s=1.0)
    np.testing.assert_allclose(off.fused, [1.0, 1.0])
    # speech covers only the second bin: the first bin is appearance alone
    s = fuse("v", 2.0, {"a": (t, np.array([1.0])), "b": (np.array([[1, 2]]), np.array([5.0]))},
             norms, bin_s=1.0)
    np.testing.assert_allclose(s.fused, [1.0, 3.0])
    assert s.expert_scores(0.0, 1.0) == {"a": 1.0}


def test_span_scores_hand_computed() -> None:
    curve = np.array([0.0, 0.0, 2.0, 2.0, 0.0, 0.0])
    spans = np.array([[2, 4], [0, 6], [2, 3]])
    got = span_scores(curve, spans, baseline=0.0, prior_bins=2.0)
    # [2,4): in 4/(2+2) = 1, out 0/(4+2) = 0 -> 1 ; whole: in 4/(6+2), out 0/(0+2) -> 0.5 ;
    # [2,3): in 2/(1+2), out 2/(5+2) -> 2/3 - 2/7
    np.testing.assert_allclose(got, [1.0, 0.5, 2 / 3 - 2 / 7])
    shifted = span_scores(curve + 1.0, spans, baseline=1.0, prior_bins=2.0)
    np.testing.assert_allclose(shifted, got)  # only the distance from the baseline counts


def test_nms_hand_case() -> None:
    spans = np.array([[0, 10], [1, 10], [20, 30], [0, 4]], float)
    scores = np.array([0.9, 0.95, 0.5, 0.8])
    keep = nms(spans, scores, iou=0.5)
    # [1,10] first; [0,10] has IoU 0.9 -> dropped; [0,4] IoU 3/10 -> kept; [20,30] kept
    assert keep.tolist() == [1, 3, 2]
    assert nms(spans, scores, iou=0.5, top=2).tolist() == [1, 3]


def test_runs_and_max_subarray() -> None:
    assert _runs(np.array([1, 1, 0, 1, 0, 0, 1], bool), gap=1) == [(0, 4), (6, 7)]
    assert _max_subarray(np.array([-1, 2, 3, -10, 4])) == (1, 3)


@pytest.mark.parametrize("seed", range(5))
def test_planted_span_is_top1(seed: int) -> None:
    rng = np.random.default_rng(seed)
    nb = 80  # 40 s at 0.5 s bins
    curve = rng.normal(0, 0.3, nb)
    s, e = sorted(rng.choice(np.arange(2, nb - 2), 2, replace=False))
    e = max(e, s + 4)
    curve[s:e] += 2.5
    top = find_moments(curve, 0.5, nb * 0.5, top=5)
    spans = np.array([[m.start, m.end] for m in top])
    # with noise an adjacent noisy bin may join: the top-1 still overlaps the plant by IoU >= 0.8
    assert temporal_iou(spans[:1], np.array([[s * 0.5, e * 0.5]]))[0, 0] >= 0.8
    clean = find_moments(np.where(np.arange(nb) >= s, 1.0, 0.0) * (np.arange(nb) < e), 0.5, nb * 0.5)
    assert (clean[0].start, clean[0].end) == (s * 0.5, e * 0.5)  # noise-free: exactly the plant
    iou = temporal_iou(spans, spans)
    assert (iou[np.triu_indices(len(spans), 1)] < 0.5).all()  # NMS removed overlaps


def test_whole_video_match_gives_whole_span_and_proposals_cover_scales() -> None:
    curve = np.full(20, 1.5)
    m = find_moments(curve, 0.5, 10.0, baseline=0.0)[0]
    assert (m.start, m.end) == (0.0, 10.0) and m.score == pytest.approx(30 / 24)
    p = proposals(np.zeros(40), 0.5)
    lengths = set((p[:, 1] - p[:, 0]).tolist())
    assert {2, 4, 8, 16, 32, 10, 20, 30, 40} <= lengths
    assert find_moments(np.array([np.nan, 1.0]), 0.5, 1.0)[0].end == 1.0
