"""Moment annotation formats, bad-input rules, 2D-TAN's HDF5 layout, the store-backed dataset."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest
from paths import ANNOTATIONS as ANN  # noqa: E402

from vidseek.errors import DatasetError
from vidseek.models.cards import build_dataset
from vidseek.models.datasets.moments import (
    clean_rows,
    import_tan2d_hdf5,
    read_activitynet,
    read_charades_sta,
    read_moments_jsonl,
    read_qvhighlights,
    read_tacos,
    read_tan2d_hdf5,
)


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_formats(tmp_path: Path) -> None:
    (tmp_path / "c.txt").write_text("AB12 1.5 4.0##person opens a door.\n")
    (tmp_path / "c.csv").write_text("id,actions,length\nAB12,c001 1.0 4.0;c002 10 12,20.0\n")
    r = read_charades_sta(tmp_path / "c.txt", tmp_path / "c.csv")[0]
    assert (r.video, r.start, r.end, r.duration, r.label, r.query) == ("AB12", 1.5, 4.0, 20.0, "c001", "person opens a door.")
    (tmp_path / "a.json").write_text(json.dumps({"v_x": {"duration": 9.0, "timestamps": [[0, 3]], "sentences": ["a b"]}}))
    assert read_activitynet(tmp_path / "a.json")[0].duration == 9.0
    (tmp_path / "t.json").write_text(json.dumps({"s13.avi": {"num_frames": 300, "fps": 30, "timestamps": [[30, 90]], "sentences": ["x"]}}))
    t = read_tacos(tmp_path / "t.json")[0]
    assert (t.video, t.start, t.end, t.duration) == ("s13", 1.0, 3.0, 10.0)
    q = read_qvhighlights(_jsonl(tmp_path / "q.jsonl", [{"qid": 1, "query": "x", "duration": 150, "vid": "v", "relevant_windows": [[2, 4], [8, 10]]}]))[0]
    assert q.windows == [[2.0, 4.0], [8.0, 10.0]] and (q.start, q.end) == (2.0, 4.0)
    m = read_moments_jsonl(_jsonl(tmp_path / "m.jsonl", [{"video": "v", "caption": "y", "start": 1, "end": 2, "event_type": "spins"}]))[0]
    assert (m.query, m.label) == ("y", "spins")


def test_bad_input_rules(tmp_path: Path) -> None:
    rows = read_moments_jsonl(_jsonl(tmp_path / "m.jsonl", [
        {"video": "a", "query": "ok", "start": -1, "end": 12, "duration": 10},
        {"video": "b", "query": "zero", "start": 0, "end": 1, "duration": 0},
        {"video": "c", "query": "  ", "start": 0, "end": 1, "duration": 5},
    ]))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = clean_rows(rows)
    assert [(r.video, r.start, r.end) for r in out] == [("a", 0.0, 10.0)]
    text = " ".join(str(x.message) for x in w)
    assert "clamped" in text and "zero-length" in text and "empty query" in text
    bad = read_moments_jsonl(_jsonl(tmp_path / "b.jsonl", [{"video": "a", "query": "q", "start": 5, "end": 2, "duration": 9}]))
    with pytest.raises(DatasetError, match=r"b\.jsonl:1"):
        clean_rows(bad)
    (tmp_path / "x.jsonl").write_text("{not json\n")
    with pytest.raises(DatasetError, match=r"x\.jsonl:1"):
        read_moments_jsonl(tmp_path / "x.jsonl")


def test_tan2d_hdf5_and_store_dataset(tmp_path: Path) -> None:
    from vidseek.store import FeatureStore

    rng = np.random.default_rng(0)
    h5 = tmp_path / "feats.hdf5"
    with h5py.File(h5, "w") as f:  # Charades layout (dataset per video) and ActivityNet (group)
        for v in ("v0", "v1", "v2", "v3", "v4"):
            f.create_dataset(v, data=rng.standard_normal((6, 8)).astype(np.float32))
        f.create_group("g0").create_dataset("c3d_features", data=np.ones((3, 8), np.float32))
    assert read_tan2d_hdf5(h5, ["g0"])["g0"].shape == (3, 8)
    with pytest.raises(DatasetError, match="nope"):
        read_tan2d_hdf5(h5, ["nope"])
    store = FeatureStore(tmp_path / "col")
    durs = {f"v{i}": 12.0 for i in range(5)}
    assert import_tan2d_hdf5(h5, store, "vgg", durs) == 5
    got = store.get("v0", "vgg")
    assert got.times[-1].tolist() == [10.0, 12.0] and got.values.shape == (6, 8)
    store.close()
    rows = [{"video": f"v{i}", "query": f"person does thing {i}", "start": 1.0, "end": 5.0 + i,
             "duration": 12.0, "split": "train" if i < 3 else "val"} for i in range(5)]
    sp = build_dataset("moments", {"collection": str(tmp_path / "col"), "n_clips": 8,
                                   "moments": str(_jsonl(tmp_path / "m.jsonl", rows))})
    assert sp.info.experts == {"vgg": 8} and sp.info.extra["n_clips"] == 8
    batch = sp.collate([sp.train[0], sp.train[1]])
    assert batch["feats"].shape == (2, 8, 8)  # 6 rows interpolated up to 8 clips
    assert len(sp.val) == 2 and batch["labels"].tolist() == [-1, -1]


def test_synth_moments_classes() -> None:
    sp = build_dataset("synth_moments", {"n_videos": 8, "n_clips": 8})
    assert sp.info.extra["label_source"] == "annotated classes"
    item = sp.train[0]
    assert item["feats"].shape == (8, 32) and item["label"] >= 0


@pytest.mark.real
def test_real_annotations_parse() -> None:
    if not ANN.is_dir():
        pytest.skip(f"annotations not found at {ANN}")
    cha = read_charades_sta(ANN / "charades_sta" / "charades_sta_test.txt",
                            ANN / "charades_sta" / "Charades_v1_test.csv")
    assert len(cha) == 3720
    y1 = [r for r in cha if r.video == "Y1HGC"]
    assert {r.query for r in y1} >= {"person drinking a glass of water."}
    assert sum(r.label is not None for r in cha) > 0.9 * len(cha)
    anet = read_activitynet(ANN / "activitynet_captions" / "val_1.json")
    g = [r for r in anet if r.video == "v_GGSY1Qvo990"]
    assert (g[0].start, g[0].end) == (0.0, 2.27)
    qv = read_qvhighlights(ANN / "qvhighlights" / "highlight_val_release.jsonl")
    assert len(qv) == 1550 and all(r.duration and r.windows for r in qv)
    assert len(clean_rows(qv)) == 1550
