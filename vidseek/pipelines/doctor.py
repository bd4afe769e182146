"""`vidseek doctor`: check a collection (catalog integrity, shards against the catalog, stale
leases, orphan temporaries, stuck videos) and say what to run to repair each finding."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass

from vidseek.errors import CollectionError


@dataclass
class DoctorConfig:
    collection: str
    json: bool = False


def doctor(cfg: DoctorConfig) -> int:
    """Exit 0 healthy, 1 findings (each with its repair), 2 no collection to check."""
    from vidseek.store.doctor import examine

    try:
        findings = examine(cfg.collection)
    except CollectionError as err:
        print(f"vidseek doctor: {err}", file=sys.stderr)
        return 2
    if cfg.json:
        print(json.dumps({"ok": not findings, "findings": [f.as_json() for f in findings]},
                         indent=1))
    elif not findings:
        print(f"{cfg.collection}: healthy")
    else:
        for f in findings:
            print(f"{f.check:12} {f.where}: {f.problem}\n{'':12} repair: {f.repair}")
        print(f"{len(findings)} problems in {cfg.collection}")
    return 1 if findings else 0
