"""What the user names as videos: paths, folders, a list file; URLs are refused, not fetched.

vidseek never downloads a video: a URL would otherwise become a nonexistent local path and fail
later with a confusing "no such file".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from vidseek.errors import InputError

_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


def is_url(text: str) -> bool:
    """http://, https://, s3://, rtsp://, ... (file:// too: give the path itself)."""
    return bool(_URL.match(text.strip()))


def read_list(path: str | Path) -> list[str]:
    """One path per line; blank lines and `#` comments (whole-line or trailing) skipped.
    Relative paths are relative to the list file's folder."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as err:
        raise InputError(f"--from-list {p}: {err.strerror or err}") from None
    out = []
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if not line:
            continue
        if not is_url(line) and not Path(line).expanduser().is_absolute():
            line = str(p.parent / line)
        out.append(line)
    return out


def gather_inputs(paths: Iterable[str], from_list: str | None = None) -> list[str]:
    """The paths given plus those of the list file, URLs refused with a one-line error."""
    items = list(paths) + (read_list(from_list) if from_list else [])
    for item in items:
        if is_url(item):
            raise InputError(f"{item}: URLs are not fetched; download it first and give the file")
    return items
