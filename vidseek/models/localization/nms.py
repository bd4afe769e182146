"""1D non-maximum suppression over scored temporal spans (the field's inference step)."""

from __future__ import annotations

import numpy as np


def nms(spans: np.ndarray, scores: np.ndarray, thresh: float = 0.5, top_k: int | None = None) -> np.ndarray:
    """Indices of kept spans, best first: take the best-scored span, drop every remaining span
    whose IoU with it is > thresh, repeat. Ties keep input order (stable sort)."""
    spans = np.asarray(spans, np.float64).reshape(-1, 2)
    scores = np.asarray(scores, np.float64).reshape(-1)
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    length = spans[:, 1] - spans[:, 0]
    while order.size and (top_k is None or len(keep) < top_k):
        i = order[0]
        keep.append(int(i))
        rest = order[1:]
        inter = np.clip(np.minimum(spans[i, 1], spans[rest, 1]) - np.maximum(spans[i, 0], spans[rest, 0]), 0, None)
        union = length[i] + length[rest] - inter
        iou = np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)
        order = rest[iou <= thresh]
    return np.asarray(keep, dtype=np.int64)
