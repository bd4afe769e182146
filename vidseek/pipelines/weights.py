"""`vidseek weights list` and `vidseek weights import FILE --expert NAME`."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass

from vidseek.errors import VidseekError


@dataclass
class WeightsListConfig:
    json: bool = False
    sha256: bool = True  # hashing a missing-from-cache file reads it once; the result is cached


@dataclass
class WeightsImportConfig:
    file: str
    expert: str


def weights_list(cfg: WeightsListConfig) -> int:
    """Print every card's weights: found / missing, where, sha256, default or optional."""
    from vidseek.extract.experts import all_cards
    from vidseek.weights import list_weights, weights_dir

    rows = list_weights(all_cards(), with_sha256=cfg.sha256)
    if cfg.json:
        print(json.dumps({"weights_dir": str(weights_dir()), "weights": rows}, indent=1))
        return 0
    print(f"weights dir: {weights_dir()}")
    header = ("expert", "set", "status", "where", "sha256", "path")
    table = [header] + [
        (str(r["expert"]), "default" if r["default"] else "optional", str(r["status"]),
         str(r["where"] or "-"), str(r["sha256"] or "-")[:12], str(r["path"]))
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row[:-1], widths, strict=True)) + "  " + row[-1])
    missing = [str(r["expert"]) for r in rows if r["status"] == "missing" and r["default"]]
    optional = [str(r["expert"]) for r in rows if r["status"] == "missing" and not r["default"]]
    if missing:
        print(f"default weights missing: {', '.join(missing)}: put a file at the path shown, "
              "or `vidseek weights import FILE --expert NAME`")
    if optional:
        print(f"optional, not installed: {', '.join(optional)} (add one the same way to use it)")
    return 0


def weights_import(cfg: WeightsImportConfig) -> int:
    """Copy (or convert) a downloaded weights file into the weights dir under its expected name."""
    from vidseek.extract.experts import weights_of
    from vidseek.weights import file_sha256, import_weights

    try:
        dst = import_weights(cfg.file, weights_of(cfg.expert))
    except (VidseekError, KeyError) as err:
        print(f"vidseek weights import: {err}", file=sys.stderr)
        return 1
    print(f"{cfg.expert}: {dst} (sha256 {file_sha256(dst)})")
    return 0
