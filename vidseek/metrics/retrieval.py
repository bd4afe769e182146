"""Text-to-video retrieval metrics: R@K, median and mean rank, from ranks or a score matrix."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def ranks_from_scores(scores: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """1-based rank of gt[i] in row i of scores (higher is better; ties count against)."""
    scores = np.asarray(scores, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.int64)
    pos = scores[np.arange(len(gt)), gt]
    return (scores > pos[:, None]).sum(1) + (scores == pos[:, None]).sum(1)


def retrieval_metrics(ranks: np.ndarray, ks: Sequence[int] = (1, 5, 10)) -> dict[str, float]:
    """R@K in percent, MdR and MnR from 1-based ranks (np.inf for 'not found')."""
    ranks = np.asarray(ranks, dtype=np.float64)
    out = {f"R@{k}": float(100.0 * np.mean(ranks <= k)) for k in ks}
    out["MdR"] = float(np.median(ranks))
    out["MnR"] = float(np.mean(ranks))
    return out


def both_directions(scores: np.ndarray) -> dict[str, float]:
    """t2v and v2t metrics for a square (text, video) score matrix with matches on the diagonal."""
    n = scores.shape[0]
    gt = np.arange(n)
    t2v = retrieval_metrics(ranks_from_scores(scores, gt))
    v2t = retrieval_metrics(ranks_from_scores(scores.T, gt))
    out = {f"t2v_{k}": v for k, v in t2v.items()}
    out.update({f"v2t_{k}": v for k, v in v2t.items()})
    out["rsum"] = sum(t2v[f"R@{k}"] + v2t[f"R@{k}"] for k in (1, 5, 10))
    return out
