"""One FAISS index per "space" of a collection, its rows kept in the collection's catalog.

A space is one vector space that windows are embedded into (e.g. `conse-appearance`,
`speech-minilm`, `jemc`). Its index is COLLECTION/index/<space>.faiss; the catalog holds which
(video, start, end, row) each FAISS id stands for, and what made the vectors (`identity`), so a
query embedded by a different model is refused instead of silently scored.

Consistency: `commit` writes the index (temp file + rename) and only then commits the rows in
one SQLite transaction. A crash in between leaves an index that is ahead of its rows; opening
the space reconciles the two (index ids without rows are removed, videos with missing rows are
dropped from both) so `video_ids()` never names a video that search cannot find, and the next
indexing run re-adds whatever was lost.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from vidseek.errors import CollectionError, WeightsMismatchError
from vidseek.index.vector_index import (
    FLAT_MAX,
    VectorIndex,
    choose_factory,
    normalize,
    size_class,
    train_size,
)
from vidseek.store.catalog import IndexRow
from vidseek.store.features import FeatureStore
from vidseek.types import SearchRow

log = logging.getLogger(__name__)

EXACT_MAX = 50_000
"""A search restricted to videos with at most this many rows scores them exactly (reconstruct +
dot product) instead of a filtered ANN search, which loses recall on small subsets."""
TUNE_QUERIES = 256


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)


def index_path(store: FeatureStore, space: str) -> Path:
    return store.root / "index" / f"{_safe(space)}.faiss"


def list_spaces(store: FeatureStore) -> list[dict[str, Any]]:
    """Rows of index_spaces: space, factory, dim, identity, n, updated."""
    return store.catalog.index_spaces()


def drop_space(store: FeatureStore, space: str) -> None:
    """Forget a space (rows, metadata, .faiss): what `--rebuild` does before indexing again."""
    store.catalog.drop_index_space(space)
    index_path(store, space).unlink(missing_ok=True)


class SpaceIndex:
    """COLLECTION/index/<space>.faiss + rows in the collection's catalog.sqlite.

    Tables (store.catalog owns them and their SQL; this class is the one writer of their rows):
    index_rows(space, id, video_id, start, "end", row, PRIMARY KEY(space, id)) and
    index_spaces(space PRIMARY KEY, factory, dim, identity, n, updated). `identity` names what
    made the vectors (expert weights sha + text encoder sha); opening with another identity
    raises WeightsMismatchError. Changes are held in memory (and are searchable) until `commit`.
    `flat_max` / `mem_budget_bytes` move the size-class thresholds of `choose_factory`.
    `first_id`: the lowest id a new row may take (a space built beside another takes ids the
    other never used, so swapping the two can never pair a row with another's vector).
    """

    def __init__(
        self,
        store: FeatureStore,
        space: str,
        dim: int,
        identity: str,
        *,
        flat_max: int = FLAT_MAX,
        mem_budget_bytes: int | None = None,
        mmap: bool = True,
        first_id: int = 0,
    ) -> None:
        self.store, self.space, self.dim, self.identity = store, space, int(dim), identity
        self.flat_max, self.mem_budget_bytes = flat_max, mem_budget_bytes
        self.path = index_path(store, space)
        meta = store.catalog.index_space(space)
        if meta is not None and (meta["identity"] != identity or int(meta["dim"]) != self.dim):
            raise WeightsMismatchError(
                f"index space {space!r} in {store.root} was built by {meta['identity']!r} "
                f"(dim {meta['dim']}), not {identity!r} (dim {self.dim}); "
                "rebuild it with `vidseek index --rebuild`"
            )
        self.index = self._open_index(mmap)
        self._pending: dict[int, IndexRow] = {}  # id -> row, added since the last commit
        self._layout: dict[str, list[tuple[int, int, float, float]]] = {}  # committed (row, id,
        # start, end) per video, cached for window scores; cleared at commit
        self._removed: set[str] = set()  # videos whose committed rows go at the next commit
        self._repair(meta)
        _, top = store.catalog.index_row_stats(space)
        ids = self.index.ids()
        self._next_id = 1 + max(first_id - 1, top if top is not None else -1,
                                int(ids.max()) if len(ids) else -1)

    def _open_index(self, mmap: bool) -> VectorIndex:
        if self.path.exists():
            idx = VectorIndex.load(self.path, mmap=mmap)
            if idx.dim == self.dim:
                return idx
            log.warning("index %s has dim %d, expected %d; starting it afresh", self.path, idx.dim, self.dim)
        return VectorIndex.create(self.dim, "Flat")

    # ---- consistency ----------------------------------------------------------------------
    def _repair(self, meta: dict[str, Any] | None) -> None:
        """Make the index and the committed rows name the same ids (see module docstring)."""
        n_rows, max_row = self.store.catalog.index_row_stats(self.space)
        ids = self.index.ids()
        max_idx = int(ids.max()) if len(ids) else None
        if n_rows == len(ids) and max_row == max_idx:
            return
        row_ids = self.store.catalog.index_row_videos(self.space)
        in_index = set(ids.tolist())
        orphans = in_index - row_ids.keys()
        broken = {v for i, v in row_ids.items() if i not in in_index}
        drop = orphans | {i for i, v in row_ids.items() if v in broken and i in in_index}
        log.warning(
            "index space %r: repairing %s (%d ids without rows, %d videos with missing rows)",
            self.space, self.path, len(orphans), len(broken),
        )
        if drop:
            self.index.remove(np.fromiter(drop, np.int64, len(drop)))
        self.index.save(self.path)
        self.store.catalog.drop_index_videos(self.space, broken,
                                             self.index.ntotal if meta is not None else None)

    # ---- mutation -------------------------------------------------------------------------
    def video_ids(self) -> set[str]:
        """Videos indexed in this space (pending additions included, pending removals not)."""
        done = self.store.catalog.index_video_ids(self.space) - self._removed
        return done | {r[0] for r in self._pending.values()}

    def add_video(self, video_id: str, times: np.ndarray, vectors: np.ndarray) -> None:
        """Append one video's windows (ids continue from the max id; no rebuild).

        times: (N, 2) seconds; vectors: (N, dim), L2-normalised here. A video already in the
        space is replaced.
        """
        times = np.asarray(times, dtype=np.float64).reshape(-1, 2)
        vectors = np.asarray(vectors, dtype=np.float32)
        if len(times) == 0:  # a video with no rows in this space (e.g. no speech): nothing to add
            return
        vectors = vectors.reshape(len(times), -1)
        if vectors.shape[1] != self.dim:
            raise CollectionError(
                f"video {video_id}: vectors have dim {vectors.shape[1]}, space {self.space!r} has {self.dim}"
            )
        if video_id in self.video_ids():
            self.remove_video(video_id)
        ids = np.arange(self._next_id, self._next_id + len(times), dtype=np.int64)
        self.index.add(normalize(vectors), ids)
        self._next_id += len(times)
        for i, (s, e) in enumerate(times.tolist()):
            self._pending[int(ids[i])] = (video_id, float(s), float(e), i)

    def remove_video(self, video_id: str) -> None:
        """Remove a video's rows from the index now and from the catalog at commit."""
        ids = [i for i, r in self._pending.items() if r[0] == video_id]
        for i in ids:
            del self._pending[i]
        if video_id not in self._removed:
            ids += list(self.store.catalog.index_rows_of_video(self.space, video_id))
            self._removed.add(video_id)
        if ids:
            self.index.remove(np.asarray(ids, np.int64))

    def commit(self) -> None:
        """Grow the index type if its size class changed, save it, then commit the rows."""
        target = choose_factory(self.index.ntotal, self.dim, self.mem_budget_bytes, self.flat_max)
        if size_class(target) > size_class(self.index.factory):
            self._rebuild(target)
        self.index.save(self.path)
        self._after_index_saved()
        self.store.catalog.commit_index_rows(self.space, self._removed, self._pending, self.index.factory,
                                             self.dim, self.identity, self.index.ntotal)
        self._pending.clear()
        self._removed.clear()
        self._layout.clear()

    def _after_index_saved(self) -> None:
        """Point between the index rename and the row commit (tests raise here to crash)."""

    def _rebuild(self, factory: str) -> None:
        vecs, ids = self.index.reconstruct_all()
        rng = np.random.default_rng(0)
        train = vecs[rng.choice(len(vecs), train_size(factory, len(vecs)), replace=False)]
        log.info("index space %r: %s -> %s (%d rows)", self.space, self.index.factory, factory, len(ids))
        fresh = VectorIndex.create(self.dim, factory, train)
        fresh.add(vecs, ids)
        fresh.tune(train[: min(len(train), TUNE_QUERIES)], target=0.95, k=10)
        self.index = fresh

    # ---- query ----------------------------------------------------------------------------
    def search(
        self, query: np.ndarray, k: int, video_ids: set[str] | None = None
    ) -> list[SearchRow]:
        """Rows best first, optionally only within video_ids."""
        q = normalize(query).reshape(-1, self.dim)[:1]
        if video_ids is None:
            scores, ids = self.index.search(q, k)
            scores, ids = scores[0], ids[0]
        else:
            allowed = self._ids_of(video_ids)
            if len(allowed) == 0:
                return []
            if len(allowed) <= EXACT_MAX:
                s = self.index.reconstruct(allowed) @ q[0]
                top = np.argsort(-s, kind="stable")[:k]
                scores, ids = s[top], allowed[top]
            else:
                import faiss

                scores, ids = self.index.search(q, k, selector=faiss.IDSelectorBatch(allowed))
                scores, ids = scores[0], ids[0]
        rows = self._rows(ids[ids >= 0].tolist())
        return [
            SearchRow(rows[i][0], rows[i][1], rows[i][2], float(s), rows[i][3], self.space)
            for s, i in zip(scores.tolist(), ids.tolist(), strict=True)
            if i >= 0 and i in rows
        ]

    def window_scores(self, query: np.ndarray, video_id: str) -> tuple[np.ndarray, np.ndarray]:
        """Exact scores of every row of one video, in row order: (times (N,2), scores (N,))."""
        return self.window_scores_many(query, [video_id])[video_id]

    def window_scores_many(self, query: np.ndarray, video_ids: Iterable[str]
                           ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """`window_scores` of several videos at once: their rows in one catalog query (cached
        per video until this space changes), one `reconstruct` and one matrix product over all
        of them. Videos without rows get empty arrays."""
        q = normalize(query).reshape(-1, self.dim)[0]
        vids = list(dict.fromkeys(video_ids))
        layout = self._layouts(vids)
        ids = [layout[v][0] for v in vids]
        flat = np.concatenate(ids) if ids else np.zeros(0, np.int64)
        # float64 products rounded to float32: the same scores whatever the batch and memory
        # alignment (float32 SIMD kernels differ in the last ulp between calls, which reorders
        # tied windows)
        scores = (self.index.reconstruct(flat).astype(np.float64) @ q.astype(np.float64)
                  ).astype(np.float32) if len(flat) else np.zeros(0, np.float32)
        out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        at = 0
        for v in vids:
            vid_ids, times = layout[v]
            out[v] = (times, scores[at : at + len(vid_ids)])
            at += len(vid_ids)
        return out

    def _layouts(self, video_ids: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """video -> (ids, times (N, 2)) sorted by (row, id): the committed rows (one catalog
        query for the videos not cached yet; the cache is dropped when this space changes)
        plus the pending ones, less pending removals, as `_video_rows` gives them."""
        missing = [v for v in video_ids if v not in self._layout]
        if missing:
            for v in missing:
                self._layout[v] = []
            for v, r, i, s, e in self.store.catalog.index_rows_of_videos(self.space, missing):
                self._layout[v].append((r, i, s, e))  # sorted by (row, id) in SQL
        out = {}
        for v in video_ids:
            entries = [] if v in self._removed else self._layout[v]
            if self._pending:
                pend = [(r[3], i, r[1], r[2]) for i, r in self._pending.items() if r[0] == v]
                entries = sorted(entries + pend) if pend else entries
            out[v] = (np.array([x[1] for x in entries], np.int64),
                      np.array([(x[2], x[3]) for x in entries], np.float64).reshape(-1, 2))
        return out

    @property
    def ntotal(self) -> int:
        return self.index.ntotal

    @property
    def factory(self) -> str:
        return self.index.factory

    # ---- rows: committed (catalog) + pending, less pending removals ------------------------
    def _video_rows(self, video_id: str) -> dict[int, IndexRow]:
        out: dict[int, IndexRow] = {}
        if video_id not in self._removed:
            out.update(self.store.catalog.index_rows_of_video(self.space, video_id))
        out.update({i: r for i, r in self._pending.items() if r[0] == video_id})
        return out

    def _ids_of(self, video_ids: Iterable[str]) -> np.ndarray:
        wanted = set(video_ids)
        ids = [i for i, r in self._pending.items() if r[0] in wanted]
        ids += self.store.catalog.index_ids_of(self.space, wanted - self._removed)
        return np.asarray(sorted(ids), np.int64)

    def _rows(self, ids: list[int]) -> dict[int, IndexRow]:
        out: dict[int, IndexRow] = {i: self._pending[i] for i in ids if i in self._pending}
        rest = self.store.catalog.index_rows_by_id(self.space, (i for i in ids if i not in out))
        out.update({i: r for i, r in rest.items() if r[0] not in self._removed})
        return out
