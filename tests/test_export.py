"""`vidseek export`: every format holds exactly the stored rows (times, values, probs, text)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from vidseek.cli import main
from vidseek.extract.experts.base import ExpertSpec, WeightsInfo
from vidseek.store import FeatureStore
from vidseek.types import Features, VideoInfo

APP = ExpertSpec("app", "appearance", 4, fps=1.0)
ASR = ExpertSpec("asr", "speech", 0, sample_rate=16000)
W = WeightsInfo("sha-app", "test", random=True)


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    root = tmp_path / "coll"
    rng = np.random.default_rng(0)
    with FeatureStore(root) as store:
        for vid, n in (("v1", 5), ("v2", 3)):
            store.catalog.upsert_video(VideoInfo(vid, f"/x/{vid}.mp4", 1, 0, "h", n, 25, 64, 48, True), "done")
            t = np.stack([np.arange(n), np.arange(n) + 1], 1).astype(float)
            vals = rng.standard_normal((n, 4)).astype(np.float16).astype(np.float32)  # the store keeps fp16
            probs = rng.dirichlet(np.ones(3), n).astype(np.float16).astype(np.float32)
            store.put(vid, Features("app", t, vals, probs=probs), APP, W)
        store.put("v1", Features("asr", [[0, 2], [3, 5]], np.zeros((2, 0)), texts=["hello", "bye"],
                                 meta=[{"words": 1}, {"words": 1}]), ASR, W)
    return root


def test_npy_layout_matches_the_store(store_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "npy"
    assert main(["export", "--collection", str(store_dir), "--format", "npy", "--out", str(out)]) == 0
    with FeatureStore(store_dir, create=False) as store:
        for vid in ("v1", "v2"):
            f = store.get(vid, "app")
            np.testing.assert_array_equal(np.load(out / vid / "app" / "values.npy"), f.values)
            np.testing.assert_array_equal(np.load(out / vid / "app" / "times.npy"), f.times)
            np.testing.assert_array_equal(np.load(out / vid / "app" / "probs.npy"), f.probs)
    lines = [json.loads(x) for x in (out / "v1" / "asr" / "text.jsonl").read_text().splitlines()]
    assert lines == [{"start": 0.0, "end": 2.0, "text": "hello", "meta": {"words": 1}},
                     {"start": 3.0, "end": 5.0, "text": "bye", "meta": {"words": 1}}]
    assert not (out / "v2" / "asr").exists()
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["videos"] == ["v1", "v2"] and manifest["experts"]["app"]["weights_sha"] == "sha-app"


def test_parquet_dataset_and_filters(store_dir: Path, tmp_path: Path) -> None:
    import pyarrow.dataset as ds

    out = tmp_path / "pq"
    assert main(["export", "--collection", str(store_dir), "--format", "parquet", "--out", str(out),
                 "--experts", "app", "--videos", "v2"]) == 0
    table = ds.dataset(out, format="parquet", partitioning="hive").to_table()
    assert table.num_rows == 3 and set(table["video_id"].to_pylist()) == {"v2"}
    assert set(table["expert"].to_pylist()) == {"app"}
    with FeatureStore(store_dir, create=False) as store:
        f = store.get("v2", "app")
    np.testing.assert_array_equal(np.array(table["values"].to_pylist(), np.float32), f.values)
    assert table["start"].to_pylist() == f.times[:, 0].tolist()
    assert main(["export", "--collection", str(store_dir), "--format", "npy", "--out", str(out),
                 "--experts", "nope"]) == 2


def test_hf_dataset(store_dir: Path, tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets", reason="export --format hf needs vidseek[hf]")
    out = tmp_path / "hf"
    assert main(["export", "--collection", str(store_dir), "--format", "hf", "--out", str(out)]) == 0
    dd = datasets.load_from_disk(str(out))
    assert set(dd) == {"app", "asr"} and dd["app"].num_rows == 8 and dd["asr"]["text"] == ["hello", "bye"]


def test_extract_inputs_list_and_urls(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from vidseek.inputs import gather_inputs, read_list

    lst = tmp_path / "videos.txt"
    lst.write_text("# my clips\na.mp4\n\n  sub/b.mkv  # trailing comment\n/abs/c.webm\n")
    assert read_list(lst) == [str(tmp_path / "a.mp4"), str(tmp_path / "sub/b.mkv"), "/abs/c.webm"]
    assert gather_inputs(["x.mp4"], str(lst))[0] == "x.mp4"
    col = str(tmp_path / "c")
    assert main(["extract", "https://example.com/v.mp4", "--collection", col]) == 2
    assert "URLs are not fetched; download it first" in capsys.readouterr().err
    assert main(["extract", "--from-list", str(tmp_path / "missing.txt"), "--collection", col]) == 2
    assert "missing.txt" in capsys.readouterr().err
