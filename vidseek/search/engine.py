"""Moment search over every indexed space: embed once, shortlist, score exactly, fuse, find moments.

1. The query is embedded once per encoder (spaces share the cache).
2. Shortlist: each space's FAISS index returns its top `candidates` windows; their videos are the
   candidate set (capped at `max_videos`, best per-space rank first).
3. Every window of every candidate video is scored exactly in each space (`window_scores`).
4. Per space, scores are z-normalised over the candidate windows; per video they are fused per
   0.5 s bin (fusion.py). Videos rank by the best span of find_moments (moments.py: contrast
   against the collection baseline); the moments shown inside a video come from find_spans
   (localize.py: contrast against the same video's other times, snapped to the `shots`
   expert's cuts and the ASR / OCR line edges). `spans=False` shows find_moments' spans.
5. A reranker (a trained localizer) may re-order the top videos' moments when it is confident
   (rerank.py); the videos keep their zero-shot order.
6. Hits: nested moments of a video fold into one hit ("also" times in why.moment) unless
   `all_moments`; a hit's score is localize.match_score of its fused value, in [0, 1].
Spaces whose rows are candidate moments (FVMR, see moment_space.py) stay out of the fused
curve: their rows are the videos' moments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from vidseek.errors import CollectionError
from vidseek.extract.experts.base import TextEncoder
from vidseek.registry import Registry
from vidseek.search.explain import FeatureCache, explain_moment
from vidseek.search.fusion import (
    BIN_SECONDS,
    PRIOR,
    STD_FLOOR,
    FusedCurve,
    Normaliser,
    fuse,
)
from vidseek.search.localize import boundaries, collapse, fused_values, match_score, video_moments
from vidseek.search.moment_space import moments_from_rows
from vidseek.search.moments import Moment, find_moments
from vidseek.search.query import check_query
from vidseek.search.spaces import Space, SpaceContext, build_space
from vidseek.store import FeatureStore
from vidseek.types import Features, Hit, MomentNote, Why

Reranker = Callable[[str, str, list[Moment]], list[Moment]]
"""(query, video_id, candidate moments) -> re-scored moments (any order)."""
RERANKERS: Registry[Callable[..., Reranker]] = Registry("reranker")
"""model name (a run dir's config.yaml `model`) -> builder(run_dir, store, **options) -> Reranker
(options: min_confidence, see rerank.py)."""

_ENCODERS: dict[str, TextEncoder] = {}


def load_encoder(name: str) -> TextEncoder:
    """One encoder instance per process and name (loading MiniLM takes a second)."""
    if name not in _ENCODERS:
        from vidseek.extract.experts import create_text_encoder

        _ENCODERS[name] = create_text_encoder(name)
    return _ENCODERS[name]


@dataclass
class SearchOptions:
    top: int = 10
    videos: bool = False  # one hit per video
    weights: dict[str, float] | None = None
    candidates: int = 200  # windows per space in the shortlist
    max_videos: int = 100  # candidate videos scored exactly
    moments_per_video: int = 5
    bin_s: float = BIN_SECONDS
    rerank: Reranker | None = None
    rerank_videos: int = 10
    explain: bool = True
    all_moments: bool = False  # every moment its own hit (default: nested ones fold into one)
    spans: bool = True  # moments from localize.find_spans (False: moments.find_moments, as before)


@dataclass
class VideoResult:
    video_id: str
    moments: list[Moment]
    curve: FusedCurve
    raw: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    reranked: bool = False
    rank_value: float | None = None  # what ranks the video (None: its first moment's score)
    baseline: float = 0.0  # the collection baseline of the query's fused curves

    @property
    def score(self) -> float:
        if self.rank_value is not None:
            return self.rank_value
        return self.moments[0].score if self.moments else -np.inf


@dataclass
class SearchResult:
    query: str
    videos: list[VideoResult]  # best first
    normalisers: dict[str, Normaliser]
    gates: dict[str, float] = field(default_factory=dict)
    qvecs: dict[str, np.ndarray] = field(default_factory=dict)  # the query in each space

    def video_rank(self, video_id: str) -> float:
        for i, v in enumerate(self.videos):
            if v.video_id == video_id:
                return float(i + 1)
        return float("inf")

    def get(self, video_id: str) -> VideoResult | None:
        return next((v for v in self.videos if v.video_id == video_id), None)


class Searcher:
    """Opens a collection's indexes once; `rank` and `search` can then be called per query."""

    def __init__(self, store: FeatureStore, spaces: Iterable[str] | None = None,
                 encoder: TextEncoder | None = None) -> None:
        from vidseek.index import SpaceIndex, list_spaces, require_settings

        self.store = store
        settings = require_settings(store)
        self.encoder = encoder or load_encoder(settings.encoder)
        indexed = {row["space"]: row for row in list_spaces(store)}
        names = [s for s in (spaces or indexed) if s in indexed]
        if not names:
            raise CollectionError(f"collection {store.root} has no search index; "
                                  f"run `vidseek index --collection {store.root}`")
        ctx = space_context(store, self.encoder, None, settings.params)
        models = settings.models  # trained space -> its run dir
        self.spaces: dict[str, Space] = {}
        self.indexes: dict[str, Any] = {}
        for name in names:
            row = indexed[name]
            sp = build_space(name, replace(ctx, model=models[name]) if name in models else ctx)
            if sp.identity != row["identity"]:
                raise CollectionError(
                    f"index space {name!r} in {store.root} was built with other weights or encoder; "
                    f"run `vidseek index --rebuild --collection {store.root}`")
            self.spaces[name] = sp
            self.indexes[name] = SpaceIndex(store, name, int(row["dim"]), str(row["identity"]))
        self._info: dict[str, tuple[float, str]] = {}
        self._bounds: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._feats = FeatureCache(store)

    # ---- helpers ---------------------------------------------------------------------------
    def video_info(self, video_id: str, raw: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> tuple[float, str]:
        if video_id not in self._info:
            info = self.store.catalog.video(video_id)
            ends = [float(t[:, 1].max()) for t, _ in raw.values() if len(t)]
            duration = info.duration if info and info.duration > 0 else max(ends, default=0.0)
            self._info[video_id] = (duration, info.path if info else "")
        return self._info[video_id]

    def boundaries(self, video_id: str) -> tuple[np.ndarray, np.ndarray]:
        """(shot cuts, ASR / OCR line edges) of a video, read once (localize.boundaries)."""
        if video_id not in self._bounds:
            self._bounds[video_id] = boundaries(self.store, video_id)
        return self._bounds[video_id]

    def features(self, video_id: str, space: Space) -> dict[str, Features]:
        return self._feats.of_space(video_id, space)

    # ---- stages ----------------------------------------------------------------------------
    def shortlist(self, qvecs: Mapping[str, np.ndarray], opts: SearchOptions) -> list[str]:
        best: dict[str, int] = {}
        for name, idx in self.indexes.items():
            seen: dict[str, int] = {}
            for row in idx.search(qvecs[name], opts.candidates):
                seen.setdefault(row.video, len(seen))
            for vid, r in seen.items():
                best[vid] = min(best.get(vid, r), r)
        return sorted(best, key=lambda v: (best[v], v))[: opts.max_videos]

    def rank(self, query: str, opts: SearchOptions | None = None,
             include: Iterable[str] = ()) -> SearchResult:
        """Every candidate video (plus `include`) with its fused curve and ranked moments."""
        opts = opts or SearchOptions()
        check_query(query, self.encoder.name)
        qvecs = {name: sp.embed_query(query) for name, sp in self.spaces.items()}
        cands = self.shortlist(qvecs, opts)
        cands += [v for v in include if v not in cands]
        raw: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {v: {} for v in cands}
        for name, idx in self.indexes.items():
            for vid, (t, s) in idx.window_scores_many(qvecs[name], cands).items():
                if len(s):
                    raw[vid][name] = (t, np.asarray(s, np.float64))
        norms, gates = self.calibrate(qvecs, {n: [raw[v][n][1] for v in cands if n in raw[v]]
                                              for n in self.indexes})
        curves = {}
        moment_spaces = {n: sp for n, sp in self.spaces.items() if sp.rows_are_moments}
        for vid in cands:
            duration, _ = self.video_info(vid, raw[vid])
            curve_rows = {n: v for n, v in raw[vid].items() if n not in moment_spaces}
            curves[vid] = fuse(vid, duration, curve_rows, norms, opts.weights, opts.bin_s, gates)
        finite = [c.fused[np.isfinite(c.fused)] for c in curves.values()]
        flat = np.concatenate(finite) if finite else np.zeros(0)
        baseline = float(flat.mean()) if flat.size else 0.0
        results = []
        for vid in cands:
            c = curves[vid]
            rows = {n: raw[vid][n] for n in moment_spaces if n in raw[vid]}
            if rows:  # candidate moments are rows: rank them (plus the others' curve)
                ms = moments_from_rows(rows, norms, {n: getattr(sp, "nms_iou", 0.5) for n, sp in
                                                     moment_spaces.items()}, opts.weights, c.fused,
                                       c.bin_s, baseline, c.duration, opts.moments_per_video)
            elif opts.spans:
                cuts, edges = self.boundaries(vid)
                value, ms = video_moments(c, baseline, cuts, edges, top=opts.moments_per_video)
                results.append(VideoResult(vid, ms, c, raw[vid], rank_value=value, baseline=baseline))
                continue
            else:
                ms = find_moments(c.fused, c.bin_s, c.duration, baseline, top=opts.moments_per_video) \
                    if np.isfinite(c.fused).any() else []  # no expert with weight has rows here
            results.append(VideoResult(vid, ms, c, raw[vid], baseline=baseline))
        results.sort(key=lambda r: (-r.score, r.video_id))
        if opts.rerank is not None:  # moments re-ordered within a video; videos keep their order
            for r in results[: opts.rerank_videos]:
                if r.rank_value is None:
                    r.rank_value = r.score
                new = opts.rerank(query, r.video_id, r.moments)
                if any("rerank" in m.why for m in new):  # else gated: the zero-shot moments stand
                    r.moments, r.reranked = sorted(new, key=lambda m: -m.score), True
        return SearchResult(query, results, norms, gates, qvecs)

    def calibrate(self, qvecs: Mapping[str, np.ndarray], scores: Mapping[str, list[np.ndarray]]
                  ) -> tuple[dict[str, Normaliser], dict[str, float]]:
        """Per space: the normaliser (vocabulary null, else candidates pooled with a prior) and
        the query gate (best cosine the space offers, in [0, 1]); see fusion.py."""
        norms: dict[str, Normaliser] = {}
        gates: dict[str, float] = {}
        nulls = {n: self.spaces[n].null_stats(qvecs[n]) for n in scores}
        known = [v for v in nulls.values() if v is not None]
        prior = (float(np.mean([k[0] for k in known])), float(np.mean([k[1] for k in known]))) \
            if known else PRIOR
        for name, s in scores.items():
            null = nulls[name]
            if null is not None:
                norms[name] = Normaliser(null[0], max(null[1], STD_FLOOR))
                gates[name] = float(np.clip(null[2], 0.0, 1.0))
            else:
                norms[name] = Normaliser.fit(s, prior=prior)
                best = max((float(x.max()) for x in s if len(x)), default=0.0)
                gates[name] = float(np.clip(best, 0.0, 1.0))
        return norms, gates

    def explain(self, res: SearchResult, result: VideoResult, m: Moment, opts: SearchOptions) -> Why:
        return explain_moment(m, result.raw, result.curve, self.spaces,
                              lambda sp: self.features(result.video_id, sp), res.qvecs, opts.weights,
                              res.gates)

    def search(self, query: str, opts: SearchOptions | None = None) -> list[Hit]:
        """Hits best first. Per video: its moments, nested ones folded into one hit (its best,
        the others as why.moment.also) unless opts.all_moments; one hit per video with
        opts.videos. Score: localize.match_score of the moment's fused value, in [0, 1]."""
        opts = opts or SearchOptions()
        res = self.rank(query, opts)
        pairs: list[tuple[int, VideoResult, Moment, float, list[Moment]]] = []
        for order, r in enumerate(res.videos):
            if not r.moments:
                continue
            values = fused_values(r.curve, r.moments, r.baseline, r.score)
            groups: list[tuple[int, list[int]]]
            if opts.all_moments and not opts.videos:
                groups = [(k, []) for k in range(len(r.moments))]
            else:
                groups = collapse(r.moments, one=opts.videos)
            pairs += [(order, r, r.moments[k], values[k], [r.moments[a] for a in also])
                      for k, also in groups]
        pairs.sort(key=lambda p: (-p[3], p[0], p[2].start))
        hits = []
        for _, r, m, value, also in pairs[: opts.top]:
            _, path = self.video_info(r.video_id, r.raw)
            why = self.explain(res, r, m, opts) if opts.explain else Why()
            snapped = m.why.get("snapped") or {}
            note = MomentNote(fused=value, contrast=m.why.get("contrast"),
                              flat=bool(m.why.get("flat", False)),
                              snapped=(snapped.get("start"), snapped.get("end")),
                              also=tuple((a.start, a.end) for a in also))
            hits.append(Hit(r.video_id, path, m.start, m.end, match_score(value), replace(why, moment=note)))
        return hits


def space_context(store: FeatureStore, encoder: TextEncoder, model: str | None = None,
                  params: Mapping[str, Any] | None = None) -> SpaceContext:
    """The context spaces are built with: each expert's weights sha as the store records it."""
    shas = {}
    for ex in store.experts():
        try:
            shas[ex] = store.weights_of(ex).sha256
        except CollectionError:
            continue
    return SpaceContext(root=store.root, encoder=encoder, weights_sha=shas, model=model,
                        params=dict(params or {}))


def open_searcher(root: str | Path, spaces: Iterable[str] | None = None) -> Searcher:
    root = Path(root)
    if not (root / "catalog.sqlite").exists():
        raise CollectionError(f"collection {root} does not exist or has no catalog; run `vidseek extract` first")
    return Searcher(FeatureStore(root, create=False), spaces)

