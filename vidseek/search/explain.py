"""Why a hit matched: each space's evidence over the moment, as one typed `Why`.

Measured here for every space with rows in the video: `cosine` (the best raw cosine of its rows
in the moment), `z` (its normalised curve over the moment, FusedCurve.expert_scores), `weight`
and `gate` (what fusion multiplied it by). Laid over that, in the same vocabulary
(types.Explanation; an unknown key raises): the moment's own evidence (`Moment.why`: a moment
space's row cosine and z, the reranker's note) and the space's `explain()` (concepts, matched,
text, at). The terminal table, the HTML page and `search --json` all render this one object.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from vidseek.errors import CollectionError
from vidseek.search.fusion import FusedCurve, expert_weight
from vidseek.search.moments import Moment
from vidseek.search.spaces import Space
from vidseek.types import RERANK_KEY, Explanation, Features, RerankNote, Why

Rows = tuple[np.ndarray, np.ndarray]  # (times (N, 2), raw cosines (N,)) of one video in one space


class FeatureCache:
    """The shards explaining hits reads, kept per process (LRU, at most `max_bytes` of arrays).
    Explaining 10 hits re-read (and re-verified) a Parquet shard per hit and space: ~90 % of a
    warm query on the 13 real clips. A missing or corrupt shard is remembered as absent; a
    shard larger than the whole budget is read each time. Whoever changes the store (extract,
    index) drops the searcher, and with it this cache."""

    def __init__(self, store: Any, max_bytes: int = 256 * 2**20) -> None:
        self.store, self.max_bytes = store, max_bytes
        self._cache: OrderedDict[tuple[str, str], tuple[int, Features | None]] = OrderedDict()
        self._bytes = 0

    def get(self, video_id: str, expert: str) -> Features | None:
        key = (video_id, expert)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key][1]
        try:
            feats: Features | None = self.store.get(video_id, expert)
        except CollectionError:  # not extracted, failed or corrupt: nothing to explain with
            feats = None
        size = 64 if feats is None else feats.values.nbytes + feats.times.nbytes + (
            feats.probs.nbytes if feats.probs is not None else 0) + sum(len(t) for t in feats.texts or ())
        if size <= self.max_bytes:
            self._cache[key] = (size, feats)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, (old, _) = self._cache.popitem(last=False)
                self._bytes -= old
        return feats

    def of_space(self, video_id: str, space: Space) -> dict[str, Features]:
        """expert -> Features of one video for every expert of a space that has them."""
        out = {}
        for ex in space.experts:
            f = self.get(video_id, ex)
            if f is not None:
                out[ex] = f
        return out


def best_cosine(rows: Rows, start: float, end: float) -> float | None:
    """The best raw cosine among the rows overlapping [start, end] (None: no row there)."""
    times, scores = rows
    sel = (times[:, 1] > start) & (times[:, 0] < end)
    return float(np.max(scores[sel])) if sel.any() else None


def explain_moment(m: Moment, raw: Mapping[str, Rows], curve: FusedCurve, spaces: Mapping[str, Space],
                   features: Callable[[Space], Mapping[str, Features]], qvecs: Mapping[str, np.ndarray],
                   weights: Mapping[str, float] | None, gates: Mapping[str, float]) -> Why:
    """The Why of one moment of one video (raw: its rows per space; curve: its fused curve)."""
    z_curve = curve.expert_scores(m.start, m.end)
    own = {k: v for k, v in m.why.items() if k != RERANK_KEY}
    out = []
    for name, sp in spaces.items():
        if name not in raw and name not in own:
            continue
        e = Explanation(name, cosine=best_cosine(raw[name], m.start, m.end) if name in raw else None,
                        z=z_curve.get(name), weight=expert_weight(name, weights),
                        gate=None if sp.rows_are_moments else gates.get(name))
        if name in own:
            e = e.merged(own[name])
        info = {}
        if name in raw:
            try:
                info = sp.explain(features(sp), m.start, m.end, raw[name], qvecs[name])
            except CollectionError:  # features gone since indexing: measured evidence only
                info = {}
        if info:
            e = e.merged(info)
        if e.cosine is not None or e.z is not None or info:
            out.append(e)
    note = m.why.get(RERANK_KEY)
    return Why(tuple(out), None if note is None else RerankNote.from_json(note))


def why_line(why: Why) -> str:
    """One terminal line per hit: each space's z, cosine and evidence, then the rerank note."""
    parts = []
    for e in sorted(why.spaces, key=lambda e: -(e.z if e.z is not None else -np.inf)):
        bits = [e.space]
        if e.z is not None:
            bits.append(f"z={e.z:+.2f}")
        if e.cosine is not None:
            bits.append(f"cos={e.cosine:.3f}")
        if e.matched or e.concepts:
            bits.append("[" + ", ".join(e.matched or tuple(c for c, _ in e.concepts)) + "]")
        if e.text:
            at = f" @{e.at[0]:.1f}-{e.at[1]:.1f}s" if e.at else ""
            bits.append(f'"{e.text[:80]}"{at}')
        parts.append(" ".join(bits))
    if why.rerank is not None:
        r = why.rerank
        parts.append(f"rerank {r.model}: " + ("own moment" if r.own else f"was {r.before:+.3f}"))
    return " | ".join(parts)
