"""What every moment localizer shares: batch layout, IoU labels, inference with NMS, evaluation
(R@{1,5} at IoU {0.3,0.5,0.7}, mIoU) and the `localize` hook used to re-rank search hits.

A collated batch (vidseek.models.datasets.moments.collate_moments) is a dict:
feats (B, N, d) float, queries list[str], spans (B, 2) seconds, durations (B,), labels (B,) long
(class of the moment, -1 when unknown), videos list[str].
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader

from vidseek.metrics.moments import moment_recall
from vidseek.models.base import DatasetInfo, TrainableModel
from vidseek.models.localization.common import (
    cell_spans,
    iou_map,
    proposal_mask,
    resample_clips,
    scaled_iou_labels,
)
from vidseek.models.localization.nms import nms
from vidseek.models.localization.text import MAX_WORDS, WordEmbedding


class Localizer(TrainableModel):
    """Base: subclasses implement `proposal_scores` (and `training_loss`)."""

    task = "localization"
    select_metric = "mIoU"
    info: DatasetInfo
    mask2d: Tensor  # (N, N) bool buffer of valid proposals

    def __init__(self, params: dict[str, Any], info: DatasetInfo, counts: list[int] | None = None) -> None:
        super().__init__()
        self.params = dict(params)
        self.info = info
        self.n = int(params.get("n_clips", info.extra.get("n_clips", 16)))
        self.feat_dim = int(sum(info.experts.values())) or int(info.extra.get("feat_dim", 0))
        if self.feat_dim <= 0:
            raise ValueError(f"dataset {info.name!r} declares no feature experts")
        self.min_iou = float(params.get("min_iou", 0.5))
        self.max_iou = float(params.get("max_iou", 1.0))
        self.nms_thresh = float(params.get("nms_thresh", 0.5))
        vocab = info.extra.get("vocab")
        if not vocab:
            raise ValueError(f"dataset {info.name!r} has no vocabulary in DatasetInfo.extra['vocab']")
        self.words = WordEmbedding(vocab, dim=int(params.get("word_dim", 50)),
                                   word_vectors=str(params.get("word_vectors", "glove50")),
                                   max_words=int(params.get("max_words", MAX_WORDS)))
        mask = proposal_mask(self.n, counts)
        self.register_buffer("mask2d", torch.from_numpy(mask), persistent=False)
        self._rows, self._cols = np.nonzero(mask)
        self._spans = cell_spans(self.n)[self._rows, self._cols]  # (P, 2) normalised

    # ---- targets -------------------------------------------------------------------------
    def iou_targets(self, batch: dict[str, Any]) -> tuple[Tensor, Tensor]:
        """(B, N, N) scaled IoU labels and raw IoUs of every cell with the batch's spans."""
        mask = self.mask2d.cpu().numpy()
        raw = [iou_map(float(s), float(e), float(d), self.n)
               for (s, e), d in zip(batch["spans"].tolist(), batch["durations"].tolist(), strict=True)]
        y = np.stack([scaled_iou_labels(r, mask, self.min_iou, self.max_iou) for r in raw])
        dev = self.mask2d.device
        return torch.from_numpy(y).to(dev), torch.from_numpy(np.stack(raw).astype(np.float32)).to(dev)

    def masked_bce(self, logits: Tensor, y: Tensor) -> Tensor:
        m = self.mask2d.to(logits.dtype)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, y, reduction="none")
        return (loss * m).sum() / (m.sum() * len(logits))

    # ---- inference -----------------------------------------------------------------------
    def proposal_scores(self, feats: Tensor, queries: list[str]) -> Tensor:
        """(B, P) scores of the P candidate cells (order of self._rows / self._cols)."""
        raise NotImplementedError

    def candidate_spans(self) -> np.ndarray:
        return self._spans

    @torch.no_grad()
    def predict(self, feats: Tensor, queries: list[str], durations: list[float], top_k: int = 5
                ) -> list[list[tuple[float, float, float]]]:
        """Per query: up to top_k (start, end, score) in seconds after NMS, best first."""
        scores = self.proposal_scores(feats, queries).float().cpu().numpy()
        spans = self.candidate_spans()
        out = []
        for row, dur in zip(scores, durations, strict=True):
            keep = nms(spans, row, self.nms_thresh, top_k)
            out.append([(float(spans[k, 0] * dur), float(spans[k, 1] * dur), float(row[k])) for k in keep])
        return out

    @torch.no_grad()
    def evaluate(self, loader: DataLoader) -> dict[str, float]:
        was = self.training
        self.eval()
        preds, gts = [], []
        dev = self.mask2d.device
        for batch in loader:
            res = self.predict(batch["feats"].to(dev), batch["queries"], batch["durations"].tolist())
            preds += [np.asarray([r[:2] for r in p]).reshape(-1, 2) for p in res]
            gts += [np.asarray(s, np.float64).reshape(1, 2) for s in batch["spans"].tolist()]
        self.train(was)
        return moment_recall(preds, gts)

    @torch.no_grad()
    def localize(self, values: np.ndarray, times: np.ndarray, query: str, top_k: int = 5,
                 duration: float | None = None) -> list[tuple[float, float, float]]:
        """Rank moments of one video for one query: (start, end, score) seconds, best first.
        Features (rows with their times) are resampled to the model's N clips first."""
        duration = float(np.asarray(times)[:, 1].max()) if duration is None else float(duration)
        clips = resample_clips(values, times, duration, self.n)
        feats = torch.from_numpy(clips)[None].to(self.mask2d.device)
        self.eval()
        return self.predict(feats, [query], [duration], top_k)[0]
