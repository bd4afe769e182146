"""JEMC (Mithun et al., ICMR 2018): two joint spaces fused at retrieval time.

Object-text space: mean-pooled appearance features vs a GRU over word vectors. Activity-text
space: mean-pooled motion features concatenated with mean-pooled audio, vs its own GRU. Each
space is trained with VSE++ hardest negatives in both directions, each term weighted by
L(r) = 1 + 1/(N - r + 1); the final similarity is the sum of the two spaces' cosines.
Word vectors: GloVe 6B 50d through the `glove50` text encoder (one word at a time), trainable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence

from vidseek.models.base import RetrievalModel
from vidseek.models.cards import ModelCard, register_model
from vidseek.models.config import DatasetInfo
from vidseek.models.datasets.captions import tokenize
from vidseek.models.losses import weighted_hardest_triplet

PAD, UNK = 0, 1


def word_vector_table(vocab: list[str], encoder: str | None, tiny: bool, dim: int) -> Tensor:
    """(len(vocab) + 2, dim) initial embeddings: rows from a text encoder run on single words
    (GloVe for `glove50`), random for words it does not know and for encoder=None."""
    gen = torch.Generator().manual_seed(0)
    table = 0.1 * torch.randn(len(vocab) + 2, dim, generator=gen)
    table[PAD] = 0
    if encoder and vocab:
        from vidseek.extract.experts import ExpertOptions, create_text_encoder

        enc = create_text_encoder(encoder, ExpertOptions(tiny=tiny))
        if enc.dim != dim:
            raise ValueError(f"word_dim {dim} != {encoder} dim {enc.dim}")
        vecs = torch.from_numpy(enc(vocab)).float()
        known = vecs.norm(dim=1) > 0
        table[2:][known] = vecs[known]
    return table


class TextGRU(nn.Module):
    """Word embeddings -> GRU -> last hidden state -> projection into one joint space."""

    def __init__(self, table: Tensor, hidden: int, out: int) -> None:
        super().__init__()
        self.embed = nn.Embedding.from_pretrained(table.clone(), freeze=False, padding_idx=PAD)
        self.gru = nn.GRU(table.shape[1], hidden, batch_first=True)
        self.proj = nn.Linear(hidden, out)

    def forward(self, ids: Tensor, lengths: Tensor) -> Tensor:
        packed = pack_padded_sequence(self.embed(ids), lengths.cpu(), batch_first=True,
                                      enforce_sorted=False)
        _, h = self.gru(packed)
        return F.normalize(self.proj(h[-1]), dim=-1)


def masked_mean(x: Tensor, mask: Tensor) -> Tensor:
    """(B, T, d), (B, T) -> (B, d); all-masked rows give zeros (a missing expert)."""
    m = mask.to(x.dtype).unsqueeze(-1)
    return (x * m).sum(1) / m.sum(1).clamp(min=1.0)


class Standardise(nn.BatchNorm1d):
    """Per-dim standardisation of pooled video features (BatchNorm1d without affine: batch
    statistics in training, running ones at eval, kept in the checkpoint). It removes what every
    video shares: pooled effnet_lite0 / whisper_audio features on the synthetic benchmark have a
    mean of norm ~11 against ~4 of per-video variation, so without it every video projects near
    one direction and the ranking loss barely moves them apart. A training batch of one video
    uses the running statistics."""

    def __init__(self, dim: int) -> None:
        super().__init__(dim, affine=False)

    def forward(self, x: Tensor) -> Tensor:
        if self.training and x.shape[0] < 2:
            return F.batch_norm(x, self.running_mean, self.running_var, training=False, eps=self.eps)
        return super().forward(x)


@dataclass(frozen=True)
class JEMCConfig:
    """object_experts / activity_experts: default the dataset's first expert / the rest.
    word_vectors: a text encoder run on single words (None: random init). tiny: the tiny twin
    (small widths, the encoders' tiny twins). input_norm: standardise each pooled video feature
    (Standardise); False is the paper's plain linear map. Measured defaults (issue 14):
    docs/joint-embeddings-results.md."""

    object_experts: list[str] | None = None
    activity_experts: list[str] | None = None
    embed_dim: int = 256
    gru_hidden: int = 256
    word_vectors: str | None = "glove50"
    word_dim: int = 50
    tiny: bool = False
    margin: float = 0.2
    weighted: bool = True
    dropout: float = 0.1
    input_norm: bool = True


class JEMC(RetrievalModel):
    def __init__(self, cfg: JEMCConfig, info: DatasetInfo) -> None:
        super().__init__()
        names = list(info.experts)
        self.info = info
        self.obj_experts = list(cfg.object_experts or names[:1])
        self.act_experts = list(cfg.activity_experts or (names[1:] or names[:1]))
        for e in self.obj_experts + self.act_experts:
            if e not in info.experts:
                raise ValueError(f"JEMC expert {e!r} not in the dataset's experts {names}")
        self.vocab = {w: i + 2 for i, w in enumerate(info.vocab)}
        table = word_vector_table(list(self.vocab), cfg.word_vectors, cfg.tiny, cfg.word_dim)
        self.margin, self.weighted, self.embed_dim = cfg.margin, cfg.weighted, 2 * cfg.embed_dim
        d_obj = sum(info.experts[e] for e in self.obj_experts)
        d_act = sum(info.experts[e] for e in self.act_experts)
        self.norm_obj: nn.Module = Standardise(d_obj) if cfg.input_norm else nn.Identity()
        self.norm_act: nn.Module = Standardise(d_act) if cfg.input_norm else nn.Identity()
        self.v_obj = nn.Sequential(nn.Dropout(cfg.dropout), nn.Linear(d_obj, cfg.embed_dim))
        self.v_act = nn.Sequential(nn.Dropout(cfg.dropout), nn.Linear(d_act, cfg.embed_dim))
        self.t_obj = TextGRU(table, cfg.gru_hidden, cfg.embed_dim)
        self.t_act = TextGRU(table, cfg.gru_hidden, cfg.embed_dim)
        self._register_load_state_dict_pre_hook(self._identity_stats_for_old_runs)

    def _identity_stats_for_old_runs(self, state: dict[str, Tensor], prefix: str, *_: Any) -> None:
        """Runs trained before `input_norm` existed hold no statistics: load mean 0, var 1 (the
        identity up to eps), so they score as they did."""
        if f"{prefix}v_obj.1.weight" not in state:
            return
        for name in ("norm_obj", "norm_act"):
            mod = getattr(self, name)
            if isinstance(mod, Standardise) and f"{prefix}{name}.running_mean" not in state:
                state[f"{prefix}{name}.running_mean"] = torch.zeros(mod.num_features)
                state[f"{prefix}{name}.running_var"] = torch.ones(mod.num_features)
                state[f"{prefix}{name}.num_batches_tracked"] = torch.tensor(0)

    def _ids(self, texts: list[str]) -> tuple[Tensor, Tensor]:
        toks = [[self.vocab.get(w, UNK) for w in tokenize(t)] or [UNK] for t in texts]
        n = max(len(t) for t in toks)
        ids = torch.full((len(toks), n), PAD, dtype=torch.long)
        for i, t in enumerate(toks):
            ids[i, : len(t)] = torch.tensor(t)
        dev = next(self.v_obj.parameters()).device
        return ids.to(dev), torch.tensor([len(t) for t in toks])

    def _pool(self, batch: dict[str, Any], experts: list[str]) -> Tensor:
        return torch.cat([masked_mean(batch["feats"][e].float(), batch["masks"][e]) for e in experts], 1)

    def encode_videos(self, batch: dict[str, Any]) -> tuple[Tensor, Tensor]:
        return (F.normalize(self.v_obj(self.norm_obj(self._pool(batch, self.obj_experts))), dim=-1),
                F.normalize(self.v_act(self.norm_act(self._pool(batch, self.act_experts))), dim=-1))

    def encode_texts(self, texts: list[str]) -> tuple[Tensor, Tensor]:
        ids, lengths = self._ids(texts)
        return self.t_obj(ids, lengths), self.t_act(ids, lengths)

    def similarity(self, t: tuple[Tensor, Tensor], v: tuple[Tensor, Tensor]) -> Tensor:
        return t[0] @ v[0].t() + t[1] @ v[1].t()

    def training_loss(self, batch: dict[str, Any]) -> tuple[Tensor, dict[str, float]]:
        """Each space has its own ranking loss (the paper trains them apart); losses add."""
        ids = batch["video_ids"]
        same = torch.tensor([[a == b for b in ids] for a in ids], device=batch["present"].device)
        t, v = self.encode_texts(batch["texts"]), self.encode_videos(batch)
        lo, lo_logs = weighted_hardest_triplet(t[0] @ v[0].t(), self.margin, same, self.weighted)
        la, la_logs = weighted_hardest_triplet(t[1] @ v[1].t(), self.margin, same, self.weighted)
        return lo + la, {"obj": lo_logs["t2v"] + lo_logs["v2t"], "act": la_logs["t2v"] + la_logs["v2t"]}

    def video_vectors(self, v: tuple[Tensor, Tensor]) -> Tensor:
        return torch.cat(v, 1)

    def query_vectors(self, t: tuple[Tensor, Tensor]) -> Tensor:
        return torch.cat(t, 1)


register_model(ModelCard(
    name="jemc", task="retrieval", summary="JEMC: object-text + activity-text joint spaces (ICMR 2018)",
    builder=JEMC, config=JEMCConfig, tiny={"embed_dim": 32, "gru_hidden": 32}, space="video",
    # 84 training captions at batch 64 x 10 epochs (TrainConfig's defaults) is 20 steps: JEMC
    # stays at chance; batch 16 x 30 epochs (180 steps) reaches R@1 42-46 (3 seeds)
    train={"epochs": 30, "batch_size": 16}))
