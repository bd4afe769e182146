"""`vidseek serve`: the search engine loaded once, answering over HTTP (FastAPI on uvicorn).

Why one search thread: the catalog is SQLite and its connection belongs to the thread that
opened it, and a search on 2 cores is CPU-bound anyway; so the collection is opened, and every
query is run, on one worker thread, and concurrent requests queue there while the event loop
keeps serving media and thumbnails. Nothing a request sends reaches the filesystem: media and
thumbnails are looked up by video id in the catalog, loaded once at start-up.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from vidseek.api import Collection, hit_json
from vidseek.errors import CollectionError, QueryError, VidseekError
from vidseek.report.cards import CSS as CARD_CSS
from vidseek.report.cards import STOP_AT_END_JS, render_cards
from vidseek.report.thumbs import ThumbCache
from vidseek.serve.media import file_response

MAX_TOP = 100


def _static(name: str) -> str:
    return resources.files("vidseek.serve").joinpath("static", name).read_text(encoding="utf-8")


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(data), status_code=status, media_type="application/json",
                    headers=headers)


def _error(status: int, message: str, **extra: Any) -> Response:
    return _json({"error": message, "status": status, **extra}, status,
                 {"Retry-After": "1"} if status == 503 else None)


@dataclass
class VideoEntry:
    id: str
    path: str
    duration: float
    status: str


@dataclass
class ServeState:
    """The loaded collection, its catalog view, and where loading stands."""

    collection: Collection
    state: str = "loading"  # loading | ready | failed
    error: str | None = None
    videos: dict[str, VideoEntry] = field(default_factory=dict)
    spaces: list[str] = field(default_factory=list)
    loaded_s: float | None = None
    queries: int = 0
    started: float = field(default_factory=time.time)
    thumbs: ThumbCache = field(default_factory=ThumbCache)
    executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="vidseek-search"))
    _load_lock: threading.Lock = field(default_factory=threading.Lock)

    def load(self) -> None:
        """Open the catalog and the search engine (encoder + indexes) and warm the encoder.
        Runs on the search thread; idempotent."""
        with self._load_lock:
            if self.state == "ready":
                return
            t0 = time.monotonic()
            try:
                self.videos = {
                    r["id"]: VideoEntry(r["id"], r["path"], float(r["duration"] or 0.0), r["status"])
                    for r in self.collection.videos()}
                searcher = self.collection.searcher
                self.spaces = sorted(searcher.spaces)
                self.collection.search("warm up", top=1, explain=False)
            except (VidseekError, OSError) as err:
                self.state, self.error = "failed", str(err)
                return
            self.loaded_s = round(time.monotonic() - t0, 3)
            self.state = "ready"

    async def run(self, fn: Callable[[], Any]) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn)

    def not_ready(self) -> Response | None:
        if self.state == "loading":
            return _error(503, "the collection is still loading; retry in a moment", state="loading")
        if self.state == "failed":
            return _error(503, f"the collection could not be loaded: {self.error}", state="failed")
        return None


def create_app(collection: str | Path | Collection, *, load: bool = True) -> FastAPI:
    """The app for one collection, opened read-only. `load=False` leaves it loading until
    `app.state.vidseek.load()` is called (what the 503 test uses)."""
    col = collection if isinstance(collection, Collection) else Collection(collection, read_only=True)
    st = ServeState(col)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if load:
            asyncio.get_running_loop().run_in_executor(st.executor, st.load)
        yield
        st.executor.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title="vidseek", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.vidseek = st

    def entry(video_id: str) -> VideoEntry | None:
        e = st.videos.get(video_id)
        return e if e is not None and e.path and Path(e.path).is_file() else None

    async def hits_for(q: str, top: int, videos: bool, all_moments: bool = False) -> list[Any] | Response:
        if not q.strip():
            return _error(400, "the query is empty (?q=...)")
        if (r := st.not_ready()) is not None:
            return r
        try:
            hits = await st.run(lambda: col.search(q, top=max(1, min(top, MAX_TOP)), videos=videos,
                                                   all_moments=all_moments))
        except QueryError as err:
            return _error(400, str(err))
        except CollectionError as err:
            return _error(404, str(err))
        st.queries += 1
        return hits

    @app.get("/api/search")
    async def api_search(q: str = "", top: int = 10, videos: bool = False,
                         all_moments: bool = Query(False, alias="all")) -> Response:
        hits = await hits_for(q, top, videos, all_moments)
        if isinstance(hits, Response):
            return hits
        return _json([hit_json(h) for h in hits])

    @app.get("/api/cards", response_class=HTMLResponse)
    async def api_cards(q: str = "", top: int = 10, videos: bool = False,
                         all_moments: bool = Query(False, alias="all")) -> Response:
        """The result cards as an HTML fragment (the same renderer as `search --html`)."""
        hits = await hits_for(q, top, videos, all_moments)
        if isinstance(hits, Response):
            return hits

        def duration_of(h: Any) -> float:
            e = st.videos.get(h.video)
            return e.duration if e is not None and e.duration > 0 else float(h.end)

        def thumbs_of(h: Any, times: list[float]) -> list[tuple[float, str]]:
            return [(t, f"/thumb/{quote(h.video, safe='')}?t={t:.2f}") for t in times] \
                if entry(h.video) else []

        def media_of(h: Any) -> str | None:
            return f"/media/{quote(h.video, safe='')}" if entry(h.video) else None

        body = render_cards(hits, duration_of, thumbs_of, media_of)
        return HTMLResponse(body or '<p class="meta">no hits</p>')

    @app.get("/api/videos")
    async def api_videos() -> Response:
        if st.state == "loading":
            return st.not_ready() or _error(503, "loading")
        return _json([{"id": e.id, "path": e.path, "duration": e.duration, "status": e.status}
                      for e in st.videos.values()])

    @app.get("/api/status")
    async def api_status() -> Response:
        counts: dict[str, int] = {}
        for e in st.videos.values():
            counts[e.status] = counts.get(e.status, 0) + 1
        return _json({"state": st.state, "error": st.error, "collection": str(col.root),
                      "videos": len(st.videos), "counts": counts, "spaces": st.spaces,
                      "load_seconds": st.loaded_s, "queries": st.queries,
                      "uptime_s": round(time.time() - st.started, 1)})

    @app.api_route("/media/{video_id}", methods=["GET", "HEAD"])
    async def media(video_id: str, request: Request) -> Response:
        e = entry(video_id)
        if e is None:
            return _error(404, f"no video {video_id!r} in this collection")
        return file_response(Path(e.path), request.headers.get("range"), request.method == "HEAD")

    @app.get("/thumb/{video_id}")
    async def thumb(video_id: str, t: float = Query(0.0, ge=0.0)) -> Response:
        e = entry(video_id)
        if e is None:
            return _error(404, f"no video {video_id!r} in this collection")
        t = min(t, max(0.0, e.duration - 0.05)) if e.duration > 0 else t
        try:
            data = await asyncio.get_running_loop().run_in_executor(None, st.thumbs.get, e.path, t)
        except VidseekError as err:
            return _error(404, str(err))
        return Response(data, media_type="image/jpeg", headers={"Cache-Control": "max-age=3600"})

    @app.get("/", response_class=HTMLResponse)
    async def page() -> HTMLResponse:
        return HTMLResponse(_static("page.html"))

    @app.get("/static/{name}")
    async def static(name: str) -> Response:
        files = {"page.js": ("application/javascript", lambda: STOP_AT_END_JS + _static("page.js")),
                 "page.css": ("text/css", lambda: _static("page.css") + CARD_CSS)}
        if name not in files:
            return _error(404, f"no static file {name!r}")
        ctype, text = files[name]
        return Response(text(), media_type=ctype)

    @app.exception_handler(404)
    async def not_found(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"error": f"no such page {request.url.path}", "status": 404}, 404)

    return app
