"""`vidseek extract`: the batch job over many videos, with progress and a summary line.

Each video that fails is recorded in the catalog with its error and the job goes on; a rerun
skips (video, expert) pairs already done with the same weights. The engine (extract.engines)
chooses how workers run; the worker (extract.worker) does one video.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from tqdm import tqdm

from vidseek.errors import CollectionError, InputError, VidseekError
from vidseek.extract.engines import ENGINES
from vidseek.extract.run import one_line
from vidseek.extract.worker import ExtractConfig, VideoResult, Worker, expand_paths
from vidseek.inputs import gather_inputs

EXIT_OK, EXIT_SOME_FAILED, EXIT_ERROR = 0, 1, 2

__all__ = ["ExtractConfig", "extract_collection"]


def extract_collection(cfg: ExtractConfig) -> int:
    """Extract every video of cfg.paths into cfg.collection. Exit 0 all done, 1 some failed."""
    t0 = time.monotonic()
    try:
        paths = expand_paths(gather_inputs(cfg.paths, cfg.from_list))
    except InputError as err:
        print(f"vidseek extract: {err}", file=sys.stderr)
        return EXIT_ERROR
    if not paths:
        print("vidseek extract: no videos found in the given paths", file=sys.stderr)
        return EXIT_ERROR
    try:
        ENGINES.get(cfg.engine)
        worker = Worker(cfg) if cfg.workers <= 1 and cfg.engine == "local" else None
    except (VidseekError, OSError, KeyError) as err:
        print(f"vidseek extract: {one_line(err)}", file=sys.stderr)
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
        print(f"vidseek extract: {one_line(err)}", file=sys.stderr)
        return EXIT_ERROR
    bar.close()
    counts = {s: sum(r.status == s for r in results) for s in ("done", "skipped", "failed")}
    print(
        f"extract: {counts['done']} done, {counts['skipped']} already done, "
        f"{counts['failed']} failed in {time.monotonic() - t0:.1f} s -> {cfg.collection}",
        file=sys.stderr,
    )
    return EXIT_SOME_FAILED if counts["failed"] else EXIT_OK
