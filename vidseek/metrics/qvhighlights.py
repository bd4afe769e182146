"""QVHighlights moment-retrieval and highlight-detection metrics.

Written from the definitions of the reference evaluator (moment_detr `standalone_eval/eval.py`)
so that its published numbers are reproduced to 2 decimals:

- MR-R1@t: the top-1 window of each query counts when its IoU with the best-matching ground-truth
  window is >= t (t in 0.5:0.05:0.95).
- MR-mAP@t: per query, the (at most 10) predicted windows sorted by score (stable) are matched
  greedily to unmatched ground-truth windows at IoU >= t (ActivityNet detection AP, VOC-2011
  interpolation); the APs are averaged over queries; "average" is the mean over the thresholds.
- length buckets: short (0, 10], middle (10, 30], long (30, 150] seconds; a query is kept with only
  its ground-truth windows in the bucket; "full" keeps everything.
- HL-min-{Fair,Good,VeryGood}: a 2 s clip is positive when a worker scored it >= 2/3/4. Hit1 is the
  best worker's label of the top-scored clip; mAP is the per-worker ranking AP (mean precision at
  each distinct-score recall step, interpolated), averaged over queries and the 3 workers.
Numbers are rounded to 2 decimals like the reference (averages taken before rounding).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vidseek.errors import DatasetError

IOU_THRESHOLDS: tuple[float, ...] = tuple(round(0.5 + 0.05 * i, 2) for i in range(10))
LENGTH_BUCKETS: dict[str, tuple[float, float]] = {
    "short": (0.0, 10.0), "middle": (10.0, 30.0), "long": (30.0, 150.0), "full": (0.0, 150.0),
}
SALIENCY_LEVELS: dict[str, int] = {"Fair": 2, "Good": 3, "VeryGood": 4}
MAX_PRED_WINDOWS = 10
CLIP_SECONDS = 2.0


def _r2(x: float) -> float:
    return float(f"{x:.2f}")


def load_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a JSONL file; a bad line raises naming the file and line."""
    rows = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise DatasetError(f"{path}:{n}: not JSON ({err.msg})") from None
    return rows


def _cross_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    inter = np.clip(np.minimum(a[:, None, 1], b[None, :, 1]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    union = (a[:, 1] - a[:, 0])[:, None] + (b[:, 1] - b[:, 0])[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def _voc_ap(precision: np.ndarray, recall: np.ndarray) -> float:
    """Area under the monotone (right-max) precision envelope, VOC 2011 style."""
    p = np.concatenate([[0.0], precision, [0.0]])
    r = np.concatenate([[0.0], recall, [1.0]])
    p = np.maximum.accumulate(p[::-1])[::-1]
    steps = np.nonzero(r[1:] != r[:-1])[0] + 1
    return float(np.sum((r[steps] - r[steps - 1]) * p[steps]))


def detection_ap(gt: np.ndarray, pred: np.ndarray, scores: np.ndarray,
                 thresholds: Sequence[float] = IOU_THRESHOLDS) -> np.ndarray:
    """AP at each IoU threshold for one query: greedy matching in score order (ties keep input
    order), each ground-truth window matched at most once."""
    ap = np.zeros(len(thresholds))
    if len(pred) == 0:
        return ap
    order = sorted(range(len(pred)), key=lambda i: -scores[i])  # stable, like list.sort
    pred = pred[order]
    ious = _cross_iou(pred, gt) if len(gt) else np.zeros((len(pred), 0))
    tp = np.zeros((len(thresholds), len(pred)))
    for ti, thr in enumerate(thresholds):
        used = np.zeros(len(gt), bool)
        for pi in range(len(pred)):
            row = ious[pi]
            for gi in np.argsort(row)[::-1]:  # best IoU first
                if row[gi] < thr:
                    break
                if used[gi]:
                    continue
                used[gi] = True
                tp[ti, pi] = 1
                break
    tp_c = np.cumsum(tp, axis=1)
    fp_c = np.cumsum(1 - tp, axis=1)
    recall = tp_c / max(len(gt), 1) if len(gt) else np.zeros_like(tp_c)
    precision = tp_c / (tp_c + fp_c)
    for ti in range(len(thresholds)):
        ap[ti] = _voc_ap(precision[ti], recall[ti])
    return ap


def _bucket(preds: list[dict], gts: list[dict], lo: float, hi: float) -> tuple[list[dict], list[dict]]:
    if (lo, hi) == LENGTH_BUCKETS["full"]:
        return preds, gts
    kept_gt = []
    for d in gts:
        wins = [w for w in d["relevant_windows"] if lo < w[1] - w[0] <= hi]
        if wins:
            kept_gt.append({**d, "relevant_windows": wins})
    qids = {d["qid"] for d in kept_gt}
    return [d for d in preds if d["qid"] in qids], kept_gt


def mr_map(preds: list[dict], gts: list[dict]) -> dict[str, float]:
    gt_by_q = {d["qid"]: np.asarray(d["relevant_windows"], float).reshape(-1, 2) for d in gts}
    aps = []
    for d in preds:
        wins = np.asarray(d["pred_relevant_windows"][:MAX_PRED_WINDOWS], float).reshape(-1, 3)
        gt = gt_by_q.get(d["qid"], np.zeros((0, 2)))
        aps.append(detection_ap(gt, wins[:, :2], wins[:, 2]))
    mean = np.mean(aps, axis=0) if aps else np.zeros(len(IOU_THRESHOLDS))
    out = {str(t): _r2(100 * v) for t, v in zip(IOU_THRESHOLDS, mean, strict=True)}
    out["average"] = _r2(100 * float(np.mean(mean)))
    return out


def mr_r1(preds: list[dict], gts: list[dict]) -> dict[str, float]:
    gt_by_q = {d["qid"]: np.asarray(d["relevant_windows"], float).reshape(-1, 2) for d in gts}
    best = []
    for d in preds:
        top = np.asarray(d["pred_relevant_windows"][0][:2], float).reshape(1, 2)
        gt = gt_by_q[d["qid"]]
        best.append(float(_cross_iou(top, gt).max()) if len(gt) else 0.0)
    ious = np.asarray(best)
    return {str(t): _r2(100 * float(np.mean(ious >= t))) if len(ious) else 0.0 for t in IOU_THRESHOLDS}


def eval_moment_retrieval(preds: list[dict], gts: list[dict]) -> dict[str, dict[str, dict[str, float]]]:
    out = {}
    for name, (lo, hi) in LENGTH_BUCKETS.items():
        p, g = _bucket(preds, gts, lo, hi)
        out[name] = {"MR-mAP": mr_map(p, g), "MR-R1": mr_r1(p, g)}
    return out


def ranking_ap(y_true: np.ndarray, scores: np.ndarray) -> float:
    """Ranking AP over distinct score thresholds: mean interpolated precision at each recall step
    (all-negative -> 0, all-positive -> 1)."""
    y_true = np.asarray(y_true, float)
    if len(set(y_true.tolist())) == 1:
        return float(y_true[0] != 0)
    order = np.argsort(-scores, kind="mergesort")
    s, y = scores[order], y_true[order]
    last = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]  # end of each distinct-score group
    tp = np.cumsum(y)[last]
    fp = (last + 1) - tp
    precision = tp / (tp + fp)
    recall = tp / y.sum()
    # envelope: best precision at this or any higher recall (lower threshold)
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    prev = np.r_[0.0, recall[:-1]]
    return float(np.mean(precision[recall != prev]))


def _gt_saliency(d: dict) -> np.ndarray:
    full = np.zeros((int(d["duration"] / CLIP_SECONDS), 3))
    if d.get("relevant_clip_ids"):
        full[np.asarray(d["relevant_clip_ids"])] = np.asarray(d["saliency_scores"], float)
    return full


def eval_highlight(preds: list[dict], gts: list[dict]) -> dict[str, dict[str, float]]:
    gt_scores = {d["qid"]: _gt_saliency(d) for d in gts}
    out = {}
    for name, level in SALIENCY_LEVELS.items():
        hits: list[float] = []
        aps: list[float] = []
        for d in preds:
            binary = (gt_scores[d["qid"]] >= level).astype(float)
            pred = np.asarray(d["pred_saliency_scores"], float)
            top = int(np.argmax(pred))
            hits.append(binary[top].max() if top < len(binary) else 0.0)
            pred = pred[: len(binary)] if len(pred) >= len(binary) else np.r_[pred, np.zeros(len(binary) - len(pred))]
            aps.extend(ranking_ap(binary[:, w], pred) for w in range(3))
        out[f"HL-min-{name}"] = {"HL-mAP": _r2(100 * float(np.mean(aps))), "HL-Hit1": _r2(100 * float(np.mean(hits)))}
    return out


def eval_submission(preds: list[dict], gts: list[dict], match_number: bool = True) -> dict[str, Any]:
    """Every metric, in the reference's layout ("brief" first, then buckets / levels by name)."""
    pq, gq = {d["qid"] for d in preds}, {d["qid"] for d in gts}
    if match_number and pq != gq:
        raise DatasetError(
            f"predictions and ground truth cover different queries ({len(pq - gq)} only in predictions, "
            f"{len(gq - pq)} only in ground truth)")
    shared = pq & gq
    preds = [d for d in preds if d["qid"] in shared]
    gts = [d for d in gts if d["qid"] in shared]
    if not preds:
        raise DatasetError("no query is in both predictions and ground truth")
    metrics: dict[str, Any] = {}
    brief: dict[str, float] = {}
    if "pred_relevant_windows" in preds[0]:
        mr = eval_moment_retrieval(preds, gts)
        metrics.update(mr)
        brief.update({
            "MR-full-R1@0.5": mr["full"]["MR-R1"]["0.5"], "MR-full-R1@0.7": mr["full"]["MR-R1"]["0.7"],
            "MR-full-mAP": mr["full"]["MR-mAP"]["average"],
            "MR-full-mAP@0.5": mr["full"]["MR-mAP"]["0.5"], "MR-full-mAP@0.75": mr["full"]["MR-mAP"]["0.75"],
            "MR-long-mAP": mr["long"]["MR-mAP"]["average"], "MR-middle-mAP": mr["middle"]["MR-mAP"]["average"],
            "MR-short-mAP": mr["short"]["MR-mAP"]["average"],
        })
        brief = dict(sorted(brief.items()))
    if "pred_saliency_scores" in preds[0] and all("saliency_scores" in g for g in gts):
        hl = eval_highlight(preds, gts)
        metrics.update(hl)
        for k, v in hl.items():
            brief[f"{k}-mAP"] = v["HL-mAP"]
            brief[f"{k}-Hit1"] = v["HL-Hit1"]
    return {"brief": brief, **dict(sorted(metrics.items()))}
