"""FVMR (Gao & Xu, ICCV 2021): fast video moment retrieval in a moment-query common space.

Student (the only part that runs at search time): moment features m_i from the 2D map, projected
by phi_m; the query s projected by phi_s; p_i = phi_m(m_i) . phi_s(s) (a dot product, so every
moment of a collection can be indexed in FAISS once and searched with one inner product). Both
sides are L2-normalised and the query side carries a fixed scale (10), so p_i = 10 * cosine:
bounded logits keep the BCE and the distillation stable, and FAISS inner product = cosine.
Teacher (training only): a fine-grained semantic vector u from hierarchical semantic-guided
attention over the semantic role tree (nouns -> verbs -> sentence), and
q_i = phi_fuse(phi_m(m_i) * phi_u(u)). Loss: BCE(p, y) + BCE(q, y) + lambda * T^2 *
KL(softmax(q / T) || softmax(p / T)) over the valid proposals, the teacher side detached;
y are soft labels from the IoU rescaled between o_min and o_max.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vidseek.models.cards import ModelCard, register_model
from vidseek.models.config import DatasetInfo
from vidseek.models.localization.common import MapBuilder, MaskedConv2d, resample_clips
from vidseek.models.localization.localizer import Localizer, LocalizerConfig
from vidseek.models.localization.semantic_tree import semantic_tree
from vidseek.models.localization.text import SentenceLSTM, tokenize

TINY: dict[str, Any] = {"hidden": 16, "dim": 16, "map_layers": 1, "kernel": 3, "word_dim": 8,
                        "word_vectors": "random"}


class GuidedAttention(nn.Module):
    """Pool child nodes under a guide vector: g + sum_k softmax_k((W g) . c_k) c_k."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.w = nn.Linear(dim, dim, bias=False)

    def forward(self, guide: Tensor, children: Tensor) -> Tensor:
        if len(children) == 0:
            return guide
        a = torch.softmax(children @ self.w(guide) / children.shape[-1] ** 0.5, dim=0)
        return guide + (a[:, None] * children).sum(0)


def masked(seq: nn.Sequential, x: Tensor, mask: Tensor) -> Tensor:
    """Run a conv stack over the map's valid cells: MaskedConv2d layers see only the mask."""
    for layer in seq:
        x = layer.forward_masked(x, mask) if isinstance(layer, MaskedConv2d) else layer(x)
    return x


@dataclass(frozen=True)
class FVMRConfig(LocalizerConfig):
    """dim: the common space's width; distill_weight / temperature: the teacher -> student KL term;
    scale: the query side's fixed scale; use_spacy: parse the semantic tree with spaCy (else rules)."""

    hidden: int = 256
    dim: int = 256
    map_layers: int = 4
    kernel: int = 5
    distill_weight: float = 1.0
    temperature: float = 2.0
    scale: float = 10.0
    use_spacy: bool = True


class FVMR(Localizer):
    def __init__(self, cfg: FVMRConfig, info: DatasetInfo) -> None:
        super().__init__(cfg, info, cfg.pooling_counts)
        h, d, k = cfg.hidden, cfg.dim, cfg.kernel
        self.dim = d
        self.use_spacy = cfg.use_spacy
        self.frame = nn.Sequential(nn.Conv1d(self.feat_dim, h, 1), nn.ReLU())
        self.builder = MapBuilder(self.n, h, "pool", cfg.pooling_counts)
        convs: list[nn.Module] = []
        for _ in range(cfg.map_layers):  # masked: border cells are not dimmer (see tan2d.py)
            convs += [MaskedConv2d(h, h, k, padding=k // 2), nn.ReLU()]
        self.phi_m = nn.Sequential(*convs, nn.Conv2d(h, d, 1))
        self.sentence = SentenceLSTM(self.words.dim, h // 2, 1, bidirectional=True)
        self.phi_s = nn.Linear(h, d)
        self.noun_to_verb = GuidedAttention(h)
        self.verb_to_sent = GuidedAttention(h)
        self.phi_u = nn.Linear(h, d)
        self.phi_fuse = nn.Sequential(MaskedConv2d(d, d, 3, padding=1), nn.ReLU(), nn.Conv2d(d, 1, 1))
        self.distill_weight, self.temperature, self.scale = cfg.distill_weight, cfg.temperature, cfg.scale

    # ---- common space (inference) -------------------------------------------------------------
    def moment_map(self, feats: Tensor) -> Tensor:
        """(B, D, N, N) moment vectors phi_m(m), zero outside the mask."""
        m = self.builder(self.frame(feats.transpose(1, 2)))
        mask = self.mask2d.to(m.dtype)
        return F.normalize(masked(self.phi_m, m, mask), dim=1) * mask

    def encode_query(self, queries: list[str]) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        words, wmask = self.words(queries)
        states, sent = self.sentence(words, wmask)
        return self.scale * F.normalize(self.phi_s(sent), dim=-1), states, sent, wmask

    def proposal_scores(self, feats: Tensor, queries: list[str]) -> Tensor:
        mom = self.moment_map(feats)[:, :, self._rows, self._cols]  # (B, D, P)
        q, *_ = self.encode_query(queries)
        return torch.sigmoid(torch.einsum("bdp,bd->bp", mom, q))

    @torch.no_grad()
    def moment_embeddings(self, values: np.ndarray, times: np.ndarray, duration: float | None = None
                          ) -> tuple[np.ndarray, np.ndarray]:
        """(P, 2) candidate spans in seconds and their (P, D) vectors for one video; the score of
        a query is `vectors @ query_embedding(text)` (before the sigmoid)."""
        self.eval()
        duration = float(np.asarray(times)[:, 1].max()) if duration is None else float(duration)
        clips = torch.from_numpy(resample_clips(values, times, duration, self.n))[None]
        mom = self.moment_map(clips.to(self.mask2d.device))[0][:, self._rows, self._cols].T
        return self.candidate_spans() * duration, mom.float().cpu().numpy()

    @torch.no_grad()
    def query_embedding(self, text: str) -> np.ndarray:
        self.eval()
        return self.encode_query([text])[0][0].float().cpu().numpy()

    # ---- teacher (training) ---------------------------------------------------------------------
    def semantic_vector(self, queries: list[str], states: Tensor, sent: Tensor) -> Tensor:
        out = []
        for b, text in enumerate(queries):
            tree = semantic_tree(text, self.use_spacy)
            n_words = min(len(tokenize(text)), states.shape[1])
            w = states[b]
            nodes = []
            for v, nouns in zip(tree.verbs, tree.nouns, strict=True):
                if v >= n_words:
                    continue
                kids = [i for i in nouns if i < n_words]
                nodes.append(self.noun_to_verb(w[v], w[kids]))
            if not nodes:  # no verb: attend over the nouns directly
                kids = [i for i in tree.orphans if i < n_words]
                nodes = [w[i] for i in kids]
            children = torch.stack(nodes) if nodes else w[:0]
            out.append(self.verb_to_sent(sent[b], children))
        return torch.stack(out)

    def training_loss(self, batch: dict[str, Any]) -> tuple[Tensor, dict[str, float]]:
        queries = batch["queries"]
        mom = self.moment_map(batch["feats"])
        q, states, sent, _ = self.encode_query(queries)
        p_logits = torch.einsum("bdij,bd->bij", mom, q)
        u = self.phi_u(self.semantic_vector(queries, states, sent))
        t_logits = masked(self.phi_fuse, mom * u[:, :, None, None], self.mask2d.to(mom.dtype)).squeeze(1)
        y, _ = self.iou_targets(batch)
        bce_p = self.masked_bce(p_logits, y)
        bce_q = self.masked_bce(t_logits, y)
        T = self.temperature
        ps = p_logits[:, self._rows, self._cols] / T
        ts = t_logits[:, self._rows, self._cols].detach() / T
        kd = F.kl_div(F.log_softmax(ps, -1), F.log_softmax(ts, -1), log_target=True,
                      reduction="batchmean") * T * T
        loss = bce_p + bce_q + self.distill_weight * kd
        return loss, {"bce_student": float(bce_p.detach()), "bce_teacher": float(bce_q.detach()),
                      "distill": float(kd.detach())}


register_model(ModelCard(
    name="fvmr", task="localization", summary="FVMR: moments and queries in one common space (ICCV 2021)",
    builder=FVMR, config=FVMRConfig, tiny=TINY, space="moments", rerank=True))
