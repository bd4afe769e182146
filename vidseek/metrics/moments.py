"""Moment metrics: temporal IoU, R@K at IoU thresholds, mIoU (the field's definitions)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def temporal_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU between every span in a (N, 2) and every span in b (M, 2) -> (N, M)."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 2)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 2)
    inter = np.clip(
        np.minimum(a[:, None, 1], b[None, :, 1]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None
    )
    union = (a[:, 1] - a[:, 0])[:, None] + (b[:, 1] - b[:, 0])[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def moment_recall(
    preds: Sequence[np.ndarray],
    gts: Sequence[np.ndarray],
    ks: Sequence[int] = (1, 5),
    thresholds: Sequence[float] = (0.3, 0.5, 0.7),
) -> dict[str, float]:
    """R@K,IoU=t in percent: a query counts when any of its top-K predictions reaches IoU >= t
    with any of its ground-truth spans. Also mIoU of the top-1 prediction (best over gts)."""
    out: dict[str, float] = {}
    best = []
    hits = {(k, t): 0 for k in ks for t in thresholds}
    for pred, gt in zip(preds, gts, strict=True):
        pred = np.asarray(pred, dtype=np.float64).reshape(-1, 2)
        if len(pred) == 0:
            best.append(0.0)
            continue
        ious = temporal_iou(pred, gt).max(1)  # best gt per prediction
        best.append(float(ious[0]))
        for k in ks:
            top = ious[:k].max()
            for t in thresholds:
                hits[(k, t)] += int(top >= t)
    n = max(len(preds), 1)
    for (k, t), h in hits.items():
        out[f"R@{k},IoU={t}"] = 100.0 * h / n
    out["mIoU"] = 100.0 * float(np.mean(best)) if best else 0.0
    return out
