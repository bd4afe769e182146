"""Immutable Parquet shards, one file per (video, expert), one Parquet row per feature row.

A shard is written under a temporary name in the same folder, fsynced and renamed into place;
only then does the catalog say `done`. A killed run leaves at most a `.tmp-*` file, which readers
never see and a later open removes. Several writers share a collection (`--workers N`, Ray
actors), so an open removes only temporaries whose writer is gone: the name carries the writer's
pid and host; same host and a dead pid, another host and older than a day, or an unknown name. One file per (video, expert) keeps a rerun's unit of work
and of failure the same as the store's unit of storage; Ray Data reads the same files.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from vidseek.errors import CollectionError, WeightsMismatchError
from vidseek.store.catalog import Catalog, FeatureRecord
from vidseek.types import ExpertSpec, Features, WeightsInfo

TMP_PREFIX = ".tmp-"
FOREIGN_TMP_STALE_S = 24 * 3600.0  # a temporary of another host's writer: swept after this age
_TMP_NAME = re.compile(r"^\.tmp-(\d+)-[0-9a-f]{32}-([0-9a-f]{8})\.parquet$")


def _host_tag() -> str:
    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _tmp_is_orphan(path: Path, host: str, now: float) -> bool:
    """Whether a temporary shard's writer is gone (see the module docstring)."""
    m = _TMP_NAME.match(path.name)
    if m is None:
        return True
    if m.group(2) == host:
        return not _pid_alive(int(m.group(1)))
    try:
        return now - path.stat().st_mtime > FOREIGN_TMP_STALE_S
    except FileNotFoundError:
        return False


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)


class FeatureStore:
    """A collection folder: catalog.sqlite + features/<expert>/<video_id>.parquet."""

    def __init__(self, root: str | Path, create: bool = True) -> None:
        self.root = Path(root)
        if not self.root.exists():
            if not create:
                raise CollectionError(
                    f"collection {self.root} does not exist; run `vidseek extract` first"
                )
            try:
                self.root.mkdir(parents=True)
            except OSError as err:
                raise CollectionError(f"cannot create collection {self.root}: {err}") from err
        if not os.access(self.root, os.W_OK) and create:
            raise CollectionError(f"collection {self.root} is not writable")
        try:
            self.catalog = Catalog(self.root / "catalog.sqlite")
        except Exception as err:  # sqlite3.OperationalError on read-only dirs
            raise CollectionError(f"cannot open catalog in {self.root}: {err}") from err
        self._sweep_tmp()

    def close(self) -> None:
        self.catalog.close()

    def __enter__(self) -> FeatureStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- paths --------------------------------------------------------------------------
    def shard_path(self, video_id: str, expert: str) -> Path:
        return self.root / "features" / _safe(expert) / f"{_safe(video_id)}.parquet"

    def _sweep_tmp(self) -> None:
        feats = self.root / "features"
        if feats.exists():
            host, now = _host_tag(), time.time()
            for tmp in feats.glob(f"*/{TMP_PREFIX}*"):
                if _tmp_is_orphan(tmp, host, now):
                    tmp.unlink(missing_ok=True)

    # ---- write --------------------------------------------------------------------------
    def put(self, video_id: str, feats: Features, spec: ExpertSpec, weights: WeightsInfo) -> Path:
        """Write one shard atomically, then mark it done in the catalog."""
        path = self.shard_path(video_id, feats.expert)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {
            "video_id": video_id, "expert": feats.expert, "weights_sha": weights.sha256,
            "weights_source": weights.source, "random_weights": weights.random,
            "fps": spec.fps, "sample_rate": spec.sample_rate, "window": spec.window,
            "stride": spec.stride, "dim": feats.dim, "modality": spec.modality,
        }
        table = _to_table(video_id, feats, meta)
        tmp = path.with_name(f"{TMP_PREFIX}{os.getpid()}-{uuid.uuid4().hex}-{_host_tag()}.parquet")
        try:
            with open(tmp, "wb") as fh:
                pq.write_table(table, fh, compression="zstd")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        self.catalog.set_feature(
            FeatureRecord(
                video_id=video_id, expert=feats.expert, status="done", error=None,
                shard=str(path.relative_to(self.root)), n_rows=len(feats), dim=feats.dim,
                weights_sha=weights.sha256, random_weights=weights.random, fps=spec.fps,
                window=spec.window, stride=spec.stride,
            )
        )
        return path

    def mark_failed(self, video_id: str, expert: str, error: str) -> None:
        self.catalog.set_feature(
            FeatureRecord(video_id, expert, "failed", error, None, 0, 0, None, False, None, None, None)
        )

    # ---- read ---------------------------------------------------------------------------
    def has(self, video_id: str, expert: str, weights_sha: str | None = None) -> bool:
        """True when the shard is done (and made with these weights, when given)."""
        rec = self.catalog.feature(video_id, expert)
        if rec is None or rec.status != "done" or rec.shard is None:
            return False
        if weights_sha is not None and rec.weights_sha != weights_sha:
            return False
        return (self.root / rec.shard).exists()

    def get(self, video_id: str, expert: str) -> Features:
        rec = self.catalog.feature(video_id, expert)
        if rec is None or rec.status != "done" or rec.shard is None:
            raise CollectionError(f"no {expert} features for video {video_id!r} in {self.root}")
        return read_shard(self.root / rec.shard)[1]

    def experts(self) -> list[str]:
        rows = self.catalog.execute("SELECT DISTINCT expert FROM features WHERE status='done'")
        return sorted(r[0] for r in rows)

    def weights_of(self, expert: str) -> WeightsInfo:
        """The one weights identity of an expert's done shards; mixing is refused."""
        rows = self.catalog.execute(
            "SELECT DISTINCT weights_sha, random_weights FROM features "
            "WHERE expert=? AND status='done'",
            (expert,),
        ).fetchall()
        if not rows:
            raise CollectionError(f"no {expert} features in {self.root}")
        if len(rows) > 1:
            shas = ", ".join(f"{r[0][:12]}{' (random)' if r[1] else ''}" for r in rows)
            raise WeightsMismatchError(
                f"{expert} features in {self.root} were made with different weights ({shas}); "
                f"re-extract with one set: `vidseek extract ... --experts {expert} --force`"
            )
        return WeightsInfo(sha256=rows[0][0], source="store", random=bool(rows[0][1]))


def _to_table(video_id: str, f: Features, meta: dict[str, Any]) -> pa.Table:
    n = len(f)
    values = pa.FixedSizeListArray.from_arrays(
        pa.array(f.values.astype(np.float16).ravel(), type=pa.float16()), max(f.dim, 1)
    ) if f.dim > 0 else pa.nulls(n, pa.list_(pa.float16()))
    cols: dict[str, Any] = {
        "video_id": pa.array([video_id] * n, pa.string()),
        "start": pa.array(f.times[:, 0], pa.float64()),
        "end": pa.array(f.times[:, 1], pa.float64()),
        "values": values,
    }
    if f.probs is not None:
        cols["probs"] = pa.FixedSizeListArray.from_arrays(
            pa.array(f.probs.astype(np.float16).ravel(), type=pa.float16()), f.probs.shape[1]
        )
    if f.texts is not None:
        cols["text"] = pa.array(f.texts, pa.string())
    if f.meta is not None:
        cols["meta"] = pa.array([json.dumps(m) for m in f.meta], pa.string())
    table = pa.table(cols)
    return table.replace_schema_metadata({"vidseek": json.dumps(meta)})


def read_shard(path: Path) -> tuple[dict[str, Any], Features]:
    """(shard metadata, features) from one Parquet shard."""
    table = pq.read_table(path)
    meta = json.loads(table.schema.metadata[b"vidseek"])
    n = table.num_rows
    times = np.stack(
        [table["start"].to_numpy(), table["end"].to_numpy()], axis=1
    ) if n else np.zeros((0, 2))
    dim = int(meta["dim"])
    if dim > 0 and n:
        flat = table["values"].combine_chunks().flatten().to_numpy(zero_copy_only=False)
        values = flat.astype(np.float32).reshape(n, dim)
    else:
        values = np.zeros((n, dim), np.float32)
    probs = None
    if "probs" in table.column_names:
        pc = table["probs"].combine_chunks()
        probs = pc.flatten().to_numpy(zero_copy_only=False).astype(np.float32).reshape(n, -1) \
            if n else np.zeros((0, pc.type.list_size), np.float32)
    texts = table["text"].to_pylist() if "text" in table.column_names else None
    metas = [json.loads(m) for m in table["meta"].to_pylist()] if "meta" in table.column_names else None
    return meta, Features(meta["expert"], times, values, probs, texts, metas)
