"""The HTML report: self-contained, thumbnails decoded from a synthetic video, timeline geometry."""

from __future__ import annotations

import base64
import io
import re
from dataclasses import replace
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from vidseek.pipelines.search import format_table
from vidseek.report.html import eval_page, search_page, thumbnail_strip, timeline_svg
from vidseek.types import EvalReport, Explanation, Hit, QueryReport, RerankNote, Why


@pytest.fixture(scope="module")
def red_then_blue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 s at 10 fps, 64x48: red for the first 2 s, blue after."""
    path = tmp_path_factory.mktemp("v") / "rb.mp4"
    with av.open(str(path), "w") as c:
        s = c.add_stream("mpeg4", rate=10)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        s.codec_context.bit_rate = 2_000_000
        for i in range(40):
            img = np.zeros((48, 64, 3), np.uint8)
            img[..., 0 if i < 20 else 2] = 255
            for pkt in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    return path


def _images(html_text: str) -> list[np.ndarray]:
    out = []
    for b64 in re.findall(r"data:image/jpeg;base64,([A-Za-z0-9+/=]+)", html_text):
        out.append(np.asarray(Image.open(io.BytesIO(base64.b64decode(b64))).convert("RGB")))
    return out


def test_thumbnails_show_the_moment(red_then_blue: Path) -> None:
    red = _images(thumbnail_strip(str(red_then_blue), 0.2, 1.8, n=3))
    blue = _images(thumbnail_strip(str(red_then_blue), 2.3, 3.8, n=3))
    assert len(red) == 3 and len(blue) == 3
    for im in red:
        assert im[..., 0].mean() > 200 and im[..., 2].mean() < 60
    for im in blue:
        assert im[..., 2].mean() > 200 and im[..., 0].mean() < 60


def test_timeline_geometry() -> None:
    svg = timeline_svg(10.0, [(2.0, 5.0)], [(4.0, 6.0)], width=100)
    assert '<rect x="20.0" y="2" width="30.0"' in svg  # the hit at 20 %, 30 % wide
    assert '<rect x="40.0" y="20" width="20.0"' in svg  # the ground truth


PANCAKE = Hit("rb", "", 2.0, 4.0, 1.5, Why((
    Explanation("i3d", cosine=0.4123, z=2.1, weight=1.0, gate=0.8,
                concepts=(("flipping pancake", 0.8),), matched=("flipping pancake",)),
    Explanation("asr", cosine=0.5, z=-0.3, weight=1.0, gate=0.5, text="now <we> flip", at=(2.0, 3.5)),
    Explanation("fvmr", cosine=0.2718, z=1.25, weight=2.0),
), RerankNote("tan2d", before=0.75)))


def test_search_page_self_contained(red_then_blue: Path, tmp_path: Path) -> None:
    hits = [replace(PANCAKE, path=str(red_then_blue)), Hit("gone", "/nonexistent/x.mp4", 0.0, 1.0, 0.2)]
    page = search_page("someone flips a pancake", hits)
    assert page.startswith("<!doctype html>") and "<svg" in page
    assert "now &lt;we&gt; flip" in page  # escaped
    assert "flipping pancake" in page and "video file not found" in page
    assert not re.search(r'src="(?!data:|file://)', page)  # nothing fetched from outside
    assert len(_images(page)) == 5
    q = QueryReport("0", "q", "rb", ((2.0, 4.0),), 1.0, ("rb",), ((2.0, 4.0, 1.0),), 1.0,
                    {"i3d": 1.0}, {"i3d": 2.0})
    out = eval_page(EvalReport(1, {"video R@1": 100.0}, (q,)), thumbs=False)
    assert "video R@1" in out and "<svg" in out and "+2.00" in out  # the span's z from QueryReport.why


def test_terminal_html_and_json_render_one_why() -> None:
    """Every space's cosine, z and evidence, and the rerank note, appear in the terminal table,
    the HTML page and the JSON, all rendered from the one typed Hit."""
    text = format_table([PANCAKE])
    page = search_page("q", [PANCAKE])
    js = PANCAKE.as_json()["why"]
    for e in PANCAKE.why.spaces:
        assert e.cosine is not None and e.z is not None
        assert f"{e.space} z={e.z:+.2f} cos={e.cosine:.3f}" in text
        row = re.search(rf"<tr><td>{e.space}</td>(.*?)</tr>", page)
        assert row is not None and f"<td>{e.z:+.2f}</td>" in row.group(1)
        assert f"<td>{e.cosine:.3f}</td>" in row.group(1)
        assert js[e.space]["cosine"] == round(e.cosine, 4) and js[e.space]["z"] == round(e.z, 4)
    assert '"now <we> flip" @2.0-3.5s' in text and "now &lt;we&gt; flip" in page
    assert "[flipping pancake]" in text and "matched: <i>flipping pancake</i>" in page
    assert "rerank tan2d: was +0.750" in text and "score before +0.750" in page
    assert js["rerank"] == {"model": "tan2d", "before": 0.75}
