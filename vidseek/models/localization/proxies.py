"""2D-TAN + ProxyNCA++ proxies ("Text-to-Video Retrieval via Proxies Learning").

ProxyNCA++ (Teh et al., ECCV 2020): one learnable proxy per class; embeddings and proxies are
L2-normalised; the loss is the softmax cross-entropy over proxies of -||x - p||^2 / T (temperature
scaling), the target proxy being the sample's class. Here every valid cell of 2D-TAN's mid-level
map is an embedding labelled with its query's class; the per-cell losses are averaged, scaled by
1/100 and added to the BCE loss; proxies and model are trained together.

Classes: the moment's action class where the data has one (Charades actions, the synthetic
benchmark's event_type); otherwise k-means pseudo-classes of sentence embeddings
(`pseudo_classes`). Samples with label -1 add no proxy loss.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vidseek.models.cards import ModelCard, register_model
from vidseek.models.config import DatasetInfo
from vidseek.models.localization.tan2d import TAN2D, TINY, TAN2DConfig


class ProxyNCAPP(nn.Module):
    """ProxyNCA++ loss with learnable proxies; `assign` gives the nearest proxy = the class."""

    def __init__(self, num_classes: int, dim: int, temperature: float = 1 / 9) -> None:
        super().__init__()
        self.proxies = nn.Parameter(torch.randn(num_classes, dim) / dim**0.5)
        self.temperature = temperature

    def logits(self, x: Tensor) -> Tensor:
        x, p = F.normalize(x, dim=-1), F.normalize(self.proxies, dim=-1)
        return -torch.cdist(x, p.to(x.dtype)).pow(2) / self.temperature

    def forward(self, x: Tensor, labels: Tensor) -> Tensor:
        """Mean cross-entropy of (M, dim) embeddings against their (M,) class proxies."""
        return F.cross_entropy(self.logits(x), labels)

    def assign(self, x: Tensor) -> Tensor:
        return self.logits(x).argmax(-1)


@dataclass(frozen=True)
class TAN2DProxiesConfig(TAN2DConfig):
    """num_classes: proxies (None: the dataset's classes); proxy_weight: the proxy loss's scale;
    temperature: ProxyNCA++'s softmax temperature."""

    num_classes: int | None = None
    proxy_weight: float = 0.01
    temperature: float = 1 / 9


class TAN2DProxies(TAN2D):
    def __init__(self, cfg: TAN2DProxiesConfig, info: DatasetInfo) -> None:
        super().__init__(cfg, info)
        k = cfg.num_classes or info.num_classes
        if k < 2:
            raise ValueError(f"dataset {info.name!r} has {k} classes; proxies need >= 2 "
                             "(give labels or k-means pseudo-classes)")
        self.proxy_weight = cfg.proxy_weight
        self.proxy = ProxyNCAPP(k, self.pred.in_channels, cfg.temperature)

    def training_loss(self, batch: dict[str, Any]) -> tuple[Tensor, dict[str, float]]:
        logits, h = self.score_map(batch["feats"], batch["queries"])
        y, _ = self.iou_targets(batch)
        bce = self.masked_bce(logits, y)
        labels = batch["labels"].to(h.device)
        ok = labels >= 0
        if ok.any():
            cells = h[ok][:, :, self._rows, self._cols].permute(0, 2, 1)  # (B', P, h)
            lab = labels[ok][:, None].expand(-1, cells.shape[1])
            pl = self.proxy(cells.reshape(-1, cells.shape[-1]), lab.reshape(-1))
        else:
            pl = bce.new_zeros(())
        loss = bce + self.proxy_weight * pl
        return loss, {"bce": float(bce.detach()), "proxy": float(pl.detach())}


def pseudo_classes(texts: Sequence[str], k: int, encode: Callable[[list[str]], np.ndarray] | None = None,
                   seed: int = 0) -> np.ndarray:
    """k-means cluster ids of sentence embeddings (minilm by default; bag-of-words hashing with a
    warning when no encoder can be loaded)."""
    from sklearn.cluster import KMeans

    texts = list(texts)
    if encode is None:
        try:
            from vidseek.extract.experts import create_text_encoder

            enc = create_text_encoder("minilm")
            encode = lambda t: enc(t)  # noqa: E731
        except Exception as err:
            warnings.warn(f"minilm unavailable ({err}); pseudo-classes from hashed bag-of-words", stacklevel=2)
            from sklearn.feature_extraction.text import HashingVectorizer

            hv = HashingVectorizer(n_features=512, alternate_sign=False, norm="l2")
            encode = lambda t: hv.transform(t).toarray()  # noqa: E731
    emb = np.asarray(encode(texts), np.float32)
    return KMeans(n_clusters=min(k, len(texts)), n_init=4, random_state=seed).fit_predict(emb)


register_model(ModelCard(
    name="tan2d_proxies", task="localization", summary="2D-TAN + ProxyNCA++ class proxies",
    builder=TAN2DProxies, config=TAN2DProxiesConfig, tiny=TINY, rerank=True))
