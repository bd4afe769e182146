"""`vidseek extract --engine ray`: the same per-video worker, run by Ray Data actor pools.

Why actors and not tasks: an expert loads its weights once per process (seconds for I3D or
Whisper), so each Ray actor builds one `Worker` (experts + a FeatureStore handle) and then takes
video paths one at a time, exactly as a local worker process does. Decoding stays inside the
actor, next to the model: shipping decoded frames through the object store would move ~100x
more bytes than the video file. Each actor writes its Parquet shards straight into the
collection (immutable files renamed into place: safe on a shared filesystem), but records into
a private in-memory catalog, seeded by the driver with that video's rows; it returns the rows
it changed and the driver alone writes catalog.sqlite (SQLite WAL is unsafe on network
filesystems). The driver also holds each video's lease, so a concurrent run skips them. On a
multi-node cluster the collection must be on storage every node mounts at the same path.

Resources: `--workers N` actors; each asks for a fraction of a CPU (whole-CPU actors deadlock a
2-core box, where Ray Data also needs a CPU to feed them) and, with `--device cuda`, 1/N of a
GPU. `--ray-address auto` joins a running cluster; by default a local Ray is started.
Failures are per video, as locally: an actor records the error in the catalog and returns a
failed row. An actor that dies (a decoder crash) is restarted by Ray and its video retried twice;
a video that still kills its actor is dropped by Ray Data (`max_errored_blocks` unlimited, one
video per block) and recorded as failed by the driver, so the job goes on and a rerun retries it.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vidseek.errors import VidseekError

CPU_PER_ACTOR = 0.5


class _ExtractActor:
    """One Ray actor: a local extraction worker, built once, fed batches of paths."""

    def __init__(self, cfg: Any, threads: int) -> None:
        import torch

        from vidseek.extract.worker import Worker

        torch.set_num_threads(max(1, threads))
        self.cfg = cfg
        self.worker = Worker(cfg, store=_placeholder_store(cfg))

    def _scratch(self, seed: dict[str, Any]) -> Any:
        """A fresh private catalog holding the driver's rows for one video (made on the
        calling thread: Ray Data may call the UDF on another than the constructor's)."""
        from vidseek.store import Catalog, FeatureStore
        from vidseek.store.catalog import import_video

        cat = Catalog(Path(":memory:"))
        import_video(cat, seed)
        self.worker.store = FeatureStore(self.cfg.collection, catalog=cat)
        return cat

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list[str]]:
        from vidseek.store.catalog import export_video

        out: dict[str, list[str]] = {"path": [], "video_id": [], "status": [], "error": [],
                                     "experts_failed": [], "fatal": [], "dump": []}
        for path, vid, seed_text in zip(batch["path"], batch["video_id"], batch["seed"],
                                        strict=True):
            seed = json.loads(str(seed_text))
            cat = self._scratch(seed)
            before = export_video(cat, str(vid))
            res = self.worker(str(path))
            dump = export_video(cat, str(vid))
            cat.close()
            out["path"].append(res.path)
            out["video_id"].append(res.video_id or "")
            out["status"].append(res.status)
            out["error"].append(res.error or "")
            out["experts_failed"].append(json.dumps(res.experts_failed))
            out["fatal"].append("1" if res.fatal else "")
            out["dump"].append(json.dumps(dump) if dump != before else "")  # nothing recorded
        return out


def _placeholder_store(cfg: Any) -> Any:
    """The worker's store until the first video brings its seed: never the shared catalog."""
    from vidseek.store import Catalog, FeatureStore

    return FeatureStore(cfg.collection, catalog=Catalog(Path(":memory:")))


def _seeds(store: Any, paths: Sequence[str]) -> tuple[list[dict[str, str]], list[str]]:
    """Per path to dispatch: its video id (decided here, so two new files with one stem get
    two ids) and that video's catalog rows; and the paths a live concurrent run holds."""
    from vidseek.extract.worker import new_video_id
    from vidseek.store.catalog import export_video

    items: list[dict[str, str]] = []
    held: list[str] = []
    taken: set[str] = set()
    for p in paths:
        if store.claim(p) is not None:
            held.append(p)
            continue
        cat = store.catalog
        known = cat.video_id_for_path(p)
        vid = known or new_video_id(cat, p, taken)
        taken.add(vid)
        seed = export_video(cat, vid) if known else {
            "videos": [{"video_id": vid, "path": p, "status": "pending"}]}
        items.append({"path": p, "video_id": vid, "seed": json.dumps(seed)})
    return items, held


def _init_ray(address: str | None, workers: int) -> None:
    try:
        import ray
    except ImportError:
        raise VidseekError("--engine ray needs Ray Data: pip install 'vidseek[cluster]'") from None
    if ray.is_initialized():
        return
    kw: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                          "logging_level": logging.WARNING, "ignore_reinit_error": True}
    if address:
        ray.init(address=address, **kw)
    else:
        ray.init(num_cpus=max(os.cpu_count() or 1, int(np.ceil(workers * CPU_PER_ACTOR)) + 1), **kw)


def run_ray(cfg: Any, paths: Sequence[str], report: Callable[[Any], None]) -> None:
    """Extract `paths` with `cfg.workers` Ray actors; `report(VideoResult)` as each one ends."""
    from vidseek.extract.worker import VideoResult

    workers = max(1, int(cfg.workers))
    _init_ray(getattr(cfg, "ray_address", None), workers)
    from vidseek.store import FeatureStore
    from vidseek.store.catalog import import_video

    store = FeatureStore(cfg.collection)
    try:
        items, held = _seeds(store, paths)
        for p in held:
            report(VideoResult(p, store.catalog.video_id_for_path(p), "skipped",
                               f"{p}: being extracted by another run"))
        if items:
            _run_items(cfg, items, report, store, workers, import_video)
    finally:
        for p in paths:
            store.release(p)
        store.close()


def _run_items(cfg: Any, items: list[dict[str, str]], report: Callable[[Any], None], store: Any,
               workers: int, import_video: Callable[[Any, Any], None]) -> None:
    """Dispatch to the actors; apply each returned video's rows to the catalog, here only."""
    import ray
    import ray.data

    from vidseek.extract.worker import VideoResult

    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False  # vidseek's own bar counts videos
    ctx.print_on_execution_start = False
    ctx.execution_options.preserve_order = False
    ctx.max_errored_blocks = -1  # a video that crashes its actor must not end the job
    cpus = float(ray.cluster_resources().get("CPU", 1.0))
    threads = max(1, int(cpus // workers))
    gpu = 1.0 / workers if cfg.device == "cuda" else 0.0
    ds = ray.data.from_items(items, override_num_blocks=len(items))
    with warnings.catch_warnings():  # restarts are only settable through ray_remote_args (2.60)
        warnings.filterwarnings("ignore", message=".*ray_remote_args.*deprecated")
        # Ray Data's default is endless restarts: a video that crashes its actor would loop
        out = ds.map_batches(_ExtractActor, fn_constructor_args=(cfg, threads), batch_size=1,
                             compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=CPU_PER_ACTOR,
                             num_gpus=gpu, max_restarts=2, max_task_retries=2)
    seen: set[str] = set()
    for row in out.iter_rows():
        seen.add(str(row["path"]))
        if str(row["dump"]):
            import_video(store.catalog, json.loads(str(row["dump"])))
        report(VideoResult(str(row["path"]), str(row["video_id"]) or None, str(row["status"]),
                           str(row["error"]) or None, json.loads(str(row["experts_failed"])),
                           fatal=bool(str(row["fatal"]))))
    lost = [it for it in items if it["path"] not in seen]
    if lost:
        _record_lost(store, lost, report)


def _record_lost(store: Any, items: Sequence[dict[str, str]], report: Callable[[Any], None]) -> None:
    """Videos whose actor died every retry: failed in the catalog, reported, retried on a rerun."""
    from vidseek.extract.worker import VideoResult

    for it in items:
        p, vid = it["path"], it["video_id"]
        msg = f"{p}: the extraction worker died on this video (Ray actor crash, 3 tries)"
        store.catalog.record_failed_path(vid, p, msg)
        report(VideoResult(p, vid, "failed", msg))
