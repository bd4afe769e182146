"""Immutable Parquet shards, one file per (video, expert), one Parquet row per feature row.

A shard is written under a temporary name in the same folder, fsynced and renamed into place;
only then does the catalog say `done`. A killed run leaves at most a `.tmp-*` file, which readers
never see and a later open removes. Several writers share a collection (`--workers N`, Ray
actors), so an open removes only temporaries whose writer is gone: the name carries the writer's
pid and host; same host and a dead pid, another host and older than a day, or an unknown name. One file per (video, expert) keeps a rerun's unit of work
and of failure the same as the store's unit of storage; Ray Data reads the same files.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import socket
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from vidseek.errors import CollectionError, WeightsMismatchError
from vidseek.store.catalog import (
    LEASE_FOREIGN_S,
    Catalog,
    FeatureRecord,
    Lease,
    ShardCheck,
    claim,
    open_readonly,
    release,
    set_feature_checked,
    shard_check,
)
from vidseek.types import ExpertSpec, Features, WeightsInfo

F16_MAX = float(np.finfo(np.float16).max)
# errnos after which no further write to the collection can succeed: the batch stops
FATAL_ERRNOS = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})
MIN_FREE_BYTES = 1 << 20  # ENOSPC with less than this left: no further write can succeed
TMP_PREFIX = ".tmp-"
FOREIGN_TMP_STALE_S = 24 * 3600.0  # a temporary of another host's writer: swept after this age
_TMP_NAME = re.compile(r"^\.tmp-(\d+)-[0-9a-f]{32}-([0-9a-f]{8})\.parquet$")


class StoreWriteError(CollectionError):
    """A shard or catalog write failed (disk full, read-only, permission): one line naming the
    path. `fatal`: no further write to this collection can succeed, so a batch should stop."""

    def __init__(self, message: str, path: str, fatal: bool) -> None:
        super().__init__(message)
        self.path, self.fatal = path, fatal

    def __reduce__(self) -> tuple[type, tuple[str, str, bool]]:
        return (StoreWriteError, (str(self), self.path, self.fatal))

    @classmethod
    def from_os(cls, path: Path, err: OSError, root: Path) -> StoreWriteError:
        code = err.errno or 0
        name = errno.errorcode.get(code, str(code))
        fatal = code in FATAL_ERRNOS or (code in (errno.ENOSPC, errno.EDQUOT)
                                         and _free_bytes(root) < MIN_FREE_BYTES)
        why = err.strerror or str(err)
        return cls(f"cannot write {path}: {why} ({name})", str(path), fatal)

    @classmethod
    def from_sqlite(cls, path: Path, err: sqlite3.Error) -> StoreWriteError:
        text = str(err)
        fatal = "readonly" in text or "disk is full" in text or "unable to open" in text
        return cls(f"cannot write {path}: {text}", str(path), fatal)


class CorruptShardError(CollectionError):
    """A done shard does not match what the catalog recorded (checksum, rows) or does not
    parse; `extract` redoes it, `status` and `doctor` list it."""

    def __init__(self, shard: str, why: str) -> None:
        super().__init__(f"corrupt shard {shard}: {why}; rerun `vidseek extract` to redo it")
        self.shard, self.why = shard, why

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        return (CorruptShardError, (self.shard, self.why))


def _free_bytes(root: Path) -> int:
    try:
        st = os.statvfs(root)
    except OSError:
        return 0
    return st.f_bavail * st.f_frsize


def _writable(root: Path) -> bool:
    """Whether this process can write the collection (os.access sees read-only mounts too)."""
    cat = root / "catalog.sqlite"
    return os.access(root, os.W_OK) and (not cat.exists() or os.access(cat, os.W_OK))


def _write_file(path: Path, data: bytes) -> None:
    """Write and fsync with os-level calls, so a failing write (ENOSPC) surfaces here."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


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


def lease_alive(lease: Lease) -> bool:
    """Same host: its pid still runs; another host: younger than LEASE_FOREIGN_S."""
    if lease.host == _host_tag():
        return _pid_alive(lease.pid)
    return time.time() - lease.since < LEASE_FOREIGN_S


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


_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
MAX_STEM = 160  # bytes; a file name must stay under 255 with the .parquet suffix and a hash


def shard_stem(video_id: str) -> str:
    """A file name for a video id, one-to-one: ASCII letters, digits, '-', '_' and '.' stay,
    every other character (and a leading '.', which would hide the file or look like a
    temporary) becomes ~XX / ~uXXXX / ~UXXXXXXXX, and '~' itself is escaped, so two ids never
    share a shard ('clip one' -> 'clip~20one', 'clip_one' -> 'clip_one'). A long result is cut
    and ends with a hash of the whole id."""
    out = []
    for k, ch in enumerate(video_id):
        if ch in _PLAIN and not (k == 0 and ch == "."):
            out.append(ch)
        else:
            cp = ord(ch)
            out.append(f"~{cp:02x}" if cp < 0x100 else f"~u{cp:04x}" if cp < 0x10000
                       else f"~U{cp:08x}")
    stem = "".join(out) or "~"
    if len(stem) > MAX_STEM:
        stem = f"{stem[:MAX_STEM]}~h{hashlib.sha256(video_id.encode()).hexdigest()[:16]}"
    return stem


class FeatureStore:
    """A collection folder: catalog.sqlite + features/<expert>/<video_id>.parquet."""

    def __init__(self, root: str | Path, create: bool = True, sweep: bool = True,
                 catalog: Catalog | None = None) -> None:
        """create=False (read-only verbs): never creates a file; a folder without a catalog is
        an error; an unwritable collection is opened read-only (SQLite immutable). sweep=False
        leaves dead writers' temporaries (doctor reports them). `catalog`: record into this
        one instead of the collection's (a Ray actor's private scratch catalog)."""
        self.root = Path(root)
        self.readonly = False
        if catalog is not None:
            self.root.mkdir(parents=True, exist_ok=True)
            self.catalog = catalog
            return
        if not create and self.root.is_dir():
            if not (self.root / "catalog.sqlite").is_file():
                raise CollectionError(f"no collection at {self.root} (no catalog.sqlite); "
                                      f"run `vidseek extract` first")
            if not _writable(self.root):
                self.readonly = True
                try:
                    self.catalog = open_readonly(self.root / "catalog.sqlite")
                    self.catalog.execute("SELECT count(*) FROM videos").fetchone()
                except sqlite3.Error as err:
                    raise CollectionError(f"cannot read catalog in {self.root}: {err}") from None
                return
        if not self.root.exists():
            if not create:
                raise CollectionError(
                    f"no collection at {self.root}: it does not exist; run `vidseek extract` first"
                )
            try:
                self.root.mkdir(parents=True, exist_ok=True)  # another run may create it first
            except OSError as err:
                raise CollectionError(f"cannot create collection {self.root}: {err}") from err
        if not os.access(self.root, os.W_OK) and create:
            raise CollectionError(f"collection {self.root} is not writable")
        try:
            self.catalog = Catalog(self.root / "catalog.sqlite")
        except Exception as err:  # sqlite3.OperationalError on read-only dirs
            if not create and self._open_readonly_after(err):
                return
            full = " (no space left on the device)" if _free_bytes(self.root) < MIN_FREE_BYTES else ""
            raise CollectionError(f"cannot open catalog in {self.root}: {err}{full}") from err
        if sweep:
            self._sweep_tmp()

    def _open_readonly_after(self, err: Exception) -> bool:
        """A read-only verb on a catalog that a normal open cannot set up (a full disk cannot
        take the -shm file): read it with SQLite mode=ro instead."""
        if not isinstance(err, sqlite3.Error):
            return False
        wal = self.root / "catalog.sqlite-wal"
        # immutable ignores a -wal: exact only when there is none, or an empty one
        modes = [False] + ([True] if not wal.exists() or wal.stat().st_size == 0 else [])
        for immutable in modes:
            try:
                self.catalog = open_readonly(self.root / "catalog.sqlite", immutable=immutable)
                self.catalog.execute("SELECT count(*) FROM videos").fetchone()
            except sqlite3.Error:
                continue
            self.readonly = True
            return True
        return False

    def claim(self, path: str) -> Lease | None:
        """Claim a video for this process (None), or the live lease that holds it: two extract
        runs over the same files never do one video twice; a dead holder's lease is taken."""
        return claim(self.catalog, path, os.getpid(), _host_tag(), lease_alive)

    def release(self, path: str) -> None:
        release(self.catalog, path, os.getpid(), _host_tag())

    def close(self) -> None:
        self.catalog.close()

    def __enter__(self) -> FeatureStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- paths --------------------------------------------------------------------------
    def shard_path(self, video_id: str, expert: str) -> Path:
        """Where a new shard goes (one-to-one in the video id: shard_stem); readers follow
        the catalog's record, so shards of older collections stay where they are."""
        return self.root / "features" / _safe(expert) / f"{shard_stem(video_id)}.parquet"

    def _sweep_tmp(self) -> None:
        feats = self.root / "features"
        if feats.exists():
            host, now = _host_tag(), time.time()
            for tmp in feats.glob(f"*/{TMP_PREFIX}*"):
                if _tmp_is_orphan(tmp, host, now):
                    tmp.unlink(missing_ok=True)

    # ---- write --------------------------------------------------------------------------
    def put(self, video_id: str, feats: Features, spec: ExpertSpec, weights: WeightsInfo) -> Path:
        """Write one shard atomically, then mark it done (with its sha256) in the catalog. A
        failed write raises StoreWriteError naming the path and leaves no file behind."""
        path = self.shard_path(video_id, feats.expert)
        meta = {
            "video_id": video_id, "expert": feats.expert, "weights_sha": weights.sha256,
            "weights_source": weights.source, "random_weights": weights.random,
            "fps": spec.fps, "sample_rate": spec.sample_rate, "window": spec.window,
            "stride": spec.stride, "dim": feats.dim, "modality": spec.modality,
        }
        table = _to_table(video_id, feats, meta)
        buf = pa.BufferOutputStream()
        pq.write_table(table, buf, compression="zstd")
        data = buf.getvalue().to_pybytes()
        tmp = path.with_name(f"{TMP_PREFIX}{os.getpid()}-{uuid.uuid4().hex}-{_host_tag()}.parquet")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_file(tmp, data)
            os.replace(tmp, path)
        except OSError as err:
            raise StoreWriteError.from_os(path, err, self.root) from None
        finally:
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass
        rel = str(path.relative_to(self.root))
        rec = FeatureRecord(
            video_id=video_id, expert=feats.expert, status="done", error=None,
            shard=rel, n_rows=len(feats), dim=feats.dim,
            weights_sha=weights.sha256, random_weights=weights.random, fps=spec.fps,
            window=spec.window, stride=spec.stride,
        )
        check = ShardCheck(rel, hashlib.sha256(data).hexdigest(), len(feats),
                           json.loads(table.schema.metadata[b"vidseek"])["values_dtype"])
        try:
            set_feature_checked(self.catalog, rec, check)
        except sqlite3.Error as err:
            raise StoreWriteError.from_sqlite(self.catalog.path, err) from None
        return path

    def mark_failed(self, video_id: str, expert: str, error: str) -> None:
        try:
            self.catalog.set_feature(
                FeatureRecord(video_id, expert, "failed", error, None, 0, 0, None, False, None,
                              None, None)
            )
        except sqlite3.Error as err:
            raise StoreWriteError.from_sqlite(self.catalog.path, err) from None

    # ---- read ---------------------------------------------------------------------------
    def has(self, video_id: str, expert: str, weights_sha: str | None = None) -> bool:
        """True when the shard is done (and made with these weights, when given)."""
        rec = self.catalog.feature(video_id, expert)
        if rec is None or rec.status != "done" or rec.shard is None:
            return False
        if weights_sha is not None and rec.weights_sha != weights_sha:
            return False
        return self.problem(rec) is None

    def get(self, video_id: str, expert: str) -> Features:
        """A done shard, verified against the catalog (CorruptShardError when it differs)."""
        rec = self.catalog.feature(video_id, expert)
        if rec is None or rec.status != "done" or rec.shard is None:
            raise CollectionError(f"no {expert} features for video {video_id!r} in {self.root}")
        return self._read_verified(rec)

    def _read_verified(self, rec: FeatureRecord) -> Features:
        assert rec.shard is not None
        path = self.root / rec.shard
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise CorruptShardError(rec.shard, "missing") from None
        except OSError as err:
            raise CorruptShardError(rec.shard, f"unreadable ({err.strerror})") from None
        check = shard_check(self.catalog, rec.video_id, rec.expert)
        if check is not None and check.shard == rec.shard \
                and hashlib.sha256(data).hexdigest() != check.sha256:
            raise CorruptShardError(rec.shard, "checksum differs from the catalog's")
        feats = _parse_shard(data, rec.shard)[1]
        if len(feats) != rec.n_rows:
            raise CorruptShardError(rec.shard, f"{len(feats)} rows, the catalog says {rec.n_rows}")
        return feats

    def problem(self, rec: FeatureRecord) -> str | None:
        """Why a done shard cannot be used (missing, checksum, rows), or None when it can."""
        try:
            self._read_verified(rec)
        except CorruptShardError as err:
            return err.why
        return None

    def bad_shards(self) -> list[tuple[FeatureRecord, str]]:
        """Every done (video, expert) whose shard fails verification, with the reason."""
        out = []
        for rec in self.catalog.features(status="done"):
            if rec.shard is not None and (why := self.problem(rec)) is not None:
                out.append((rec, why))
        return out

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
    finite = f.values[np.isfinite(f.values)]
    # float16 halves the store; a shard with values beyond its range (random-init ResNet-152
    # activations) is kept in float32 instead of turning them into inf
    wide = bool(finite.size) and float(np.abs(finite).max()) > F16_MAX
    vtype, ntype = (pa.float32(), np.float32) if wide else (pa.float16(), np.float16)
    meta = {**meta, "values_dtype": "float32" if wide else "float16"}
    values = pa.FixedSizeListArray.from_arrays(
        pa.array(f.values.astype(ntype).ravel(), type=vtype), max(f.dim, 1)
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
    """(shard metadata, features) from one Parquet shard; CorruptShardError when it does not
    parse (FeatureStore.get also checks it against the catalog)."""
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise CorruptShardError(str(path), f"unreadable ({err.strerror})") from None
    return _parse_shard(data, str(path))


def _parse_shard(data: bytes, name: str) -> tuple[dict[str, Any], Features]:
    try:
        return _decode_shard(data)
    except (pa.ArrowException, KeyError, ValueError, TypeError) as err:
        text = " ".join(str(err).split())[:160] or type(err).__name__
        raise CorruptShardError(name, f"does not parse ({text})") from None


def _numbers(col: pa.ChunkedArray, width: int = 1) -> np.ndarray:
    """A numeric column (or a fixed-size-list column's values, `width` per row) as one numpy
    array, straight from the Arrow buffers. `to_numpy` would do, but it asks pyarrow's pandas
    shim whether pandas types are involved, which imports pandas (~1 s of a cold `vidseek
    search` on the 2-core box). Null slots (never written) would read as whatever bytes
    they hold, so a column with nulls goes through `to_numpy` after all."""
    parts = []
    for chunk in col.chunks:
        arr = chunk
        if pa.types.is_fixed_size_list(chunk.type):
            arr = chunk.values.slice(chunk.offset * width, len(chunk) * width)
        if arr.null_count or not (pa.types.is_floating(arr.type) or pa.types.is_integer(arr.type)):
            parts.append(np.asarray(arr.to_numpy(zero_copy_only=False)))
            continue
        dtype = np.dtype(arr.type.to_pandas_dtype())
        parts.append(np.frombuffer(arr.buffers()[1], dtype, count=len(arr), offset=arr.offset * dtype.itemsize))
    return np.concatenate(parts) if parts else np.zeros(0)


def _decode_shard(data: bytes) -> tuple[dict[str, Any], Features]:
    # ParquetFile.read, not pq.read_table: the latter imports pyarrow.dataset (and pandas
    # with it, ~0.9 s of a cold `vidseek search`) to read one in-memory file
    table = pq.ParquetFile(pa.BufferReader(data)).read()
    meta = json.loads(table.schema.metadata[b"vidseek"])
    n = table.num_rows
    times = np.stack(
        [_numbers(table["start"]), _numbers(table["end"])], axis=1
    ).astype(np.float64) if n else np.zeros((0, 2))
    dim = int(meta["dim"])
    if dim > 0 and n:
        values = _numbers(table["values"], dim).astype(np.float32).reshape(n, dim)
    else:
        values = np.zeros((n, dim), np.float32)
    probs = None
    if "probs" in table.column_names:
        width = table.schema.field("probs").type.list_size
        probs = _numbers(table["probs"], width).astype(np.float32).reshape(n, -1) \
            if n else np.zeros((0, width), np.float32)
    texts = table["text"].to_pylist() if "text" in table.column_names else None
    metas = [json.loads(m) for m in table["meta"].to_pylist()] if "meta" in table.column_names else None
    return meta, Features(meta["expert"], times, values, probs, texts, metas)
