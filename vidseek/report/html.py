"""Self-contained HTML pages of search hits and evaluation runs (no external assets).

Per hit: a strip of thumbnails across the moment (decoded with vidseek's decoder, PyAV directly
as a fallback, downscaled, inline base64 JPEG), the moment on the video's timeline (inline SVG),
and the hit's typed Why (per space: z, cosine, weight x gate, matched concepts / transcript / OCR
line), the same object the terminal table and `search --json` render. A video that cannot be
decoded gets an empty strip and a note, never a failed page.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vidseek.report.cards import why_html
from vidseek.store import FeatureStore
from vidseek.types import EvalReport, Hit

THUMBS = 5
THUMB_SIDE = 160

CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;max-width:1100px}
.hit{border:1px solid #ddd;border-radius:6px;padding:.6em .8em;margin:.8em 0}
.strip img{height:90px;margin-right:3px;border-radius:3px}
.meta{color:#555;font-size:.9em}.why{font-size:.9em;margin-top:.3em}
table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #eee;text-align:left}
.bar{display:inline-block;height:.7em;background:#4a7bd0;vertical-align:middle}
.neg{background:#d08a4a}.note{color:#a33}
"""


def _frames(path: str, times: np.ndarray) -> list[np.ndarray]:
    """RGB frames near `times`: vidseek's decoder, else PyAV seeking directly."""
    try:
        from vidseek.extract.decode import open_decoder

        dec = open_decoder(path)
        try:
            return [f for b in dec.frames_at(times, max_side=THUMB_SIDE) for f in b.frames]
        finally:
            dec.close()
    except Exception:  # noqa: BLE001 - fall back to PyAV below
        pass
    import av

    out = []
    with av.open(path) as c:
        stream = c.streams.video[0]
        for t in times:
            c.seek(int(t / stream.time_base), stream=stream, any_frame=False, backward=True)
            for frame in c.decode(stream):
                if frame.time is None or frame.time >= t - 1e-3:
                    out.append(frame.to_ndarray(format="rgb24"))
                    break
    return out


def _jpeg(frame: np.ndarray) -> str:
    from PIL import Image

    img = Image.fromarray(frame)
    img.thumbnail((THUMB_SIDE * 2, THUMB_SIDE))
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=80)
    return base64.b64encode(buf.getvalue()).decode()


def thumbnail_strip(path: str, start: float, end: float, n: int = THUMBS) -> str:
    if not path or not Path(path).exists():
        return '<div class="note">video file not found; no thumbnails</div>'
    times = np.linspace(start, max(start, end - 1e-3), n) if end > start else np.array([start])
    try:
        frames = _frames(path, times)
    except Exception as err:  # noqa: BLE001 - the page is still useful without frames
        return f'<div class="note">cannot decode {html.escape(path)}: {html.escape(str(err)[:120])}</div>'
    imgs = "".join(f'<img alt="t={t:.1f}s" src="data:image/jpeg;base64,{_jpeg(f)}">'
                   for t, f in zip(times, frames, strict=False))
    return f'<div class="strip">{imgs}</div>'


def timeline_svg(duration: float, spans: Sequence[tuple[float, float]],
                 truth: Sequence[tuple[float, float]] = (), width: int = 600) -> str:
    """The video as a bar, the hit (blue) and ground-truth spans (green) drawn on it."""
    d = max(duration, max((e for _, e in [*spans, *truth]), default=0.0), 1e-6)

    def rect(s: float, e: float, y: int, h: int, color: str) -> str:
        x = width * s / d
        w = max(2.0, width * (e - s) / d)
        return f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{h}" fill="{color}" opacity=".85"/>'

    parts = [f'<rect x="0" y="6" width="{width}" height="10" fill="#e4e4e4"/>']
    parts += [rect(s, e, 2, 18, "#2f6fd6") for s, e in spans]
    parts += [rect(s, e, 20, 6, "#2a9d4b") for s, e in truth]
    parts.append(f'<text x="0" y="38" font-size="10">0 s</text><text x="{width - 40}" y="38" '
                 f'font-size="10">{duration:.1f} s</text>')
    return f'<svg width="{width}" height="40" xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</svg>'


def hit_html(i: int, hit: Hit, duration: float, truth: Sequence[tuple[float, float]] = (),
             thumbs: bool = True) -> str:
    strip = thumbnail_strip(hit.path, hit.start, hit.end) if thumbs else ""
    return (f'<div class="hit"><div><b>{i}. {html.escape(hit.video)}</b> '
            f'<span class="meta">{hit.start:.2f}&ndash;{hit.end:.2f} s, score {hit.score:.3f}, '
            f'{html.escape(hit.path)}</span></div>{strip}'
            f"{timeline_svg(duration, [(hit.start, hit.end)], truth)}{why_html(hit.why)}</div>")


def _page(title: str, body: str) -> str:
    return (f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{CSS}</style></head><body>{body}</body></html>\n")


def _duration(store: FeatureStore | None, video: str, fallback: float) -> float:
    info = store.catalog.video(video) if store is not None else None
    return info.duration if info is not None and info.duration > 0 else fallback


def search_page(query: str, hits: Sequence[Hit], store: FeatureStore | None = None,
                page: str | None = None) -> str:
    """The app's cards (report/cards.py), media linked relative to `page` when near it."""
    from vidseek.report.search_page import static_search_page

    return static_search_page(query, hits, store, page)


def eval_page(report: EvalReport, searcher: Any = None, thumbs: bool = True) -> str:
    """Metrics, then per query its annotated video's top moment against the ground truth."""
    store = getattr(searcher, "store", None)
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{v:.2f}</td></tr>" for k, v in report.metrics.items())
    from vidseek.report.cards import LEGEND

    body = [f"<h1>vidseek eval: {report.n_queries} queries</h1><table>{rows}</table>{LEGEND}"]
    for i, q in enumerate(report.queries, 1):
        path = ""
        if store is not None:
            info = store.catalog.video(q.video)
            path = info.path if info else ""
        m = q.moments[0] if q.moments else (0.0, 0.0, 0.0)
        hit = Hit(q.video, path, m[0], m[1], m[2], q.why())
        rank = "-" if q.video_rank is None else f"{q.video_rank:.0f}"
        head = (f"<h3>{i}. &ldquo;{html.escape(q.query)}&rdquo;</h3><p class=\"meta\">video rank "
                f"{rank}, top-1 IoU {q.iou_top1:.2f}; experts' own video rank: "
                f"{html.escape(json.dumps(dict(q.expert_video_rank)))}</p>")
        body.append(head + hit_html(i, hit, _duration(store, q.video, max(w[1] for w in q.windows)),
                                    q.windows, thumbs))
    return _page("vidseek eval", "".join(body))
