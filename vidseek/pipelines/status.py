"""`vidseek status`: what is done, failed and pending in a collection."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from vidseek.errors import Outcome

MARKS = {"done": "ok", "failed": "FAILED", "corrupt": "CORRUPT"}


@dataclass
class StatusConfig:
    collection: str
    json: bool = False


def status(cfg: StatusConfig) -> Outcome:
    """Print the catalog's per-video state; a missing collection raises CollectionError."""
    from vidseek.store import FeatureStore
    from vidseek.store.catalog import decode_notes

    with FeatureStore(cfg.collection, create=False) as store:
        videos = store.catalog.video_rows()
        feats = store.catalog.features()
        notes = decode_notes(store.catalog)
        bad = {(r.video_id, r.expert): why for r, why in store.bad_shards()}
    by_video: dict[str, dict[str, dict[str, str | None]]] = {}
    for f in feats:
        entry: dict[str, str | None] = {"status": f.status, "error": f.error}
        if (f.video_id, f.expert) in bad:  # done in the catalog, but the shard is not usable
            entry = {"status": "corrupt", "error": f"corrupt shard {f.shard}: "
                     f"{bad[f.video_id, f.expert]}; rerun `vidseek extract` to redo it"}
        by_video.setdefault(f.video_id, {})[f.expert] = entry
    rows: list[dict[str, Any]] = []
    for v in videos:
        note = notes.get(v["video_id"])
        flags = []
        if note is not None and note.decoded_end is not None:
            flags.append(f"truncated at {note.decoded_end:.1f} s of {note.duration or 0:.1f} s")
        if note is not None:
            flags += [f"corrupt from {a:.1f} s to {b:.1f} s (no rows there)" for a, b in note.gaps]
        experts = by_video.get(v["video_id"], {})
        flags += [e["error"] for e in experts.values() if e["status"] == "corrupt" and e["error"]]
        rows.append({
            "video": v["video_id"], "path": v["path"], "status": v["status"],
            "error": v["error"], "duration": v["duration"], "experts": experts,
            "backend": note.backend if note else None, "flags": flags,
        })
    counts = {s: sum(r["status"] == s for r in rows) for s in ("done", "failed", "pending")}
    if cfg.json:
        print(json.dumps({"counts": counts, "videos": rows}, indent=1))
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
