"""FVMR's moment-query common space as a search space: every candidate moment is one FAISS row.

`vidseek index --model FVMR_RUN` (a model card with `space="moments"`, see model_views.py) embeds each video's N clip features into the 2D map and indexes
every valid cell as a row: (start, end) in seconds and the L2-normalised phi_m vector. The query
side is FVMR's phi_s, normalised (the model's fixed scale of 10 drops out), so a row's FAISS
inner product is the cosine whose x10 is FVMR's logit p_i: one dot product finds moments across
the whole collection, as the paper intends.

Rows are moments, so the Searcher must not blur them into its 0.5 s fused curve (overlapping
candidates would pile up into one plateau); `moments_from_rows` ranks them directly:

    score(row) = w_m * z_m(cos) + contrast_others(span)

z_m is the space's per-query normaliser (mean / std over the candidate videos' rows, see
fusion.Normaliser), w_m its --weights entry (default 1). contrast_others is the zero-shot
moment score of the same span on the fused curve of the *other* (non-moment) spaces
(retrieval.moments.span_scores: mean inside minus the larger of mean outside and the collection
baseline, shrunk), 0 when no other space covers the video. Rows of every moment space are pooled,
NMS'd at the model's own threshold (retrieval.moments.nms, the same greedy rule as
localization/nms.py without importing torch into zero-shot search), and the best `moments_per_video` kept; videos rank by their
best moment. So fvmr alone ranks by FVMR's score; with zero-shot spaces, both agree on units
(z-like) and a span scores high when FVMR likes it and the other experts single it out; with
`--weights fvmr=0` the candidate spans are ranked by the zero-shot experts alone.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from vidseek.errors import CollectionError
from vidseek.search.fusion import Normaliser, expert_weight
from vidseek.search.moments import Moment, nms, span_scores
from vidseek.search.spaces import Space, SpaceContext, identity_of, l2n
from vidseek.search.trained_space import _FeaturesAsStore, load_model, open_run
from vidseek.types import Features


def video_clips(feats: Mapping[str, Features], experts: tuple[str, ...], n: int,
                duration: float | None = None) -> tuple[np.ndarray, float]:
    """(N, sum d) clip features (experts side by side, in the run's order) and the duration used
    (the last row's end unless given): the same resampling the moments dataset trains on."""
    from vidseek.models.datasets.moments import load_clip_features

    missing = [e for e in experts if e not in feats or len(feats[e]) == 0]
    if missing:
        raise CollectionError(f"no {', '.join(missing)} rows for this video")
    if duration is None or duration <= 0:
        duration = max(float(feats[e].times[:, 1].max()) for e in experts)
    return load_clip_features(_FeaturesAsStore(feats), "", list(experts), n, duration), duration


def uniform_times(n: int, duration: float) -> np.ndarray:
    edges = np.linspace(0.0, duration, n + 1)
    return np.stack([edges[:-1], edges[1:]], 1)


class MomentSpace(Space):
    """FVMR run -> rows = candidate moments (spans seconds, phi_m), query = phi_s."""

    zero_shot = False
    rows_are_moments = True

    def __init__(self, ctx: SpaceContext, name: str) -> None:
        if ctx.model is None:
            raise CollectionError(f"space {name!r} needs a trained run dir: vidseek index --model RUN")
        run = open_run(ctx.model, {name})
        self.model = load_model(run)
        self.name = name
        self.experts = tuple(self.model.info.experts)
        self.n = int(self.model.n)
        self.dim = int(self.model.dim)
        self.nms_iou = float(self.model.nms_thresh)
        self.identity = identity_of(*run.identity(), *(ctx.weights_sha.get(e, "") for e in self.experts))

    def embed_video(self, feats: Mapping[str, Features]) -> tuple[np.ndarray, np.ndarray]:
        present = {e: f for e, f in feats.items() if e in self.experts and len(f)}
        if len(present) < len(self.experts):
            return np.zeros((0, 2)), np.zeros((0, self.dim), np.float32)
        clips, duration = video_clips(present, self.experts, self.n)
        spans, vecs = self.model.moment_embeddings(clips, uniform_times(self.n, duration), duration)
        return np.asarray(spans, np.float64), l2n(vecs)

    def embed_query(self, query: str) -> np.ndarray:
        return l2n(np.asarray(self.model.query_embedding(query), np.float32))


def moments_from_rows(rows: Mapping[str, tuple[np.ndarray, np.ndarray]], norms: Mapping[str, Normaliser],
                      nms_iou: Mapping[str, float], weights: Mapping[str, float] | None,
                      curve: np.ndarray | None, bin_s: float, baseline: float, duration: float,
                      top: int) -> list[Moment]:
    """One video's moments from its moment-space rows (space -> (times, raw scores)); `curve`
    is the fused per-bin curve of the other spaces (nan where none covers), or None."""
    spans, scores, whys, iou = [], [], [], 1.0
    for name, (times, raw) in rows.items():
        if len(raw) == 0:
            continue
        t = np.asarray(times, np.float64).reshape(-1, 2)
        z = norms[name](raw)
        s = expert_weight(name, weights) * z
        if curve is not None and len(curve) and np.isfinite(curve).any():
            s = s + span_scores(np.where(np.isfinite(curve), curve, baseline), bin_spans(t, bin_s, len(curve)),
                                baseline)
        spans.append(t)
        scores.append(s)
        whys += [{name: {"cosine": round(float(r), 4), "z": round(float(zz), 3)}} for r, zz in zip(raw, z, strict=True)]
        iou = min(iou, float(nms_iou.get(name, 0.5)))
    if not spans:
        return []
    t, s = np.concatenate(spans), np.concatenate(scores)
    out = []
    for k in nms(t, s, iou, top):
        start = float(max(t[k, 0], 0.0))
        end = float(min(t[k, 1], duration) if duration > 0 else t[k, 1])
        if end > start:
            out.append(Moment(start, end, float(s[k]), whys[k]))
    return out


def bin_spans(times: np.ndarray, bin_s: float, nb: int) -> np.ndarray:
    """(P, 2) int bin spans [i, j) covering each (start, end) in seconds (at least one bin)."""
    i = np.clip(np.floor(times[:, 0] / bin_s + 1e-9), 0, max(nb - 1, 0)).astype(np.int64)
    j = np.clip(np.ceil(times[:, 1] / bin_s - 1e-9), 0, nb).astype(np.int64)
    return np.stack([i, np.maximum(j, i + 1)], 1)
