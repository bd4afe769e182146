"""Caption files: CSV or JSONL rows of (video, caption[, start, end, split, event_type]).

Rows with an empty caption are dropped; a missing split column gets a seeded 80/10/10 split by
video (all captions of a video land in the same split).
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidseek.errors import DatasetError

SPLITS = ("train", "val", "test")
_ALIASES = {"video": ("video", "video_id", "vid", "clip_name"),
            "caption": ("caption", "sentence", "query", "text")}


@dataclass(frozen=True)
class CaptionRow:
    video: str
    caption: str
    start: float | None = None
    end: float | None = None
    split: str | None = None
    event_type: str | None = None


def _pick(row: dict[str, Any], key: str) -> Any:
    for k in _ALIASES.get(key, (key,)):
        if k in row and row[k] not in (None, ""):
            return row[k]
    return None


def _num(v: Any) -> float | None:
    return None if v in (None, "") else float(v)


def read_captions(path: str | Path) -> list[CaptionRow]:
    """All non-empty caption rows of a .csv or .jsonl file."""
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"captions file {path} does not exist")
    raw: list[dict[str, Any]] = []
    try:
        if path.suffix.lower() == ".csv":
            with open(path, newline="") as fh:
                raw = list(csv.DictReader(fh))
        else:
            with open(path) as fh:
                raw = [json.loads(line) for line in fh if line.strip()]
    except (json.JSONDecodeError, csv.Error, UnicodeDecodeError) as err:
        raise DatasetError(f"{path}: not a captions CSV/JSONL file ({err})") from err
    rows = []
    for i, r in enumerate(raw):
        vid, cap = _pick(r, "video"), _pick(r, "caption")
        if vid is None:
            raise DatasetError(f"{path}: row {i + 1} has no video column (video/video_id/vid)")
        if cap is None or not str(cap).strip():
            continue
        split = r.get("split") or None
        if split is not None and split not in SPLITS:
            raise DatasetError(f"{path}: row {i + 1} has split {split!r}; use one of {SPLITS}")
        rows.append(CaptionRow(str(vid), str(cap).strip(), _num(r.get("start")), _num(r.get("end")),
                               split, r.get("event_type") or None))
    return rows


def with_splits(rows: list[CaptionRow], seed: int, frac: tuple[float, float] = (0.8, 0.1)) -> list[CaptionRow]:
    """Rows without a split get a seeded per-video 80/10/10 split; given splits are kept."""
    if all(r.split for r in rows):
        return rows
    videos = sorted({r.video for r in rows})
    random.Random(seed).shuffle(videos)
    n_tr, n_va = round(frac[0] * len(videos)), round(frac[1] * len(videos))
    which = {v: "train" if i < n_tr else "val" if i < n_tr + n_va else "test"
             for i, v in enumerate(videos)}
    return [r if r.split else CaptionRow(r.video, r.caption, r.start, r.end, which[r.video],
                                         r.event_type) for r in rows]


def read_msrvtt_1ka(path: str | Path) -> list[CaptionRow]:
    """MSR-VTT 1k-A (JSFusion) test CSV: key,vid_key,video_id,sentence -> test rows."""
    return [CaptionRow(r.video, r.caption, split="test") for r in read_captions(path)]


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens (letters, digits, apostrophes); the vocabulary unit of JEMC."""
    import re

    return re.findall(r"[a-z0-9']+", text.lower())


def build_vocab(texts: list[str], min_count: int = 1) -> list[str]:
    """Sorted words seen at least min_count times (index 0 / 1 are reserved by models)."""
    from collections import Counter

    counts = Counter(w for t in texts for w in tokenize(t))
    return sorted(w for w, c in counts.items() if c >= min_count)
