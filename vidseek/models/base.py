"""The contract between the shared trainer and every trainable model and dataset.

A model is built from (its typed config, DatasetInfo) so a run dir can rebuild it without the
data: the trainer saves the DatasetInfo next to the weights. A dataset builder turns its typed
params into train/val/test splits plus a collate function. Retrieval and localization models plug
into the same trainer; each declares its task and the validation metric that picks the best epoch.
Cards (what is registered, under which name) live in vidseek.models.cards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from vidseek.models.config import DatasetInfo


@dataclass
class DatasetSplits:
    """Splits of one dataset. val/test may be None (the trainer then skips that step)."""

    train: Dataset
    val: Dataset | None
    test: Dataset | None
    collate: Callable[[list[Any]], Any]
    info: DatasetInfo


class TrainableModel(nn.Module):
    """A model the shared trainer can fit, validate, checkpoint and reload.

    Subclasses set `task` and `select_metric` (higher is better, e.g. "rsum" or "mIoU").
    """

    task: ClassVar[str] = ""
    select_metric: ClassVar[str] = ""

    def training_loss(self, batch: Any) -> tuple[Tensor, dict[str, float]]:
        """Loss to minimise on one collated batch, and scalars to log."""
        raise NotImplementedError

    def evaluate(self, loader: DataLoader) -> dict[str, float]:
        """Metrics over a whole val/test loader (the model switches to eval mode itself)."""
        raise NotImplementedError

    def to_device(self, batch: Any, device: Any) -> Any:
        """Move a collated batch to `device` (default: every tensor, recursively)."""
        return move_to(batch, device)


def move_to(obj: Any, device: Any) -> Any:
    if isinstance(obj, Tensor):
        return obj.to(device, non_blocking=True)
    if isinstance(obj, dict):
        return {k: move_to(v, device) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)) and obj and isinstance(obj[0], (Tensor, dict)):
        return type(obj)(move_to(v, device) for v in obj)
    return obj


class RetrievalModel(TrainableModel):
    """Shared skeleton of joint text-video embedding models (JEMC, MMT).

    A subclass encodes a batch of videos and a list of texts into its own representations and
    scores them; this class supplies the loss plumbing, evaluation and the search-space API
    (video_vectors / embed_queries: flat vectors whose dot product is the model's similarity).
    """

    task: ClassVar[str] = "retrieval"
    select_metric: ClassVar[str] = "rsum"
    info: DatasetInfo
    embed_dim: int

    def encode_videos(self, batch: dict[str, Any]) -> Any:
        raise NotImplementedError

    def encode_texts(self, texts: list[str]) -> Any:
        raise NotImplementedError

    def similarity(self, t: Any, v: Any) -> Tensor:
        """(n_texts, n_videos) scores."""
        raise NotImplementedError

    def ranking_loss(self, scores: Tensor, same: Tensor) -> tuple[Tensor, dict[str, float]]:
        raise NotImplementedError

    def video_vectors(self, v: Any) -> Tensor:
        raise NotImplementedError

    def query_vectors(self, t: Any) -> Tensor:
        raise NotImplementedError

    # ---- shared -------------------------------------------------------------------------
    def training_loss(self, batch: dict[str, Any]) -> tuple[Tensor, dict[str, float]]:
        ids = batch["video_ids"]
        same = torch.tensor([[a == b for b in ids] for a in ids], device=batch["present"].device)
        scores = self.similarity(self.encode_texts(batch["texts"]), self.encode_videos(batch))
        return self.ranking_loss(scores, same)

    @torch.no_grad()
    def score_loader(self, loader: DataLoader) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """(scores (captions, unique videos), gt video index per caption, video ids)."""
        self.eval()
        dev = next(self.parameters()).device
        texts: list[str] = []
        gt_ids: list[str] = []
        vids: list[str] = []
        vreps: list[Any] = []
        for batch in loader:
            texts += batch["texts"]
            gt_ids += batch["video_ids"]
            seen, keep = set(vids), []
            for i, v in enumerate(batch["video_ids"]):
                if v not in seen:
                    seen.add(v)
                    keep.append(i)
            if keep:
                sub = _select(batch, keep)
                vids += [batch["video_ids"][i] for i in keep]
                vreps.append(self.encode_videos(move_to(sub, dev)))
        scores = []
        for k in range(0, len(texts), 512):
            t = self.encode_texts(texts[k:k + 512])
            scores.append(torch.cat([self.similarity(t, v) for v in vreps], 1).float().cpu())
        index = {v: i for i, v in enumerate(vids)}
        return torch.cat(scores).numpy(), np.array([index[v] for v in gt_ids]), vids

    def evaluate(self, loader: DataLoader) -> dict[str, float]:
        from vidseek.metrics.retrieval import ranks_from_scores, retrieval_metrics

        scores, gt, _ = self.score_loader(loader)
        t2v = retrieval_metrics(ranks_from_scores(scores, gt))
        # video -> text: the best-ranked of the video's captions counts
        col = scores[:, gt]  # column c: every caption against caption c's video
        pos = scores[np.arange(len(gt)), gt]
        cap_rank = (col >= pos[None, :]).sum(0)  # rank of caption c in its video's row (ties against)
        best = np.full(scores.shape[1], np.inf)
        np.minimum.at(best, gt, cap_rank)
        v2t = retrieval_metrics(best[np.isfinite(best)])
        out = {f"t2v_{k}": v for k, v in t2v.items()}
        out.update({f"v2t_{k}": v for k, v in v2t.items()})
        out["rsum"] = sum(t2v[f"R@{k}"] + v2t[f"R@{k}"] for k in (1, 5, 10))
        out["chance_R@1"] = 100.0 / scores.shape[1]
        return out

    # ---- search-space API -----------------------------------------------------------------
    @torch.no_grad()
    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dim) float32 query vectors; dot with video_vectors rows = similarity."""
        self.eval()
        return self.query_vectors(self.encode_texts(list(texts))).float().cpu().numpy()


def _select(batch: dict[str, Any], idx: list[int]) -> dict[str, Any]:
    t = torch.tensor(idx, dtype=torch.long)
    return {
        "texts": [batch["texts"][i] for i in idx], "video_ids": [batch["video_ids"][i] for i in idx],
        "feats": {e: x[t] for e, x in batch["feats"].items()},
        "masks": {e: x[t] for e, x in batch["masks"].items()}, "present": batch["present"][t],
    }
