"""`vidseek status`: what is done, failed and pending in a collection."""

from __future__ import annotations

import json
from dataclasses import dataclass

from vidseek.errors import Outcome


@dataclass
class StatusConfig:
    collection: str
    json: bool = False


def status(cfg: StatusConfig) -> Outcome:
    """Print the catalog's per-video state; a missing collection raises CollectionError."""
    from vidseek.store import FeatureStore

    with FeatureStore(cfg.collection, create=False) as store:
        videos = store.catalog.video_rows()
        feats = store.catalog.features()
    by_video: dict[str, dict[str, dict[str, str | None]]] = {}
    for f in feats:
        by_video.setdefault(f.video_id, {})[f.expert] = {"status": f.status, "error": f.error}
    rows = [
        {
            "video": v["video_id"], "path": v["path"], "status": v["status"],
            "error": v["error"], "duration": v["duration"], "experts": by_video.get(v["video_id"], {}),
        }
        for v in videos
    ]
    counts = {s: sum(r["status"] == s for r in rows) for s in ("done", "failed", "pending")}
    if cfg.json:
        print(json.dumps({"counts": counts, "videos": rows}, indent=1))
        return Outcome.OK
    if not rows:
        print(f"{cfg.collection}: no videos yet (run `vidseek extract PATH --collection ...`)")
        return Outcome.OK
    for r in rows:
        experts = " ".join(
            f"{name}:{'ok' if e['status'] == 'done' else 'FAILED'}"
            for name, e in sorted(r["experts"].items())
        )
        dur = f"{r['duration']:.1f}s" if r["duration"] else "-"
        print(f"{r['status']:8} {r['video']:32} {dur:>8}  {experts}")
        if r["error"]:
            print(f"         error: {r['error']}")
    print(
        f"{len(rows)} videos: {counts['done']} done, {counts['failed']} failed, "
        f"{counts['pending']} pending"
    )
    return Outcome.OK
