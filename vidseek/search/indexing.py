"""Building the indexes (`Collection.index`, `vidseek index`): embed every video's windows in each search space and add them to its FAISS index.

Incremental: a video already in a space's index is skipped, so indexing after extracting new
videos only embeds those. A space whose identity (expert weights, encoder, parameters) changed is
rebuilt, never mixed. `--rebuild` (and a changed identity) builds each space beside the old one
and swaps it in only when complete, so a rebuild that cannot finish leaves the old index
searchable. A video whose shard fails its check is reported and left out (exit 1); a full disk
is one line naming the path (exit 2).
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import sqlite3
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from tqdm import tqdm

from vidseek import console
from vidseek.errors import CollectionError, Outcome, WeightsMismatchError
from vidseek.models.rundir import RunDir
from vidseek.registry import UnknownNameError
from vidseek.search.spaces import (
    DEFAULT_ENCODER,
    Space,
    build_space,
    default_space_names,
)
from vidseek.store import CorruptShardError, FeatureStore, StoreWriteError
from vidseek.store.catalog import STAGED_SUFFIX
from vidseek.store.features import MIN_FREE_BYTES
from vidseek.types import IndexSettings


@dataclass
class IndexConfig:
    collection: str
    spaces: list[str] | None = None
    rebuild: bool = False
    model: str | None = None  # a trained run dir: index with its space (jemc, mmt, fvmr)
    encoder: str = DEFAULT_ENCODER  # query encoder of the zero-shot spaces
    progress: bool = True


def _model_space(run_dir: str) -> str:
    """The SPACES name of a trained run dir: its model."""
    from vidseek.search.trained_space import open_run

    return open_run(run_dir).model


def open_store(collection: str) -> FeatureStore:
    root = Path(collection)
    if not (root / "catalog.sqlite").exists():
        raise CollectionError(f"collection {root} does not exist or is empty; run `vidseek extract` first")
    store = FeatureStore(root, create=False)
    if store.readonly:  # a full disk or an unwritable folder: FeatureStore fell back to reading
        full = shutil.disk_usage(root).free < MIN_FREE_BYTES
        store.close()
        why = "no space left on the device" if full else "the collection is not writable"
        raise StoreWriteError(f"cannot write {root}: {why}", str(root), True)
    return store


@dataclass
class SpaceResult:
    """What indexing one space did: videos added / skipped, rows added, and the videos left
    out (video id, one-line reason: a corrupt shard)."""

    added: int = 0
    skipped: int = 0
    rows: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)


def staged_name(space: str) -> str:
    """The space a rebuild fills beside `space` (its own rows and .faiss) before the swap."""
    return space + STAGED_SUFFIX


def _next_free_id(store: FeatureStore, space: str) -> int:
    """One past every id the space's rows or .faiss use."""
    from vidseek.index import VectorIndex
    from vidseek.index.space_index import index_path

    _, top = store.catalog.index_row_stats(space)
    path = index_path(store, space)
    ids = VectorIndex.load(path).ids() if path.exists() else None
    return 1 + max(-1, top if top is not None else -1,
                   int(ids.max()) if ids is not None and len(ids) else -1)


def _write_error(err: BaseException, store: FeatureStore, space: str) -> StoreWriteError | None:
    """A full / read-only disk while indexing as StoreWriteError naming the path (None: not
    a write failure). FAISS reports a failed write as RuntimeError "write error in PATH: ...
    (No space left on device)"; a temporary's name is given as the file it was to become."""
    from vidseek.index.space_index import index_path

    if isinstance(err, sqlite3.Error):
        return StoreWriteError.from_sqlite(store.catalog.path, err)
    if isinstance(err, OSError):
        path = Path(err.filename) if err.filename else index_path(store, space)
        return StoreWriteError.from_os(_final_name(path), err, store.root)
    m = re.search(r"write error in (\S+?): .*\(([^()]+)\)\s*$", str(err))
    if isinstance(err, RuntimeError) and m:
        code = next((c for c in errno.errorcode if os.strerror(c) == m.group(2)), None)
        return StoreWriteError.from_os(_final_name(Path(m.group(1))),
                                       OSError(code, m.group(2)), store.root)
    return None


def _final_name(path: Path) -> Path:
    return path.with_name(re.sub(r"^\.tmp-[0-9a-f]+-", "", path.name))


def index_space(store: FeatureStore, space: Space, progress: bool = True,
                rebuild: bool = False) -> SpaceResult:
    """Add every video with done features not yet in the space.

    rebuild (or a space made with other weights / encoder): the space is built afresh beside
    the old one (`staged_name`) and swapped in only once it is complete, so a failed rebuild
    leaves the old index searchable. A video whose shard fails its check is left out and
    reported (the others are indexed); a full or read-only disk raises StoreWriteError."""
    try:
        return _index_space(store, space, progress, rebuild)
    except (OSError, sqlite3.Error, RuntimeError) as err:
        wrapped = _write_error(err, store, space.name)
        if wrapped is None:
            raise
        raise wrapped from err


def _index_space(store: FeatureStore, space: Space, progress: bool, rebuild: bool) -> SpaceResult:
    from vidseek.index import SpaceIndex, drop_space

    if not rebuild:
        try:
            idx = SpaceIndex(store, space.name, space.dim, space.identity)
        except WeightsMismatchError:
            console.note(f"vidseek index: space {space.name} was built with other weights or "
                         "encoder; rebuilding it beside the old one")
            rebuild = True
    if rebuild:
        staged = staged_name(space.name)
        drop_space(store, staged)  # what a killed rebuild left
        idx = SpaceIndex(store, staged, space.dim, space.identity,
                          first_id=_next_free_id(store, space.name))
    done = [{r.video_id for r in store.catalog.features(expert=ex, status="done")}
            for ex in space.experts]
    videos = sorted(set.intersection(*done)) if done else []
    have = idx.video_ids() | store.catalog.index_empty_videos(idx.space)
    todo = [v for v in videos if v not in have]
    out, empty = SpaceResult(skipped=len(videos) - len(todo)), []
    for vid in tqdm(todo, desc=f"index {space.name}", unit="video",
                    disable=console.bar_disable(progress and bool(todo)), file=sys.stderr):
        try:
            feats = {ex: store.get(vid, ex) for ex in space.experts}
        except CorruptShardError as err:
            out.failed.append((vid, str(err)))
            tqdm.write(f"FAILED {vid} (space {space.name}): {err}", file=sys.stderr)
            continue
        times, vecs = space.embed_video(feats)
        idx.add_video(vid, times, vecs)
        out.added += 1
        out.rows += len(times)
        if len(times) == 0:
            empty.append(vid)
    idx.commit()
    store.catalog.mark_index_empty(idx.space, empty)
    if rebuild:
        _swap(store, idx.space, space.name)
    return out


def _swap(store: FeatureStore, staged: str, space: str) -> None:
    """The staged space becomes `space`: the .faiss first, then the catalog rows in one
    transaction. The staged ids are all new, so a crash between the two leaves an index and
    rows that share no id, which opening the space repairs to empty (the next `index` fills
    it again); never rows that name another video's vectors."""
    from vidseek.index.space_index import index_path

    os.replace(index_path(store, staged), index_path(store, space))
    store.catalog.swap_index_space(staged, space)


def build_indexes(cfg: IndexConfig) -> Outcome:
    from vidseek.index import drop_space, list_spaces, read_settings, write_settings
    from vidseek.search.engine import load_encoder, space_context

    store = open_store(cfg.collection)
    experts = store.experts()
    if not experts:
        raise CollectionError(f"collection {cfg.collection} has no extracted features; run `vidseek extract` first")
    old = read_settings(store) or IndexSettings(cfg.encoder)
    encoder_name = cfg.encoder if cfg.encoder != DEFAULT_ENCODER or cfg.rebuild else old.encoder
    names = list(cfg.spaces or default_space_names(experts))
    models = {} if cfg.rebuild else dict(old.models)  # trained space -> run dir
    if cfg.model:
        model_space = _model_space(cfg.model)
        names.append(model_space)
        models[model_space] = str(cfg.model)
    if not cfg.spaces:  # a plain `index` also brings the trained spaces indexed before up to date
        for name, run in sorted(models.items()):
            if name in names:
                continue
            if RunDir.existing(run) is not None:
                names.append(name)
            else:
                console.note(f"vidseek index: space {name}: its run dir {run} is gone; "
                             "its index is left as it is")
    if not names:
        raise CollectionError(
            f"no searchable expert in {cfg.collection} (has: {', '.join(experts)}); "
            "extract effnet_lite0, i3d, asr or ocr")
    encoder = load_encoder(encoder_name)
    ctx = space_context(store, encoder, cfg.model)
    summary = []
    for name in names:
        try:
            space = build_space(name, replace(ctx, model=models[name]) if name in models else ctx)
        except UnknownNameError:
            if not cfg.model or models.get(name) != str(cfg.model):
                raise
            raise CollectionError(f"{cfg.model} holds a {name} run, which has no search space (index --model "
                                  "takes jemc, mmt or fvmr runs; use localizers with search --rerank)") from None
        missing = [ex for ex in space.experts if ex not in experts]
        if missing:
            raise CollectionError(f"space {name} needs {', '.join(missing)} features, not in {cfg.collection}")
        summary.append((name, index_space(store, space, cfg.progress, cfg.rebuild)))
    if cfg.rebuild:  # spaces not rebuilt (their expert is gone) would not match the settings
        for row in list_spaces(store):
            if row["space"] not in names:
                drop_space(store, row["space"])
    try:
        write_settings(store, IndexSettings(encoder_name, models, old.params))
    except sqlite3.Error as err:
        raise StoreWriteError.from_sqlite(store.catalog.path, err) from err
    total = {r["space"]: r for r in list_spaces(store)}
    print(f"{'space':<16}{'added':>8}{'skipped':>9}{'rows added':>12}{'rows total':>12}  index")
    for name, r in summary:
        t = total.get(name, {})
        print(f"{name:<16}{r.added:>8}{r.skipped:>9}{r.rows:>12}{t.get('n', 0):>12}  "
              f"{t.get('factory', '')}")
    print(f"encoder {encoder_name}; {len(store.catalog.videos())} videos in {cfg.collection}")
    failed = sorted({vid for _, r in summary for vid, _ in r.failed})
    if failed:
        console.note(f"vidseek index: {len(failed)} videos left out (corrupt shards: "
                     f"{', '.join(failed)}); `vidseek extract` redoes them, then `vidseek index`")
        return Outcome.SOME_FAILED
    return Outcome.OK
