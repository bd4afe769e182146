"""The fault corpus, two processes at once: concurrent extract runs over overlapping files
claim each video with a lease in the catalog, so none is extracted twice; the lease of a
process that died (kill -9) is taken over by the next run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from faults_corpus import by_video, extract, lavfi_clip, status_json

from vidseek.store import FeatureStore
from vidseek.store.catalog import leases
from vidseek.store.features import _host_tag

RUN = """
import sys
sys.path[:0] = [{support!r}]
import pipeline_experts  # registers the test experts
from vidseek.pipelines.extract import ExtractConfig, extract_collection
sys.exit(extract_collection(ExtractConfig(sys.argv[2:], sys.argv[1], experts=["test_slow"],
                                          progress=False)))
"""


def _spawn(col: Path, paths: list[Path]) -> subprocess.Popen[str]:
    root = Path(__file__).resolve().parents[2]
    code = RUN.format(support=str(root / "tests" / "support"))
    env = dict(os.environ, PYTHONPATH=str(root))
    return subprocess.Popen([sys.executable, "-c", code, str(col), *map(str, paths)],
                            stderr=subprocess.PIPE, text=True, env=env)


def _counts(err: str) -> tuple[int, int, int]:
    m = re.search(r"extract: (\d+) done, (\d+) already done, (\d+) failed", err)
    assert m, err
    return int(m[1]), int(m[2]), int(m[3])


def test_two_concurrent_extracts_never_do_a_video_twice(tmp_path: Path) -> None:
    clips = [lavfi_clip(tmp_path / f"v{k}.mp4", seconds=6.0) for k in range(6)]
    col = tmp_path / "col"
    a = _spawn(col, clips)
    b = _spawn(col, clips[::-1])
    errs = [p.communicate(timeout=300)[1] for p in (a, b)]
    assert a.returncode == 0 and b.returncode == 0, errs
    done = [_counts(e)[0] for e in errs]
    assert sum(done) == len(clips), errs  # each video extracted by exactly one run
    with FeatureStore(col) as s:
        assert len(s.catalog.features(expert="test_slow", status="done")) == len(clips)
        assert leases(s.catalog) == []


def test_a_dead_runs_lease_is_taken_over(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clip = lavfi_clip(tmp_path / "v.mp4")
    col = tmp_path / "col"
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    with FeatureStore(col) as s:
        s.catalog.execute("INSERT INTO leases (path, pid, host, since) VALUES (?,?,?,?)",
                          (str(clip), gone.pid, _host_tag(), 0.0))
    rc, err = extract(capsys, [clip], col)
    assert rc == 0 and "1 done" in err
    rc, st = status_json(capsys, col)
    assert by_video(st)["v"]["status"] == "done"


def test_a_live_runs_lease_is_respected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clip = lavfi_clip(tmp_path / "v.mp4")
    col = tmp_path / "col"
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with FeatureStore(col) as s:
            s.catalog.execute("INSERT INTO leases (path, pid, host, since) VALUES (?,?,?,?)",
                              (str(clip), live.pid, _host_tag(), 0.0))
        rc, err = extract(capsys, [clip], col)
        assert rc == 0 and "0 done, 1 already done" in err
    finally:
        live.kill()
        live.wait()


def test_a_ray_actor_never_writes_the_shared_catalog(tmp_path: Path) -> None:
    """The actor records into a private catalog seeded by the driver and returns the rows;
    only the driver's import_video writes catalog.sqlite (here called by hand, no Ray)."""
    import json

    import numpy as np
    import torch

    from vidseek.extract.ray_engine import _ExtractActor, _seeds
    from vidseek.extract.worker import ExtractConfig
    from vidseek.store.catalog import import_video

    clips = [lavfi_clip(tmp_path / "v.mp4"), tmp_path / "gone.mp4"]
    col = tmp_path / "col"
    cfg = ExtractConfig([str(c) for c in clips], str(col), experts=["test_meancolor"],
                        progress=False)
    with FeatureStore(col) as driver:
        items, held = _seeds(driver, [str(c) for c in clips])
    assert held == [] and [it["video_id"] for it in items] == ["v", "gone"]
    (col / "catalog.sqlite").rename(tmp_path / "driver.sqlite")  # the actor must not need it
    threads = torch.get_num_threads()
    try:
        actor = _ExtractActor(cfg, 1)
        out = actor({k: np.array([it[k] for it in items]) for k in ("path", "video_id", "seed")})
    finally:
        torch.set_num_threads(threads)
    assert not (col / "catalog.sqlite").exists() and out["status"] == ["done", "failed"]
    assert out["dump"][1] == ""  # a missing file: nothing to record
    (tmp_path / "driver.sqlite").rename(col / "catalog.sqlite")
    with FeatureStore(col) as driver:
        import_video(driver.catalog, json.loads(out["dump"][0]))
        assert len(driver.get("v", "test_meancolor")) == 4
        assert [r["video_id"] for r in driver.catalog.video_rows()] == ["v"]
