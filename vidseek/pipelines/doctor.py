"""`vidseek doctor`: check a collection (catalog integrity, shards against the catalog, stale
leases, orphan temporaries, stuck videos) and say what to run to repair each finding."""

from __future__ import annotations

import json
from dataclasses import dataclass

from vidseek.errors import Outcome


@dataclass
class DoctorConfig:
    collection: str
    json: bool = False


def doctor(cfg: DoctorConfig) -> Outcome:
    """Exit 0 healthy, 1 findings (each with its repair); no collection to check raises (2)."""
    from vidseek.store.doctor import examine

    findings = examine(cfg.collection)
    if cfg.json:
        print(json.dumps({"ok": not findings, "findings": [f.as_json() for f in findings]},
                         indent=1))
    elif not findings:
        print(f"{cfg.collection}: healthy")
    else:
        for f in findings:
            print(f"{f.check:12} {f.where}: {f.problem}\n{'':12} repair: {f.repair}")
        print(f"{len(findings)} problems in {cfg.collection}")
    return Outcome.SOME_FAILED if findings else Outcome.OK
