"""Feature store: Parquet round trip, catalog status, atomic writes, weights bookkeeping."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from vidseek.errors import CollectionError, WeightsMismatchError
from vidseek.extract.experts.base import ExpertSpec, WeightsInfo
from vidseek.store import FeatureStore
from vidseek.store.features import read_shard
from vidseek.types import Features, VideoInfo

SPEC = ExpertSpec("toy", "appearance", dim=4, fps=1.0, window=1.0, stride=1.0)
W = WeightsInfo("abc123", "test")


def info(vid: str = "v1") -> VideoInfo:
    return VideoInfo(vid, f"/x/{vid}.mp4", 10, 1.0, "h", 3.0, 25.0, 64, 48, True, 75,
                     ({"index": 0, "type": "video"},))


def feats(n: int = 3) -> Features:
    rng = np.random.default_rng(0)
    return Features(
        "toy", np.stack([np.arange(n), np.arange(n) + 1.0], 1),
        rng.normal(size=(n, 4)).astype(np.float32), probs=np.full((n, 5), 0.2),
        texts=[f"line {i}" for i in range(n)], meta=[{"i": i} for i in range(n)],
    )


def test_round_trip_keeps_times_values_probs_texts(collection: Path) -> None:
    with FeatureStore(collection) as store:
        store.catalog.upsert_video(info())
        f = feats()
        store.put("v1", f, SPEC, W)
        got = store.get("v1", "toy")
    np.testing.assert_array_equal(got.times, f.times)
    np.testing.assert_allclose(got.values, f.values, atol=2e-3)  # float16 storage
    np.testing.assert_allclose(got.probs, f.probs, atol=1e-3)
    assert got.texts == f.texts and got.meta == f.meta


def test_zero_rows_and_zero_dim_round_trip(collection: Path) -> None:
    spec = ExpertSpec("asr", "speech", dim=0, sample_rate=16000)
    with FeatureStore(collection) as store:
        store.put("v1", Features("asr", np.zeros((0, 2)), np.zeros((0, 0)), texts=[]), spec, W)
        store.put("v2", Features("asr", [[0.0, 1.5]], np.zeros((1, 0)), texts=["hi"]), spec, W)
        assert len(store.get("v1", "asr")) == 0
        assert store.get("v2", "asr").texts == ["hi"]


def test_has_is_false_until_put_and_checks_weights(collection: Path) -> None:
    with FeatureStore(collection) as store:
        assert not store.has("v1", "toy")
        store.put("v1", feats(), SPEC, W)
        assert store.has("v1", "toy")
        assert store.has("v1", "toy", "abc123")
        assert not store.has("v1", "toy", "other")


def test_shard_metadata_records_weights_and_spec(collection: Path) -> None:
    with FeatureStore(collection) as store:
        path = store.put("v1", feats(), SPEC, WeightsInfo("r", "random-init", random=True))
    meta, _ = read_shard(path)
    assert meta["weights_sha"] == "r" and meta["random_weights"] is True
    assert meta["fps"] == 1.0 and meta["window"] == 1.0 and meta["dim"] == 4


def test_mixing_weights_is_refused(collection: Path) -> None:
    with FeatureStore(collection) as store:
        store.put("v1", feats(), SPEC, W)
        store.put("v2", feats(), SPEC, WeightsInfo("zzz", "random-init", random=True))
        with pytest.raises(WeightsMismatchError, match="different weights"):
            store.weights_of("toy")


def test_failed_records_error_and_is_not_done(collection: Path) -> None:
    with FeatureStore(collection) as store:
        store.mark_failed("v1", "toy", "boom: bad frame")
        rec = store.catalog.feature("v1", "toy")
        assert rec is not None and rec.status == "failed" and rec.error == "boom: bad frame"
        assert not store.has("v1", "toy")


def test_stray_tmp_files_are_swept_and_never_read(collection: Path) -> None:
    with FeatureStore(collection) as store:
        store.put("v1", feats(), SPEC, W)
        tmp = store.shard_path("v1", "toy").with_name(".tmp-dead.parquet")
        tmp.write_bytes(b"half written")
    with FeatureStore(collection) as store:
        assert not tmp.exists()
        assert len(store.get("v1", "toy")) == 3


def test_open_keeps_a_live_writers_tmp_and_sweeps_a_dead_ones(collection: Path) -> None:
    """Several writers share a collection (workers, Ray actors): opening the store must not
    delete a shard another live process is writing, only those of writers that are gone."""
    import os
    import subprocess
    import sys

    from vidseek.store.features import _host_tag

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead_pid = int(dead.stdout)
    with FeatureStore(collection) as store:
        store.put("v1", feats(), SPEC, W)
        folder = store.shard_path("v1", "toy").parent
    name = ".tmp-{}-" + "0" * 32 + "-{}.parquet"
    live = folder / name.format(os.getpid(), _host_tag())
    gone = folder / name.format(dead_pid, _host_tag())
    other_host = folder / name.format(dead_pid, "ffffffff" if _host_tag() != "ffffffff" else "eeeeeeee")
    for f in (live, gone, other_host):
        f.write_bytes(b"being written")
    with FeatureStore(collection) as store:
        assert live.exists()  # this process is alive: its temporary stays
        assert not gone.exists()  # its writer exited
        assert other_host.exists()  # another host's writer: only after FOREIGN_TMP_STALE_S
        assert len(store.get("v1", "toy")) == 3
    old = 2 * 24 * 3600
    os.utime(other_host, (other_host.stat().st_atime - old, other_host.stat().st_mtime - old))
    FeatureStore(collection).close()
    assert not other_host.exists() and live.exists()


def test_missing_collection_without_create_says_so(tmp_path: Path) -> None:
    with pytest.raises(CollectionError, match="does not exist"):
        FeatureStore(tmp_path / "nope", create=False)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_unwritable_collection_is_a_clear_error(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    with pytest.raises(CollectionError):
        FeatureStore(ro / "c")


def test_catalog_video_round_trip(collection: Path) -> None:
    with FeatureStore(collection) as store:
        store.catalog.upsert_video(info("v9"))
        got = store.catalog.video("v9")
    assert got == info("v9")


def test_collection_that_cannot_be_created_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(CollectionError, match="cannot create collection"):
        FeatureStore(blocker / "c")
