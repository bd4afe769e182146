"""`vidseek weights list` and `vidseek weights import FILE --expert NAME`.

`list` shows every expert and text encoder, grouped as the default set (what `make setup`
installs and vidseek uses offline) and the online-only / optional rest, so a fresh install reads
"default set: all found" rather than a count of files nobody needs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidseek import console
from vidseek.errors import Outcome, one_line

DEFAULT, ONLINE, OPTIONAL = "default", "online-only", "optional"


@dataclass
class WeightsListConfig:
    json: bool = False
    sha256: bool = True  # hashing a missing-from-cache file reads it once; the result is cached


@dataclass
class WeightsImportConfig:
    file: str
    expert: str


def weight_set(row: dict[str, Any]) -> str:
    """default / online-only / optional for one list_weights row, from its expert card: the
    default set, weights only a download gives (`fetch="online"`), or an optional extra."""
    if row.get("default"):
        return DEFAULT
    if row.get("fetch") == "online":
        return ONLINE
    return OPTIONAL


def summary(rows: list[dict[str, Any]]) -> list[str]:
    """The lines under the table: the default set's state, then the online-only and optional."""
    by: dict[str, list[dict[str, Any]]] = {DEFAULT: [], ONLINE: [], OPTIONAL: []}
    for r in rows:
        by[str(r["set"])].append(r)
    missing = [str(r["expert"]) for r in by[DEFAULT] if r["status"] != "found"]
    lines = [f"default set: {'all found' if not missing else 'MISSING ' + ', '.join(missing)}"
             + ("" if not missing else " (put a file at the path shown, or "
                "`vidseek weights import FILE --expert NAME`)")]
    for kind, how in ((ONLINE, "download with VIDSEEK_ONLINE=1 or `vidseek weights import FILE "
                               "--expert NAME`"),
                      (OPTIONAL, "an optional extra; see the README")):
        absent = [str(r["expert"]) for r in by[kind] if r["status"] != "found"]
        found = [str(r["expert"]) for r in by[kind] if r["status"] == "found"]
        if absent:
            lines.append(f"{kind}, not here: {', '.join(absent)} ({how})")
        if found:
            lines.append(f"{kind}, found: {', '.join(found)}")
    return lines


def weights_list(cfg: WeightsListConfig) -> Outcome:
    """Print every expert's weights: which set, found / missing, where, sha256, path."""
    from vidseek.extract.experts import all_cards
    from vidseek.weights import list_weights, weights_dir

    rows = [dict(r) for r in list_weights(all_cards(), with_sha256=cfg.sha256)]
    for r in rows:
        r["set"] = weight_set(r)
    if cfg.json:
        print(json.dumps({"weights_dir": str(weights_dir()), "weights": rows,
                          "summary": summary(rows)}, indent=1))
        return Outcome.OK
    print(f"weights dir: {weights_dir()}")
    header = ("expert", "set", "status", "where", "sha256", "path")
    table = [header] + [
        (str(r["expert"]), str(r["set"]), str(r["status"]), str(r["where"] or "-"),
         str(r["sha256"] or "-")[:12], str(r["path"]))
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row[:-1], widths, strict=True)) + "  " + row[-1])
    print("\n".join(summary(rows)))
    return Outcome.OK


def loads_as(expert: str, filename: str) -> Callable[[Path], None]:
    """validate for import_weights: build every card named `expert` that uses `filename` on
    the staged copy, as extraction will (a state dict must load into the architecture, a
    CTranslate2 folder into faster-whisper, ...). A card whose library is not installed is
    skipped (its format check still ran); it is said on stderr."""
    from vidseek.extract.experts import all_cards
    from vidseek.extract.experts.base import ExpertOptions

    cards = [c for c in all_cards() if c.name == expert and
             any(w.filename == filename for w in c.weights)]

    def validate(staged: Path) -> None:
        for card in cards:
            try:
                card.build(ExpertOptions(weights_path=str(staged)))
            except ImportError as err:
                console.note(f"vidseek weights import: {expert}: not loaded to check it "
                             f"({one_line(err)}); checked its format only")

    return validate


def weights_import(cfg: WeightsImportConfig) -> Outcome:
    """Install a downloaded weights file (or folder) under the name its expert looks for, once
    it is checked: sha256 where known, the format, and that the expert loads it. Refused (exit
    2, one line naming the file) otherwise, with any earlier install left as it was."""
    from vidseek.extract.experts import weights_of
    from vidseek.weights import file_sha256, import_weights

    spec = weights_of(cfg.expert)
    dst = import_weights(cfg.file, spec, validate=loads_as(cfg.expert, spec.filename))
    print(f"{cfg.expert}: {dst} (sha256 {file_sha256(dst)})")
    return Outcome.OK
