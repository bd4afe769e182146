"""`--engine ray`: the same per-video worker on a local Ray (2 CPUs, fractional-CPU actors).

Oracle: the Ray engine writes exactly the features the local engine writes for the same videos
(tiny random-init effnet_lite0 twin, real decoding, real Parquet + SQLite); a corrupt file is
recorded as failed and the job goes on; a rerun resumes (everything already done is skipped).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from test_extract_pipeline import make_clip

from vidseek.pipelines.extract import ExtractConfig, extract_collection
from vidseek.registry import UnknownNameError
from vidseek.store import FeatureStore

ray = pytest.importorskip("ray", reason="Ray Data is the `cluster` extra (pip install 'vidseek[cluster]')")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _cfg(paths: list[Path], collection: Path, engine: str, workers: int = 1) -> ExtractConfig:
    return ExtractConfig([str(p) for p in paths], str(collection), experts=["effnet_lite0"], tiny=True,
                         progress=False, engine=engine, workers=workers)


def test_ray_engine_matches_local_and_records_failures(tmp_path: Path, local_ray: None,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "videos"
    d.mkdir()
    good = [make_clip(d / "a.mp4", 2.0, 10), make_clip(d / "b.mp4", 1.5, 25, audio=False)]
    bad = d / "broken.mp4"
    bad.write_bytes(good[0].read_bytes()[:400])  # truncated: header only
    assert extract_collection(_cfg(good, tmp_path / "local", "local")) == 0
    rc = extract_collection(_cfg([d], tmp_path / "ray", "ray", workers=2))
    assert rc == 1  # the broken file failed, the others are done
    with FeatureStore(tmp_path / "local", create=False) as ref, FeatureStore(tmp_path / "ray", create=False) as got:
        for vid in ("a", "b"):
            want, have = ref.get(vid, "effnet_lite0"), got.get(vid, "effnet_lite0")
            assert np.array_equal(want.times, have.times)
            assert np.allclose(want.values, have.values, atol=1e-3)  # float16 shards
        rows = {r["video_id"]: r for r in got.catalog.video_rows()}
        assert rows["broken"]["status"] == "failed" and "broken.mp4" in rows["broken"]["error"]
        assert rows["a"]["status"] == rows["b"]["status"] == "done"
    assert "FAILED" in capsys.readouterr().err
    # a rerun resumes: the two good videos are skipped, the broken one is tried again
    shutil.copy(good[0], bad)  # the broken file got fixed
    assert extract_collection(_cfg([d], tmp_path / "ray", "ray", workers=2)) == 0
    assert "2 already done" in capsys.readouterr().err


def test_unknown_engine_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clip = make_clip(tmp_path / "a.mp4", 1.0, 10)
    with pytest.raises(UnknownNameError, match="unknown extract engine 'spark'; known: local, ray"):
        extract_collection(_cfg([clip], tmp_path / "col", "spark"))
