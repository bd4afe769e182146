"""Result cards, one renderer for the static `search --html` page and the `vidseek serve` app.

A card: the video and the moment's start / end, thumbnails with their times under them, the
moment on a timeline with tick labels, a `<video>` that plays just the moment (media fragment
`#t=start,end`, and a script that pauses at `end`), and the per-expert evidence. Moments of one
video nested inside a better one are folded into its card ("also: ...") instead of repeating
it. The caller decides where thumbnails and media come from (inline JPEGs and relative /
file:// paths on the static page; /thumb and /media URLs in the app).
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vidseek.types import Explanation, Hit, Why

NICE_STEPS = (0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
MAX_TICKS = 8
EPS = 1e-6

CSS = """
.card{border:1px solid #ddd;border-radius:6px;padding:.6em .8em;margin:.8em 0;background:#fff}
.card h3{margin:.1em 0 .3em;font-size:1.05em}.meta{color:#555;font-size:.9em}
.times{font-weight:600;color:#1f4f9c}
.strip{display:flex;gap:4px;flex-wrap:wrap;margin:.3em 0}
.strip figure{margin:0;text-align:center}.strip img{height:90px;border-radius:3px;display:block}
.strip figcaption{font-size:.75em;color:#555}
.player video{max-width:480px;max-height:270px;display:block;margin:.3em 0}
.why{font-size:.9em;margin-top:.3em}.why table{border-collapse:collapse}
.why td,.why th{padding:1px 8px;border-bottom:1px solid #eee;text-align:left}
.bar{display:inline-block;height:.7em;background:#4a7bd0;vertical-align:middle}
.neg{background:#d08a4a}.note{color:#a33}.also{font-size:.85em;color:#555}
.legend span{display:inline-block;width:1.2em;height:.7em;margin:0 .3em 0 .8em;vertical-align:middle}
"""

STOP_AT_END_JS = """
function vidseekBind(root){
  (root||document).querySelectorAll('video[data-start]').forEach(function(v){
    if(v.dataset.bound)return; v.dataset.bound='1';
    var s=parseFloat(v.dataset.start), e=parseFloat(v.dataset.end);
    v.addEventListener('play',function(){ if(v.currentTime<s-0.05||v.currentTime>=e-0.05) v.currentTime=s; });
    v.addEventListener('timeupdate',function(){ if(v.currentTime>=e){ v.pause(); v.currentTime=e; } });
  });
}
"""


@dataclass
class Card:
    """One hit and the lesser moments of the same video nested inside it (or around it)."""

    hit: Hit
    rank: int
    nested: list[Hit] = field(default_factory=list)


def _nested(a: Hit, b: Hit) -> bool:
    return a.video == b.video and (
        (a.start <= b.start + EPS and b.end <= a.end + EPS)
        or (b.start <= a.start + EPS and a.end <= b.end + EPS))


def collapse_nested(hits: Sequence[Hit]) -> list[Card]:
    """Cards best first; a hit whose moment contains or lies inside a better hit's moment of the
    same video joins that card instead of getting its own."""
    cards: list[Card] = []
    for i, h in enumerate(hits, 1):
        home = next((c for c in cards if _nested(c.hit, h)), None)
        if home is None:
            cards.append(Card(h, i))
        else:
            home.nested.append(h)
    return cards


def fmt_time(seconds: float) -> str:
    """m:ss.s (h:mm:ss past an hour): readable under a thumbnail and on a tick."""
    seconds = max(0.0, float(seconds))
    if seconds >= 3600:
        h, rem = divmod(int(round(seconds)), 3600)
        return f"{h}:{rem // 60:02d}:{rem % 60:02d}"
    m, s = divmod(seconds, 60)
    return f"{int(m)}:{s:04.1f}"


def tick_step(duration: float, max_ticks: int = MAX_TICKS) -> float:
    """The smallest nice step (0.5 s, 1, 2, 5, 10, 15, 30 s, 1 min, ...) giving <= max_ticks."""
    for step in NICE_STEPS:
        if duration / step <= max_ticks:
            return float(step)
    return float(math.ceil(duration / max_ticks / 3600) * 3600)


def ticks(duration: float, max_ticks: int = MAX_TICKS) -> list[float]:
    step = tick_step(max(duration, EPS), max_ticks)
    n = int(math.floor(duration / step + EPS))
    return [round(k * step, 6) for k in range(n + 1)]


def timeline_svg(duration: float, span: tuple[float, float], nested: Sequence[tuple[float, float]] = (),
                 truth: Sequence[tuple[float, float]] = (), width: int = 600) -> str:
    """The video as a bar with tick labels; the moment (blue), nested moments (light blue) and
    ground truth (green) on it."""
    d = max(duration, span[1], *(e for _, e in [*nested, *truth]), EPS)
    pad = 14
    inner = width - 2 * pad

    def x(t: float) -> float:
        return pad + inner * t / d

    def rect(s: float, e: float, y: int, h: int, color: str, cls: str) -> str:
        return (f'<rect class="{cls}" x="{x(s):.1f}" y="{y}" width="{max(2.0, x(e) - x(s)):.1f}" '
                f'height="{h}" fill="{color}" opacity=".85"/>')

    parts = [f'<rect x="{pad}" y="8" width="{inner}" height="10" fill="#e4e4e4"/>']
    parts += [rect(s, e, 10, 6, "#9dbbef", "nested") for s, e in nested]
    parts.append(rect(span[0], span[1], 4, 18, "#2f6fd6", "moment"))
    parts += [rect(s, e, 22, 6, "#2a9d4b", "truth") for s, e in truth]
    for t in ticks(d):
        parts.append(f'<line x1="{x(t):.1f}" y1="28" x2="{x(t):.1f}" y2="32" stroke="#888"/>'
                     f'<text class="tick" x="{x(t):.1f}" y="43" font-size="10" '
                     f'text-anchor="middle">{fmt_time(t)}</text>')
    return (f'<svg class="timeline" width="{width}" height="46" xmlns="http://www.w3.org/2000/svg">'
            f'{"".join(parts)}</svg>')


def _num(x: float | None, fmt: str) -> str:
    return "" if x is None else format(x, fmt)


def _evidence_html(e: Explanation) -> str:
    out = []
    if e.concepts:
        out.append(", ".join(f"{html.escape(c)} ({p:.2f})" for c, p in e.concepts))
    if e.matched:
        out.append(f"matched: <i>{', '.join(html.escape(m) for m in e.matched)}</i>")
    if e.text:
        at = f" [{e.at[0]:.1f}&ndash;{e.at[1]:.1f} s]" if e.at else ""
        out.append(f"&ldquo;{html.escape(e.text)}&rdquo;{at}")
    return " &mdash; ".join(out)


def _typed_why_html(why: Why) -> str:
    """One table row per space (z as a bar, cosine, weight x gate, its evidence), then the
    rerank note: the same fields as the terminal line and the JSON."""
    rows = []
    for e in sorted(why.spaces, key=lambda e: -(e.z if e.z is not None else -np.inf)):
        z = e.z or 0.0
        bar = (f'<span class="{"bar neg" if z < 0 else "bar"}" style="width:{min(120, abs(z) * 30):.0f}px">'
               "</span>") if e.z is not None else ""
        weight = _num(e.weight, ".2f") + ("" if e.gate is None else f" &times; {e.gate:.2f}")
        rows.append(f"<tr><td>{html.escape(e.space)}</td><td>{_num(e.z, '+.2f')}</td><td>{bar}</td>"
                    f"<td>{_num(e.cosine, '.3f')}</td><td>{weight}</td><td>{_evidence_html(e)}</td></tr>")
    table = ("<table><tr><th>space</th><th>z</th><th></th><th>cosine</th><th>weight &times; gate</th>"
             f"<th>evidence</th></tr>{''.join(rows)}</table>") if rows else ""
    note = ""
    if why.rerank is not None:
        r = why.rerank
        was = "its own moment" if r.own else f"score before {r.before:+.3f}"
        note = f"<div>re-ranked by <b>{html.escape(r.model)}</b> ({was})</div>"
    return f'<div class="why">{table}{note}</div>'


def why_html(why: Any) -> str:
    """A hit's evidence: one row per space (z, cosine, weight x gate, evidence) and the rerank
    note, from the typed `Why` — the fields the terminal line and the JSON show."""
    if isinstance(why, Why):
        return _typed_why_html(why)
    return _legacy_why_html(why)


def _legacy_why_html(why: Any) -> str:
    """A plain dict (older callers): per-expert z-scores as bars, then each space's evidence (concepts, matched words, the
    transcript or on-screen line, a trained space's cosine, the reranker)."""
    w = _why_json(why)
    rows = []
    for name, z in sorted((w.get("experts") or {}).items(), key=lambda kv: -(kv[1] or 0)):
        z = float(z or 0.0)
        rows.append(f'<tr><td>{html.escape(name)}</td><td>{z:+.2f}</td><td><span class="bar'
                    f'{" neg" if z < 0 else ""}" style="width:{min(120, abs(z) * 30):.0f}px"></span></td></tr>')
    table = f"<table><tr><th>expert</th><th>z</th><th></th></tr>{''.join(rows)}</table>" if rows else ""
    notes = []
    for name, info in w.items():
        if name == "experts" or not isinstance(info, dict):
            continue
        label = f"<b>{html.escape(name)}</b>"
        if info.get("concepts"):
            cs = ", ".join(f"{html.escape(str(c[0]))} ({float(c[1]):.2f})" for c in info["concepts"])
            matched = ", ".join(html.escape(str(m)) for m in info.get("matched") or [])
            notes.append(f"<div>{label}: {cs}" + (f" &mdash; matched: <i>{matched}</i>" if matched else "")
                         + "</div>")
        elif info.get("matched"):
            notes.append(f"<div>{label}: matched <i>{html.escape(', '.join(map(str, info['matched'])))}</i></div>")
        if info.get("text"):
            at = info.get("at") or []
            when = f" [{fmt_time(at[0])}&ndash;{fmt_time(at[1])}]" if len(at) == 2 else ""
            notes.append(f"<div>{label}{when}: &ldquo;{html.escape(str(info['text']))}&rdquo;</div>")
        if "cosine" in info:
            notes.append(f"<div>{label}: cosine {float(info['cosine']):+.3f}</div>")
        if name == "rerank":
            notes.append(f"<div>{label} {html.escape(str(info.get('model', '')))}: "
                         + ("own moment" if info.get("own") else f"was {float(info.get('before', 0.0)):+.3f}")
                         + "</div>")
    return f'<div class="why">{table}{"".join(notes)}</div>'


def thumb_times(start: float, end: float, n: int = 3) -> list[float]:
    """n times spread over the moment (its first frame, ..., just before its end)."""
    if end <= start or n <= 1:
        return [round(start, 2)]
    last = max(start, end - 0.05)
    return [round(start + (last - start) * k / (n - 1), 2) for k in range(n)]


def card_html(card: Card, duration: float, thumbs: Sequence[tuple[float, str]],
              media: str | None, link: str | None = None,
              truth: Sequence[tuple[float, float]] = (), note: str = "") -> str:
    """One card. thumbs: (time, img src) pairs; media: the <video> src without the fragment
    (None: no player); link: an href for "open at start" (file:// with #t= on the static page)."""
    h = card.hit
    frag = f"#t={h.start:.2f},{h.end:.2f}"
    strip = "".join(f'<figure><img loading="lazy" alt="{html.escape(h.video)} at {fmt_time(t)}" '
                    f'src="{html.escape(src)}"><figcaption>{fmt_time(t)}</figcaption></figure>'
                    for t, src in thumbs)
    player = (f'<div class="player"><video controls preload="metadata" data-start="{h.start:.3f}" '
              f'data-end="{h.end:.3f}" src="{html.escape(media + frag)}"></video></div>') if media else ""
    open_link = f' <a class="open" href="{html.escape(link + frag)}">open at {fmt_time(h.start)}</a>' \
        if link else ""
    also = ""
    if card.nested:
        spans = ", ".join(f"{fmt_time(n.start)}&ndash;{fmt_time(n.end)} ({n.score:.3f})" for n in card.nested)
        also = f'<div class="also">also {len(card.nested)} nested moment(s) of this video: {spans}</div>'
    return (f'<div class="card" data-video="{html.escape(h.video)}"><h3>{card.rank}. '
            f'{html.escape(h.video)} <span class="times">{fmt_time(h.start)} &ndash; {fmt_time(h.end)}'
            f'</span> <span class="meta">({h.start:.2f}&ndash;{h.end:.2f} s, score {h.score:.3f})</span>'
            f'</h3><div class="meta">{html.escape(h.path)}{open_link}</div>{note}'
            f'<div class="strip">{strip}</div>{player}'
            f'{timeline_svg(duration, (h.start, h.end), [(n.start, n.end) for n in card.nested], truth)}'
            f'{also}{why_html(h.why)}</div>')


def render_cards(hits: Sequence[Hit], duration_of: Callable[[Hit], float],
                 thumbs_of: Callable[[Hit, list[float]], list[tuple[float, str]]],
                 media_of: Callable[[Hit], str | None],
                 link_of: Callable[[Hit], str | None] = lambda h: None, n_thumbs: int = 3) -> str:
    """Every card of a result list, nested moments collapsed."""
    return "".join(card_html(c, duration_of(c.hit),
                             thumbs_of(c.hit, thumb_times(c.hit.start, c.hit.end, n_thumbs)),
                             media_of(c.hit), link_of(c.hit)) for c in collapse_nested(hits))


LEGEND = ('<p class="legend">timeline:<span style="background:#2f6fd6"></span>prediction (top moment)'
          '<span style="background:#2a9d4b"></span>ground truth</p>')


def _why_json(why: object) -> dict:
    """The evidence as JSON: a typed `Why` (types.py) or, from older callers, a plain dict."""
    if why is None:
        return {}
    as_json = getattr(why, "as_json", None)
    return dict(as_json()) if as_json is not None else dict(why)  # type: ignore[call-overload]
