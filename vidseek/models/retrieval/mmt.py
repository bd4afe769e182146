"""MMT (Gabeur et al., ECCV 2020): a multi-modal transformer over every expert's tokens.

Per expert: one aggregate token (max-pool over time) and one token per time bin, each token =
feature projection + expert embedding + temporal embedding (0 for the aggregate). A transformer
encoder attends over all tokens of all experts; the output at each expert's aggregate token is
that expert's video embedding. The caption goes through a sentence encoder (all-MiniLM-L6-v2 via
the `minilm` text encoder, FROZEN here: its vectors are cached, only the heads train), then one
gated embedding unit per expert and softmax expert weights w_e(c). Similarity:
sum_e w_e(c) <video_e, caption_e>, the weights renormalised over the experts a video has.
Loss: bidirectional max-margin ranking over all negatives of the batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vidseek.models.base import RetrievalModel
from vidseek.models.cards import ModelCard, register_model
from vidseek.models.config import DatasetInfo
from vidseek.models.losses import max_margin_ranking


class GatedEmbedding(nn.Module):
    """Linear -> context gating (x * sigmoid(Wx)) -> L2 norm (Miech et al.), as in MMT's text side."""

    def __init__(self, d_in: int, d_out: int) -> None:
        super().__init__()
        self.fc = nn.Linear(d_in, d_out)
        self.gate = nn.Linear(d_out, d_out)

    def forward(self, x: Tensor) -> Tensor:
        x = self.fc(x)
        return F.normalize(x * torch.sigmoid(self.gate(x)), dim=-1)


@dataclass(frozen=True)
class MMTConfig:
    """text_encoder: the frozen sentence encoder (a TEXT_ENCODERS name). tiny: the tiny twin
    (narrow, one layer, the encoder's tiny twin)."""

    d_model: int = 256
    n_layers: int = 2
    n_heads: int = 4
    dropout: float = 0.1
    text_encoder: str = "minilm"
    tiny: bool = False
    margin: float = 0.05


class MMT(RetrievalModel):
    def __init__(self, cfg: MMTConfig, info: DatasetInfo) -> None:
        super().__init__()
        d_model, n_heads, dropout = cfg.d_model, cfg.n_heads, cfg.dropout
        self.info = info
        self.experts = list(info.experts)
        self.n_bins = info.n_clips
        self.margin, self.embed_dim = cfg.margin, d_model * len(self.experts)
        self.proj = nn.ModuleDict({e: nn.Linear(d, d_model) for e, d in info.experts.items()})
        self.expert_emb = nn.Embedding(len(self.experts), d_model)
        self.time_emb = nn.Embedding(self.n_bins + 1, d_model)
        layer = nn.TransformerEncoderLayer(d_model, n_heads, 4 * d_model, dropout, batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, cfg.n_layers, enable_nested_tensor=False)
        self._text_name, self._tiny = cfg.text_encoder, cfg.tiny
        self._enc: Any = None
        self._cache: dict[str, Tensor] = {}
        d_text = self._encoder().dim
        self.text_heads = nn.ModuleDict({e: GatedEmbedding(d_text, d_model) for e in self.experts})
        self.text_weights = nn.Linear(d_text, len(self.experts))

    # ---- text ---------------------------------------------------------------------------
    def _encoder(self) -> Any:
        if self._enc is None:
            from vidseek.extract.experts import ExpertOptions, create_text_encoder

            self._enc = create_text_encoder(self._text_name, ExpertOptions(tiny=self._tiny))
        return self._enc

    def sentence_vectors(self, texts: list[str]) -> Tensor:
        """Frozen sentence-encoder vectors, cached by text (the encoder never trains)."""
        todo = sorted({t for t in texts if t not in self._cache})
        if todo:
            vecs = np.asarray(self._encoder()(todo), dtype=np.float32)
            for t, v in zip(todo, vecs, strict=True):
                self._cache[t] = torch.from_numpy(v)
        return torch.stack([self._cache[t] for t in texts]).to(self.time_emb.weight.device)

    def encode_texts(self, texts: list[str]) -> tuple[Tensor, Tensor]:
        """(per-expert caption embeddings (B, E, D), expert weight logits (B, E))."""
        s = self.sentence_vectors(texts)
        emb = torch.stack([self.text_heads[e](s) for e in self.experts], 1)
        return emb, self.text_weights(s)

    # ---- video --------------------------------------------------------------------------
    def encode_videos(self, batch: dict[str, Any]) -> tuple[Tensor, Tensor]:
        """(per-expert video embeddings (B, E, D), expert present (B, E))."""
        tokens, valid = [], []
        dev = self.time_emb.weight.device
        t_idx = torch.arange(self.n_bins + 1, device=dev)
        for k, e in enumerate(self.experts):
            x, m = batch["feats"][e].float(), batch["masks"][e].to(torch.bool)
            agg = x.masked_fill(~m[..., None], float("-inf")).max(1).values
            agg = torch.where(torch.isfinite(agg), agg, torch.zeros_like(agg))
            seq = torch.cat([agg[:, None], x], 1)  # (B, T+1, d)
            tok = self.proj[e](seq) + self.expert_emb.weight[k] + self.time_emb(t_idx[: seq.shape[1]])
            tokens.append(tok)
            valid.append(torch.cat([m.any(1, keepdim=True), m], 1))
        tok = torch.cat(tokens, 1)
        ok = torch.cat(valid, 1)
        ok[:, 0] |= ~ok.any(1)  # a video with no features at all still attends to one (zero) token
        out = self.encoder(tok, src_key_padding_mask=~ok)
        starts = np.cumsum([0] + [t.shape[1] for t in tokens[:-1]])
        emb = F.normalize(out[:, torch.as_tensor(starts, device=dev)], dim=-1)  # aggregate tokens
        present = batch["present"].to(torch.bool)
        return emb, present

    # ---- scores -------------------------------------------------------------------------
    def similarity(self, t: tuple[Tensor, Tensor], v: tuple[Tensor, Tensor]) -> Tensor:
        t_emb, logits = t
        v_emb, present = v
        per = torch.einsum("ied,jed->ije", t_emb.float(), v_emb.float())  # (Bt, Bv, E)
        w = logits.float()[:, None, :].masked_fill(~present[None, :, :], float("-inf"))
        w = torch.softmax(w, -1).nan_to_num(0.0)  # renormalised over present experts
        return (w * per).sum(-1)

    def ranking_loss(self, scores: Tensor, same: Tensor) -> tuple[Tensor, dict[str, float]]:
        return max_margin_ranking(scores, self.margin, same)

    def video_vectors(self, v: tuple[Tensor, Tensor]) -> Tensor:
        emb, present = v
        return (emb * present[..., None]).flatten(1)

    def query_vectors(self, t: tuple[Tensor, Tensor]) -> Tensor:
        """Weights over all experts (a search index cannot renormalise per video)."""
        emb, logits = t
        return (emb * torch.softmax(logits.float(), -1)[..., None]).flatten(1)


register_model(ModelCard(
    name="mmt", task="retrieval", summary="MMT: multi-modal transformer over every expert (ECCV 2020)",
    builder=MMT, config=MMTConfig, tiny={"d_model": 32, "n_layers": 1, "n_heads": 2}, space="video"))
