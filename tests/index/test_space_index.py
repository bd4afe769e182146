"""SpaceIndex on a real collection folder: FAISS file + rows in catalog.sqlite."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vidseek.errors import WeightsMismatchError
from vidseek.index import SpaceIndex, drop_space, list_spaces
from vidseek.store import FeatureStore
from vidseek.types import SearchRow

DIM = 24
IDENT = "experts:abc123+text:def456"


def _video(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    starts = np.arange(n) * 1.5
    return np.stack([starts, starts + 2.0], 1), rng.standard_normal((n, DIM)).astype(np.float32)


@pytest.fixture
def store(tmp_path: Path) -> FeatureStore:
    with FeatureStore(tmp_path / "coll") as s:
        yield s


def _rows(store: FeatureStore, space: str = "s") -> dict[int, tuple]:
    return store.catalog.index_rows_by_id(space, store.catalog.index_row_videos(space))


def _span(hit: SearchRow) -> tuple[str, float, float]:
    return hit.video, hit.start, hit.end


def test_planted_window_survives_reopen(store: FeatureStore) -> None:
    idx = SpaceIndex(store, "s", DIM, IDENT)
    t_a, v_a = _video(30, 1)
    t_b, v_b = _video(20, 2)
    planted = np.random.default_rng(9).standard_normal(DIM).astype(np.float32)
    v_b[7] = planted * 3.0  # scale must not matter: vectors are normalised
    idx.add_video("a", t_a, v_a)
    idx.add_video("b", t_b, v_b)
    assert _span(idx.search(planted, 1)[0]) == ("b", t_b[7, 0], t_b[7, 1])  # pending rows searchable
    idx.commit()
    assert (store.root / "index" / "s.faiss").exists()

    again = SpaceIndex(store, "s", DIM, IDENT)
    assert again.ntotal == 50 and again.video_ids() == {"a", "b"}
    hits = again.search(planted, 5)
    assert hits[0] == SearchRow("b", 10.5, 12.5, hits[0].score, 7, "s")
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    # restricted to video a, the planted window cannot appear; exact scores agree with search
    only_a = again.search(planted, 3, video_ids={"a"})
    assert {h.video for h in only_a} == {"a"}
    times, scores = again.window_scores(planted, "a")
    assert times.shape == (30, 2) and np.allclose(times, t_a)
    assert only_a[0].row == int(np.argmax(scores))
    assert only_a[0].score == pytest.approx(float(scores.max()), abs=1e-5)
    assert list_spaces(store)[0] | {"updated": 0} == {
        "space": "s", "factory": "Flat", "dim": DIM, "identity": IDENT, "n": 50, "updated": 0
    }


def test_append_does_not_rebuild_and_remove(store: FeatureStore) -> None:
    idx = SpaceIndex(store, "s", DIM, IDENT)
    for i, vid in enumerate(("a", "b")):
        idx.add_video(vid, *_video(10, i))
    idx.commit()
    first = _rows(store)
    idx = SpaceIndex(store, "s", DIM, IDENT)
    t_c, v_c = _video(5, 7)
    idx.add_video("c", t_c, v_c)
    idx.commit()
    rows = _rows(store)
    assert {k: v for k, v in rows.items() if k in first} == first  # first ids untouched
    assert sorted(set(rows) - set(first)) == list(range(20, 25))  # ids continue from max
    assert idx.search(v_c[3], 1)[0].video == "c"

    idx.remove_video("a")
    assert "a" not in idx.video_ids()
    idx.commit()
    idx = SpaceIndex(store, "s", DIM, IDENT)
    assert idx.ntotal == 15 and idx.video_ids() == {"b", "c"}
    assert all(h.video != "a" for h in idx.search(_video(10, 0)[1][0], 15))
    assert idx.window_scores(v_c[0], "a")[1].shape == (0,)


def test_identity_mismatch_raises(store: FeatureStore) -> None:
    idx = SpaceIndex(store, "s", DIM, IDENT)
    idx.add_video("a", *_video(3, 0))
    idx.commit()
    with pytest.raises(WeightsMismatchError, match="--rebuild"):
        SpaceIndex(store, "s", DIM, "experts:other+text:def456")
    drop_space(store, "s")
    assert SpaceIndex(store, "s", DIM, "experts:other+text:def456").ntotal == 0


def test_flat_grows_to_ivf_keeps_every_row(store: FeatureStore) -> None:
    idx = SpaceIndex(store, "s", DIM, IDENT, flat_max=40)
    videos = {f"v{i}": _video(15, 100 + i) for i in range(4)}
    for vid, (t, v) in list(videos.items())[:2]:
        idx.add_video(vid, t, v)
    idx.commit()
    assert idx.factory == "Flat"
    for vid, (t, v) in list(videos.items())[2:]:
        idx.add_video(vid, t, v)
    idx.commit()
    assert idx.factory == "IVF32,Flat" and idx.ntotal == 60  # k = 4 * sqrt(60) -> 32
    idx = SpaceIndex(store, "s", DIM, IDENT, flat_max=40)
    assert idx.factory == "IVF32,Flat" and list_spaces(store)[0]["factory"] == "IVF32,Flat"
    for vid, (t, v) in videos.items():
        for r in range(len(t)):
            hit = idx.search(v[r], 1)[0]
            assert _span(hit) == (vid, t[r, 0], t[r, 1]) and hit.row == r
    idx.remove_video("v0")  # IVF removes for real
    idx.commit()
    idx = SpaceIndex(store, "s", DIM, IDENT, flat_max=40)
    assert idx.ntotal == 45 and all(h.video != "v0" for h in idx.search(videos["v0"][1][0], 45))


def test_crash_between_index_and_rows_is_repaired(store: FeatureStore, monkeypatch) -> None:
    idx = SpaceIndex(store, "s", DIM, IDENT)
    idx.add_video("a", *_video(10, 0))
    idx.add_video("b", *_video(10, 1))
    idx.commit()
    t_c, v_c = _video(6, 2)
    idx.add_video("c", t_c, v_c)
    idx.remove_video("a")

    def crash() -> None:
        raise KeyboardInterrupt("killed after the index rename")

    monkeypatch.setattr(idx, "_after_index_saved", crash)
    with pytest.raises(KeyboardInterrupt):
        idx.commit()
    # on disk: the index has b + c (a removed), the rows still say a + b
    again = SpaceIndex(store, "s", DIM, IDENT)
    rows = _rows(store)
    assert again.ntotal == len(rows) == 10
    assert again.video_ids() == {"b"}  # a lost rows in the index, c never got rows: both dropped
    assert set(again.index.ids().tolist()) == set(rows)
    assert _span(again.search(_video(10, 1)[1][4], 1)[0]) == ("b", 6.0, 8.0)
    again.add_video("c", t_c, v_c)  # the next run re-adds what was lost
    again.commit()
    assert SpaceIndex(store, "s", DIM, IDENT).video_ids() == {"b", "c"}
