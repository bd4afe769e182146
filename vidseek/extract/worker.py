"""One video into the store: probe, skip what is done, run the experts once, write the shards.

A `Worker` is built once per process (experts load their weights once) and then takes paths one
at a time; every engine (in-process, process pool, Ray actors) runs this same worker.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import sqlite3
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vidseek.extract.experts import ExpertOptions, create_expert, default_experts
from vidseek.extract.probe import probe
from vidseek.extract.run import decode_and_run, one_line
from vidseek.store import Catalog, FeatureStore, StoreWriteError
from vidseek.store.catalog import DecodeNote, decode_note, set_decode_note
from vidseek.types import Features, VideoInfo

VIDEO_EXTENSIONS = frozenset(
    ".mp4 .m4v .mkv .webm .avi .mov .mpg .mpeg .wmv .flv .ts .mts .3gp .ogv".split()
)
DEFAULT_EXPERTS = default_experts()  # the cards marked default


@dataclass
class ExtractConfig:
    """`vidseek extract`: which videos, into which collection, with which experts and engine."""

    paths: list[str]
    collection: str
    experts: list[str] | None = None
    device: str = "cpu"
    workers: int = 1
    backend: str | None = None
    random_weights: bool = False
    tiny: bool = False  # tiny random-init twins: tests only
    force: bool = False
    progress: bool = True
    frame_chunk: int = 16
    prefetch: int = 2  # decode this many chunks ahead while the experts run; 0: decode in-line
    engine: str = "local"  # a name in extract.engines.ENGINES: local or ray
    ray_address: str | None = None  # ray engine: join this cluster ("auto"); default a local Ray
    from_list: str | None = None  # a file of paths, one per line (`#` comments)


@dataclass
class VideoResult:
    path: str
    video_id: str | None
    status: str  # done | failed | skipped
    error: str | None = None
    experts_failed: dict[str, str] = field(default_factory=dict)
    fatal: bool = False  # a write failed in a way no later write can avoid: stop the batch


class Worker:
    """Everything one process needs: built once per process (experts load their weights once)."""

    def __init__(self, cfg: ExtractConfig, store: FeatureStore | None = None) -> None:
        opts = ExpertOptions(device=cfg.device, random_weights=cfg.random_weights, tiny=cfg.tiny)
        names = list(cfg.experts or DEFAULT_EXPERTS)
        self.cfg = cfg
        self.experts = [create_expert(n, opts) for n in names]
        self.store = store if store is not None else FeatureStore(cfg.collection)

    def __call__(self, path: str) -> VideoResult:
        """One video; a failed store write becomes this video's failure (fatal when no later
        write can succeed either), never a traceback."""
        try:
            try:
                return self._extract(path)
            except sqlite3.Error as db_err:  # a catalog write: disk full, read-only
                raise StoreWriteError.from_sqlite(self.store.catalog.path, db_err) from None
        except StoreWriteError as err:
            vid = self.store.catalog.video_id_for_path(path)
            if vid is not None:
                try:
                    self.store.catalog.set_video_status(vid, "failed", str(err))
                except Exception:  # noqa: BLE001 - the catalog itself is what failed
                    pass
            return VideoResult(path, vid, "failed", str(err), fatal=err.fatal)

    def _extract(self, path: str) -> VideoResult:
        store, cat = self.store, self.store.catalog
        if not os.path.exists(path):  # a mistyped path: reported, never recorded
            return VideoResult(path, cat.video_id_for_path(path), "failed",
                               f"{path}: no such file")
        holder = store.claim(path)
        if holder is not None:  # another extract run is on it now; it records the result
            return VideoResult(path, cat.video_id_for_path(path), "skipped",
                               f"{path}: being extracted by pid {holder.pid}")
        try:
            return self._claimed(path)
        finally:
            store.release(path)

    def _claimed(self, path: str) -> VideoResult:
        store, cat = self.store, self.store.catalog
        known = cat.video_id_for_path(path)
        try:
            info = probe(path, video_id=known or new_video_id(cat, path))
        except Exception as err:  # noqa: BLE001 - any probe failure is this file's failure
            vid = known or new_video_id(cat, path)
            msg = one_line(err, path)
            cat.record_failed_path(vid, path, msg)
            return VideoResult(path, vid, "failed", msg)
        todo = [
            e for e in self.experts
            if self.cfg.force or not store.has(info.video_id, e.spec.name, e.weights.sha256)
        ]
        if not todo:
            cat.upsert_video(_decoded_info(cat, info), status="done")
            return VideoResult(path, info.video_id, "skipped")
        cat.upsert_video(info, status="pending")
        try:
            out = decode_and_run(path, todo, info, self.cfg.backend, self.cfg.frame_chunk,
                                 self.cfg.prefetch)
            feats, errors = out.features, out.errors
            specs = {e.spec.name: e.spec for e in todo}
        except Exception as err:  # noqa: BLE001 - decode failure (corrupt, vanished file)
            msg = one_line(err, path)
            errors = {e.spec.name: msg for e in todo}
            feats, out = {}, None
        if out is not None:
            set_decode_note(cat, info.video_id, DecodeNote(
                "+".join(out.backends) or None, out.decoded_end, info.duration,
                tuple((round(a, 3), round(b, 3)) for a, b in out.gaps)))
            for a, b in out.gaps:
                print(f"WARNING {path}: corrupt from {a:.1f} s to {b:.1f} s; no rows there",
                      file=sys.stderr)
            if out.decoded_end is not None:  # the decoded end is the video's end from now on
                feats = {n: _end_at(f, out.decoded_end) if specs[n].fps else f
                         for n, f in feats.items()}
                cat.upsert_video(_decoded_info(cat, info), status="pending")
                print(f"WARNING {path}: truncated at {out.decoded_end:.1f} s of "
                      f"{info.duration:.1f} s; kept the rows before it", file=sys.stderr)
        for k, expert in enumerate(todo):
            name = expert.spec.name
            try:
                if name in feats:
                    store.put(info.video_id, feats[name], expert.spec, expert.weights)
                else:
                    store.mark_failed(info.video_id, name, errors.get(name, "no output"))
            except StoreWriteError as err:  # the rest cannot be trusted to land either
                for later in todo[k:]:
                    errors[later.spec.name] = str(err)
                    try:
                        store.mark_failed(info.video_id, later.spec.name, str(err))
                    except StoreWriteError:
                        pass
                msg = str(err)
                cat.set_video_status(info.video_id, "failed", msg)
                return VideoResult(path, info.video_id, "failed", msg, errors, fatal=err.fatal)
        if errors:
            msg = "; ".join(f"{k}: {v}" for k, v in errors.items())
            cat.set_video_status(info.video_id, "failed", msg)
            return VideoResult(path, info.video_id, "failed", msg, errors)
        cat.set_video_status(info.video_id, "done")
        return VideoResult(path, info.video_id, "done")


def _end_at(f: Features, end: float) -> Features:
    """A frame expert's rows with no end past where the video stream broke."""
    times = f.times.copy()
    times[:, 1] = np.minimum(times[:, 1], end)
    return dataclasses.replace(f, times=np.maximum(times, times[:, :1]))


def _decoded_info(cat: Catalog, info: VideoInfo) -> VideoInfo:
    """The probe's info, with the decoded end as the duration for a truncated video."""
    note = decode_note(cat, info.video_id)
    if note is None or note.decoded_end is None:
        return info
    return dataclasses.replace(info, duration=min(info.duration, note.decoded_end))


def new_video_id(catalog: Catalog, path: str, taken: set[str] | None = None) -> str:
    """The file stem; a different file with the same stem (in the catalog, or in `taken`:
    ids given out but not yet recorded) gets the stem plus a path hash."""
    stem = Path(path).stem
    other = catalog.path_of(stem)
    if (other is None or other == path) and stem not in (taken or set()):
        return stem
    return f"{stem}-{hashlib.sha256(path.encode()).hexdigest()[:8]}"


def expand_paths(paths: Iterable[str]) -> list[str]:
    """Files as given (absolute), folders walked for video extensions, sorted; order kept.
    When none of them exists (a mistyped path) the list is empty and each is named on stderr,
    so `extract` exits 2 without creating a collection; a missing path among real ones stays,
    and is reported failed without a catalog row."""
    out = _expand(paths)
    if out and not any(os.path.exists(p) for p in out):
        for p in out:
            print(f"vidseek extract: {p}: no such file", file=sys.stderr)
        return []
    return out


def _expand(paths: Iterable[str]) -> list[str]:
    out: list[str] = []
    for p in paths:
        path = Path(p).expanduser()
        if path.is_dir():
            out.extend(
                str(f.resolve()) for f in sorted(path.rglob("*"))
                if f.is_file() and f.suffix.lower() in VIDEO_EXTENSIONS
            )
        else:
            out.append(str(path.resolve()) if path.exists() else str(path.absolute()))
    return list(dict.fromkeys(out))
