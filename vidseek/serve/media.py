"""Video files over HTTP with byte ranges (RFC 9110 §14), so a browser's <video> can seek.

One range per request (what every browser's media stack sends); a multi-range header is
answered with its first range. A range that starts past the end is 416 with `bytes */size`.
"""

from __future__ import annotations

import mimetypes
import os
import re
from collections.abc import Iterator
from pathlib import Path

from starlette.responses import Response, StreamingResponse

CHUNK = 256 * 1024
_RANGE = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")

mimetypes.add_type("video/mp4", ".m4v")
mimetypes.add_type("video/x-matroska", ".mkv")
mimetypes.add_type("video/webm", ".webm")


class RangeNotSatisfiable(ValueError):
    pass


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) inclusive byte positions, or None for the whole file (no / unusable header).
    Raises RangeNotSatisfiable for a range wholly past the end (or an empty file)."""
    if not header or not header.strip().lower().startswith("bytes="):
        return None
    spec = header.split("=", 1)[1].split(",")[0]
    m = _RANGE.match(spec)
    if m is None or (not m.group(1) and not m.group(2)):
        return None
    if not m.group(1):  # suffix: the last n bytes
        n = int(m.group(2))
        if n == 0 or size == 0:
            raise RangeNotSatisfiable(spec)
        return max(0, size - n), size - 1
    first = int(m.group(1))
    last = int(m.group(2)) if m.group(2) else size - 1
    if first >= size:
        raise RangeNotSatisfiable(spec)
    if last < first:
        return None  # syntactically invalid: ignore the header (serve it all)
    return first, min(last, size - 1)


def _read(path: Path, first: int, last: int) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        fh.seek(first)
        left = last - first + 1
        while left > 0:
            block = fh.read(min(CHUNK, left))
            if not block:
                return
            left -= len(block)
            yield block


def file_response(path: Path, range_header: str | None, head: bool = False) -> Response:
    """200 with the whole file, 206 with the requested range, or 416."""
    size = os.path.getsize(path)
    ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "no-cache"}
    try:
        rng = parse_range(range_header, size)
    except RangeNotSatisfiable:
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    first, last = rng if rng is not None else (0, size - 1)
    headers["Content-Length"] = str(max(0, last - first + 1))
    status = 200
    if rng is not None:
        status = 206
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    if head or size == 0:
        return Response(status_code=status, headers=headers, media_type=ctype)
    return StreamingResponse(_read(path, first, last), status_code=status, headers=headers,
                             media_type=ctype)
