"""What every moment localizer shares: batch layout, IoU labels, inference with NMS, evaluation
(R@{1,5} at IoU {0.3,0.5,0.7}, mIoU) and the `localize` hook used to re-rank search hits.

A collated batch (vidseek.models.datasets.moments.collate_moments) is a dict:
feats (B, N, d) float, queries list[str], spans (B, 2) seconds, durations (B,), labels (B,) long
(class of the moment, -1 when unknown), videos list[str].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader

from vidseek.metrics.moments import moment_recall
from vidseek.models.base import TrainableModel
from vidseek.models.config import DatasetInfo
from vidseek.models.localization.common import (
    cell_spans,
    iou_map,
    proposal_mask,
    resample_clips,
    scaled_iou_labels,
)
from vidseek.models.localization.nms import nms
from vidseek.models.localization.text import MAX_WORDS, WordEmbedding


@dataclass(frozen=True)
class LocalizerConfig:
    """What every localizer reads. n_clips: the 2D map's side (None: the dataset's); min_iou /
    max_iou: the IoU range scaled to labels 0..1; word_vectors: "glove50" or "random";
    pooling_counts: diagonals per stride group of the sparse map (None: 2D-TAN's rule).
    tiny: the tiny twin (the card's overrides)."""

    tiny: bool = False
    n_clips: int | None = None
    min_iou: float = 0.5
    max_iou: float = 1.0
    nms_thresh: float = 0.5
    word_dim: int = 50
    word_vectors: str = "glove50"
    max_words: int = MAX_WORDS
    pooling_counts: list[int] | None = None


class Localizer(TrainableModel):
    """Base: subclasses implement `proposal_scores` (and `training_loss`)."""

    task = "localization"
    select_metric = "mIoU"
    info: DatasetInfo
    mask2d: Tensor  # (N, N) bool buffer of valid proposals

    def __init__(self, cfg: LocalizerConfig, info: DatasetInfo, counts: list[int] | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        self.info = info
        self.n = cfg.n_clips or info.n_clips
        self.feat_dim = int(sum(info.experts.values()))
        if self.feat_dim <= 0:
            raise ValueError(f"dataset {info.name!r} declares no feature experts")
        self.min_iou, self.max_iou, self.nms_thresh = cfg.min_iou, cfg.max_iou, cfg.nms_thresh
        if not info.vocab:
            raise ValueError(f"dataset {info.name!r} has no vocabulary in DatasetInfo.extra['vocab']")
        self.words = WordEmbedding(info.vocab, dim=cfg.word_dim, word_vectors=cfg.word_vectors,
                                   max_words=cfg.max_words)
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
