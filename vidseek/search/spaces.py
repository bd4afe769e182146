"""Search spaces: how one expert's timed rows and a text query land in one vector space.

A space turns the Features of one video into (times (N, 2), vectors (N, d)) and a query into a
vector (d,), both L2-normalised so inner product is cosine. Its `identity` (expert weights sha,
encoder weights sha, its own parameters) is stored with its FAISS index: an index built under
another identity is rebuilt, never mixed.

Two sources of spaces, one view (`space_names`, `space_builder`): zero-shot spaces are derived
from the expert cards (a card's `space` feed names a kind in SPACE_KINDS: "conse", "textlines"),
so adding an expert card is the only registration; trained models (jemc, mmt, fvmr) and tests
register builders by name in SPACES, which get the run dir in `SpaceContext.model`.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vidseek.extract.experts import EXPERTS, TextEncoder, default_text_encoder
from vidseek.registry import Registry, UnknownNameError
from vidseek.types import Features

DEFAULT_ENCODER = default_text_encoder()  # the text encoder card marked default


@dataclass
class SpaceContext:
    """What a space builder gets. `root` is the collection folder (caches live under
    root/retrieval); `model` is a trained run dir for trained spaces, None for zero-shot ones."""

    root: Path
    encoder: TextEncoder
    weights_sha: Mapping[str, str] = field(default_factory=dict)  # expert -> weights sha256
    model: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


class Space(ABC):
    """One searchable space over one (or more) experts' features."""

    name: str
    experts: tuple[str, ...]
    dim: int
    identity: str
    zero_shot: bool = True
    rows_are_moments: bool = False
    """True when every row is a candidate moment (FVMR): search takes the hits' moments from the
    rows themselves (moment_space.moments_from_rows) instead of the fused 0.5 s curve, which
    would blur overlapping candidates into one plateau."""

    @abstractmethod
    def embed_video(self, feats: Mapping[str, Features]) -> tuple[np.ndarray, np.ndarray]:
        """(times (N, 2), vectors (N, dim) float32 L2-normalised) for one video."""

    @abstractmethod
    def embed_query(self, query: str) -> np.ndarray:
        """(dim,) float32 L2-normalised."""

    def explain(self, feats: Mapping[str, Features], start: float, end: float,
                rows: tuple[np.ndarray, np.ndarray], query_vec: np.ndarray) -> dict[str, Any]:
        """Why [start, end] matched in this space (top concepts, matching line); rows are the
        video's (times, scores) in this space. Optional."""
        return {}

    def null_stats(self, query_vec: np.ndarray) -> tuple[float, float, float] | None:
        """(mean, std, coverage) of the query against this space's own vocabulary, when it has
        one: the scale of an unrelated window, and how well the vocabulary can express the
        query at all (the best cosine). None: estimate from the windows (text lines)."""
        return None


SpaceBuilder = Callable[[SpaceContext], Space]
SPACES: Registry[SpaceBuilder] = Registry("search space")
"""Spaces registered by name in code: trained models' spaces and test toys (not zero-shot
expert spaces, which are derived from the cards)."""
SPACE_KINDS: Registry[Callable[[str, Any], SpaceBuilder]] = Registry("zero-shot space kind")
"""feed kind ("conse", "textlines") -> (expert name, the card's feed) -> space builder."""


def l2n(x: np.ndarray, axis: int = -1) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    n = np.linalg.norm(x, axis=axis, keepdims=True)
    return (x / np.where(n > 0, n, 1.0)).astype(np.float32)


def identity_of(*parts: Any) -> str:
    """A short stable hash of JSON-able parts (weights shas, encoder sha, parameters)."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def encode_texts(encoder: TextEncoder, texts: list[str], batch: int = 256) -> np.ndarray:
    if not texts:
        return np.zeros((0, encoder.dim), np.float32)
    out = [np.asarray(encoder(texts[i:i + batch]), np.float32) for i in range(0, len(texts), batch)]
    return l2n(np.concatenate(out))


class CachedQueryEncoder:
    """Embeds each distinct query once: every space shares the query encoder. The most recent
    `max_queries` are kept (a server answers queries for days: an unbounded cache would grow
    by 1.5 KB per distinct query)."""

    def __init__(self, encoder: TextEncoder, max_queries: int = 1024) -> None:
        self.encoder = encoder
        self.max_queries = max_queries
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def __call__(self, text: str) -> np.ndarray:
        vec = self._cache.get(text)
        if vec is None:
            vec = self._cache[text] = encode_texts(self.encoder, [text])[0]
            while len(self._cache) > self.max_queries:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(text)
        return vec


_QUERY_CACHES: dict[int, CachedQueryEncoder] = {}


def query_encoder(encoder: TextEncoder) -> CachedQueryEncoder:
    key = id(encoder)
    if key not in _QUERY_CACHES:
        _QUERY_CACHES[key] = CachedQueryEncoder(encoder)
    return _QUERY_CACHES[key]


# ---- the view: spaces from the cards plus spaces registered in code ------------------------
def zero_shot_spaces() -> dict[str, SpaceBuilder]:
    """expert name -> space builder, for every expert card that feeds a zero-shot space."""
    from vidseek import plugins

    plugins.load_spaces()  # the kinds
    out: dict[str, SpaceBuilder] = {}
    for name in EXPERTS.names():
        feed = EXPERTS.get(name).space
        if feed is not None:
            out[name] = SPACE_KINDS.get(feed.kind)(name, feed)
    clash = sorted(set(out) & set(SPACES.names()))
    if clash:
        raise ValueError(f"search space {clash[0]!r} is registered in SPACES and by its expert card")
    return out


def space_names() -> list[str]:
    """Every space known without loading the models: the cards' zero-shot spaces and SPACES."""
    return sorted({*zero_shot_spaces(), *SPACES.names()})


def space_builder(name: str) -> SpaceBuilder:
    """The builder of a space by name; a trained model's space ("jemc", "mmt", "fvmr") is
    registered by its module, imported here on first use (keeps torch out of zero-shot search)."""
    zero_shot = zero_shot_spaces()
    if name in zero_shot:
        return zero_shot[name]
    if name not in SPACES:
        from vidseek import plugins

        plugins.load_models()  # trained spaces come with their models (and torch)
    if name not in SPACES:
        known = ", ".join(sorted({*zero_shot, *SPACES.names()}))
        raise UnknownNameError(f"unknown search space {name!r}; known: {known}")
    return SPACES.get(name)


def default_space_names(experts: list[str]) -> list[str]:
    """Spaces whose expert has features in the store (by name)."""
    return [name for name in space_names() if name in experts]


def build_space(name: str, ctx: SpaceContext) -> Space:
    """The space `name` built for `ctx` (see space_builder)."""
    return space_builder(name)(ctx)
