"""The shared trainer: resume, run-dir checks, config merging, feature-store datasets."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from vidseek.errors import DatasetError
from vidseek.extract.experts.base import ExpertSpec, WeightsInfo
from vidseek.models.cards import build_dataset
from vidseek.models.training import RunDirError, TrainConfig, load_run, train
from vidseek.pipelines.train import TrainCommand, resolve
from vidseek.store import FeatureStore
from vidseek.types import Features

PLANTED = {"n_videos": 24, "dims": {"app": 12, "mot": 8}, "n_bins": 4}


TINY_PARAMS = {"jemc": {"tiny": True, "word_vectors": None, "embed_dim": 16, "gru_hidden": 16},
               "mmt": {"tiny": True}}


def _cfg(out: Path, epochs: int, model: str = "jemc") -> TrainConfig:
    return TrainConfig(model=model, dataset="planted", out=str(out), epochs=epochs, batch_size=8,
                       lr=3e-3, progress=False, dataset_params=dict(PLANTED), num_threads=1,
                       model_params=TINY_PARAMS[model])


def test_resume_continues_identically(tmp_path: Path) -> None:
    full = train(_cfg(tmp_path / "full", 2))
    train(_cfg(tmp_path / "split", 1))
    state = json.loads((tmp_path / "split" / "state.json").read_text())
    assert state["epoch"] == 1 and "torch" in state["rng"]
    resumed = train(_cfg(tmp_path / "split", 2))
    assert resumed["epochs_run"] == 1
    assert resumed["history"][1]["train_loss"] == full["history"][1]["train_loss"]
    assert resumed["test"] == full["test"]
    run = tmp_path / "split"
    for name in ("config.yaml", "info.json", "last.safetensors", "last_optim.pt", "best.safetensors",
                 "log.csv", "metrics.json"):
        assert (run / name).exists(), name
    assert len((run / "log.csv").read_text().splitlines()) == 3  # header + 2 epochs
    metrics = json.loads((run / "metrics.json").read_text())["test"]
    assert {"t2v_R@1", "t2v_R@5", "t2v_R@10", "t2v_MdR", "t2v_MnR", "v2t_R@1", "rsum"} <= set(metrics)
    model, cfg = load_run(run)
    assert cfg.model == "jemc" and not model.training


def test_run_dir_of_another_model_is_refused(tmp_path: Path) -> None:
    train(_cfg(tmp_path / "run", 1))
    with pytest.raises(RunDirError, match="holds a 'jemc' run, not 'mmt'"):
        train(_cfg(tmp_path / "run", 1, model="mmt"))


def test_config_file_then_cli(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text(yaml.safe_dump({"model": "jemc", "dataset": "planted", "out": "x", "epochs": 7,
                                 "lr": 0.01, "model_params": {"embed_dim": 8}}))
    cfg = resolve(TrainCommand(model="jemc", config=str(f), epochs=None, seed=5,
                               dataset="synth:/data/s"))
    assert cfg.epochs == 7 and cfg.lr == 0.01 and cfg.seed == 5  # unset CLI keeps the file's value
    assert cfg.dataset == "synth" and cfg.dataset_params == {"path": "/data/s"}
    assert cfg.model_params == {"embed_dim": 8}


def _store(root: Path) -> None:
    """3 videos; expert a for all, expert b missing for v2."""
    rng = np.random.default_rng(0)
    with FeatureStore(root) as store:
        for vid in ("v0", "v1", "v2"):
            for e, d in (("a", 6), ("b", 4)):
                if vid == "v2" and e == "b":
                    continue
                times = np.stack([np.arange(5.0), np.arange(5.0) + 1], 1)
                store.put(vid, Features(e, times, rng.standard_normal((5, d))),
                          ExpertSpec(e, "appearance", d), WeightsInfo("sha", "test", True))


def test_captions_dataset_skips_and_masks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _store(tmp_path / "col")
    caps = tmp_path / "caps.csv"
    caps.write_text("video,caption,split\nv0,a dog,train\nv1,a cat,train\nv2,a cow,test\n"
                    "v9,missing video,train\nv1,,train\n")
    s = build_dataset("captions", {"captions": str(caps), "collection": str(tmp_path / "col"), "n_bins": 5})
    assert "1 captions of 1 videos" in capsys.readouterr().err
    assert len(s.train) == 2 and s.val is None and len(s.test) == 1
    assert s.info.experts == {"a": 6, "b": 4}
    batch = s.collate([s.test[0]])
    assert batch["present"].tolist() == [[True, False]]
    assert not batch["masks"]["b"].any() and batch["masks"]["a"].all()
    # the (5, 6) rows, one per 1 s bin of the 5 s video, come back unchanged
    with FeatureStore(tmp_path / "col") as store:
        want = store.get("v2", "a").values
    assert np.allclose(batch["feats"]["a"][0].numpy(), want)
    caps.write_text("video,caption\nzz,nothing here\n")
    with pytest.raises(DatasetError, match="none of the 1 captions"):
        build_dataset("captions", {"captions": str(caps), "collection": str(tmp_path / "col")})


def test_import_precomputed_pickles_then_msrvtt(tmp_path: Path) -> None:
    import pickle

    from vidseek.models.datasets.msrvtt import import_precomputed

    rng = np.random.default_rng(1)
    feats = {f"video{i}": rng.standard_normal((3, 5)).astype(np.float32) for i in range(6)}
    feats["video5"] = np.full((2, 5), np.nan, np.float32)  # CE's marker: expert missing
    (tmp_path / "rgb.pickle").write_bytes(pickle.dumps(feats))
    (tmp_path / "audio.pickle").write_bytes(pickle.dumps(
        {k: rng.standard_normal(4).astype(np.float32) for k in feats}))
    counts = import_precomputed({"rgb": tmp_path / "rgb.pickle", "audio": tmp_path / "audio.pickle"},
                                tmp_path / "col")
    assert counts == {"rgb": 15, "audio": 6}
    (tmp_path / "test.csv").write_text("key,vid_key,video_id,sentence\nret0,msr0,video0,a dog\n"
                                       "ret1,msr5,video5,a cat\n")
    (tmp_path / "train.csv").write_text("video,caption\n" + "".join(
        f"video{i},caption {i}\n" for i in range(1, 5)) + "video0,leaks the test video\n")
    s = build_dataset("msrvtt", {"collection": str(tmp_path / "col"), "test_csv": str(tmp_path / "test.csv"),
                                 "train_captions": str(tmp_path / "train.csv"), "n_bins": 3})
    assert {r.video for r in s.test.rows} == {"video0", "video5"}
    assert "video0" not in {r.video for r in s.train.rows}
    b = s.collate([s.test[1]])
    assert list(s.info.experts) == ["audio", "rgb"]
    assert b["video_ids"] == ["video5"] and b["present"].tolist() == [[True, False]]
    with FeatureStore(tmp_path / "col") as store:
        assert np.allclose(store.get("video0", "rgb").values, feats["video0"], atol=1e-2)
