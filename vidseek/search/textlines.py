"""Speech and on-screen text as a search space: each timed line embedded with the query encoder.

ASR segments are short and split sentences mid-way, so consecutive lines are merged into windows
of at most `merge_seconds` (a query about "downloading the dataset" may straddle two segments);
OCR rows are kept as they are (a slide's text is already one unit). Empty lines are dropped.
Which experts get a text-line space, and their merge_seconds, is a view of the expert cards
(every card with a `TextLinesFeed`); this module registers the "textlines" kind.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import partial
from typing import Any

import numpy as np

from vidseek.extract.experts.cards import TextLinesFeed
from vidseek.search.spaces import (
    SPACE_KINDS,
    Space,
    SpaceContext,
    encode_texts,
    identity_of,
    query_encoder,
)
from vidseek.types import Features

MIN_CONFIDENCE = 0.5
"""Lines the recogniser itself doubts are not indexed: Whisper hallucinates short phrases on music
and noise ("Good.", "Here you come.") with low word probabilities; a line whose mean word
probability (or OCR score) is below this, or that holds no word at all, is dropped."""


def confidence(meta: dict[str, Any] | None) -> float | None:
    """Mean word probability (ASR `words` = [start, end, word, prob]) or the row's score."""
    if not meta:
        return None
    words = meta.get("words")
    if words:
        probs = [float(w[3]) for w in words if isinstance(w, (list, tuple)) and len(w) > 3]
        if probs:
            return float(np.mean(probs))
    for key in ("score", "confidence", "prob"):
        if isinstance(meta.get(key), (int, float)):
            return float(meta[key])
    return None


_WORD = re.compile(r"\w")  # a row with no word character is not worth indexing


def reliable_rows(f: Features, min_confidence: float = MIN_CONFIDENCE) -> tuple[np.ndarray, list[str]]:
    """(times, texts) of the rows worth indexing: some word in them, confidence not below min."""
    texts = list(f.texts or [""] * len(f))
    metas: list[dict[str, Any] | None] = list(f.meta) if f.meta is not None else [None] * len(f)
    keep = []
    for i, (t, m) in enumerate(zip(texts, metas, strict=True)):
        c = confidence(m)
        if _WORD.search(t or "") and (c is None or c >= min_confidence):
            keep.append(i)
    return f.times[keep].reshape(-1, 2), [texts[i] for i in keep]


def merge_lines(times: np.ndarray, texts: list[str], merge_seconds: float) -> tuple[np.ndarray, list[str]]:
    """Group consecutive non-empty lines while the group spans at most merge_seconds."""
    rows = [(float(t[0]), float(t[1]), s.strip()) for t, s in zip(times, texts, strict=True)
            if s and s.strip()]
    if merge_seconds <= 0:
        if not rows:
            return np.zeros((0, 2)), []
        return np.array([[a, b] for a, b, _ in rows]), [s for _, _, s in rows]
    out_t: list[list[float]] = []
    out_s: list[str] = []
    for a, b, s in rows:
        if out_t and b - out_t[-1][0] <= merge_seconds:
            out_t[-1][1] = max(out_t[-1][1], b)
            out_s[-1] = f"{out_s[-1]} {s}"
        else:
            out_t.append([a, b])
            out_s.append(s)
    return np.array(out_t, dtype=np.float64).reshape(-1, 2), out_s


class TextLineSpace(Space):
    def __init__(self, ctx: SpaceContext, expert: str, merge_seconds: float = 0.0) -> None:
        self.name = expert
        self.experts = (expert,)
        self.encoder = ctx.encoder
        self.dim = int(ctx.encoder.dim)
        self.merge_seconds = float(ctx.params.get(f"{expert}_merge_seconds", merge_seconds))
        self.min_confidence = float(ctx.params.get("min_confidence", MIN_CONFIDENCE))
        self.identity = identity_of(
            "textlines", expert, ctx.weights_sha.get(expert, ""), ctx.encoder.weights.sha256,
            self.merge_seconds, self.min_confidence,
        )

    def lines(self, feats: Mapping[str, Features]) -> tuple[np.ndarray, list[str]]:
        times, texts = reliable_rows(feats[self.name], self.min_confidence)
        return merge_lines(times, texts, self.merge_seconds)

    def embed_video(self, feats: Mapping[str, Features]) -> tuple[np.ndarray, np.ndarray]:
        times, texts = self.lines(feats)
        return times, encode_texts(self.encoder, texts)

    def embed_query(self, query: str) -> np.ndarray:
        return query_encoder(self.encoder)(query)

    def explain(self, feats: Mapping[str, Features], start: float, end: float,
                rows: tuple[np.ndarray, np.ndarray], query_vec: np.ndarray) -> dict[str, Any]:
        if self.name not in feats:
            return {}
        times, texts = self.lines(feats)
        row_times, scores = rows
        if len(texts) == 0 or len(scores) != len(texts):
            return {}
        sel = np.nonzero((times[:, 1] > start) & (times[:, 0] < end))[0]
        if len(sel) == 0:
            return {}
        best = int(sel[np.argmax(scores[sel])])
        return {"text": texts[best], "at": [round(float(times[best, 0]), 2),
                                             round(float(times[best, 1]), 2)],
                "cosine": round(float(scores[best]), 4)}


def _from_card(expert: str, feed: TextLinesFeed) -> Any:
    return partial(TextLineSpace, expert=expert, merge_seconds=feed.merge_seconds)


SPACE_KINDS.add(TextLinesFeed.kind, _from_card)
