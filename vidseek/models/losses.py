"""Ranking losses for joint text-video embeddings.

scores[i, j] is the similarity of caption i and video j of a batch; pair (i, i) is the positive.
`same[i, j]` marks other pairs that are positives too (the same video twice in a batch), which are
never used as negatives.
"""

from __future__ import annotations

import torch
from torch import Tensor


def _positives(scores: Tensor, same: Tensor | None) -> Tensor:
    eye = torch.eye(scores.shape[0], scores.shape[1], dtype=torch.bool, device=scores.device)
    return eye if same is None else (same.to(torch.bool) | eye)


def rank_weight(rank: Tensor, n: Tensor) -> Tensor:
    """JEMC's L(r) = 1 + 1/(N - r + 1): ~1 when the positive already ranks first, 2 when last."""
    return 1.0 + 1.0 / (n - rank + 1).to(torch.float32)


def weighted_hardest_triplet(scores: Tensor, margin: float = 0.2, same: Tensor | None = None,
                             weighted: bool = True) -> tuple[Tensor, dict[str, float]]:
    """VSE++ hardest-negative triplet loss in both directions, each term weighted by L(r) where r
    is the rank of the positive among the N candidates of its row / column (Mithun et al. 2018).
    Mean over the batch. weighted=False gives plain VSE++ (MH)."""
    pos = _positives(scores, same)
    diag = scores.diagonal()
    neg = scores.float().masked_fill(pos, float("-inf"))
    terms = []
    for s_neg, p in ((neg, diag), (neg.t(), diag)):  # caption -> video, video -> caption
        hardest = s_neg.max(1).values
        has_neg = torch.isfinite(hardest)
        cost = torch.clamp(margin - p.float() + hardest, min=0).masked_fill(~has_neg, 0.0)
        if weighted:
            with torch.no_grad():
                n = torch.isfinite(s_neg).sum(1) + 1
                rank = (s_neg > p.float()[:, None]).sum(1) + 1
                w = rank_weight(rank, n)
            cost = cost * w
        terms.append(cost.mean())
    loss = terms[0] + terms[1]
    return loss, {"t2v": float(terms[0].detach()), "v2t": float(terms[1].detach())}


def max_margin_ranking(scores: Tensor, margin: float = 0.05, same: Tensor | None = None) -> tuple[Tensor, dict[str, float]]:
    """Bidirectional max-margin ranking loss over all negatives (MMT, Gabeur et al. 2020):
    mean over negative pairs (i, j) of [m - s_ii + s_ij]_+ + [m - s_jj + s_ij]_+ ... per direction."""
    pos = _positives(scores, same)
    diag = scores.diagonal().float()
    s = scores.float()
    c_t2v = torch.clamp(margin - diag[:, None] + s, min=0).masked_fill(pos, 0.0)
    c_v2t = torch.clamp(margin - diag[None, :] + s, min=0).masked_fill(pos, 0.0)
    n_neg = (~pos).sum().clamp(min=1)
    t2v, v2t = c_t2v.sum() / n_neg, c_v2t.sum() / n_neg
    return t2v + v2t, {"t2v": float(t2v.detach()), "v2t": float(v2t.detach())}
