"""Annotated queries for search evaluation, from our JSONL and the standard moment datasets.

Every reader returns `EvalQuery(query, video, windows)` with `video` the video's file stem (the
collection's video id) and windows in seconds. Formats (QUERY_FORMATS):
- vidseek:      JSONL `{"query", "video", "windows": [[s, e], ...]}` (optional "source", "qid")
- qvhighlights: JSONL `{"qid", "query", "vid", "duration", "relevant_windows"}`
- charades_sta: text lines `VID start end##sentence`
- activitynet:  JSON `{vid: {"duration", "timestamps": [[s, e], ...], "sentences": [...]}}`
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vidseek.errors import DatasetError
from vidseek.registry import Registry


@dataclass
class EvalQuery:
    query: str
    video: str
    windows: np.ndarray  # (K, 2) seconds
    qid: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


QueryReader = Callable[[Path], list[EvalQuery]]
QUERY_FORMATS: Registry[QueryReader] = Registry("query format")


def _windows(raw: Any, where: str) -> np.ndarray:
    try:
        w = np.asarray(raw, dtype=np.float64).reshape(-1, 2)
    except (TypeError, ValueError):
        raise DatasetError(f"{where}: windows must be [[start, end], ...], got {raw!r}") from None
    if len(w) == 0 or np.any(w[:, 1] < w[:, 0]):
        raise DatasetError(f"{where}: windows must be non-empty with start <= end, got {raw!r}")
    return w


def _jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append((n, json.loads(line)))
        except json.JSONDecodeError as err:
            raise DatasetError(f"{path}:{n}: not JSON ({err.msg})") from None
    return rows


@QUERY_FORMATS.register("vidseek")
def read_vidseek(path: Path) -> list[EvalQuery]:
    out = []
    for n, row in _jsonl(path):
        missing = [k for k in ("query", "video", "windows") if k not in row]
        if missing:
            raise DatasetError(f"{path}:{n}: missing {', '.join(missing)}")
        meta = {k: v for k, v in row.items() if k not in ("query", "video", "windows", "qid")}
        out.append(EvalQuery(str(row["query"]), str(row["video"]), _windows(row["windows"], f"{path}:{n}"),
                             str(row.get("qid", n)), meta))
    return out


@QUERY_FORMATS.register("qvhighlights")
def read_qvhighlights(path: Path) -> list[EvalQuery]:
    out = []
    for n, row in _jsonl(path):
        try:
            out.append(EvalQuery(str(row["query"]), str(row["vid"]),
                                 _windows(row["relevant_windows"], f"{path}:{n}"), str(row.get("qid", n)),
                                 {"duration": row.get("duration")}))
        except KeyError as err:
            raise DatasetError(f"{path}:{n}: missing {err.args[0]}") from None
    return out


@QUERY_FORMATS.register("charades_sta")
def read_charades_sta(path: Path) -> list[EvalQuery]:
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        head, sep, sentence = line.partition("##")
        parts = head.split()
        if not sep or len(parts) != 3:
            raise DatasetError(f"{path}:{n}: expected 'VID start end##sentence'")
        try:
            s, e = float(parts[1]), float(parts[2])
        except ValueError:
            raise DatasetError(f"{path}:{n}: start/end are not numbers") from None
        out.append(EvalQuery(sentence.strip(), parts[0], _windows([s, e], f"{path}:{n}"), str(n)))
    return out


@QUERY_FORMATS.register("activitynet")
def read_activitynet(path: Path) -> list[EvalQuery]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DatasetError(f"{path}: not JSON ({err.msg})") from None
    if not isinstance(data, dict):
        raise DatasetError(f"{path}: expected {{video: {{timestamps, sentences}}}}")
    out = []
    for vid, d in data.items():
        try:
            pairs = zip(d["timestamps"], d["sentences"], strict=True)
        except (KeyError, TypeError):
            raise DatasetError(f"{path}: video {vid} lacks timestamps / sentences") from None
        for i, (ts, sent) in enumerate(pairs):
            s, e = sorted(float(x) for x in ts)
            out.append(EvalQuery(str(sent).strip(), str(vid), _windows([s, e], f"{path}:{vid}"),
                                 f"{vid}#{i}", {"duration": d.get("duration")}))
    return out


def detect_format(path: Path) -> str:
    """From the extension and, for JSONL, the first row's keys."""
    suffix = path.suffix.lower()
    if suffix == ".txt":
        return "charades_sta"
    if suffix == ".json":
        return "activitynet"
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            try:
                keys = json.loads(line).keys()
            except (json.JSONDecodeError, AttributeError):
                break
            if "relevant_windows" in keys:
                return "qvhighlights"
            if "windows" in keys:
                return "vidseek"
            break
    raise DatasetError(f"{path}: cannot tell the query format; pass --format ({', '.join(QUERY_FORMATS.names())})")


def read_queries(path: str | Path, fmt: str | None = None) -> list[EvalQuery]:
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"query file {path} does not exist")
    return QUERY_FORMATS.get(fmt or detect_format(path))(path)


def restrict(queries: Iterable[EvalQuery], video_ids: Iterable[str]) -> list[EvalQuery]:
    """Only the queries whose video is in the collection (big annotation sets cover far more)."""
    have = set(video_ids)
    return [q for q in queries if q.video in have]
