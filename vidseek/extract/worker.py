"""One video into the store: probe, skip what is done, run the experts once, write the shards.

A `Worker` is built once per process (experts load their weights once) and then takes paths one
at a time; every engine (in-process, process pool, Ray actors) runs this same worker.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from vidseek.extract.experts import ExpertOptions, create_expert
from vidseek.extract.probe import probe
from vidseek.extract.run import one_line, run_experts
from vidseek.store import Catalog, FeatureStore

VIDEO_EXTENSIONS = frozenset(
    ".mp4 .m4v .mkv .webm .avi .mov .mpg .mpeg .wmv .flv .ts .mts .3gp .ogv".split()
)
DEFAULT_EXPERTS = ("effnet_lite0", "i3d", "whisper_audio", "asr", "ocr")


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


class Worker:
    """Everything one process needs: built once per process (experts load their weights once)."""

    def __init__(self, cfg: ExtractConfig) -> None:
        opts = ExpertOptions(device=cfg.device, random_weights=cfg.random_weights, tiny=cfg.tiny)
        names = list(cfg.experts or DEFAULT_EXPERTS)
        self.cfg = cfg
        self.experts = [create_expert(n, opts) for n in names]
        self.store = FeatureStore(cfg.collection)

    def __call__(self, path: str) -> VideoResult:
        store, cat = self.store, self.store.catalog
        if not os.path.exists(path):
            vid = new_video_id(cat, path)
            cat.record_failed_path(vid, path, f"{path}: no such file")
            return VideoResult(path, vid, "failed", f"{path}: no such file")
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
            cat.upsert_video(info, status="done")
            return VideoResult(path, info.video_id, "skipped")
        cat.upsert_video(info, status="pending")
        try:
            feats, errors = run_experts(path, todo, info, self.cfg.backend, self.cfg.frame_chunk,
                                        self.cfg.prefetch)
        except Exception as err:  # noqa: BLE001 - decode failure (corrupt, vanished file)
            msg = one_line(err, path)
            errors = {e.spec.name: msg for e in todo}
            feats = {}
        for expert in todo:
            name = expert.spec.name
            if name in feats:
                store.put(info.video_id, feats[name], expert.spec, expert.weights)
            else:
                store.mark_failed(info.video_id, name, errors.get(name, "no output"))
        if errors:
            msg = "; ".join(f"{k}: {v}" for k, v in errors.items())
            cat.set_video_status(info.video_id, "failed", msg)
            return VideoResult(path, info.video_id, "failed", msg, errors)
        cat.set_video_status(info.video_id, "done")
        return VideoResult(path, info.video_id, "done")


def new_video_id(catalog: Catalog, path: str) -> str:
    """The file stem; a different file with the same stem gets the stem plus a path hash."""
    stem = Path(path).stem
    other = catalog.execute("SELECT path FROM videos WHERE video_id=?", (stem,)).fetchone()
    if other is None or other[0] == path:
        return stem
    return f"{stem}-{hashlib.sha256(path.encode()).hexdigest()[:8]}"


def expand_paths(paths: Iterable[str]) -> list[str]:
    """Files as given (absolute), folders walked for video extensions, sorted; order kept."""
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
