"""`vidseek extract --engine ray`: the same per-video worker, run by Ray Data actor pools.

Why actors and not tasks: an expert loads its weights once per process (seconds for I3D or
Whisper), so each Ray actor builds one `Worker` (experts + a FeatureStore handle) and then takes
video paths one at a time, exactly as a local worker process does. Decoding stays inside the
actor, next to the model: shipping decoded frames through the object store would move ~100x
more bytes than the video file. Each actor writes its Parquet shards and catalog rows straight
into the collection (immutable shards renamed into place, SQLite WAL), so the on-disk format
is the local engine's; on a multi-node cluster the collection must be on storage every node
mounts at the same path.

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
import threading
import warnings
from collections.abc import Callable, Sequence
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
        self.worker = Worker(cfg)
        self.thread = threading.get_ident()

    def _own_store(self) -> None:
        """Ray Data may call the UDF on another thread than the constructor's, and a SQLite
        connection belongs to its thread: reopen the store there (the experts stay loaded)."""
        from vidseek.store import FeatureStore

        if threading.get_ident() != self.thread:
            self.worker.store = FeatureStore(self.cfg.collection)
            self.thread = threading.get_ident()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list[str]]:
        self._own_store()
        out: dict[str, list[str]] = {"path": [], "video_id": [], "status": [], "error": [], "experts_failed": []}
        for path in batch["path"]:
            res = self.worker(str(path))
            out["path"].append(res.path)
            out["video_id"].append(res.video_id or "")
            out["status"].append(res.status)
            out["error"].append(res.error or "")
            out["experts_failed"].append(json.dumps(res.experts_failed))
        return out


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
    import ray
    import ray.data

    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False  # vidseek's own bar counts videos
    ctx.print_on_execution_start = False
    ctx.execution_options.preserve_order = False
    ctx.max_errored_blocks = -1  # a video that crashes its actor must not end the job
    cpus = float(ray.cluster_resources().get("CPU", 1.0))
    threads = max(1, int(cpus // workers))
    gpu = 1.0 / workers if cfg.device == "cuda" else 0.0
    ds = ray.data.from_items([{"path": p} for p in paths], override_num_blocks=len(paths))
    with warnings.catch_warnings():  # restarts are only settable through ray_remote_args (2.60)
        warnings.filterwarnings("ignore", message=".*ray_remote_args.*deprecated")
        # Ray Data's default is endless restarts: a video that crashes its actor would loop
        out = ds.map_batches(_ExtractActor, fn_constructor_args=(cfg, threads), batch_size=1,
                             compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=CPU_PER_ACTOR,
                             num_gpus=gpu, max_restarts=2, max_task_retries=2)
    seen: set[str] = set()
    for row in out.iter_rows():
        seen.add(str(row["path"]))
        report(VideoResult(str(row["path"]), str(row["video_id"]) or None, str(row["status"]),
                           str(row["error"]) or None, json.loads(str(row["experts_failed"]))))
    lost = [p for p in paths if p not in seen]
    if lost:
        _record_lost(cfg.collection, lost, report)


def _record_lost(collection: str, paths: Sequence[str], report: Callable[[Any], None]) -> None:
    """Videos whose actor died every retry: failed in the catalog, reported, retried on a rerun."""
    from vidseek.extract.worker import VideoResult, new_video_id
    from vidseek.store import FeatureStore

    with FeatureStore(collection) as store:
        cat = store.catalog
        for p in paths:
            vid = cat.video_id_for_path(p) or new_video_id(cat, p)
            msg = f"{p}: the extraction worker died on this video (Ray actor crash, 3 tries)"
            cat.record_failed_path(vid, p, msg)
            report(VideoResult(p, vid, "failed", msg))
