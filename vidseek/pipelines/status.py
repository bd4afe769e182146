"""`vidseek status`: what is done, failed and pending in a collection."""

from __future__ import annotations

import json
from dataclasses import dataclass

from vidseek.errors import Outcome

MARKS = {"done": "ok", "failed": "FAILED", "corrupt": "CORRUPT"}


@dataclass
class StatusConfig:
    collection: str
    json: bool = False


def status(cfg: StatusConfig) -> Outcome:
    """Print `Collection.report()`; a missing collection raises CollectionError."""
    from vidseek.api import Collection

    report = Collection(cfg.collection).report()
    rows, counts = report["videos"], report["counts"]
    if cfg.json:
        print(json.dumps(report, indent=1))
        return Outcome.OK
    if not rows:
        print(f"{cfg.collection}: no videos yet (run `vidseek extract PATH --collection ...`)")
        return Outcome.OK
    for r in rows:
        marks = " ".join(
            f"{name}:{MARKS.get(str(e['status']), 'FAILED')}"
            for name, e in sorted(r["experts"].items())
        )
        dur = f"{r['duration']:.1f}s" if r["duration"] else "-"
        print(f"{r['status']:8} {r['video']:32} {dur:>8}  {marks}")
        if r["error"]:
            print(f"         error: {r['error']}")
        for flag in r["flags"]:
            print(f"         note: {flag}")
    print(
        f"{len(rows)} videos: {counts['done']} done, {counts['failed']} failed, "
        f"{counts['pending']} pending"
    )
    return Outcome.OK
