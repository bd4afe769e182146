"""The extract batch job over many videos, with progress and a summary line.

Each video that fails is recorded in the catalog with its error and the job goes on; a rerun
skips (video, expert) pairs already done with the same weights. The engine (extract.engines)
chooses how workers run; the worker (extract.worker) does one video. What could not run at all
raises (vidseek.errors, OSError). Called through `vidseek.api.Collection.extract`, which the
`vidseek extract` verb calls too.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from tqdm import tqdm

from vidseek import console
from vidseek.errors import ConfigError, Outcome
from vidseek.extract.engines import ENGINES
from vidseek.extract.worker import ExtractConfig, VideoResult, Worker, expand_paths
from vidseek.inputs import gather_inputs

__all__ = ["ExtractConfig", "extract_batch"]


def check(cfg: ExtractConfig) -> None:
    """Values no type checks: raise ConfigError naming the option."""
    for name, low in (("workers", 1), ("prefetch", 0), ("frame_chunk", 1)):
        if int(getattr(cfg, name)) < low:
            raise ConfigError(f"--{name.replace('_', '-')} must be at least {low}, "
                              f"got {getattr(cfg, name)}")


def extract_batch(cfg: ExtractConfig) -> Outcome:
    """Extract every video of cfg.paths into cfg.collection: OK, or SOME_FAILED (the rest done)."""
    t0 = time.monotonic()
    check(cfg)
    paths = expand_paths(gather_inputs(cfg.paths, cfg.from_list))
    if not paths:
        raise ConfigError(f"no videos found in {', '.join(map(str, cfg.paths))}")
    engine = ENGINES.get(cfg.engine)
    worker = Worker(cfg) if cfg.workers <= 1 and cfg.engine == "local" else None
    if worker is None:  # fail on an unusable collection before forking workers
        from vidseek.store import FeatureStore

        FeatureStore(cfg.collection).close()
    results: list[VideoResult] = []
    bar = tqdm(total=len(paths), desc="extract", unit="video",
               disable=console.bar_disable(cfg.progress), file=sys.stderr)

    def report(res: VideoResult) -> None:
        results.append(res)
        bar.set_postfix_str(Path(res.path).name[-30:])
        bar.update(1)
        if res.status == "failed":
            tqdm.write(f"FAILED {res.error}", file=sys.stderr)

    try:
        engine(cfg, paths, report, worker)
    finally:
        bar.close()
    counts = {s: sum(r.status == s for r in results) for s in ("done", "skipped", "failed")}
    console.note(
        f"extract: {counts['done']} done, {counts['skipped']} already done, "
        f"{counts['failed']} failed in {time.monotonic() - t0:.1f} s -> {cfg.collection}"
    )
    return Outcome.SOME_FAILED if counts["failed"] else Outcome.OK
