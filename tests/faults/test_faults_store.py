"""The fault corpus, the collection: a full or read-only disk during shard and catalog writes,
corrupt shards, values beyond float16, malicious pickles. Each case asserts the exit code, the
one-line message naming the path, `status --json`, and that nothing finished was lost."""

from __future__ import annotations

import errno
import os
import pickle
import subprocess
from pathlib import Path

import numpy as np
import pytest
from faults_corpus import by_video, extract, lavfi_clip, no_traceback, status_json

from vidseek.errors import DatasetError
from vidseek.extract.experts.base import ExpertSpec, WeightsInfo
from vidseek.store import CorruptShardError, FeatureStore
from vidseek.store.catalog import shard_check
from vidseek.store.features import shard_stem
from vidseek.types import Features

REAL_WRITE = os.write


def _fail_shard_writes(monkeypatch: pytest.MonkeyPatch, code: int, times: int = 1) -> list[str]:
    """os.write raises OSError(code) for the next `times` writes to a temporary shard (fault
    injection at the OS call; the store, Parquet and SQLite stay real)."""
    hit: list[str] = []

    def write(fd: int, data: bytes) -> int:
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            target = ""
        if "/features/" in target and "/.tmp-" in target and len(hit) < times:
            hit.append(target)
            raise OSError(code, os.strerror(code))
        return REAL_WRITE(fd, data)

    monkeypatch.setattr(os, "write", write)
    return hit


def _tmp_files(col: Path) -> list[Path]:
    return list((col / "features").glob("*/.tmp-*")) if (col / "features").exists() else []


@pytest.fixture
def two(tmp_path: Path) -> list[Path]:
    return [lavfi_clip(tmp_path / "a.mp4"), lavfi_clip(tmp_path / "b.mp4", size="32x32")]


def test_enospc_on_a_shard_fails_that_video_and_the_batch_goes_on(two, tmp_path, capsys,
                                                                   monkeypatch) -> None:
    col = tmp_path / "col"
    hit = _fail_shard_writes(monkeypatch, errno.ENOSPC)
    rc, err = extract(capsys, two, col)
    monkeypatch.undo()
    assert hit and rc == 1
    no_traceback(err)
    line = next(ln for ln in err.splitlines() if ln.startswith("FAILED"))
    assert "cannot write" in line and "a.parquet" in line and "(ENOSPC)" in line
    rc, st = status_json(capsys, col)
    rows = by_video(st)
    assert rows["a"]["status"] == "failed" and "No space left on device" in rows["a"]["error"]
    assert rows["b"]["status"] == "done" and not _tmp_files(col)
    assert not (col / "features" / "test_meancolor" / "a.parquet").exists()  # nothing half-written
    rc, err = extract(capsys, two, col)  # space again: the rerun does a, keeps b
    assert rc == 0 and "1 done, 1 already done" in err


def test_erofs_stops_the_batch_and_says_so(two, tmp_path, capsys, monkeypatch) -> None:
    col = tmp_path / "col"
    _fail_shard_writes(monkeypatch, errno.EROFS)
    rc, err = extract(capsys, two, col)
    monkeypatch.undo()
    no_traceback(err)
    assert rc == 2 and "stopped: no further write can succeed" in err and "1 videos not" in err
    rc, st = status_json(capsys, col)
    rows = by_video(st)
    assert rows["a"]["status"] == "failed" and "(EROFS)" in rows["a"]["error"] and "b" not in rows


def _mount_tmpfs(where: Path, size: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("a real small tmpfs needs root (mount -t tmpfs)")
    where.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")


def _umount(where: Path) -> None:
    subprocess.run(["umount", "-l", str(where)], check=False)


def _fill(where: Path) -> Path:
    filler = where / "filler"
    with open(filler, "wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError:
            pass
    return filler


def test_a_really_full_disk(two, tmp_path, capsys) -> None:
    mnt = tmp_path / "mnt"
    _mount_tmpfs(mnt, "3m")
    try:
        col = mnt / "col"
        rc, err = extract(capsys, two[:1], col)
        assert rc == 0, err
        with FeatureStore(col) as s:
            before = s.get("a", "test_meancolor")
        filler = _fill(mnt)
        rc, err = extract(capsys, two, col)
        no_traceback(err)
        assert rc in (1, 2) and str(mnt) in err, err
        assert not _tmp_files(col)
        with FeatureStore(col, create=False) as s:
            np.testing.assert_array_equal(s.get("a", "test_meancolor").values, before.values)
        filler.unlink()
        rc, err = extract(capsys, two, col)
        assert rc == 0, err
        rc, st = status_json(capsys, col)
        assert {r["status"] for r in st["videos"]} == {"done"}
    finally:
        _umount(mnt)


def test_read_only_collection_reads_and_creates_nothing(two, tmp_path, capsys) -> None:
    mnt = tmp_path / "mnt"
    _mount_tmpfs(mnt, "8m")
    try:
        col = mnt / "col"
        rc, err = extract(capsys, two, col)
        assert rc == 0, err
        with FeatureStore(col) as s:
            want = s.get("b", "test_meancolor")
        r = subprocess.run(["mount", "-o", "remount,ro", str(mnt)], capture_output=True, text=True)
        if r.returncode != 0:
            pytest.skip(f"cannot remount read-only: {r.stderr.strip()}")
        files = sorted(os.listdir(col))
        rc, st = status_json(capsys, col)
        assert rc == 0 and {r["status"] for r in st["videos"]} == {"done"}
        with FeatureStore(col, create=False) as s:
            assert s.readonly
            np.testing.assert_array_equal(s.get("b", "test_meancolor").values, want.values)
        assert sorted(os.listdir(col)) == files  # no -wal / -shm side files
        rc, err = extract(capsys, two, col, force=True)
        no_traceback(err)
        assert rc == 2 and str(col) in err and "not writable" in err
    finally:
        _umount(mnt)


def test_corrupt_shard_is_reported_and_redone(two, tmp_path, capsys) -> None:
    col = tmp_path / "col"
    extract(capsys, two, col)
    with FeatureStore(col) as s:
        want = s.get("a", "test_meancolor")
        shard = col / str(s.catalog.feature("a", "test_meancolor").shard)  # type: ignore[union-attr]
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    with FeatureStore(col) as s, pytest.raises(CorruptShardError, match="a.parquet"):
        s.get("a", "test_meancolor")
    rc, st = status_json(capsys, col)
    row = by_video(st)["a"]
    assert row["experts"]["test_meancolor"]["status"] == "corrupt"
    assert any("corrupt shard" in f and "a.parquet" in f for f in row["flags"])
    rc, err = extract(capsys, two, col)
    assert rc == 0 and "1 done, 1 already done" in err
    with FeatureStore(col) as s:
        np.testing.assert_array_equal(s.get("a", "test_meancolor").values, want.values)
        shard.write_bytes(shard.read_bytes()[:100])  # cut short: does not even parse
        with pytest.raises(CorruptShardError, match="a.parquet"):
            s.get("a", "test_meancolor")
        assert [r.video_id for r, _ in s.bad_shards()] == ["a"]


SPEC = ExpertSpec("toy", "appearance", dim=3, fps=1.0, window=1.0, stride=1.0)


def test_values_beyond_float16_are_kept_in_float32_not_inf(tmp_path) -> None:
    big = np.array([[1e6, -7e4, 1.5], [3.0, 65504.0, -2.0]], np.float32)
    small = np.array([[0.5, -1.0, 2.0]], np.float32)
    with FeatureStore(tmp_path / "col") as s:
        s.put("big", Features("toy", [[0, 1], [1, 2]], big), SPEC, WeightsInfo("w", "t", True))
        s.put("small", Features("toy", [[0, 1]], small), SPEC, WeightsInfo("w", "t", True))
        got = s.get("big", "toy").values
        assert np.isfinite(got).all()
        np.testing.assert_array_equal(got, big)
        assert shard_check(s.catalog, "big", "toy").values_dtype == "float32"  # type: ignore[union-attr]
        assert shard_check(s.catalog, "small", "toy").values_dtype == "float16"  # type: ignore[union-attr]


def test_shard_names_are_one_to_one() -> None:
    ids = ["clip one", "clip_one", "clip~20one", "clip~7e20one", ".tmp-1", "a/b", "a_b", "",
           "café", "caf~e9", "x" * 300, "x" * 301, "☕", "~u2615"]
    stems = [shard_stem(v) for v in ids]
    assert len(set(stems)) == len(ids)
    assert all(len(s.encode()) < 200 and "/" not in s and not s.startswith(".") for s in stems)
    assert shard_stem("clip_one") == "clip_one"  # plain names keep their old file name


class _Evil:
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, ("touch PWNED",))


def test_malicious_pickle_is_refused_and_never_runs(tmp_path, monkeypatch) -> None:
    from vidseek.models.datasets.msrvtt import load_feature_pickle

    monkeypatch.chdir(tmp_path)
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(pickle.dumps({"v1": _Evil()}))
    with pytest.raises(DatasetError, match=r"evil\.pkl: not a plain numpy feature pickle"):
        load_feature_pickle(evil)
    assert not (tmp_path / "PWNED").exists()
    ok = tmp_path / "ok.pkl"
    ok.write_bytes(pickle.dumps({"v1": np.ones((2, 3), np.float32), "v2": np.zeros(3)}))
    got = load_feature_pickle(ok)
    assert got["v1"].shape == (2, 3) and got["v2"].shape == (3,)


def test_every_torch_load_says_weights_only() -> None:
    root = Path(__file__).resolve().parents[2]
    bad = []
    for py in [*root.glob("vidseek/**/*.py"), *root.glob("bench/**/*.py"), *root.glob("tools/**/*.py")]:
        for k, line in enumerate(py.read_text().splitlines(), 1):
            if "torch.load(" in line and "weights_only=True" not in line:
                bad.append(f"{py.relative_to(root)}:{k}")
    assert bad == []
