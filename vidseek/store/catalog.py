"""SQLite catalog: videos, per-(video, expert) status, and which rows each index holds.

WAL mode and a busy timeout let several worker processes write; every write is one short
transaction, so a killed process never leaves a half-updated record. All of vidseek's SQL lives
in this file: the index code (index.SpaceIndex, index.settings) calls the named methods of the
"index" section below, which own the tables index_rows, index_spaces and index_settings.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from vidseek.types import IndexSettings, VideoInfo

SCHEMA = """
CREATE TABLE IF NOT EXISTS videos (
    video_id TEXT PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    size INTEGER, mtime REAL, content_hash TEXT,
    duration REAL, fps REAL, width INTEGER, height INTEGER,
    has_audio INTEGER, n_frames INTEGER, streams TEXT,
    status TEXT NOT NULL DEFAULT 'pending',      -- pending | done | failed
    error TEXT, updated REAL
);
CREATE TABLE IF NOT EXISTS features (
    video_id TEXT NOT NULL, expert TEXT NOT NULL,
    status TEXT NOT NULL,                          -- done | failed
    error TEXT, shard TEXT, n_rows INTEGER, dim INTEGER,
    weights_sha TEXT, random_weights INTEGER,
    fps REAL, window REAL, stride REAL, updated REAL,
    PRIMARY KEY (video_id, expert)
);
"""

INDEX_SCHEMA = """
CREATE TABLE IF NOT EXISTS index_rows (
    space TEXT NOT NULL, id INTEGER NOT NULL, video_id TEXT NOT NULL,
    start REAL NOT NULL, "end" REAL NOT NULL, row INTEGER NOT NULL,
    PRIMARY KEY (space, id)
);
CREATE INDEX IF NOT EXISTS index_rows_video ON index_rows (space, video_id);
CREATE TABLE IF NOT EXISTS index_spaces (
    space TEXT PRIMARY KEY, factory TEXT, dim INT, identity TEXT, n INT, updated REAL
);
CREATE TABLE IF NOT EXISTS index_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    encoder TEXT NOT NULL, models TEXT NOT NULL, params TEXT NOT NULL, updated REAL
);
"""

# Added by the reliability work (issue 13) as new tables, so older catalogs gain them on open
# and the statements above stay as they are: per-video decode notes (which backend made the
# frames; where a truncated stream ended) and per-shard checks (sha256 of the file, verified
# on read), per-video leases of concurrent extract runs, and the videos a space indexed with
# no rows (no speech, no on-screen text), so a rerun does not embed them again.
EXTRA_SCHEMA = """
CREATE TABLE IF NOT EXISTS decode_notes (
    video_id TEXT PRIMARY KEY, backend TEXT, decoded_end REAL, duration REAL, gaps TEXT,
    updated REAL
);
CREATE TABLE IF NOT EXISTS shard_checks (
    video_id TEXT NOT NULL, expert TEXT NOT NULL, shard TEXT NOT NULL,
    sha256 TEXT NOT NULL, n_rows INTEGER NOT NULL, values_dtype TEXT,
    PRIMARY KEY (video_id, expert)
);
CREATE TABLE IF NOT EXISTS leases (
    path TEXT PRIMARY KEY, pid INTEGER NOT NULL, host TEXT NOT NULL, since REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS index_empty (
    space TEXT NOT NULL, video_id TEXT NOT NULL, PRIMARY KEY (space, video_id)
);
"""

STATUSES = ("pending", "done", "failed")
OPEN_TIMEOUT_S = 60.0
"""How long a connection waits for another writer (SQLite's busy timeout, and the set-up retry)."""
_CHUNK = 900  # SQLite host parameters per statement, well under every build's limit

STAGED_SUFFIX = ".rebuild"
"""A space named `<space>.rebuild` is one being rebuilt beside `<space>` (`vidseek index
--rebuild`); it is never listed, so a rebuild killed before its swap cannot show up in search."""

IndexRow = tuple[str, float, float, int]
"""(video_id, start, end, row) of one FAISS id in one space."""


@dataclass(frozen=True)
class FeatureRecord:
    video_id: str
    expert: str
    status: str
    error: str | None
    shard: str | None
    n_rows: int
    dim: int
    weights_sha: str | None
    random_weights: bool
    fps: float | None
    window: float | None
    stride: float | None


class Catalog:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._conn = sqlite3.connect(str(self.path), timeout=OPEN_TIMEOUT_S, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._set_up()

    def _set_up(self) -> None:
        """WAL mode and the schema. Two processes opening a new catalog at once can get
        "database is locked" from the journal-mode switch without SQLite's busy handler
        waiting, so the set-up is retried until the same timeout a query waits."""
        deadline = time.monotonic() + OPEN_TIMEOUT_S
        while True:
            try:
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=NORMAL")
                self._conn.executescript(SCHEMA + INDEX_SCHEMA)
                self._conn.executescript(EXTRA_SCHEMA)
                return
            except sqlite3.OperationalError as err:
                if "locked" not in str(err) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            if self._conn.in_transaction:  # SQLite already rolled back after SQLITE_FULL / IOERR
                self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def execute(self, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        return self._conn.execute(sql, args)

    # ---- videos -------------------------------------------------------------------------
    def upsert_video(self, info: VideoInfo, status: str = "pending", error: str | None = None) -> None:
        with self.transaction() as c:
            c.execute(
                """INSERT INTO videos (video_id, path, size, mtime, content_hash, duration, fps,
                       width, height, has_audio, n_frames, streams, status, error, updated)
                   VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
                   ON CONFLICT(video_id) DO UPDATE SET path=excluded.path, size=excluded.size,
                       mtime=excluded.mtime, content_hash=excluded.content_hash,
                       duration=excluded.duration, fps=excluded.fps, width=excluded.width,
                       height=excluded.height, has_audio=excluded.has_audio,
                       n_frames=excluded.n_frames, streams=excluded.streams,
                       status=excluded.status, error=excluded.error, updated=excluded.updated""",
                (
                    info.video_id, info.path, info.size, info.mtime, info.content_hash,
                    info.duration, info.fps, info.width, info.height, int(info.has_audio),
                    info.n_frames, json.dumps(list(info.streams)), status, error, time.time(),
                ),
            )

    def record_failed_path(self, video_id: str, path: str, error: str) -> None:
        """A file that could not even be probed: keep a row so `status` shows it."""
        with self.transaction() as c:
            c.execute(
                """INSERT INTO videos (video_id, path, status, error, updated) VALUES (?,?,?,?,?)
                   ON CONFLICT(video_id) DO UPDATE SET path=excluded.path, status='failed',
                       error=excluded.error, updated=excluded.updated""",
                (video_id, path, "failed", error, time.time()),
            )

    def set_video_status(self, video_id: str, status: str, error: str | None = None) -> None:
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {status!r}")
        self.execute(
            "UPDATE videos SET status=?, error=?, updated=? WHERE video_id=?",
            (status, error, time.time(), video_id),
        )

    def video(self, video_id: str) -> VideoInfo | None:
        row = self.execute("SELECT * FROM videos WHERE video_id=?", (video_id,)).fetchone()
        return _info(row) if row is not None and row["duration"] is not None else None

    def video_id_for_path(self, path: str) -> str | None:
        row = self.execute("SELECT video_id FROM videos WHERE path=?", (path,)).fetchone()
        return None if row is None else str(row["video_id"])

    def video_ids(self) -> set[str]:
        return {r[0] for r in self.execute("SELECT video_id FROM videos")}

    def videos(self, status: str | None = None) -> list[VideoInfo]:
        sql = "SELECT * FROM videos WHERE duration IS NOT NULL"
        args: tuple[Any, ...] = ()
        if status is not None:
            sql += " AND status=?"
            args = (status,)
        return [_info(r) for r in self.execute(sql + " ORDER BY video_id", args)]

    def video_rows(self) -> list[dict[str, Any]]:
        """Every video row as a dict, failed-to-probe files included (for `vidseek status`)."""
        return [dict(r) for r in self.execute("SELECT * FROM videos ORDER BY video_id")]

    # ---- features -----------------------------------------------------------------------
    def set_feature(self, rec: FeatureRecord) -> None:
        self.execute(
            """INSERT OR REPLACE INTO features (video_id, expert, status, error, shard, n_rows,
                   dim, weights_sha, random_weights, fps, window, stride, updated)
               VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)""",
            (
                rec.video_id, rec.expert, rec.status, rec.error, rec.shard, rec.n_rows, rec.dim,
                rec.weights_sha, int(rec.random_weights), rec.fps, rec.window, rec.stride,
                time.time(),
            ),
        )

    def feature(self, video_id: str, expert: str) -> FeatureRecord | None:
        row = self.execute(
            "SELECT * FROM features WHERE video_id=? AND expert=?", (video_id, expert)
        ).fetchone()
        return None if row is None else _record(row)

    def features(
        self, video_id: str | None = None, expert: str | None = None, status: str | None = None
    ) -> list[FeatureRecord]:
        sql, args = "SELECT * FROM features WHERE 1=1", []
        for col, val in (("video_id", video_id), ("expert", expert), ("status", status)):
            if val is not None:
                sql += f" AND {col}=?"
                args.append(val)
        return [_record(r) for r in self.execute(sql + " ORDER BY video_id, expert", tuple(args))]


    def path_of(self, video_id: str) -> str | None:
        """The path recorded for a video id, probed or not (None: unknown id)."""
        row = self.execute("SELECT path FROM videos WHERE video_id=?", (video_id,)).fetchone()
        return None if row is None else str(row["path"])

    # ---- index: spaces, rows, settings ----------------------------------------------------
    def index_spaces(self) -> list[dict[str, Any]]:
        """Rows of index_spaces: space, factory, dim, identity, n, updated (staged rebuilds,
        named `<space>` + STAGED_SUFFIX, left out)."""
        return [dict(r) for r in self.execute("SELECT * FROM index_spaces ORDER BY space")
                if not str(r["space"]).endswith(STAGED_SUFFIX)]

    def index_space(self, space: str) -> dict[str, Any] | None:
        row = self.execute("SELECT * FROM index_spaces WHERE space=?", (space,)).fetchone()
        return None if row is None else dict(row)

    def drop_index_space(self, space: str) -> None:
        with self.transaction() as c:
            c.execute("DELETE FROM index_rows WHERE space=?", (space,))
            c.execute("DELETE FROM index_spaces WHERE space=?", (space,))
            c.execute("DELETE FROM index_empty WHERE space=?", (space,))

    def swap_index_space(self, staged: str, space: str) -> None:
        """One transaction: `space` becomes what `staged` holds (rows, metadata, empty videos)
        and `staged` is gone (`index --rebuild` builds beside the old space, then swaps)."""
        with self.transaction() as c:
            for table in ("index_rows", "index_spaces", "index_empty"):
                c.execute(f"DELETE FROM {table} WHERE space=?", (space,))
                c.execute(f"UPDATE {table} SET space=? WHERE space=?", (space, staged))

    def index_empty_videos(self, space: str) -> set[str]:
        """Videos this space indexed that had no rows in it (nothing to embed)."""
        return {str(r[0]) for r in
                self.execute("SELECT video_id FROM index_empty WHERE space=?", (space,))}

    def mark_index_empty(self, space: str, video_ids: Iterable[str]) -> None:
        with self.transaction() as c:
            c.executemany("INSERT OR IGNORE INTO index_empty (space, video_id) VALUES (?,?)",
                          [(space, v) for v in video_ids])

    def index_row_stats(self, space: str) -> tuple[int, int | None]:
        """(number of rows, max id) of a space."""
        n, top = self.execute(
            "SELECT count(*), max(id) FROM index_rows WHERE space=?", (space,)
        ).fetchone()
        return int(n), None if top is None else int(top)

    def index_row_videos(self, space: str) -> dict[int, str]:
        """id -> video_id of every row of a space."""
        return {int(r[0]): str(r[1]) for r in
                self.execute("SELECT id, video_id FROM index_rows WHERE space=?", (space,))}

    def index_video_ids(self, space: str) -> set[str]:
        return {str(r[0]) for r in
                self.execute("SELECT DISTINCT video_id FROM index_rows WHERE space=?", (space,))}

    def index_rows_of_video(self, space: str, video_id: str) -> dict[int, IndexRow]:
        return {int(r[0]): (str(r[1]), float(r[2]), float(r[3]), int(r[4])) for r in self.execute(
            'SELECT id, video_id, start, "end", row FROM index_rows WHERE space=? AND video_id=?',
            (space, video_id))}

    def index_rows_of_videos(self, space: str, video_ids: Iterable[str]) -> list[Any]:
        """(video_id, row, id, start, end) of every row of the given videos in a space, sorted
        by (video_id, row, id): one query per _CHUNK videos (scoring a query's candidate videos
        asked once per video before). Rows unpack as tuples."""
        vids = sorted(set(video_ids))
        out: list[Any] = []
        for i in range(0, len(vids), _CHUNK):
            chunk = vids[i:i + _CHUNK]
            out += self.execute(
                f'SELECT video_id, row, id, start, "end" FROM index_rows WHERE space=? '
                f'AND video_id IN ({",".join("?" * len(chunk))}) ORDER BY video_id, row, id',
                (space, *chunk)).fetchall()
        return out

    def index_ids_of(self, space: str, video_ids: Iterable[str]) -> list[int]:
        """Ids of every row of the given videos in a space."""
        vids = sorted(set(video_ids))
        out: list[int] = []
        for i in range(0, len(vids), _CHUNK):
            chunk = vids[i:i + _CHUNK]
            out += [int(r[0]) for r in self.execute(
                f"SELECT id FROM index_rows WHERE space=? AND video_id IN ({','.join('?' * len(chunk))})",
                (space, *chunk))]
        return out

    def index_rows_by_id(self, space: str, ids: Iterable[int]) -> dict[int, IndexRow]:
        ids = list(ids)
        out: dict[int, IndexRow] = {}
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i:i + _CHUNK]
            for r in self.execute(
                f'SELECT id, video_id, start, "end", row FROM index_rows WHERE space=? '
                f'AND id IN ({",".join("?" * len(chunk))})', (space, *chunk)):
                out[int(r[0])] = (str(r[1]), float(r[2]), float(r[3]), int(r[4]))
        return out

    def drop_index_videos(self, space: str, video_ids: Iterable[str], n: int | None = None) -> None:
        """Delete the rows of these videos in one transaction; n: the space's new row count."""
        with self.transaction() as c:
            for vid in video_ids:
                c.execute("DELETE FROM index_rows WHERE space=? AND video_id=?", (space, vid))
            if n is not None:
                c.execute("UPDATE index_spaces SET n=?, updated=? WHERE space=?", (n, time.time(), space))

    def commit_index_rows(self, space: str, removed: Iterable[str], rows: Mapping[int, IndexRow],
                          factory: str, dim: int, identity: str, n: int) -> None:
        """One transaction: drop the removed videos' rows, insert the new rows, record the space."""
        with self.transaction() as c:
            for vid in removed:
                c.execute("DELETE FROM index_rows WHERE space=? AND video_id=?", (space, vid))
            c.executemany(
                'INSERT INTO index_rows (space, id, video_id, start, "end", row) VALUES (?,?,?,?,?,?)',
                [(space, i, *r) for i, r in rows.items()],
            )
            c.execute(
                """INSERT INTO index_spaces (space, factory, dim, identity, n, updated)
                   VALUES (?,?,?,?,?,?) ON CONFLICT(space) DO UPDATE SET factory=excluded.factory,
                   dim=excluded.dim, identity=excluded.identity, n=excluded.n,
                   updated=excluded.updated""",
                (space, factory, dim, identity, n, time.time()),
            )

    def index_settings(self) -> IndexSettings | None:
        """The collection's index settings; None before the first `vidseek index`."""
        row = self.execute("SELECT encoder, models, params FROM index_settings WHERE id=1").fetchone()
        if row is None:
            return None
        return IndexSettings(str(row["encoder"]), json.loads(row["models"]), json.loads(row["params"]))

    def put_index_settings(self, settings: IndexSettings) -> None:
        d = settings.as_json()
        self.execute(
            """INSERT INTO index_settings (id, encoder, models, params, updated) VALUES (1,?,?,?,?)
               ON CONFLICT(id) DO UPDATE SET encoder=excluded.encoder, models=excluded.models,
               params=excluded.params, updated=excluded.updated""",
            (d["encoder"], json.dumps(d["models"], sort_keys=True),
             json.dumps(d["params"], sort_keys=True), time.time()),
        )


@dataclass(frozen=True)
class ShardCheck:
    """What a done shard must be when read: its file's sha256 and row count."""

    shard: str
    sha256: str
    n_rows: int
    values_dtype: str | None


@dataclass(frozen=True)
class DecodeNote:
    """Which backend decoded a video, and where its stream ended when it ended early."""

    backend: str | None
    decoded_end: float | None
    duration: float | None
    gaps: tuple[tuple[float, float], ...] = ()  # corrupt spans without frames (no rows there)


def open_readonly(path: Path, immutable: bool = True) -> Catalog:
    """A Catalog on a collection that cannot be written (a read-only mount, another user's
    folder): SQLite `immutable=1`, which needs no -wal/-shm side files and creates none (it
    does not see a -wal left by a writer that was killed). immutable=False: `mode=ro`, for a
    writable folder that cannot take a normal open (a full disk)."""
    cat = Catalog.__new__(Catalog)
    cat.path = Path(path)
    uri = f"file:{quote(str(cat.path.resolve()))}?{'immutable=1' if immutable else 'mode=ro'}"
    cat._conn = sqlite3.connect(uri, uri=True, timeout=60, isolation_level=None,
                                check_same_thread=False)  # the app reads it from its worker threads
    cat._conn.row_factory = sqlite3.Row
    return cat


def _missing_table(err: sqlite3.OperationalError) -> bool:
    """An older catalog opened read-only lacks the EXTRA_SCHEMA tables: read as empty."""
    return "no such table" in str(err)


def set_feature_checked(cat: Catalog, rec: FeatureRecord, check: ShardCheck) -> None:
    """The done record and its shard check in one transaction: never one without the other."""
    with cat.transaction() as c:
        cat.set_feature(rec)
        c.execute(
            "INSERT OR REPLACE INTO shard_checks (video_id, expert, shard, sha256, n_rows, "
            "values_dtype) VALUES (?,?,?,?,?,?)",
            (rec.video_id, rec.expert, check.shard, check.sha256, check.n_rows,
             check.values_dtype),
        )


def shard_check(cat: Catalog, video_id: str, expert: str) -> ShardCheck | None:
    try:
        row = cat.execute(
            "SELECT shard, sha256, n_rows, values_dtype FROM shard_checks "
            "WHERE video_id=? AND expert=?", (video_id, expert),
        ).fetchone()
    except sqlite3.OperationalError as err:
        if _missing_table(err):
            return None
        raise
    return None if row is None else ShardCheck(row[0], row[1], int(row[2]), row[3])


def set_decode_note(cat: Catalog, video_id: str, note: DecodeNote) -> None:
    cat.execute(
        "INSERT OR REPLACE INTO decode_notes (video_id, backend, decoded_end, duration, gaps, "
        "updated) VALUES (?,?,?,?,?,?)",
        (video_id, note.backend, note.decoded_end, note.duration,
         json.dumps([list(g) for g in note.gaps]), time.time()),
    )


def decode_note(cat: Catalog, video_id: str) -> DecodeNote | None:
    return decode_notes(cat, video_id).get(video_id)


def decode_notes(cat: Catalog, video_id: str | None = None) -> dict[str, DecodeNote]:
    try:
        sql = "SELECT video_id, backend, decoded_end, duration, gaps FROM decode_notes"
        rows = cat.execute(sql + " WHERE video_id=?", (video_id,)) if video_id is not None \
            else cat.execute(sql)
        return {r[0]: DecodeNote(r[1], r[2], r[3], tuple(tuple(g) for g in json.loads(r[4] or "[]")))
                for r in rows}
    except sqlite3.OperationalError as err:
        if _missing_table(err):
            return {}
        raise


@dataclass(frozen=True)
class Lease:
    """An extract run's claim on one video path: held while its process lives."""

    path: str
    pid: int
    host: str
    since: float


LEASE_FOREIGN_S = 24 * 3600.0  # another host's lease, whose pid cannot be checked, expires


def claim(cat: Catalog, path: str, pid: int, host: str, alive: Callable[[Lease], bool]) -> Lease | None:
    """Claim `path` for (pid, host) unless a live lease of another process holds it: returns
    None when claimed, else the holder. `alive(lease)` says whether a holder still runs."""
    with cat.transaction() as c:
        row = c.execute("SELECT path, pid, host, since FROM leases WHERE path=?", (path,)).fetchone()
        held = None if row is None else Lease(row[0], int(row[1]), row[2], float(row[3]))
        if held is not None and (held.pid, held.host) != (pid, host) and alive(held):
            return held
        c.execute("INSERT OR REPLACE INTO leases (path, pid, host, since) VALUES (?,?,?,?)",
                  (path, pid, host, time.time()))
    return None


def release(cat: Catalog, path: str, pid: int, host: str) -> None:
    cat.execute("DELETE FROM leases WHERE path=? AND pid=? AND host=?", (path, pid, host))


def leases(cat: Catalog) -> list[Lease]:
    try:
        rows = cat.execute("SELECT path, pid, host, since FROM leases ORDER BY path").fetchall()
    except sqlite3.OperationalError as err:
        if _missing_table(err):
            return []
        raise
    return [Lease(r[0], int(r[1]), r[2], float(r[3])) for r in rows]


VIDEO_TABLES = ("videos", "features", "shard_checks", "decode_notes")


def export_video(cat: Catalog, video_id: str) -> dict[str, list[dict[str, Any]]]:
    """Every catalog row of one video, by table: what a Ray actor hands the driver, which
    alone writes the shared catalog (SQLite WAL is unsafe on network filesystems)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for table in VIDEO_TABLES:
        rows = cat.execute(f"SELECT * FROM {table} WHERE video_id=?", (video_id,)).fetchall()
        out[table] = [dict(r) for r in rows]
    return out


def import_video(cat: Catalog, dump: dict[str, list[dict[str, Any]]]) -> None:
    """Apply export_video's rows in one transaction (replacing that video's rows)."""
    with cat.transaction() as c:
        for table in VIDEO_TABLES:
            for row in dump.get(table, []):
                cols = ", ".join(row)
                marks = ", ".join("?" * len(row))
                c.execute(f"INSERT OR REPLACE INTO {table} ({cols}) VALUES ({marks})",
                          tuple(row.values()))


def _info(row: sqlite3.Row) -> VideoInfo:
    return VideoInfo(
        video_id=row["video_id"], path=row["path"], size=row["size"] or 0,
        mtime=row["mtime"] or 0.0, content_hash=row["content_hash"] or "",
        duration=row["duration"] or 0.0, fps=row["fps"] or 0.0, width=row["width"] or 0,
        height=row["height"] or 0, has_audio=bool(row["has_audio"]), n_frames=row["n_frames"],
        streams=tuple(json.loads(row["streams"] or "[]")),
    )


def _record(row: sqlite3.Row) -> FeatureRecord:
    return FeatureRecord(
        video_id=row["video_id"], expert=row["expert"], status=row["status"], error=row["error"],
        shard=row["shard"], n_rows=row["n_rows"] or 0, dim=row["dim"] or 0,
        weights_sha=row["weights_sha"], random_weights=bool(row["random_weights"]),
        fps=row["fps"], window=row["window"], stride=row["stride"],
    )
