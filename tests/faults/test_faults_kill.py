"""The kill -9 campaign: an extract subprocess killed at a random point (20 seeds), then a
rerun. After each: the rerun exits 0, no finished video was lost (every shard done before the
kill is still done, byte for byte), and every video's shard is byte-identical to a clean run."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from faults_corpus import extract, lavfi_clip

from vidseek.store import FeatureStore

SCRIPT = """
import sys
sys.path[:0] = [{support!r}]
import pipeline_experts
from vidseek.pipelines.extract import ExtractConfig, extract_collection
sys.exit(extract_collection(ExtractConfig([{videos!r}], {col!r}, experts=["test_slow"],
                                          progress=False)))
"""
SEEDS = 20


def _shas(col: Path) -> dict[str, str]:
    if not (col / "catalog.sqlite").exists():
        return {}
    with FeatureStore(col, create=False) as s:
        return {r.video_id: hashlib.sha256((col / str(r.shard)).read_bytes()).hexdigest()
                for r in s.catalog.features(status="done")}


@pytest.mark.slow
def test_kill_9_at_random_points_loses_nothing_finished(tmp_path: Path, capsys) -> None:
    d = tmp_path / "videos"
    d.mkdir()
    for k in range(4):
        lavfi_clip(d / f"v{k}.mp4", seconds=2.0)
    extract(capsys, [d], tmp_path / "clean", experts=["test_slow"])
    clean = _shas(tmp_path / "clean")
    assert len(clean) == 4
    support = str(Path(__file__).resolve().parents[1] / "support")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    kills = lost = 0
    for seed in range(SEEDS):
        col = tmp_path / f"c{seed}"
        proc = subprocess.Popen([sys.executable, "-c", SCRIPT.format(
            support=support, videos=str(d), col=str(col))], env=env, stderr=subprocess.DEVNULL)
        while not (col / "catalog.sqlite").exists() and proc.poll() is None:
            time.sleep(0.02)  # past the imports: the run has started
        time.sleep(random.Random(seed).uniform(0.0, 3.0))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait()
        before = _shas(col)
        rc, err = extract(capsys, [d], col, experts=["test_slow"])
        assert rc == 0, (seed, err)
        after = _shas(col)
        lost += sum(after.get(v) != sha for v, sha in before.items())
        assert after == clean, seed
        assert not list((col / "features").glob("*/.tmp-*"))
    print(f"kill -9 campaign: {SEEDS} runs, {kills} killed, {lost} finished videos lost")
    assert lost == 0 and kills >= SEEDS // 2
