"""A trained JEMC / MMT run as a search space: `vidseek index --model RUN` then search.

Oracle: the search's video ranking for a caption equals the brute-force ranking by the model's own
similarity (query vector · video vector) over every video of the collection.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from vidseek.errors import CollectionError
from vidseek.extract.experts.base import ExpertSpec, WeightsInfo
from vidseek.models.cards import build_dataset
from vidseek.models.training import TrainConfig, load_run, train
from vidseek.pipelines.index import IndexConfig, build_index
from vidseek.store import FeatureStore
from vidseek.types import Features

os.environ.setdefault("HF_HUB_OFFLINE", "1")

PLANTED = {"n_videos": 24, "dims": {"app": 12, "mot": 8}, "n_bins": 4, "noise": 0.1}


def _collection(root: Path) -> tuple[Path, list[tuple[str, str]]]:
    """The planted dataset's videos written into a real FeatureStore (one row per 1 s bin), and a
    captions file; returns (captions file, [(video, caption)] of every row)."""
    splits = build_dataset("planted", PLANTED)
    rows = [r for ds in (splits.train, splits.val, splits.test) if ds is not None for r in ds.rows]
    videos = splits.train.videos
    with FeatureStore(root) as store:
        for vid, vf in sorted(videos.items()):
            for e, x in vf.seqs.items():
                times = np.stack([np.arange(len(x), dtype=float), np.arange(len(x)) + 1.0], 1)
                store.put(vid, Features(e, times, x), ExpertSpec(e, "appearance", x.shape[1]),
                          WeightsInfo("sha-" + e, "test", True))
    caps = root.parent / "captions.csv"
    caps.write_text("video,caption,split\n" + "".join(f"{r.video},{r.caption},{r.split}\n" for r in rows))
    return caps, [(r.video, r.caption) for r in rows]


def _train(model: str, caps: Path, col: Path, out: Path, params: dict) -> Path:
    cfg = TrainConfig(model=model, dataset="captions", out=str(out), epochs=3, batch_size=8, lr=5e-3,
                      progress=False, num_threads=1, model_params=params,
                      dataset_params={"captions": str(caps), "collection": str(col), "n_bins": 4})
    train(cfg)
    return out


def _brute_force(run: Path, col: Path, caption: str) -> list[str]:
    """Every video ranked by the model's own vectors, straight from the features."""
    from vidseek.models.base import move_to
    from vidseek.models.datasets.features import load_video_features, video_batch

    model, _ = load_run(run)
    m = model  # type: ignore[assignment]
    with FeatureStore(col, create=False) as store, torch.no_grad():
        vids = sorted({r.video_id for r in store.catalog.features(status="done")})
        vfs = [load_video_features(store, v, m.info.experts, 4) for v in vids]
        vv = m.video_vectors(m.encode_videos(move_to(video_batch(vfs), "cpu"))).float().numpy()
    q = m.embed_queries([caption])[0]
    vv /= np.linalg.norm(vv, axis=1, keepdims=True)
    order = np.argsort(-(vv @ q), kind="stable")
    return [vids[i] for i in order]


@pytest.mark.parametrize("model,params", [
    ("jemc", {"word_vectors": None, "embed_dim": 16, "gru_hidden": 16}),
    ("mmt", {"d_model": 32, "n_layers": 1, "n_heads": 2, "tiny": True}),  # random-init text twin
])
def test_index_model_search_matches_brute_force(tmp_path: Path, model: str, params: dict) -> None:
    from vidseek.search.engine import SearchOptions, open_searcher

    col = tmp_path / "col"
    caps, rows = _collection(col)
    run = _train(model, caps, col, tmp_path / "run", params)
    assert build_index(IndexConfig(collection=str(col), model=str(run), progress=False)) == 0
    searcher = open_searcher(col)
    assert list(searcher.spaces) == [model]
    for _video, caption in rows[:6]:
        want = _brute_force(run, col, caption)
        res = searcher.rank(caption, SearchOptions(top=5, videos=True, explain=False))
        got = [v.video_id for v in res.videos]
        assert got[:5] == want[:5], caption
        hits = searcher.search(caption, SearchOptions(top=3, videos=True, explain=False))
        assert hits[0].video == want[0]
        assert hits[0].start == 0.0 and hits[0].end == pytest.approx(4.0)  # the whole video
    # a new video + a plain `vidseek index` (no --model): the trained space takes it in too
    with FeatureStore(col) as store:
        src = rows[0][0]
        for e in ("app", "mot"):
            f = store.get(src, e)
            store.put("extra", f, ExpertSpec(e, "appearance", f.dim), WeightsInfo("sha-" + e, "test", True))
    assert build_index(IndexConfig(collection=str(col), progress=False)) == 0
    searcher = open_searcher(col)
    assert "extra" in searcher.indexes[model].video_ids()
    res = searcher.rank(rows[0][1], SearchOptions(top=30, videos=True, explain=False))
    got = [v.video_id for v in res.videos]
    assert abs(got.index("extra") - got.index(src)) == 1  # same features, same score
        # training on (checkpoint changes) -> the space's identity changes -> index rebuilt, not mixed
    st = (run / "best.safetensors").stat()
    os.utime(run / "best.safetensors", ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    with pytest.raises(CollectionError, match="other weights"):
        open_searcher(col)
    assert build_index(IndexConfig(collection=str(col), model=str(run), progress=False)) == 0
    assert list(open_searcher(col).spaces) == [model]


def test_index_model_errors(tmp_path: Path) -> None:
    col = tmp_path / "col"
    caps, _ = _collection(col)
    with pytest.raises(CollectionError, match="no config.yaml"):
        build_index(IndexConfig(collection=str(col), model=str(tmp_path / "nothing"), progress=False))
    # a run trained on experts this collection lacks
    run = _train("jemc", caps, col, tmp_path / "run", {"word_vectors": None, "embed_dim": 8, "gru_hidden": 8})
    other = tmp_path / "other"
    with FeatureStore(other) as store:
        x = np.zeros((4, 12), np.float32)
        times = np.stack([np.arange(4.0), np.arange(4.0) + 1], 1)
        store.put("v0", Features("app", times, x), ExpertSpec("app", "appearance", 12),
                  WeightsInfo("sha-app", "test", True))
    with pytest.raises(CollectionError, match="needs mot"):
        build_index(IndexConfig(collection=str(other), model=str(run), progress=False))
