"""`vidseek doctor`'s checks: what is wrong with a collection on disk, read-only.

Each check returns findings that say what is wrong, where, and what to run to repair it; none
of them writes (the repairs are the verbs they name: `extract` redoes bad shards, a plain open
sweeps temporaries of dead writers and takes over dead leases).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from vidseek.store.catalog import leases
from vidseek.store.features import (
    TMP_PREFIX,
    FeatureStore,
    _host_tag,
    _tmp_is_orphan,
    lease_alive,
)


@dataclass(frozen=True)
class Finding:
    check: str
    where: str
    problem: str
    repair: str

    def as_json(self) -> dict[str, str]:
        return asdict(self)


Check = Callable[[FeatureStore], list[Finding]]


def _extract_cmd(store: FeatureStore) -> str:
    return f"vidseek extract PATHS --collection {store.root}"


def catalog_integrity(store: FeatureStore) -> list[Finding]:
    try:
        rows = [r[0] for r in store.catalog.execute("PRAGMA integrity_check").fetchall()]
    except sqlite3.Error as err:
        rows = [str(err)]
    if rows == ["ok"]:
        return []
    return [Finding("catalog", str(store.catalog.path), "; ".join(rows)[:300],
                    "restore catalog.sqlite from a copy, or move it aside and re-extract")]


def shards(store: FeatureStore) -> list[Finding]:
    """Done records whose shard is missing, fails its checksum or row count, or does not parse."""
    return [Finding("shards", rec.shard or rec.video_id, f"{rec.expert} of {rec.video_id}: {why}",
                    _extract_cmd(store) + " (redoes bad shards)")
            for rec, why in store.bad_shards()]


def unreferenced(store: FeatureStore) -> list[Finding]:
    """Shard files the catalog does not name (an older name of a re-extracted video, a copy)."""
    named = {r.shard for r in store.catalog.features() if r.shard}
    feats = store.root / "features"
    found = sorted(p for p in feats.glob("*/*.parquet") if not p.name.startswith(TMP_PREFIX)) \
        if feats.exists() else []
    return [Finding("shards", str(p.relative_to(store.root)), "not in the catalog",
                    f"remove it (rm '{p}') or ignore it: nothing reads it")
            for p in found if str(p.relative_to(store.root)) not in named]


def temporaries(store: FeatureStore) -> list[Finding]:
    feats = store.root / "features"
    if not feats.exists():
        return []
    host, now = _host_tag(), time.time()
    return [Finding("temporaries", str(p.relative_to(store.root)), "a dead writer's temporary",
                    f"any writing open removes it (`{_extract_cmd(store)}`), or rm it")
            for p in sorted(feats.glob(f"*/{TMP_PREFIX}*")) if _tmp_is_orphan(p, host, now)]


def stale_leases(store: FeatureStore) -> list[Finding]:
    return [Finding("leases", lease.path, f"claimed by pid {lease.pid}, which is gone",
                    f"the next `{_extract_cmd(store)}` takes it over")
            for lease in leases(store.catalog) if not lease_alive(lease)]


def pending(store: FeatureStore) -> list[Finding]:
    """Videos left `pending` by a run that died, with no live lease on them."""
    held = {lease.path for lease in leases(store.catalog) if lease_alive(lease)}
    return [Finding("videos", r["path"], f"{r['video_id']} is pending with no run on it",
                    _extract_cmd(store))
            for r in store.catalog.video_rows() if r["status"] == "pending" and r["path"] not in held]


CHECKS: dict[str, Check] = {
    "catalog": catalog_integrity, "shards": shards, "unreferenced": unreferenced,
    "temporaries": temporaries, "leases": stale_leases, "pending": pending,
}


def examine(root: str | Path) -> list[Finding]:
    """Every check's findings for the collection at `root` (CollectionError when there is none)."""
    with FeatureStore(root, create=False, sweep=False) as store:
        return [f for check in CHECKS.values() for f in check(store)]
