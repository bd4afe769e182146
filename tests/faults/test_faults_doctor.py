"""`vidseek doctor`: a healthy collection, then one with each fault the checks know (a
corrupt shard, a dead writer's temporary, a dead run's lease, a stuck video, a stray shard),
each found with its repair; `extract` repairs what it says it does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from faults_corpus import cli, extract, lavfi_clip, no_traceback

from vidseek.pipelines.doctor import DoctorConfig, doctor
from vidseek.store import FeatureStore
from vidseek.store.features import _host_tag


def _doctor(capsys: pytest.CaptureFixture[str], col: Path) -> tuple[int, dict]:
    capsys.readouterr()
    rc = doctor(DoctorConfig(str(col), json=True))
    out = capsys.readouterr().out
    return rc, (json.loads(out) if out.strip() else {})


def test_doctor_finds_each_fault_and_extract_repairs(tmp_path, capsys) -> None:
    clips = [lavfi_clip(tmp_path / "a.mp4"), lavfi_clip(tmp_path / "b.mp4")]
    col = tmp_path / "col"
    extract(capsys, clips, col)
    assert _doctor(capsys, col) == (0, {"ok": True, "findings": []})
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    feats = col / "features" / "test_meancolor"
    shard = feats / "a.parquet"
    shard.write_bytes(shard.read_bytes()[:-10])
    tmp = feats / f".tmp-{dead.pid}-{uuid.uuid4().hex}-{_host_tag()}.parquet"
    tmp.write_bytes(b"half")
    (feats / "stray.parquet").write_bytes(b"x")
    with FeatureStore(col) as s:  # (this open sweeps the temporary: write it again after)
        s.catalog.execute("INSERT INTO leases (path, pid, host, since) VALUES (?,?,?,0)",
                          (str(clips[1]), dead.pid, _host_tag()))
        s.catalog.set_video_status("b", "pending")
    tmp.write_bytes(b"half")
    rc, rep = _doctor(capsys, col)
    checks = {(f["check"], Path(f["where"]).name) for f in rep["findings"]}
    assert rc == 1 and checks == {("shards", "a.parquet"), ("shards", "stray.parquet"),
                                  ("temporaries", tmp.name), ("leases", "b.mp4"),
                                  ("videos", "b.mp4")}
    assert all(f["repair"] for f in rep["findings"])
    rc, err = extract(capsys, clips, col)
    assert rc == 0, err
    rc, rep = _doctor(capsys, col)
    assert [(f["check"], Path(f["where"]).name) for f in rep["findings"]] == \
        [("shards", "stray.parquet")]  # the one it says to remove by hand


def test_doctor_cli_on_no_collection(tmp_path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    r = cli("doctor", "--collection", str(empty))
    no_traceback(r.stderr)
    assert r.returncode == 2 and "no collection at" in r.stderr and os.listdir(empty) == []
