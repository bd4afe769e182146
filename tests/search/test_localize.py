"""Span finding inside one video on hand-built fused curves: the right answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from vidseek.search.localize import (
    MAX_EXHAUSTIVE_BINS,
    all_spans,
    contrast_scores,
    find_spans,
    noise_sigma,
)
from vidseek.search.moments import Moment

BIN = 0.5


def noisy(level: float, n: int, seed: int = 0, amp: float = 0.05) -> np.ndarray:
    return level + amp * np.random.default_rng(seed).standard_normal(n)


def span(m: Moment) -> tuple[float, float]:
    return (round(m.start, 3), round(m.end, 3))


def test_short_span_inside_a_high_plateau() -> None:
    curve = noisy(1.0, 60)  # 30 s, high everywhere (every expert half-matches)
    curve[20:26] += 0.6  # a 3 s title card matches better: 10-13 s
    ms = find_spans(curve, BIN, 30.0)
    assert isinstance(ms[0], Moment)
    assert span(ms[0]) == (10.0, 13.0)
    assert ms[0].score > 0 and ms[0].why["inside"] > ms[0].why["outside"]


def test_short_peak_beats_the_plateau_around_it() -> None:
    curve = np.zeros(60)
    curve[5:50] = 1.0  # a long plateau over a low background...
    curve[30:36] = 2.0  # ...with a 3 s peak on it
    curve += noisy(0.0, 60, seed=1, amp=0.05)
    assert span(find_spans(curve, BIN, 30.0)[0]) == (15.0, 18.0)


@pytest.mark.parametrize("curve", [np.full(60, 0.7), noisy(0.2, 60, seed=2, amp=0.3)],
                         ids=["constant", "noise"])
def test_flat_video_is_the_whole_video(curve: np.ndarray) -> None:
    ms = find_spans(curve, BIN, 29.8)
    assert len(ms) == 1 and span(ms[0]) == (0.0, 29.8)
    assert ms[0].score == 0.0 and ms[0].why["flat"] is True


def test_two_separated_peaks_both_found_best_first() -> None:
    curve = noisy(0.0, 80, seed=3)
    curve[10:16] += 2.0  # 5-8 s, the stronger
    curve[50:54] += 1.5  # 25-27 s
    ms = find_spans(curve, BIN, 40.0, top=3)
    assert [span(m) for m in ms[:2]] == [(5.0, 8.0), (25.0, 27.0)]
    assert ms[0].score > ms[1].score


def test_boundaries_snap_to_a_cut_and_a_line_edge_within_tolerance() -> None:
    curve = noisy(0.0, 60, seed=4)
    curve[20:26] += 1.0  # bins say 10-13 s
    ms = find_spans(curve, BIN, 30.0, cuts=[10.3, 20.0], edges=[12.8, 14.5])
    assert span(ms[0]) == (10.3, 12.8)
    assert ms[0].why["snapped"] == {"start": "cut", "end": "edge"}
    far = find_spans(curve, BIN, 30.0, cuts=[8.0], edges=[15.5], snap_s=1.0)
    assert span(far[0]) == (10.0, 13.0) and far[0].why["snapped"] == {"start": None, "end": None}


def test_nearest_boundary_wins() -> None:
    curve = noisy(0.0, 60, seed=5)
    curve[20:26] += 1.0
    ms = find_spans(curve, BIN, 30.0, cuts=[9.4, 10.2], edges=[9.9])
    assert ms[0].start == pytest.approx(9.9) and ms[0].why["snapped"]["start"] == "edge"


def test_spans_stay_inside_the_video_and_nan_bins_are_neutral() -> None:
    curve = noisy(0.0, 21, seed=6)
    curve[16:21] += 1.5  # the last 2.5 s; the curve's last bin runs past the 10.2 s duration
    curve[2:4] = np.nan  # no expert covers 1-2 s
    ms = find_spans(curve, BIN, 10.2)
    assert span(ms[0]) == (8.0, 10.2)
    assert all(0.0 <= m.start < m.end <= 10.2 for m in ms)
    assert find_spans(np.full(4, np.nan), BIN, 2.0) == [] and find_spans(np.zeros(0), BIN, 0) == []


def test_long_curve_uses_proposals_and_still_finds_the_peak() -> None:
    n = MAX_EXHAUSTIVE_BINS + 400
    curve = noisy(1.0, n, seed=7)
    curve[700:712] += 1.0  # 350-356 s
    ms = find_spans(curve, BIN, n * BIN)
    assert span(ms[0]) == (350.0, 356.0)


def test_score_does_not_reward_length() -> None:
    """A plateau's exact span beats its super-spans and sub-spans; the whole video scores 0."""
    curve = np.zeros(40)
    curve[10:20] = 1.0
    sp = all_spans(40)
    score, _, _ = contrast_scores(curve, sp, sigma=0.1)
    best = sp[int(np.argmax(score))]
    assert best.tolist() == [10, 20]
    whole = int(np.flatnonzero((sp[:, 0] == 0) & (sp[:, 1] == 40))[0])
    assert score[whole] == 0.0
    assert noise_sigma(np.full(10, 3.0)) == pytest.approx(1e-3)


def test_a_peak_on_a_plateau_and_the_plateau_are_both_answers() -> None:
    curve = np.zeros(70)
    curve[:60] = 1.0  # 0-30 s high, 30-35 s low
    curve[:10] += 0.5  # 0-5 s higher still (a crowd shot)
    curve += noisy(0.0, 70, seed=8)
    assert [span(m) for m in find_spans(curve, BIN, 35.0, top=2)] == [(0.0, 30.0), (0.0, 5.0)]
