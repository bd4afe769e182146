"""Extraction: probe → decode once → every expert's session → one Parquet shard per (video, expert).

A batch job: each video that fails is recorded in the catalog with its error and the job goes
on; a rerun skips (video, expert) pairs already done with the same weights.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from vidseek.errors import CollectionError, VidseekError
from vidseek.extract.experts import Expert, ExpertOptions, ExpertSession, create_expert
from vidseek.registry import Registry
from vidseek.types import AudioChunk, Features, FrameBatch, VideoInfo

VIDEO_EXTENSIONS = frozenset(
    ".mp4 .m4v .mkv .webm .avi .mov .mpg .mpeg .wmv .flv .ts .mts .3gp .ogv".split()
)
DEFAULT_EXPERTS = ("effnet_lite0", "i3d", "whisper_audio", "asr", "ocr")
EXIT_OK, EXIT_SOME_FAILED, EXIT_ERROR = 0, 1, 2


@dataclass
class ExtractConfig:
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
    engine: str = "local"  # a name in ENGINES: local (in-process / process pool) or ray
    ray_address: str | None = None  # ray engine: join this cluster ("auto"); default a local Ray


@dataclass
class VideoResult:
    path: str
    video_id: str | None
    status: str  # done | failed | skipped
    error: str | None = None
    experts_failed: dict[str, str] = field(default_factory=dict)


# ---- decode once, feed every expert ------------------------------------------------------
def run_experts(
    path: str | Path,
    experts: Sequence[Expert],
    info: VideoInfo,
    backend: str | None = None,
    frame_chunk: int = 16,
    prefetch: int = 2,
    producer: str = "thread",
) -> tuple[dict[str, Features], dict[str, str]]:
    """Decode `path` once and feed each expert's session. Returns (features, errors) per expert;
    an expert that raises is dropped with its error and the others go on. prefetch > 0: frames
    and audio are decoded that many chunks ahead by a `producer` (vidseek.pipelines.prefetch)
    while the experts run; the features are the same as prefetch=0 (decode in-line)."""
    from contextlib import ExitStack, closing

    from vidseek.extract.sampling import merge_schedules, sample_times
    from vidseek.pipelines import prefetch as ahead

    sessions: dict[str, ExpertSession] = {}
    errors: dict[str, str] = {}
    specs = {e.spec.name: e.spec for e in experts}
    for expert in experts:
        try:
            sessions[expert.spec.name] = expert.session(info)
        except Exception as err:  # noqa: BLE001 - recorded per expert
            errors[expert.spec.name] = _one_line(err)

    def feed(name: str, fn: str, arg: FrameBatch | AudioChunk) -> None:
        try:
            getattr(sessions[name], fn)(arg)
        except Exception as err:  # noqa: BLE001 - recorded per expert
            errors[name] = _one_line(err)
            del sessions[name]

    with ExitStack() as streams:  # stops every producer however this block is left
        audio: list[tuple[list[str], ahead.Stream[AudioChunk]]] = []
        if info.has_audio:  # started first so the soundtrack is read while the frames run
            rates = sorted({r for n in sessions if (r := specs[n].sample_rate)})
            for rate in rates:
                listeners = [n for n in sessions if specs[n].sample_rate == rate]
                chunks = ahead.audio(str(path), int(rate or 0), prefetch)
                audio.append((listeners, streams.enter_context(closing(chunks))))
        frame_experts = [n for n in sessions if specs[n].fps]
        if frame_experts:
            schedules = {n: sample_times(info.duration, float(specs[n].fps or 0))
                         for n in frame_experts}
            union, positions = merge_schedules(schedules)
            owners = np.zeros((len(frame_experts), len(union)), dtype=bool)
            for i, n in enumerate(frame_experts):
                owners[i, positions[n]] = True
            batches = ahead.frames(str(path), union, backend, info, frame_chunk, prefetch, producer)
            offset = 0
            for batch in streams.enter_context(closing(batches)):
                width = len(batch.times)
                for i, n in enumerate(frame_experts):
                    sel = owners[i, offset:offset + width]
                    if n in sessions and sel.any():
                        feed(n, "add_frames", FrameBatch(batch.times[sel], batch.frames[sel]))
                offset += width
        for listeners, chunks in audio:
            for chunk in chunks:
                for n in listeners:
                    if n in sessions:
                        feed(n, "add_audio", chunk)

    feats: dict[str, Features] = {}
    for name, session in sessions.items():
        try:
            feats[name] = session.finish()
        except Exception as err:  # noqa: BLE001 - recorded per expert
            errors[name] = _one_line(err)
    return feats, errors


def extract_video(
    path: str,
    experts: list[Expert],
    info: VideoInfo | None = None,
    backend: str | None = None,
) -> dict[str, Features]:
    """Decode once and return every expert's Features; raises on the first expert error."""
    from vidseek.extract.probe import probe

    info = info or probe(path)
    feats, errors = run_experts(path, experts, info, backend=backend)
    if errors:
        name, msg = next(iter(errors.items()))
        raise VidseekError(f"{path}: expert {name} failed: {msg}")
    return feats


# ---- one video into the store ------------------------------------------------------------
class _Worker:
    """Everything one process needs: built once per process (experts load their weights once)."""

    def __init__(self, cfg: ExtractConfig) -> None:
        from vidseek.store import FeatureStore

        opts = ExpertOptions(device=cfg.device, random_weights=cfg.random_weights, tiny=cfg.tiny)
        names = list(cfg.experts or DEFAULT_EXPERTS)
        self.cfg = cfg
        self.experts = [create_expert(n, opts) for n in names]
        self.store = FeatureStore(cfg.collection)

    def __call__(self, path: str) -> VideoResult:
        from vidseek.extract.probe import probe

        store, cat = self.store, self.store.catalog
        if not os.path.exists(path):
            vid = _fallback_id(cat, path)
            cat.record_failed_path(vid, path, f"{path}: no such file")
            return VideoResult(path, vid, "failed", f"{path}: no such file")
        known = cat.video_id_for_path(path)
        try:
            info = probe(path, video_id=known or _new_id(cat, path))
        except Exception as err:  # noqa: BLE001 - any probe failure is this file's failure
            vid = known or _fallback_id(cat, path)
            msg = _one_line(err, path)
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
            msg = _one_line(err, path)
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


def _one_line(err: BaseException, path: str | Path | None = None) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    if path is not None and str(path) not in text:
        text = f"{path}: {text}"
    return text


def _new_id(catalog: object, path: str) -> str:
    """The file stem; a different file with the same stem gets the stem plus a path hash."""
    import hashlib

    from vidseek.store import Catalog

    assert isinstance(catalog, Catalog)
    stem = Path(path).stem
    other = catalog.execute("SELECT path FROM videos WHERE video_id=?", (stem,)).fetchone()
    if other is None or other[0] == path:
        return stem
    return f"{stem}-{hashlib.sha256(path.encode()).hexdigest()[:8]}"


def _fallback_id(catalog: object, path: str) -> str:
    return _new_id(catalog, path)


# ---- the batch job -----------------------------------------------------------------------
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


_WORKER: _Worker | None = None


def _init_worker(cfg: ExtractConfig) -> None:
    global _WORKER
    import torch

    torch.set_num_threads(max(1, (os.cpu_count() or 2) // max(cfg.workers, 1)))
    _WORKER = _Worker(cfg)


def _work(path: str) -> VideoResult:
    assert _WORKER is not None
    return _WORKER(path)


Report = Callable[[VideoResult], None]


def _run_local(cfg: ExtractConfig, paths: list[str], report: Report, worker: _Worker | None) -> None:
    """In this process (one worker) or a process pool (`--workers N`), one video per task."""
    if worker is not None:
        for p in paths:
            report(worker(p))
        worker.store.close()
        return
    with ProcessPoolExecutor(cfg.workers, initializer=_init_worker, initargs=(cfg,)) as pool:
        pending: set[Future[VideoResult]] = {pool.submit(_work, p) for p in paths}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                report(fut.result())


def _run_ray(cfg: ExtractConfig, paths: list[str], report: Report, worker: _Worker | None) -> None:
    from vidseek.pipelines.distributed import run_ray

    run_ray(cfg, paths, report)


ENGINES: Registry[Callable[[ExtractConfig, list[str], Report, _Worker | None], None]] = Registry("extract engine")
ENGINES.add("local", _run_local)
ENGINES.add("ray", _run_ray)


def extract_collection(cfg: ExtractConfig) -> int:
    """Extract every video of cfg.paths into cfg.collection. Exit 0 all done, 1 some failed."""
    t0 = time.monotonic()
    paths = expand_paths(cfg.paths)
    if not paths:
        print("vidseek extract: no videos found in the given paths", file=sys.stderr)
        return EXIT_ERROR
    try:
        ENGINES.get(cfg.engine)
        worker = _Worker(cfg) if cfg.workers <= 1 and cfg.engine == "local" else None
    except (VidseekError, OSError, KeyError) as err:
        print(f"vidseek extract: {_one_line(err)}", file=sys.stderr)
        return EXIT_ERROR
    if worker is None:  # fail on an unusable collection before forking workers
        try:
            from vidseek.store import FeatureStore

            FeatureStore(cfg.collection).close()
        except CollectionError as err:
            print(f"vidseek extract: {err}", file=sys.stderr)
            return EXIT_ERROR
    results: list[VideoResult] = []
    bar = tqdm(total=len(paths), desc="extract", unit="video", disable=not cfg.progress,
               file=sys.stderr)

    def report(res: VideoResult) -> None:
        results.append(res)
        bar.set_postfix_str(Path(res.path).name[-30:])
        bar.update(1)
        if res.status == "failed":
            tqdm.write(f"FAILED {res.error}", file=sys.stderr)

    try:
        ENGINES.get(cfg.engine)(cfg, paths, report, worker)
    except VidseekError as err:  # the engine itself could not run (e.g. Ray missing)
        bar.close()
        print(f"vidseek extract: {_one_line(err)}", file=sys.stderr)
        return EXIT_ERROR
    bar.close()
    counts = {s: sum(r.status == s for r in results) for s in ("done", "skipped", "failed")}
    print(
        f"extract: {counts['done']} done, {counts['skipped']} already done, "
        f"{counts['failed']} failed in {time.monotonic() - t0:.1f} s -> {cfg.collection}",
        file=sys.stderr,
    )
    return EXIT_SOME_FAILED if counts["failed"] else EXIT_OK
