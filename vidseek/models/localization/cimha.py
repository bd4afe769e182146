"""CI-MHA (Cross Interaction Network with multi-head attention, SIGIR 2021).

Video clips and query words each go through a projection + sinusoidal positional encoding and a
self-attention block (multi-head self-attention with a skip connection and LayerNorm, then a
feed-forward layer with a skip connection). Cross interaction runs in both directions:
- query -> video: every time step attends over the words, giving a query-aware feature per step;
- video -> query: every word attends over the time steps; these video-aware word features are
  pooled (masked mean) into one query summary.
Our reading of the paper's fused shapes: the video -> query summary is broadcast to every time
step and concatenated with the step's own feature, its query -> video feature and their product,
then projected back to the hidden size, so every time step sees both directions.
Heads (ExCL style): a Bi-LSTM + MLP + softmax over time for the start, a second Bi-LSTM over
[fused, start states] + MLP + softmax for the end (NLL losses), and a moment-segmentation MLP +
sigmoid per step (BCE on inside / outside). A span (i, j >= i) scores p_start(i) * p_end(j).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vidseek.models.cards import ModelCard, register_model
from vidseek.models.config import DatasetInfo
from vidseek.models.localization.common import span_to_cell
from vidseek.models.localization.localizer import Localizer, LocalizerConfig

TINY: dict[str, Any] = {"hidden": 16, "heads": 2, "dropout": 0.0, "word_dim": 8, "word_vectors": "random"}


def positional_encoding(length: int, dim: int, device: torch.device) -> Tensor:
    pos = torch.arange(length, device=device, dtype=torch.float32)[:, None]
    div = torch.exp(torch.arange(0, dim, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / dim))
    pe = torch.zeros(length, dim, device=device)
    pe[:, 0::2] = torch.sin(pos * div)
    pe[:, 1::2] = torch.cos(pos * div)[:, : dim // 2]
    return pe


class SelfBlock(nn.Module):
    """Multi-head self-attention + skip + LayerNorm, then feed-forward + skip + LayerNorm."""

    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.att = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.ln1, self.ln2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, 2 * dim), nn.ReLU(), nn.Dropout(dropout), nn.Linear(2 * dim, dim))

    def forward(self, x: Tensor, pad: Tensor | None = None) -> Tensor:
        a, _ = self.att(x, x, x, key_padding_mask=pad, need_weights=False)
        x = self.ln1(x + a)
        return self.ln2(x + self.ff(x))


@dataclass(frozen=True)
class CIMHAConfig(LocalizerConfig):
    """hidden: the width of every block; heads: attention heads (divide hidden)."""

    hidden: int = 256
    heads: int = 4
    dropout: float = 0.1


class CIMHA(Localizer):
    def __init__(self, cfg: CIMHAConfig, info: DatasetInfo) -> None:
        n = cfg.n_clips or info.n_clips
        super().__init__(cfg, info, [max(n - 1, 0)])  # every (i, j >= i) span is a candidate
        h, heads, dr = cfg.hidden, cfg.heads, cfg.dropout
        self.v_in = nn.Linear(self.feat_dim, h)
        self.q_in = nn.Linear(self.words.dim, h)
        self.v_self, self.q_self = SelfBlock(h, heads, dr), SelfBlock(h, heads, dr)
        self.q2v = nn.MultiheadAttention(h, heads, dropout=dr, batch_first=True)
        self.v2q = nn.MultiheadAttention(h, heads, dropout=dr, batch_first=True)
        self.fuse = nn.Sequential(nn.Linear(4 * h, h), nn.ReLU(), nn.LayerNorm(h))
        self.start_rnn = nn.LSTM(h, h // 2, batch_first=True, bidirectional=True)
        self.end_rnn = nn.LSTM(2 * h, h // 2, batch_first=True, bidirectional=True)
        self.start_mlp = nn.Sequential(nn.Linear(2 * h, h), nn.ReLU(), nn.Linear(h, 1))
        self.end_mlp = nn.Sequential(nn.Linear(2 * h, h), nn.ReLU(), nn.Linear(h, 1))
        self.seg_mlp = nn.Sequential(nn.Linear(h, h), nn.ReLU(), nn.Linear(h, 1))

    def heads(self, feats: Tensor, queries: list[str]) -> tuple[Tensor, Tensor, Tensor]:
        """(B, N) start logits, end logits, segmentation logits."""
        v = self.v_in(feats)
        v = v + positional_encoding(v.shape[1], v.shape[2], v.device).to(v.dtype)
        words, wmask = self.words(queries)
        q = self.q_in(words.to(v.dtype))
        q = q + positional_encoding(q.shape[1], q.shape[2], q.device).to(q.dtype)
        pad = ~wmask
        v, q = self.v_self(v), self.q_self(q, pad)
        v_att, _ = self.q2v(v, q, q, key_padding_mask=pad, need_weights=False)  # query -> video
        q_att, _ = self.v2q(q, v, v, need_weights=False)  # video -> query
        wm = wmask[..., None].to(q_att.dtype)
        summary = (q_att * wm).sum(1) / wm.sum(1).clamp(min=1)
        fused = self.fuse(torch.cat([v, v_att, summary[:, None].expand_as(v), v * v_att], -1))
        s_states, _ = self.start_rnn(fused)
        e_states, _ = self.end_rnn(torch.cat([fused, s_states], -1))
        return (self.start_mlp(torch.cat([fused, s_states], -1)).squeeze(-1),
                self.end_mlp(torch.cat([fused, e_states], -1)).squeeze(-1),
                self.seg_mlp(fused).squeeze(-1))

    def proposal_scores(self, feats: Tensor, queries: list[str]) -> Tensor:
        s, e, _ = self.heads(feats, queries)
        ps, pe = torch.softmax(s, -1), torch.softmax(e, -1)
        return ps[:, self._rows] * pe[:, self._cols]

    def training_loss(self, batch: dict[str, Any]) -> tuple[Tensor, dict[str, float]]:
        s, e, seg = self.heads(batch["feats"], batch["queries"])
        cells = [span_to_cell(a, b, d, self.n) for (a, b), d in
                 zip(batch["spans"].tolist(), batch["durations"].tolist(), strict=True)]
        dev = s.device
        si = torch.tensor([c[0] for c in cells], device=dev)
        ei = torch.tensor([c[1] for c in cells], device=dev)
        k = torch.arange(self.n, device=dev)[None]
        inside = ((k >= si[:, None]) & (k <= ei[:, None])).to(seg.dtype)
        nll = F.cross_entropy(s, si) + F.cross_entropy(e, ei)
        bce = F.binary_cross_entropy_with_logits(seg, inside)
        return nll + bce, {"nll": float(nll.detach()), "seg_bce": float(bce.detach())}


register_model(ModelCard(
    name="cimha", task="localization", summary="CI-MHA: cross interaction with multi-head attention (SIGIR 2021)",
    builder=CIMHA, config=CIMHAConfig, tiny=TINY, rerank=True))
