"""Shared retrieval metrics against a plain full-matrix reference on random scores."""

from __future__ import annotations

import numpy as np
import pytest

from vidseek.metrics.retrieval import both_directions, ranks_from_scores, retrieval_metrics


def _reference_ranks(scores: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Rank by sorting each row (stable, descending; ties put the positive last among equals)."""
    out = []
    for i, row in enumerate(scores):
        order = sorted(range(len(row)), key=lambda j: (-row[j], j == gt[i]))
        out.append(order.index(gt[i]) + 1)
    return np.array(out)


def _reference_metrics(ranks: np.ndarray) -> dict[str, float]:
    n = len(ranks)
    out = {f"R@{k}": 100.0 * sum(1 for r in ranks if r <= k) / n for k in (1, 5, 10)}
    s = sorted(ranks)
    out["MdR"] = float(s[n // 2]) if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2
    out["MnR"] = sum(ranks) / n
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ranks_and_metrics_match_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_t, n_v = 37, 23
    scores = rng.standard_normal((n_t, n_v))
    scores[3, :] = 0.5  # a row of ties: the positive ranks last
    gt = rng.integers(0, n_v, n_t)
    ref = _reference_ranks(scores, gt)
    got = ranks_from_scores(scores, gt)
    assert got.tolist() == ref.tolist()
    assert got[3] == n_v
    m, r = retrieval_metrics(got), _reference_metrics(ref)
    for k, v in r.items():
        assert m[k] == pytest.approx(v)


def test_both_directions_matches_reference() -> None:
    rng = np.random.default_rng(7)
    n = 30
    scores = rng.standard_normal((n, n)) + 1.5 * np.eye(n)
    out = both_directions(scores)
    gt = np.arange(n)
    t2v = _reference_metrics(_reference_ranks(scores, gt))
    v2t = _reference_metrics(_reference_ranks(scores.T, gt))
    for k in t2v:
        assert out[f"t2v_{k}"] == pytest.approx(t2v[k])
        assert out[f"v2t_{k}"] == pytest.approx(v2t[k])
    assert out["rsum"] == pytest.approx(sum(t2v[f"R@{k}"] + v2t[f"R@{k}"] for k in (1, 5, 10)))


def test_perfect_and_reversed_scores() -> None:
    n = 12
    assert both_directions(np.eye(n))["t2v_R@1"] == 100.0
    worst = ranks_from_scores(-np.eye(n), np.arange(n))
    assert worst.tolist() == [n] * n
