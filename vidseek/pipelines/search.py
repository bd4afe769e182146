"""`vidseek search QUERY`: moments (or videos) of a collection, as a table, JSON or an HTML page."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from vidseek.errors import CollectionError
from vidseek.registry import UnknownNameError
from vidseek.search.engine import (
    RERANKERS,
    Reranker,
    SearchOptions,
    open_searcher,
)
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
    weights: dict[str, float] | None = None
    rerank: str | None = None  # a trained localizer's run dir


def load_reranker(run_dir: str, store: FeatureStore) -> Reranker:
    """The reranker registered for the run dir's model (config.yaml `model`)."""
    import importlib

    import yaml

    cfg = Path(run_dir) / "config.yaml"
    if not cfg.exists():
        raise CollectionError(f"{run_dir} is not a vidseek run dir (no config.yaml)")
    model = str(yaml.safe_load(cfg.read_text())["model"])
    import vidseek.search.rerank  # noqa: F401 - registers tan2d, tan2d_proxies, fvmr, cimha

    if model not in RERANKERS:
        try:
            importlib.import_module(f"vidseek.models.localization.{model}")
        except ModuleNotFoundError as err:
            if err.name != f"vidseek.models.localization.{model}":
                raise
    try:
        builder = RERANKERS.get(model)
    except UnknownNameError as err:
        raise CollectionError(f"{run_dir} holds a {model} run, which cannot re-rank moments ({err})") from None
    return builder(run_dir, store)


def format_table(hits: list[Hit]) -> str:
    lines = [f"{'#':>3}  {'score':>7}  {'start':>7}  {'end':>7}  video / why"]
    for i, h in enumerate(hits, 1):
        lines.append(f"{i:>3}  {h.score:7.3f}  {h.start:7.2f}  {h.end:7.2f}  {h.video}")
        lines.append(f"{'':>30}{why_line(h.why)}")
    return "\n".join(lines)


def why_line(why: dict) -> str:
    parts = []
    experts = why.get("experts", {})
    if experts:
        parts.append(" ".join(f"{k}={v:+.2f}" for k, v in sorted(experts.items(), key=lambda kv: -kv[1])))
    for name, info in why.items():
        if name == "experts" or not isinstance(info, dict):
            continue
        if info.get("matched") or info.get("concepts"):
            parts.append(f"{name}: " + ", ".join(info.get("matched") or [c[0] for c in info["concepts"]]))
        if info.get("text"):
            parts.append(f"{name}: \"{info['text'][:80]}\"")
        if "cosine" in info:  # a moment space's row (fvmr)
            parts.append(f"{name}: cos {info['cosine']:+.3f}")
        if name == "rerank":
            parts.append(f"rerank {info.get('model')}: " + ("own moment" if info.get("own") else
                                                           f"was {info.get('before', 0.0):+.3f}"))
    return " | ".join(parts)


def search(cfg: SearchConfig) -> int:
    if not cfg.query.strip():
        print("vidseek search: the query is empty", file=sys.stderr)
        return 1
    try:
        searcher = open_searcher(cfg.collection)
        rerank = load_reranker(cfg.rerank, searcher.store) if cfg.rerank else None
    except CollectionError as err:
        print(f"vidseek search: {err}", file=sys.stderr)
        return 1
    unknown = sorted(set(cfg.weights or {}) - set(searcher.spaces))
    if unknown:
        print(f"vidseek search: --weights names {', '.join(unknown)}, not an indexed space; "
              f"known: {', '.join(sorted(searcher.spaces))}", file=sys.stderr)
        return 1
    opts = SearchOptions(top=cfg.top, videos=cfg.videos, weights=cfg.weights, rerank=rerank)
    hits = searcher.search(cfg.query, opts)
    if cfg.json:
        print(json.dumps([h.as_json() for h in hits]))
    else:
        print(format_table(hits) if hits else "no hits")
    if cfg.html:
        from vidseek.report.html import search_page

        Path(cfg.html).write_text(search_page(cfg.query, hits, searcher.store, cfg.html), encoding="utf-8")
        if not cfg.json:
            print(f"wrote {cfg.html}")
    return 0
