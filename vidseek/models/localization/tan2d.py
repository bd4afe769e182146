"""2D-TAN (Zhang et al., AAAI 2020): moments as cells of a 2D temporal map, fused with the query
and scored by a temporal adjacent network of stacked 2D convolutions.

clip features (B, N, d) -> 1x1 conv -> map builder (pool | stacked conv) on the sparse mask
-> Hadamard fusion with the LSTM sentence vector (L2-normalised, masked) -> K stacked 2D convs
(the temporal adjacent network; mask re-applied after each) -> 1x1 conv score map.
Loss: BCE on IoU-scaled labels over the mask. Inference: NMS over the masked cells.

Border fairness: a zero-padded conv over the triangular mask sums over fewer valid neighbours at
the map's edges and the diagonal, so those cells get systematically smaller activations. Early
in training BCE pushes every logit down through the weights, and the low-activation corner cells
((0, 0), (N-1, N-1), (0, N-1)) then score highest for every query (top-1 IoU ~ 0, mIoU ~ 1 for
epochs). 2D-TAN's MapConv divides each output by the number of valid cells under the kernel;
`MaskedConv2d` does the same (the weight term becomes a mean over valid neighbours, scaled by
k^2 to keep the init scale; the bias is not scaled). The score layer's bias starts at the log-odds
of `init_prior` (most labels are 0), so training starts near the label prior instead of 0.5.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vidseek.models.cards import ModelCard, register_model
from vidseek.models.config import DatasetInfo
from vidseek.models.localization.common import MapBuilder, MaskedConv2d
from vidseek.models.localization.localizer import Localizer, LocalizerConfig
from vidseek.models.localization.text import SentenceLSTM

TINY: dict[str, Any] = {"hidden": 16, "tan_layers": 2, "tan_kernel": 3, "lstm_layers": 1, "word_dim": 8,
                        "word_vectors": "random"}


@dataclass(frozen=True)
class TAN2DConfig(LocalizerConfig):
    """map_kind: "pool" (max over a cell's clips) or "conv" (stacked 1D convs); init_prior: the
    score bias starts at this label prior's log-odds."""

    hidden: int = 512
    map_kind: str = "pool"
    tan_layers: int = 8
    tan_kernel: int = 5
    lstm_layers: int = 3
    init_prior: float = 0.05


class TAN2D(Localizer):
    def __init__(self, cfg: TAN2DConfig, info: DatasetInfo) -> None:
        super().__init__(cfg, info, cfg.pooling_counts)
        h = cfg.hidden
        self.frame = nn.Sequential(nn.Conv1d(self.feat_dim, h, 1), nn.ReLU())
        self.builder = MapBuilder(self.n, h, cfg.map_kind, cfg.pooling_counts)
        self.sentence = SentenceLSTM(self.words.dim, h, cfg.lstm_layers)
        self.txt = nn.Linear(h, h)
        self.map_in = nn.Conv2d(h, h, 1)
        k = cfg.tan_kernel
        self.tan = nn.ModuleList(MaskedConv2d(h, h, k, padding=k // 2) for _ in range(cfg.tan_layers))
        self.pred = nn.Conv2d(h, 1, 1)
        prior = cfg.init_prior
        if 0.0 < prior < 1.0 and self.pred.bias is not None:
            nn.init.constant_(self.pred.bias, math.log(prior / (1.0 - prior)))

    def map_features(self, feats: Tensor, queries: list[str]) -> Tensor:
        """(B, h, N, N) mid-level map features after the temporal adjacent network."""
        m = self.mask2d.to(feats.dtype)
        x = self.builder(self.frame(feats.transpose(1, 2)))
        words, wmask = self.words(queries)
        _, sent = self.sentence(words.to(feats.dtype), wmask)
        fused = F.normalize(self.txt(sent)[:, :, None, None] * self.map_in(x), dim=1) * m
        for conv in cast(list[MaskedConv2d], list(self.tan)):
            fused = F.relu(conv.forward_masked(fused, m)) * m
        return fused

    def score_map(self, feats: Tensor, queries: list[str]) -> tuple[Tensor, Tensor]:
        h = self.map_features(feats, queries)
        return self.pred(h).squeeze(1), h

    def proposal_scores(self, feats: Tensor, queries: list[str]) -> Tensor:
        logits, _ = self.score_map(feats, queries)
        return torch.sigmoid(logits)[:, self._rows, self._cols]

    def training_loss(self, batch: dict[str, Any]) -> tuple[Tensor, dict[str, float]]:
        logits, _ = self.score_map(batch["feats"], batch["queries"])
        y, _ = self.iou_targets(batch)
        loss = self.masked_bce(logits, y)
        return loss, {"bce": float(loss.detach())}


register_model(ModelCard(
    name="tan2d", task="localization", summary="2D-TAN: moments as cells of a 2D temporal map (AAAI 2020)",
    builder=TAN2D, config=TAN2DConfig, tiny=TINY, rerank=True))
