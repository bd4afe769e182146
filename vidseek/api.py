"""The Python API: one `Collection` object that extracts, indexes, searches and reads features.

The CLI verbs and `vidseek serve` call the same pipelines functions this class calls, so a
notebook, the command line and the web app give the same answers. A Collection keeps its
search engine (encoder + FAISS indexes) open between queries: the first search pays the load,
the next ones do not.

    import vidseek
    col = vidseek.open_collection("my-collection", create=True)
    col.extract(["a.mp4", "dir/"])
    col.index()
    hits = col.search("a dog rides a skateboard", top=5)
"""

from __future__ import annotations

import json
import sqlite3
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vidseek.errors import CollectionError, ConfigError, Outcome, QueryError

if TYPE_CHECKING:
    from vidseek.extract.worker import ExtractConfig
    from vidseek.search.engine import Reranker, Searcher
    from vidseek.search.indexing import IndexConfig
    from vidseek.store import FeatureStore
    from vidseek.types import Features, Hit

EXIT_ERROR = 2


def _jsonable(x: Any) -> Any:
    """numpy scalars / arrays and tuples inside `why` as plain JSON values."""
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, float) and not np.isfinite(x):
        return None
    return x


def hit_json(hit: Hit) -> dict[str, Any]:
    """The one JSON form of a hit (`search --json`, `/api/search`): `Hit.as_json` (video, path,
    start, end, score, why), with numpy values and non-finite floats made plain JSON."""
    return dict(_jsonable(hit.as_json()))


# ---- read-only opening ----------------------------------------------------------------------
def _readonly_catalog(path: Path) -> Any:
    """A Catalog whose SQLite connection cannot write: mode=ro, else immutable=1 where even the
    WAL side files cannot be made (a read-only folder); the store's own opener."""
    from vidseek.store.catalog import open_readonly

    last: Exception | None = None
    for immutable in (False, True):
        try:
            cat = open_readonly(path, immutable=immutable)
            cat.video_ids()
            return cat
        except (sqlite3.Error, CollectionError) as err:
            last = err
    raise CollectionError(f"cannot open catalog {path} read-only: {last}")


FEATURE_CACHE_BYTES = 256 * 2**20


def readonly_store(root: str | Path, cache_bytes: int = FEATURE_CACHE_BYTES) -> FeatureStore:
    """A FeatureStore that reads a collection without writing a byte to it (the serve path).
    The plain FeatureStore open sets WAL mode, creates tables and sweeps temporaries. Since
    nothing changes underneath it, `get` keeps recent shards in memory (up to cache_bytes):
    explaining each hit re-reads its video's shards, which was most of a warm query's time."""
    from collections import OrderedDict

    from vidseek.store import FeatureStore

    path = Path(root)
    if not (path / "catalog.sqlite").exists():
        raise CollectionError(f"collection {path} does not exist or has no catalog; "
                              "run `vidseek extract` first")

    class ReadOnlyStore(FeatureStore):
        def __init__(self) -> None:  # noqa: D107 - opened read-only below, not by the base
            self.root = path
            self.catalog = _readonly_catalog(path / "catalog.sqlite")
            self._cache: OrderedDict[tuple[str, str], tuple[int, Features]] = OrderedDict()
            self._cached = 0

        def get(self, video_id: str, expert: str) -> Features:
            key = (video_id, expert)
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit[1]
            feats = super().get(video_id, expert)
            size = feats.values.nbytes + (feats.probs.nbytes if feats.probs is not None else 0) \
                + feats.times.nbytes + sum(len(t) for t in feats.texts or ())
            if size <= cache_bytes:
                self._cache[key] = (size, feats)
                self._cached += size
                while self._cached > cache_bytes:
                    _, (old, _) = self._cache.popitem(last=False)
                    self._cached -= old
            return feats

    return ReadOnlyStore()


def load_reranker(run_dir: str, store: FeatureStore, min_confidence: float | None = None) -> Reranker:
    """The reranker derived from the card of the run folder's model (gated at min_confidence;
    None: the reranker's own default, rerank.MIN_CONFIDENCE)."""
    from vidseek import plugins
    from vidseek.registry import UnknownNameError
    from vidseek.search.engine import RERANKERS
    from vidseek.search.trained_space import open_run

    model = open_run(run_dir).model
    plugins.load_models()
    try:
        builder = RERANKERS.get(model)
    except UnknownNameError as err:
        raise CollectionError(f"{run_dir} holds a {model} run, which cannot re-rank moments "
                              f"({err})") from None
    return builder(run_dir, store) if min_confidence is None else \
        builder(run_dir, store, min_confidence=float(min_confidence))


class Collection:
    """One collection folder. Methods mirror the CLI verbs; the search engine stays loaded."""

    def __init__(self, root: str | Path, *, read_only: bool = False) -> None:
        self.root = Path(root)
        self.read_only = read_only
        self._searcher: Searcher | None = None
        self._store: FeatureStore | None = None
        self._rerankers: dict[tuple[str, float | None], Reranker] = {}

    def __repr__(self) -> str:
        return f"Collection({str(self.root)!r}{', read_only=True' if self.read_only else ''})"

    # ---- stores ---------------------------------------------------------------------------
    @property
    def store(self) -> FeatureStore:
        """The collection's store, opened once (read-only when the Collection is)."""
        if self._store is None:
            if self.read_only:
                self._store = readonly_store(self.root)
            else:
                from vidseek.store import FeatureStore

                self._store = FeatureStore(self.root, create=False)
        return self._store

    def close(self) -> None:
        if self._searcher is not None and self._searcher.store is not self._store:
            self._searcher.store.close()
        if self._store is not None:
            self._store.close()
        self._searcher = self._store = None
        self._rerankers = {}

    def __enter__(self) -> Collection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _writable(self, verb: str) -> None:
        if self.read_only:
            raise CollectionError(f"collection {self.root} is open read-only; cannot {verb}")

    # ---- verbs ----------------------------------------------------------------------------
    def extract(self, paths: Sequence[str] | str, experts: Sequence[str] | None = None,
                **options: Any) -> Outcome:
        """Decode each video once and run the experts into the collection (the CLI's engine).
        `options` are the fields of vidseek.extract.worker.ExtractConfig (device, workers,
        engine, backend, random_weights, force, progress, from_list, ...). Returns Outcome.OK
        (0) when every video is done, SOME_FAILED (1) when some failed (see `status()`); raises
        a vidseek error when nothing could run."""
        from vidseek.extract.worker import ExtractConfig

        options.setdefault("progress", False)
        cfg = ExtractConfig([paths] if isinstance(paths, str) else list(paths), str(self.root),
                            experts=list(experts) if experts else None, **options)
        return self.run_extract(cfg)

    def run_extract(self, cfg: ExtractConfig) -> Outcome:
        """`extract` from a whole config (what `vidseek extract` passes)."""
        self._writable("extract")
        if Path(cfg.collection) != self.root:
            raise CollectionError(f"the config names collection {cfg.collection}, not {self.root}")
        from vidseek.extract.batch import extract_batch

        self.close()
        return extract_batch(cfg)

    def index(self, spaces: Sequence[str] | None = None, *, model: str | None = None,
              rebuild: bool = False, encoder: str | None = None, progress: bool = False) -> Outcome:
        """Build or extend the search indexes (incremental; `rebuild` builds each space beside
        the old one and swaps it in when complete)."""
        from vidseek.search.indexing import IndexConfig

        cfg = IndexConfig(str(self.root), spaces=list(spaces) if spaces else None,
                          rebuild=rebuild, model=model, progress=progress)
        if encoder:
            cfg.encoder = encoder
        return self.run_index(cfg)

    def run_index(self, cfg: IndexConfig) -> Outcome:
        """`index` from a whole config (what `vidseek index` passes)."""
        self._writable("index")
        if Path(cfg.collection) != self.root:
            raise CollectionError(f"the config names collection {cfg.collection}, not {self.root}")
        from vidseek.search.indexing import build_indexes

        self.close()
        return build_indexes(cfg)

    @property
    def searcher(self) -> Searcher:
        """The loaded search engine (text encoder + every indexed space), opened once."""
        if self._searcher is None:
            from vidseek.search.engine import Searcher, open_searcher

            self._searcher = Searcher(self.store) if self.read_only else open_searcher(self.root)
        return self._searcher

    def search(self, query: str, top: int = 10, *, videos: bool = False,
               weights: dict[str, float] | None = None, explain: bool = True,
               all_moments: bool = False, rerank: str | None = None,
               rerank_min_confidence: float | None = None) -> list[Hit]:
        """Hits best first (video, path, start, end, score in [0, 1], why), as `vidseek search`:
        nested moments of a video fold into one hit (why.moment.also) unless all_moments.
        A query without a letter or digit raises errors.QueryError; one in a script the text
        encoder cannot read warns (search.query.QueryWarning). `rerank`: a trained localizer's
        run folder that re-orders the moments inside each video (gated by its confidence)."""
        from vidseek.search.engine import SearchOptions
        from vidseek.search.query import check_query

        if not query.strip():
            raise QueryError("the query is empty")
        if top < 1:
            raise ConfigError(f"top must be at least 1, got {top}")
        s = self.searcher
        unknown = sorted(set(weights or {}) - set(s.spaces))
        if unknown:
            raise ConfigError(f"weights name {', '.join(unknown)}, not an indexed space of "
                              f"{self.root}; known: {', '.join(sorted(s.spaces))}")
        if rerank:
            with warnings.catch_warnings():  # the search below warns, once
                warnings.simplefilter("ignore")
                check_query(query, s.encoder.name)  # before the reranker loads: fail fast
        reranker = self.reranker(rerank, rerank_min_confidence) if rerank else None
        from vidseek.threads import one_blas_thread

        with one_blas_thread():  # a query is small matrix work: BLAS threads only wait
            return s.search(query, SearchOptions(top=top, videos=videos, weights=weights,
                                                 explain=explain, rerank=reranker,
                                                 all_moments=all_moments))

    def reranker(self, run_dir: str, min_confidence: float | None = None) -> Reranker:
        """The reranker of a trained localizer's run folder, loaded once per (run, gate)."""
        key = (run_dir, min_confidence)
        if key not in self._rerankers:
            self._rerankers[key] = load_reranker(run_dir, self.searcher.store, min_confidence)
        return self._rerankers[key]

    def features(self, video: str, expert: str) -> Features:
        """One expert's rows for one video: `.times` (n, 2) seconds, `.values` (n, d) float32
        (plus `.probs`, `.texts` for classifiers and speech / OCR)."""
        return self.store.get(video, expert)

    def export(self, format: str, out: str | Path, experts: Sequence[str] | None = None,
               videos: Sequence[str] | None = None) -> dict[str, Any]:
        """Features as per-video .npy files (`npy`), one Parquet dataset (`parquet`) or a Hugging
        Face dataset saved to disk (`hf`); returns the manifest (videos, experts, format)."""
        from vidseek.export import export_features

        store = self.store if self._store is not None else readonly_store(self.root)
        try:
            return export_features(store, format, str(out), list(experts) if experts else None,
                                   list(videos) if videos else None)
        finally:
            if store is not self._store:
                store.close()

    def experts(self) -> list[str]:
        return self.store.experts()

    def videos(self) -> list[dict[str, Any]]:
        """Every video of the catalog: id, path, duration, status, error."""
        return [{"id": r["video_id"], "path": r["path"], "duration": r["duration"],
                 "status": r["status"], "error": r["error"]} for r in self.store.catalog.video_rows()]

    def report(self) -> dict[str, Any]:
        """Per video: status, error, duration, each expert's state (a shard that fails its check
        is `corrupt`), the decode backend and flags (truncated, corrupt spans); plus counts.
        What `vidseek status --json` prints."""
        from vidseek.store import FeatureStore
        from vidseek.store.catalog import decode_notes

        with FeatureStore(self.root, create=False) as store:
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
        return {"counts": counts, "videos": rows}

    def status(self) -> dict[str, Any]:
        """Counts per status, the experts and the indexed spaces (what `vidseek status` shows)."""
        from vidseek.index.settings import read_settings

        rows = self.videos()
        counts = {s: sum(r["status"] == s for r in rows) for s in ("done", "failed", "pending")}
        indexed = [{"space": r["space"], "n": r["n"], "factory": r["factory"]}
                   for r in self.store.catalog.index_spaces()]
        settings = read_settings(self.store)
        encoder = settings.encoder if settings is not None else None
        return {"collection": str(self.root), "videos": len(rows), "counts": counts,
                "experts": self.experts(), "spaces": indexed, "encoder": encoder}


def open_collection(root: str | Path, *, create: bool = False, read_only: bool = False) -> Collection:
    """The collection at `root`. Raises CollectionError when it does not exist, unless
    `create` (then an empty one is made, ready for `extract`)."""
    root = Path(root)
    if not (root / "catalog.sqlite").exists():
        if not create or read_only:
            raise CollectionError(f"collection {root} does not exist; run `vidseek extract` first "
                                  "(or open_collection(..., create=True))")
        from vidseek.store import FeatureStore

        FeatureStore(root).close()
    return Collection(root, read_only=read_only)


def dumps(hits: Iterable[Hit]) -> str:
    return json.dumps([hit_json(h) for h in hits])
