"""The static `search --html` page: the app's cards, with everything inline or on disk.

Thumbnails are inline JPEGs with their times; the player and the "open at" link use a path
relative to the page when the page sits near the videos (at most NEAR_UP folders up), so the
page and the videos can be moved together, and an absolute file:// URL otherwise.
"""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

from vidseek.report.cards import CSS, STOP_AT_END_JS, render_cards
from vidseek.report.thumbs import ThumbCache, data_uri
from vidseek.store import FeatureStore
from vidseek.types import Hit

NEAR_UP = 2
THUMBS = 5

PAGE_CSS = "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;max-width:1100px}"


def media_href(video_path: str, page: str | Path | None) -> str:
    """Relative (URL-quoted) when the page is near the video, else a file:// URL."""
    video = Path(video_path).absolute()
    if page is not None:
        base = Path(page).absolute().parent
        try:
            rel = os.path.relpath(video, base)
        except ValueError:  # another drive (Windows)
            rel = None
        if rel is not None and Path(rel).parts[:NEAR_UP + 1].count("..") <= NEAR_UP:
            return quote(Path(rel).as_posix())
    return video.as_uri()


def static_search_page(query: str, hits: Sequence[Hit], store: FeatureStore | None = None,
                       page: str | Path | None = None, thumbs: bool = True) -> str:
    cache = ThumbCache()

    def duration_of(h: Hit) -> float:
        info = store.catalog.video(h.video) if store is not None else None
        return info.duration if info is not None and info.duration > 0 else h.end

    def thumbs_of(h: Hit, times: list[float]) -> list[tuple[float, str]]:
        if not thumbs or not h.path or not Path(h.path).exists():
            return []
        out = []
        for t in times:
            try:
                out.append((t, data_uri(cache.get(h.path, t))))
            except Exception:  # noqa: BLE001 - a card without a frame is still a card
                continue
        return out

    def here(h: Hit) -> str | None:
        return media_href(h.path, page) if h.path and Path(h.path).exists() else None

    cards = render_cards(hits, duration_of, thumbs_of, here, here, THUMBS)
    missing = sum(1 for h in hits if not h.path or not Path(h.path).exists())
    note = f'<p class="note">{missing} hit(s): video file not found; no thumbnails or player</p>' \
        if missing else ""
    body = (f"<h1>vidseek: &ldquo;{html.escape(query)}&rdquo;</h1><p class=\"meta\">{len(hits)} hits</p>"
            f"{note}<div id=\"results\">{cards}</div>")
    return (f'<!doctype html><html><head><meta charset="utf-8"><title>vidseek: {html.escape(query)}'
            f"</title><style>{PAGE_CSS}{CSS}</style></head><body>{body}"
            f"<script>{STOP_AT_END_JS}vidseekBind(document);</script></body></html>\n")
