"""`vidseek search QUERY`: moments (or videos) of a collection, as a table, JSON or an HTML page."""

from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

from vidseek.api import Collection, dumps
from vidseek.errors import ConfigError, Outcome, QueryError
from vidseek.search.explain import why_line
from vidseek.search.query import QueryWarning
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
    """A thin call of `Collection.search`; this verb only prints (table, JSON) and writes --html."""
    check(cfg)
    col = Collection(cfg.collection)
    try:
        with warnings.catch_warnings(record=True) as caught:  # a query warning: one line
            warnings.simplefilter("always", QueryWarning)
            hits = col.search(cfg.query, cfg.top, videos=cfg.videos, weights=cfg.weights,
                              all_moments=cfg.all_moments, rerank=cfg.rerank,
                              rerank_min_confidence=cfg.rerank_min_confidence)
    except ConfigError as err:  # the API names its parameters; the command line has flags
        message = str(err)
        for name in ("weights", "top"):
            if message.startswith(f"{name} "):
                raise ConfigError(f"--{message}") from None
        raise
    for w in caught:
        if issubclass(w.category, QueryWarning):
            print(f"warning: {w.message}", file=sys.stderr)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if cfg.json:
        print(dumps(hits))
    else:
        print(format_table(hits) if hits else "no hits")
    if cfg.html:
        from vidseek.report.html import search_page

        Path(cfg.html).write_text(search_page(cfg.query, hits, col.searcher.store, cfg.html),
                                  encoding="utf-8")
        if not cfg.json:
            print(f"wrote {cfg.html}")
    return Outcome.OK
