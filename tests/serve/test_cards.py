"""Card rendering shared by the app and the static page: nesting, ticks, times, links."""

from __future__ import annotations

from pathlib import Path

from vidseek.report.cards import collapse_nested, fmt_time, tick_step, ticks, timeline_svg
from vidseek.report.search_page import media_href, static_search_page
from vidseek.types import Hit


def hit(video: str, s: float, e: float, score: float, path: str = "") -> Hit:
    return Hit(video, path, s, e, score, {"experts": {"toy": 1.5}})


def test_nested_moments_of_one_video_collapse() -> None:
    hits = [hit("a", 4, 8, 0.9), hit("a", 5, 7, 0.8), hit("b", 5, 7, 0.7), hit("a", 2, 10, 0.6),
            hit("a", 9, 12, 0.5), hit("a", 4, 8, 0.4)]
    cards = collapse_nested(hits)
    assert [(c.hit.video, c.hit.start, c.rank) for c in cards] == [("a", 4, 1), ("b", 5, 3), ("a", 9, 5)]
    assert [(n.start, n.end) for n in cards[0].nested] == [(5, 7), (2, 10), (4, 8)]


def test_ticks_are_nice_and_labelled() -> None:
    assert tick_step(12) == 2 and ticks(12) == [0, 2, 4, 6, 8, 10, 12]
    assert tick_step(3.0) == 0.5 and tick_step(600) == 120 and tick_step(7200) == 900
    assert fmt_time(65.25) == "1:05.2" and fmt_time(4) == "0:04.0" and fmt_time(3725) == "1:02:05"
    svg = timeline_svg(12.0, (4, 8), [(5, 7)])
    assert svg.count('class="tick"') == 7 and ">0:12.0<" in svg and 'class="nested"' in svg


def test_media_links_relative_near_the_page_else_file_url(tmp_path: Path) -> None:
    video = tmp_path / "clips" / "my dog.mkv"
    assert media_href(str(video), tmp_path / "out" / "page.html") == "../clips/my%20dog.mkv"
    far = tmp_path / "a" / "b" / "c" / "d" / "page.html"
    assert media_href(str(video), far) == video.as_uri()
    assert media_href(str(video), None) == video.as_uri()


def test_static_page_has_the_cards(served: Path, tmp_path: Path) -> None:
    from vidseek.api import open_collection

    col = open_collection(served, read_only=True)
    hits = col.search("a dog on a skateboard", top=5)
    page = static_search_page("a dog", hits, col.store, served.parent / "search.html")
    assert '<video controls preload="metadata" data-start="4.000" data-end="8.000" ' \
           'src="videos/dog.mkv#t=4.00,8.00">' in page
    assert 'href="videos/dog.mkv#t=4.00,8.00"' in page and "data:image/jpeg;base64," in page
    assert "<figcaption>0:04.0</figcaption>" in page and page.count("<figcaption>") >= 5 and 'class="tick"' in page
    far = static_search_page("a dog", hits, col.store, tmp_path / "a" / "b" / "c" / "d" / "p.html")
    assert f'href="{(served.parent / "videos" / "dog.mkv").as_uri()}#t=4.00,8.00"' in far
    col.close()
