"""Batched window scores (`SpaceIndex.window_scores_many`, the search engine's exact rescoring)
against the oracle: each video's own vectors, normalised, dotted with the query in row order —
for committed rows, rows added since the last commit, a replaced video, a removed one, an
unknown one, and after the index grows from Flat to IVF."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vidseek.index import SpaceIndex
from vidseek.store import FeatureStore

DIM = 16


def _video(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    starts = np.arange(n) * 0.5
    return np.stack([starts, starts + 1.0], 1), rng.standard_normal((n, DIM)).astype(np.float32)


def _oracle(videos: dict[str, tuple[np.ndarray, np.ndarray]], q: np.ndarray, vid: str
            ) -> tuple[np.ndarray, np.ndarray]:
    if vid not in videos:
        return np.zeros((0, 2)), np.zeros(0, np.float32)
    t, v = videos[vid]
    v = v / np.linalg.norm(v, axis=1, keepdims=True)
    return t, (v @ (q / np.linalg.norm(q))).astype(np.float32)


def _check(idx: SpaceIndex, videos: dict, q: np.ndarray, names: list[str]) -> None:
    many = idx.window_scores_many(q, names)
    assert list(many) == list(dict.fromkeys(names))
    for vid in names:
        t, s = many[vid]
        t1, s1 = idx.window_scores(q, vid)  # one video at a time: the same arrays
        np.testing.assert_array_equal(t, t1)
        np.testing.assert_allclose(s, s1, atol=1e-6)  # BLAS may block a longer product otherwise
        want_t, want_s = _oracle(videos, q, vid)
        np.testing.assert_array_equal(t, want_t)
        np.testing.assert_allclose(s, want_s, atol=1e-5)


@pytest.fixture
def store(tmp_path: Path) -> FeatureStore:
    with FeatureStore(tmp_path / "coll") as s:
        yield s


def test_batched_scores_equal_the_vectors(store: FeatureStore) -> None:
    videos = {f"v{i}": _video(5 + 3 * i, i) for i in range(12)}
    idx = SpaceIndex(store, "s", DIM, "ident")
    for vid, (t, v) in videos.items():
        idx.add_video(vid, t, v)
    q = np.random.default_rng(99).standard_normal(DIM).astype(np.float32)
    names = ["v3", "v0", "nobody", "v11", "v3"]
    _check(idx, videos, q, names)  # all pending
    idx.commit()
    again = SpaceIndex(store, "s", DIM, "ident")
    _check(again, videos, q, names)  # all committed (and now cached)
    _check(again, videos, q, names)
    videos["v0"] = _video(9, 100)  # replaced: pending rows stand for the video
    again.add_video("v0", *videos["v0"])
    again.remove_video("v11")
    del videos["v11"]
    videos["new"] = _video(4, 101)
    again.add_video("new", *videos["new"])
    _check(again, videos, q, [*names, "new"])
    again.commit()
    _check(again, videos, q, [*names, "new"])
    _check(SpaceIndex(store, "s", DIM, "ident"), videos, q, [*names, "new"])


def test_batched_scores_after_growing_to_ivf(store: FeatureStore) -> None:
    videos = {f"v{i}": _video(40, i) for i in range(30)}
    idx = SpaceIndex(store, "s", DIM, "ident", flat_max=500)
    for vid, (t, v) in videos.items():
        idx.add_video(vid, t, v)
    idx.commit()
    assert idx.factory.startswith("IVF")  # 1200 rows > flat_max: rebuilt as IVF
    q = np.random.default_rng(5).standard_normal(DIM).astype(np.float32)
    _check(SpaceIndex(store, "s", DIM, "ident"), videos, q, sorted(videos))
