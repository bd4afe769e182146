"""`vidseek search QUERY`: moments (or videos) of a collection, as a table, JSON or an HTML page."""

from __future__ import annotations

import json
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

from vidseek.errors import CollectionError, ConfigError, Outcome, QueryError
from vidseek.registry import UnknownNameError
from vidseek.search.engine import (
    RERANKERS,
    Reranker,
    SearchOptions,
    open_searcher,
)
from vidseek.search.explain import why_line
from vidseek.search.query import QueryWarning, check_query
from vidseek.store import FeatureStore
from vidseek.types import Hit


@dataclass
class SearchConfig:
    query: str
    collection: str
    top: int = 10
    json: bool = False
    html: str | None = None
    videos: bool = False
    all_moments: bool = False  # every moment its own hit (default: nested ones fold into one)
    weights: dict[str, float] | None = None
    rerank: str | None = None  # a trained localizer's run dir
    rerank_min_confidence: float = 0.05  # rerank.MIN_CONFIDENCE


def load_reranker(run_dir: str, store: FeatureStore, min_confidence: float | None = None) -> Reranker:
    """The reranker derived from the card of the run dir's model (gated at min_confidence)."""
    from vidseek import plugins
    from vidseek.search.trained_space import open_run

    model = open_run(run_dir).model
    plugins.load_models()
    try:
        builder = RERANKERS.get(model)
    except UnknownNameError as err:
        raise CollectionError(f"{run_dir} holds a {model} run, which cannot re-rank moments ({err})") from None
    return builder(run_dir, store) if min_confidence is None else \
        builder(run_dir, store, min_confidence=float(min_confidence))


def format_table(hits: list[Hit]) -> str:
    lines = [f"{'#':>3}  {'score':>7}  {'start':>7}  {'end':>7}  video / why"]
    for i, h in enumerate(hits, 1):
        m = h.why.moment
        also = "  also " + ", ".join(f"{s:.1f}-{e:.1f}" for s, e in m.also) if m and m.also else ""
        lines.append(f"{i:>3}  {h.score:7.3f}  {h.start:7.2f}  {h.end:7.2f}  {h.video}{also}")
        lines.append(f"{'':>30}{why_line(h.why)}")
    return "\n".join(lines)


def check(cfg: SearchConfig) -> None:
    """Values no type checks: raise ConfigError naming the option."""
    if not cfg.query.strip():
        raise QueryError("the query is empty")
    if cfg.top < 1:
        raise ConfigError(f"--top must be at least 1, got {cfg.top}")
    if not 0.0 <= cfg.rerank_min_confidence <= 1.0:
        raise ConfigError(f"--rerank-min-confidence must be in [0, 1], got {cfg.rerank_min_confidence}")


def search(cfg: SearchConfig) -> Outcome:
    check(cfg)
    searcher = open_searcher(cfg.collection)
    with warnings.catch_warnings():  # the search below warns once, as one line
        warnings.simplefilter("ignore", QueryWarning)
        check_query(cfg.query, searcher.encoder.name)  # before the reranker loads: fail fast
    rerank = load_reranker(cfg.rerank, searcher.store, cfg.rerank_min_confidence) if cfg.rerank else None
    unknown = sorted(set(cfg.weights or {}) - set(searcher.spaces))
    if unknown:
        raise ConfigError(f"--weights names {', '.join(unknown)}, not an indexed space of "
                          f"{cfg.collection}; known: {', '.join(sorted(searcher.spaces))}")
    opts = SearchOptions(top=cfg.top, videos=cfg.videos, weights=cfg.weights, rerank=rerank,
                         all_moments=cfg.all_moments)
    with warnings.catch_warnings(record=True) as caught:  # a query warning: one line on stderr
        warnings.simplefilter("always", QueryWarning)
        hits = searcher.search(cfg.query, opts)
    for w in caught:
        if issubclass(w.category, QueryWarning):
            print(f"warning: {w.message}", file=sys.stderr)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if cfg.json:
        print(json.dumps([h.as_json() for h in hits]))
    else:
        print(format_table(hits) if hits else "no hits")
    if cfg.html:
        from vidseek.report.html import search_page

        Path(cfg.html).write_text(search_page(cfg.query, hits, searcher.store, cfg.html), encoding="utf-8")
        if not cfg.json:
            print(f"wrote {cfg.html}")
    return Outcome.OK
