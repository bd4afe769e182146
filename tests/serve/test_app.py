"""The app end to end with FastAPI's test client on a tiny planted collection (tests/serve/conftest)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from vidseek.report.cards import collapse_nested
from vidseek.serve.app import create_app
from vidseek.serve.media import RangeNotSatisfiable, parse_range
from vidseek.types import Hit


def wait_ready(client: TestClient) -> dict:
    for _ in range(600):
        s = client.get("/api/status").json()
        if s["state"] != "loading":
            return s
        time.sleep(0.05)
    raise AssertionError("app never left the loading state")


@pytest.fixture(scope="module")
def client(served: Path):  # type: ignore[no-untyped-def]
    with TestClient(create_app(served)) as c:
        assert wait_ready(c)["state"] == "ready"
        yield c


def snapshot(root: Path) -> dict[str, tuple[int, float]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime)
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_search_is_the_cli_json(client: TestClient, served: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from vidseek.pipelines.search import SearchConfig, search

    r = client.get("/api/search", params={"q": "a dog on a skateboard", "top": 5})
    assert r.status_code == 200
    hits = r.json()
    assert hits[0]["video"] == "dog" and (hits[0]["start"], hits[0]["end"]) == (4.0, 8.0)
    assert set(hits[0]) >= {"video", "path", "start", "end", "score", "why"}
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert search(SearchConfig("a dog on a skateboard", str(served), top=5, json=True)) == 0
    assert json.loads(capsys.readouterr().out) == hits  # the same list as `search --json`
    speech = client.get("/api/search", params={"q": "download the dataset", "top": 3}).json()
    assert speech[0]["video"] == "talk" and speech[0]["why"]["asr"]["text"] == "now we download the dataset"
    one = client.get("/api/search", params={"q": "a dog on a skateboard", "videos": 1}).json()
    assert len({h["video"] for h in one}) == len(one) == 3
    every = client.get("/api/search", params={"q": "a dog on a skateboard", "top": 50, "all": 1}).json()
    assert search(SearchConfig("a dog on a skateboard", str(served), top=50, json=True, all_moments=True)) == 0
    assert json.loads(capsys.readouterr().out) == every  # &all=1 is --all-moments
    assert all("also" not in h["why"]["moment"] for h in every)


def test_errors_are_json_with_status(client: TestClient) -> None:
    r = client.get("/api/search", params={"q": "  "})
    assert r.status_code == 400 and "empty" in r.json()["error"]
    assert client.get("/api/search").status_code == 400
    r = client.get("/api/search", params={"q": "?!..."})
    assert r.status_code == 400 and "no searchable words" in r.json()["error"]
    r = client.get("/media/nope")
    assert r.status_code == 404 and "nope" in r.json()["error"]
    assert client.get("/thumb/nope", params={"t": 1}).status_code == 404
    assert client.get("/no/such/page").status_code == 404


def test_videos_and_status(client: TestClient, served: Path) -> None:
    vids = client.get("/api/videos").json()
    assert [(v["id"], v["duration"], v["status"]) for v in vids] == [
        ("cats", 10.0, "done"), ("dog", 12.0, "done"), ("talk", 20.0, "done")]
    s = client.get("/api/status").json()
    assert s["state"] == "ready" and s["videos"] == 3 and s["spaces"] == ["asr", "toy_cls"]
    assert s["collection"] == str(served)


def test_media_ranges(client: TestClient, served: Path) -> None:
    path = Path(served.parent / "videos" / "dog.mkv")
    data = path.read_bytes()
    size = len(data)
    full = client.get("/media/dog")
    assert full.status_code == 200 and full.content == data
    assert full.headers["accept-ranges"] == "bytes" and full.headers["content-type"] == "video/x-matroska"
    first = client.get("/media/dog", headers={"Range": "bytes=0-99"})
    assert first.status_code == 206 and first.content == data[:100]
    assert first.headers["content-range"] == f"bytes 0-99/{size}"
    mid = client.get("/media/dog", headers={"Range": f"bytes={size // 2}-{size // 2 + 999}"})
    assert mid.status_code == 206 and mid.content == data[size // 2: size // 2 + 1000]
    tail = client.get("/media/dog", headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == data[-10:]
    open_end = client.get("/media/dog", headers={"Range": f"bytes={size - 5}-"})
    assert open_end.content == data[-5:] and open_end.headers["content-length"] == "5"
    past = client.get("/media/dog", headers={"Range": f"bytes={size}-{size + 10}"})
    assert past.status_code == 416 and past.headers["content-range"] == f"bytes */{size}"
    head = client.head("/media/dog", headers={"Range": "bytes=0-9"})
    assert head.status_code == 206 and head.headers["content-length"] == "10"


def test_parse_range_rules() -> None:
    assert parse_range(None, 100) is None and parse_range("items=0-1", 100) is None
    assert parse_range("bytes=0-0", 100) == (0, 0)
    assert parse_range("bytes=90-200", 100) == (90, 99)
    assert parse_range("bytes=-500", 100) == (0, 99)
    assert parse_range("bytes=5-1", 100) is None
    assert parse_range("bytes=0-9, 20-29", 100) == (0, 9)
    for bad in ("bytes=100-", "bytes=-0"):
        with pytest.raises(RangeNotSatisfiable):
            parse_range(bad, 100)


@pytest.mark.parametrize("route", ["/media/{}", "/thumb/{}?t=1"])
@pytest.mark.parametrize("name", [
    "../catalog.sqlite", "..%2Fcatalog.sqlite", "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", "/etc/passwd",
    "%2Fetc%2Fpasswd", "%2E%2E", "dog%2F..%2F..%2Fcatalog.sqlite", "videos%2Fdog.mkv",
    "{abs}",
])
def test_paths_never_reach_the_filesystem(client: TestClient, served: Path, route: str, name: str) -> None:
    name = name.replace("{abs}", str(served / "catalog.sqlite").replace("/", "%2F"))
    r = client.get(route.format(name))
    assert r.status_code == 404, (route, name, r.status_code)
    assert b"SQLite" not in r.content and b"root:" not in r.content


def test_thumbnail_is_the_frame_at_t(client: TestClient) -> None:
    import io

    import numpy as np
    from media import frame_number
    from PIL import Image

    r = client.get("/thumb/dog", params={"t": 5.0})
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    frame = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGB"))
    assert abs(frame_number(frame) - 5 * 4) <= 1  # 4 fps: frame 20 is shown at 5 s (JPEG is lossy)


def test_cards_page_and_static(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and '<input id="q"' in page.text and "/static/page.js" in page.text
    js = client.get("/static/page.js")
    assert js.status_code == 200 and "vidseekBind" in js.text and "pushState" in js.text
    assert client.get("/static/page.css").status_code == 200
    assert client.get("/static/..%2Fapp.py").status_code == 404
    cards = client.get("/api/cards", params={"q": "a dog on a skateboard", "top": 10}).text
    assert 'src="/media/dog#t=4.00,8.00"' in cards
    assert 'src="/thumb/dog?t=4.00"' in cards and "0:04.0" in cards  # thumbnail with its time
    hits = client.get("/api/search", params={"q": "a dog on a skateboard", "top": 10}).json()
    assert cards.count('class="card"') == len(collapse_nested([Hit(**h) for h in hits]))


def test_loading_is_503_then_ready(served: Path) -> None:
    app = create_app(served, load=False)
    with TestClient(app) as c:
        r = c.get("/api/search", params={"q": "a dog"})
        assert r.status_code == 503 and r.json()["state"] == "loading" and r.headers["retry-after"] == "1"
        assert c.get("/api/videos").status_code == 503
        app.state.vidseek.load()
        assert c.get("/api/search", params={"q": "a dog"}).status_code == 200


def test_unindexed_collection_reports_why(tmp_path: Path) -> None:
    from vidseek.store import FeatureStore

    with FeatureStore(tmp_path / "empty"):
        pass
    with TestClient(create_app(tmp_path / "empty")) as c:
        s = wait_ready(c)
        assert s["state"] == "failed" and "vidseek index" in s["error"]
        r = c.get("/api/search", params={"q": "a dog"})
        assert r.status_code == 503 and "vidseek index" in r.json()["error"]


def test_serving_writes_nothing(served: Path) -> None:
    before = snapshot(served)
    with TestClient(create_app(served)) as c:
        wait_ready(c)
        assert c.get("/api/search", params={"q": "a cat"}).status_code == 200
        c.get("/api/cards", params={"q": "a cat"})
    assert snapshot(served) == before


def test_read_only_folder_serves(served: Path, tmp_path: Path) -> None:
    """A copy with every file and folder read-only; the catalog opens with mode=ro/immutable, so
    a write would fail even for root (who ignores the permission bits)."""
    import shutil

    ro = tmp_path / "ro"
    shutil.copytree(served, ro)
    for p in [*ro.rglob("*"), ro]:
        os.chmod(p, 0o555 if p.is_dir() else 0o444)
    try:
        with TestClient(create_app(ro)) as c:
            assert wait_ready(c)["state"] == "ready"
            hits = c.get("/api/search", params={"q": "a dog on a skateboard"}).json()
            assert hits[0]["video"] == "dog"
    finally:
        for p in [ro, *ro.rglob("*")]:
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
