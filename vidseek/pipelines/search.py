"""`vidseek search QUERY`: moments (or videos) of a collection, as a table, JSON or an HTML page."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vidseek.api import Collection, dumps
from vidseek.errors import ConfigError, Outcome
from vidseek.search.explain import why_line
from vidseek.types import Hit


@dataclass
class SearchConfig:
    query: str
    collection: str
    top: int = 10
    json: bool = False
    html: str | None = None
    videos: bool = False
    weights: dict[str, float] | None = None
    rerank: str | None = None  # a trained localizer's run dir


def format_table(hits: list[Hit]) -> str:
    lines = [f"{'#':>3}  {'score':>7}  {'start':>7}  {'end':>7}  video / why"]
    for i, h in enumerate(hits, 1):
        lines.append(f"{i:>3}  {h.score:7.3f}  {h.start:7.2f}  {h.end:7.2f}  {h.video}")
        lines.append(f"{'':>30}{why_line(h.why)}")
    return "\n".join(lines)


def check(cfg: SearchConfig) -> None:
    """Values no type checks: raise ConfigError naming the option."""
    if not cfg.query.strip():
        raise ConfigError("the query is empty")
    if cfg.top < 1:
        raise ConfigError(f"--top must be at least 1, got {cfg.top}")


def search(cfg: SearchConfig) -> Outcome:
    """A thin call of `Collection.search`; this verb only prints (table, JSON) and writes --html."""
    check(cfg)
    col = Collection(cfg.collection)
    try:
        hits = col.search(cfg.query, cfg.top, videos=cfg.videos, weights=cfg.weights,
                          rerank=cfg.rerank)
    except ConfigError as err:  # the API names its parameters; the command line has flags
        message = str(err)
        for name in ("weights", "top"):
            if message.startswith(f"{name} "):
                raise ConfigError(f"--{message}") from None
        raise
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
