"""ConSE (Norouzi et al. 2014): a classifier's window probabilities as a point in text space.

A window with class probabilities p maps to normalise(Σ_{c in top-k(p)} p_c · e(prompt(label_c))),
e = the query encoder. A query "someone flips a pancake" then lands near windows whose top classes
read like it ("a video of flipping pancake"). The label embeddings are computed once per
(encoder, prompt, label list) and cached in COLLECTION/retrieval/labels/.

Which experts get a ConSE space is a view of the expert cards: every card with a `ConseFeed`
(its label file, prompt and top-k are on the card); this module registers the "conse" kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from vidseek.errors import CollectionError
from vidseek.extract.experts.cards import (
    DEFAULT_PROMPT,
    DEFAULT_TOPK,
    EXPERTS,
    ConseFeed,
    read_label_file,
)
from vidseek.search.spaces import (
    SPACE_KINDS,
    Space,
    SpaceContext,
    encode_texts,
    identity_of,
    l2n,
    query_encoder,
)
from vidseek.types import Features


def clean_label(label: str) -> str:
    """'tench, Tinca tinca' -> 'tench'; 'flipping_pancake' -> 'flipping pancake'."""
    head = label.split(",")[0].strip()
    return head.replace("_", " ").strip('"').strip()


def load_labels(expert: str, n_classes: int | None = None) -> list[str]:
    """Class names for a classifier expert: its card's label file, else the expert's own
    `.labels` (its tiny twin's when the store holds a twin's width)."""
    fname = EXPERTS.get(expert).label_file if expert in EXPERTS else None
    if fname is not None:
        try:
            labels = read_label_file(fname)
            if n_classes is None or len(labels) == n_classes:
                return labels
        except (FileNotFoundError, ModuleNotFoundError):
            pass
    from vidseek.extract.experts import ExpertOptions, create_expert

    for opts in (ExpertOptions(tiny=True), ExpertOptions()):
        try:
            labels = list(create_expert(expert, opts).labels or [])
        except Exception:  # noqa: BLE001 - try the next source, raise below
            continue
        if labels and (n_classes is None or len(labels) == n_classes):
            return labels
    raise CollectionError(f"no class names of width {n_classes} for expert {expert!r}")


class ConseSpace(Space):
    """Concept projection of one classifier expert into the query encoder's space."""

    def __init__(self, ctx: SpaceContext, expert: str, labels: list[str] | None = None,
                 prompt: str = DEFAULT_PROMPT, topk: int = DEFAULT_TOPK) -> None:
        self.name = expert
        self.experts = (expert,)
        self.ctx = ctx
        self.encoder = ctx.encoder
        self.dim = int(ctx.encoder.dim)
        self.prompt = str(ctx.params.get("prompt", prompt))
        self.topk = int(ctx.params.get("topk", topk))
        self._labels = labels
        self._emb: np.ndarray | None = None
        self.identity = identity_of(
            "conse", expert, ctx.weights_sha.get(expert, ""), ctx.encoder.weights.sha256,
            self.prompt, self.topk, labels,
        )

    # ---- label embeddings ------------------------------------------------------------------
    def labels(self, n_classes: int | None = None) -> list[str]:
        if self._labels is None or (n_classes is not None and len(self._labels) != n_classes):
            self._labels = load_labels(self.name, n_classes)
        return self._labels

    def label_embeddings(self, n_classes: int | None = None) -> np.ndarray:
        labels = self.labels(n_classes)
        if self._emb is not None and len(self._emb) == len(labels):
            return self._emb
        texts = [self.prompt.format(label=clean_label(lb)) for lb in labels]
        key = identity_of(self.encoder.weights.sha256, getattr(self.encoder, "name", ""), texts)
        cache = Path(self.ctx.root) / "retrieval" / "labels" / f"{self.name}-{key}.npy"
        if cache.exists():
            emb = np.load(cache)
        else:
            emb = encode_texts(self.encoder, texts)
            try:
                cache.parent.mkdir(parents=True, exist_ok=True)
                tmp = cache.with_name(cache.stem + ".tmp.npy")
                np.save(tmp, emb)
                tmp.replace(cache)
            except OSError:
                pass  # a read-only collection still searches, it just re-embeds the labels
        self._emb = emb.astype(np.float32)
        return self._emb

    # ---- Space -----------------------------------------------------------------------------
    def project(self, probs: np.ndarray) -> np.ndarray:
        """(N, C) probabilities -> (N, dim) unit vectors: Σ top-k p_c e(label_c)."""
        probs = np.asarray(probs, np.float32)
        if len(probs) == 0:
            return np.zeros((0, self.dim), np.float32)
        emb = self.label_embeddings(probs.shape[1])
        k = min(self.topk, probs.shape[1])
        top = np.argpartition(-probs, k - 1, axis=1)[:, :k]
        w = np.take_along_axis(probs, top, axis=1)
        vec = np.einsum("nk,nkd->nd", w, emb[top])
        return l2n(vec)

    def embed_video(self, feats: Mapping[str, Features]) -> tuple[np.ndarray, np.ndarray]:
        f = feats[self.name]
        if f.probs is None:
            raise CollectionError(f"{self.name} features hold no class probabilities; re-extract them")
        return f.times, self.project(f.probs)

    def embed_query(self, query: str) -> np.ndarray:
        return query_encoder(self.encoder)(query)

    def null_stats(self, query_vec: np.ndarray) -> tuple[float, float, float] | None:
        emb = self._emb if self._emb is not None else self.label_embeddings()
        cos = emb @ np.asarray(query_vec, np.float32)
        return float(cos.mean()), float(cos.std()), float(cos.max())

    def explain(self, feats: Mapping[str, Features], start: float, end: float,
                rows: tuple[np.ndarray, np.ndarray], query_vec: np.ndarray) -> dict[str, Any]:
        f = feats.get(self.name)
        if f is None or f.probs is None or len(f) == 0:
            return {}
        sel = (f.times[:, 1] > start) & (f.times[:, 0] < end)
        if not sel.any():
            return {}
        mean = f.probs[sel].mean(0)
        labels = self.labels(len(mean))
        top = np.argsort(-mean)[: self.topk]
        emb = self.label_embeddings(len(mean))
        rel = mean[top] * np.maximum(emb[top] @ np.asarray(query_vec, np.float32), 0)
        order = top[np.argsort(-rel)]
        return {
            "concepts": [[clean_label(labels[c]), round(float(mean[c]), 4)] for c in top[:3]],
            "matched": [clean_label(labels[c]) for c in order[:3] if rel[list(top).index(c)] > 0],
        }


def conse_builder(expert: str, **kw: Any) -> Any:
    """A space builder for a classifier expert (kw: labels, prompt, topk)."""
    return partial(ConseSpace, expert=expert, **kw)


def _from_card(expert: str, feed: ConseFeed) -> Any:
    return conse_builder(expert, prompt=feed.prompt, topk=feed.topk)


SPACE_KINDS.add(ConseFeed.kind, _from_card)
