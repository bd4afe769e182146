"""How the per-video worker runs: in this process, a process pool, or Ray Data actors.

An engine takes (config, paths, report) and calls `report(VideoResult)` as each video ends; it
chooses only how workers run, never what they do (that is `extract.worker.Worker`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

from vidseek.errors import CollectionError
from vidseek.extract.worker import ExtractConfig, VideoResult, Worker
from vidseek.registry import Registry

Report = Callable[[VideoResult], None]
Engine = Callable[[ExtractConfig, list[str], Report, "Worker | None"], None]

_WORKER: Worker | None = None


def _init_worker(cfg: ExtractConfig) -> None:
    global _WORKER
    import torch

    torch.set_num_threads(max(1, (os.cpu_count() or 2) // max(cfg.workers, 1)))
    _WORKER = Worker(cfg)


def _work(path: str) -> VideoResult:
    assert _WORKER is not None
    return _WORKER(path)


def run_local(cfg: ExtractConfig, paths: list[str], report: Report, worker: Worker | None) -> None:
    """In this process (one worker) or a process pool (`--workers N`), one video per task."""
    if worker is not None:
        try:
            for k, p in enumerate(paths):
                res = worker(p)
                report(res)
                if res.fatal:
                    raise stop_error(cfg, res, len(paths) - k - 1)
        finally:
            worker.store.close()
        return
    with ProcessPoolExecutor(cfg.workers, initializer=_init_worker, initargs=(cfg,)) as pool:
        pending: set[Future[VideoResult]] = {pool.submit(_work, p) for p in paths}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                res = fut.result()
                report(res)
                if res.fatal:
                    left = sum(f.cancel() for f in pending)
                    raise stop_error(cfg, res, left)


def stop_error(cfg: ExtractConfig, res: VideoResult, left: int) -> CollectionError:
    """The batch stops: a write failed in a way no later write can avoid (read-only, no space)."""
    return CollectionError(f"stopped: no further write can succeed in {cfg.collection} "
                           f"({res.error}); {left} videos not attempted")


def run_ray(cfg: ExtractConfig, paths: list[str], report: Report, worker: Worker | None) -> None:
    from vidseek.extract.ray_engine import run_ray as ray_run

    ray_run(cfg, paths, report)


ENGINES: Registry[Engine] = Registry("extract engine")
ENGINES.add("local", run_local)
ENGINES.add("ray", run_ray)
