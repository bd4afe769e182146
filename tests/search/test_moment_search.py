"""Trained moment localizers serving search: FVMR's common space indexed per candidate moment, and
tan2d / cimha / fvmr runs re-ranking the Searcher's moments.

Oracles: the search's top hit is the brute-force argmax of moment_embeddings @ query_embedding over
every video (exact search); a reranker's scores are the model's own proposal_scores of the same
clip features; with no candidates, its added moments are the model's own predict().
Real FeatureStore, real FAISS, real trainer (FVMR, 1 epoch); tan2d / cimha runs are random-init
tiny twins saved in the trainer's run-dir layout.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from test_spaces import TOY_LABELS  # registers the "bow-test" encoder

from vidseek.api import load_reranker
from vidseek.errors import CollectionError
from vidseek.extract.experts.base import ExpertSpec, WeightsInfo
from vidseek.models.cards import build_dataset, build_model
from vidseek.models.datasets.moments import load_clip_features
from vidseek.models.training import TrainConfig, load_run, save_config, save_weights, train
from vidseek.pipelines.index import IndexConfig, build_index
from vidseek.search.conse import conse_builder
from vidseek.search.engine import SearchOptions, open_searcher
from vidseek.search.moments import Moment
from vidseek.search.spaces import SPACES, build_space
from vidseek.store import FeatureStore
from vidseek.types import Features, IndexSettings, VideoInfo

os.environ.setdefault("HF_HUB_OFFLINE", "1")

if "toy_cls" not in SPACES:
    SPACES.add("toy_cls", conse_builder("toy_cls", labels=TOY_LABELS, topk=2))

DURATIONS = {"v0": 16, "v1": 12, "v2": 20, "v3": 16, "v4": 14, "v5": 18}
DIMS = {"app": 6, "mot": 4}
N = 8
QUERIES = ["a person opens the door", "the dog runs to the door", "someone pours a cup of tea",
           "a person sits on the sofa", "the cat jumps on the table"]
W = WeightsInfo("sha-test", "test", random=True)


def _collection(root: Path, experts: dict[str, int] = DIMS, toy_cls: bool = False) -> Path:
    """Videos with `app` rows of 1 s and `mot` rows of 2 s (different windows, aligned by time);
    with toy_cls, a ConSE classifier expert whose "dog" + "skateboard" fire in [4, 8] s of v0."""
    rng = np.random.default_rng(0)
    with FeatureStore(root) as store:
        for vid, dur in DURATIONS.items():
            store.catalog.upsert_video(VideoInfo(vid, f"/nonexistent/{vid}.mp4", 1, 0.0, "h", float(dur),
                                                 25.0, 64, 48, False), status="done")
            for e, d in experts.items():
                step = 1.0 if e == "app" else 2.0
                t0 = np.arange(0.0, dur, step)
                times = np.stack([t0, np.minimum(t0 + step, dur)], 1)
                store.put(vid, Features(e, times, rng.standard_normal((len(t0), d)).astype(np.float32)),
                          ExpertSpec(e, "appearance", d, window=step, stride=step), W)
            if toy_cls:
                p = np.full((dur, len(TOY_LABELS)), 0.01, np.float32)
                p[:, 1] = 0.9  # cat everywhere ...
                if vid == "v0":
                    p[4:8, 1], p[4:8, 0], p[4:8, 5] = 0.01, 0.45, 0.45  # ... but a dog on a skateboard
                t = np.stack([np.arange(dur), np.arange(dur) + 1.0], 1)
                store.put(vid, Features("toy_cls", t, np.zeros((dur, 0)), probs=p),
                          ExpertSpec("toy_cls", "appearance", 0, fps=1.0), W)
    return root


def _moments_file(path: Path) -> Path:
    rows = []
    for k, (vid, dur) in enumerate(DURATIONS.items()):
        split = "train" if k < 4 else "val" if k == 4 else "test"
        for j in range(3):
            s = float((k + 2 * j) % (dur - 4))
            rows.append({"video": vid, "query": QUERIES[(k + j) % len(QUERIES)], "start": s, "end": s + 4.0,
                         "duration": float(dur), "split": split})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _dataset_params(col: Path, moments: Path) -> dict[str, Any]:
    return {"collection": str(col), "moments": str(moments), "n_clips": N, "experts": list(DIMS)}


def _train_fvmr(col: Path, moments: Path, out: Path) -> Path:
    train(TrainConfig(model="fvmr", dataset="moments", out=str(out), epochs=1, batch_size=8, lr=1e-3,
                      progress=False, num_threads=1, model_params={"tiny": True, "use_spacy": False},
                      dataset_params=_dataset_params(col, moments)))
    return out


def _save_run(model_name: str, col: Path, moments: Path, out: Path, seed: int = 0) -> Path:
    """A random-init tiny twin written in the trainer's run-dir layout (config, info, weights)."""
    splits = build_dataset("moments", _dataset_params(col, moments))
    torch.manual_seed(seed)
    model = build_model(model_name, {"tiny": True}, splits.info)
    out.mkdir(parents=True)
    save_config(TrainConfig(model=model_name, dataset="moments", out=str(out), model_params={"tiny": True},
                            dataset_params=_dataset_params(col, moments)), out / "config.yaml")
    (out / "info.json").write_text(json.dumps(splits.info.to_json()))
    save_weights(model, out / "best.safetensors")
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One collection, its moments file, a trained FVMR run and tiny tan2d / cimha runs."""
    tmp = tmp_path_factory.mktemp("moment_search")
    col = _collection(tmp / "col")
    moments = _moments_file(tmp / "moments.jsonl")
    return {"tmp": tmp, "col": col, "moments": moments, "fvmr": _train_fvmr(col, moments, tmp / "fvmr"),
            "tan2d": _save_run("tan2d", col, moments, tmp / "tan2d"),
            "cimha": _save_run("cimha", col, moments, tmp / "cimha", seed=1)}


def _clips(store: FeatureStore, model: Any, vid: str) -> tuple[np.ndarray, float]:
    dur = float(DURATIONS[vid])
    return load_clip_features(store, vid, list(model.info.experts), model.n, dur), dur


def _brute_force(run: Path, col: Path, query: str) -> list[tuple[float, str, float, float]]:
    """(cosine, video, start, end) of every candidate moment of every video, best first."""
    model: Any = load_run(run)[0]
    q = model.query_embedding(query)
    q = q / np.linalg.norm(q)
    out = []
    with FeatureStore(col, create=False) as store:
        for vid in DURATIONS:
            clips, dur = _clips(store, model, vid)
            edges = np.linspace(0, dur, N + 1)
            spans, vecs = model.moment_embeddings(clips, np.stack([edges[:-1], edges[1:]], 1), dur)
            cos = (vecs / np.linalg.norm(vecs, axis=1, keepdims=True)) @ q
            out += [(float(c), vid, float(s), float(e)) for c, (s, e) in zip(cos, spans, strict=True)]
    return sorted(out, reverse=True)


def _index(col: Path, run: Path | None = None, **kw: Any) -> None:
    assert build_index(IndexConfig(collection=str(col), model=None if run is None else str(run),
                                   encoder="bow-test", progress=False, **kw)) == 0


def test_fvmr_index_search_matches_exact_search(world: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    col, run = world["tmp"] / "col_a", world["fvmr"]
    _collection(col)
    _index(col, run)
    capsys.readouterr()
    searcher = open_searcher(col)
    assert list(searcher.spaces) == ["fvmr"]
    n_cells = len(_brute_force(run, col, QUERIES[0])) // len(DURATIONS)
    assert searcher.indexes["fvmr"].ntotal == n_cells * len(DURATIONS)  # every candidate moment is a row
    for query in QUERIES:
        want = _brute_force(run, col, query)
        hits = searcher.search(query, SearchOptions(top=10, explain=True))
        top = hits[0]
        assert (top.video, top.start, top.end) == pytest.approx((want[0][1], want[0][2], want[0][3]))
        assert top.why.space("fvmr").cosine == pytest.approx(want[0][0], abs=1e-4)
        spans = {(v, round(s, 6), round(e, 6)) for _, v, s, e in want}
        for h in hits:  # every hit is one of its video's candidate spans
            assert (h.video, round(h.start, 6), round(h.end, 6)) in spans
            assert 0 <= h.start < h.end <= DURATIONS[h.video]
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        # the moments of a video follow FVMR's own order (after NMS) and do not overlap > 0.5
        res = searcher.rank(query, SearchOptions(moments_per_video=4))
        for v in res.videos:
            cos = [m.why["fvmr"]["cosine"] for m in v.moments]
            assert cos == sorted(cos, reverse=True)
            for a in range(len(v.moments)):
                for b in range(a):
                    ma, mb = v.moments[a], v.moments[b]
                    inter = max(0.0, min(ma.end, mb.end) - max(ma.start, mb.start))
                    assert inter / (max(ma.end, mb.end) - min(ma.start, mb.start)) < 0.5
        best: dict[str, float] = {}
        for c, vid, _, _ in want:
            best.setdefault(vid, c)
        by_video = sorted(best, key=lambda name: -best[name])
        assert [v.video_id for v in res.videos][:3] == by_video[:3]  # videos rank by their best moment


def test_fvmr_with_zero_shot_space(world: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """FVMR and a zero-shot classifier space searched together: with fvmr weighted 0, the candidate
    spans rank by the zero-shot contrast alone, so the planted [4, 8] s of v0 (cells 2..3 of 8)
    comes first; with fvmr alone the top hit is FVMR's argmax again."""
    col, run = world["tmp"] / "col_z", world["fvmr"]
    _collection(col, toy_cls=True)
    _index(col, run)
    capsys.readouterr()
    searcher = open_searcher(col)
    assert set(searcher.spaces) == {"fvmr", "toy_cls"}
    hits = searcher.search("a dog on a skateboard", SearchOptions(top=3, weights={"fvmr": 0.0}))
    assert (hits[0].video, hits[0].start, hits[0].end) == ("v0", 4.0, 8.0)
    assert hits[0].why.space("toy_cls").z is not None
    want = _brute_force(run, col, QUERIES[1])
    hits = open_searcher(col, spaces=["fvmr"]).search(QUERIES[1], SearchOptions(top=1))
    assert (hits[0].video, hits[0].start, hits[0].end) == pytest.approx(want[0][1:])


@pytest.mark.parametrize("kind", ["tan2d", "cimha", "fvmr"])
def test_reranker_follows_model_scores(world: dict[str, Path], kind: str) -> None:
    from vidseek.search.rerank import LocalizerReranker

    run = world[kind]
    model: Any = load_run(run)[0]
    query, vid = QUERIES[0], "v2"
    with FeatureStore(world["col"], create=False) as store:
        clips, dur = _clips(store, model, vid)
        with torch.no_grad():
            want = model.proposal_scores(torch.from_numpy(clips)[None], [query])[0].numpy()
        cells = model.candidate_spans() * dur
        rng = np.random.default_rng(3)
        pick = rng.choice(len(cells), 6, replace=False)
        given = [Moment(float(cells[k, 0]), float(cells[k, 1]), float(-i)) for i, k in enumerate(pick)]
        given[0] = Moment(given[0].start + 0.1, given[0].end + 0.1, 0.0)  # off-grid: nearest cell
        rr = LocalizerReranker(run, store, add_own=0, min_confidence=0.0)
        got = rr(query, vid, given)
        assert [(m.start, m.end) for m in got] == [(m.start, m.end) for m in given]  # spans kept
        assert [m.score for m in got] == pytest.approx([float(want[k]) for k in pick], rel=1e-5)
        order_want = np.argsort(-want[pick], kind="stable")
        order_got = np.argsort(-np.array([m.score for m in got]), kind="stable")
        assert order_got.tolist() == order_want.tolist()
        # no candidates: the reranker proposes the model's own best moments (predict, NMS)
        own = LocalizerReranker(run, store, add_own=3, min_confidence=0.0)(query, vid, [])
        pred = model.predict(torch.from_numpy(clips)[None], [query], [dur], top_k=3)[0]
        assert [x for m in own for x in (m.start, m.end, m.score)] == pytest.approx([x for r in pred for x in r])
        # through the registry (what `search --rerank RUN` loads), own moments are added
        reg = load_reranker(str(run), store, min_confidence=0.0)
        out = reg(query, vid, given[1:2])
        assert len(out) >= 2 and out[0].why["rerank"]["model"] == kind
        # the confidence gate: at the model's best score it re-scores, just above it the
        # zero-shot moments come back untouched (same objects, no rerank note)
        top = float(want.max())
        assert LocalizerReranker(run, store, add_own=0, min_confidence=top)(query, vid, given)[0].why
        kept = LocalizerReranker(run, store, add_own=2, min_confidence=np.nextafter(top, 2.0))(query, vid, given)
        assert kept == given and all("rerank" not in m.why for m in kept)
        # the vocabulary gate: a query of words the run never saw is left to zero-shot
        rr = LocalizerReranker(run, store, add_own=2, min_confidence=0.0)
        assert rr.vocab and rr.vocab_coverage(query) == 1.0
        unknown = "zyx wvu tsr"
        assert rr.vocab_coverage(unknown) == 0.0 and rr(unknown, vid, given) == given
        assert LocalizerReranker(run, store, min_confidence=0.0, min_vocab=0.0)(unknown, vid, given) != given


def test_rerank_in_searcher(world: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """The re-ranked head's moments follow the localizer's scores; the videos keep their
    zero-shot order; a gate above the localizer's confidence leaves the zero-shot result."""
    col = world["tmp"] / "col_r"
    _collection(col)
    _index(col, world["fvmr"])
    capsys.readouterr()
    searcher = open_searcher(col)
    plain = searcher.rank(QUERIES[2], SearchOptions())
    rr = load_reranker(str(world["tan2d"]), searcher.store, min_confidence=0.0)
    res = searcher.rank(QUERIES[2], SearchOptions(rerank=rr, rerank_videos=2))
    assert [v.video_id for v in res.videos] == [v.video_id for v in plain.videos]
    assert [v.score for v in res.videos] == pytest.approx([v.score for v in plain.videos])
    head = res.videos[:2]
    assert all(v.reranked for v in head) and not any(v.reranked for v in res.videos[2:])
    for v in head:
        assert all(0.0 <= m.score <= 1.0 and "rerank" in m.why for m in v.moments)  # sigmoid scores
        assert [m.score for m in v.moments] == sorted((m.score for m in v.moments), reverse=True)
    gated = load_reranker(str(world["tan2d"]), searcher.store, min_confidence=1.0)
    res = searcher.rank(QUERIES[2], SearchOptions(rerank=gated, rerank_videos=2))
    assert not any(v.reranked for v in res.videos)
    assert [[(m.start, m.end) for m in v.moments] for v in res.videos] == \
        [[(m.start, m.end) for m in v.moments] for v in plain.videos]
    hits = searcher.search(QUERIES[2], SearchOptions(top=20, rerank=rr, rerank_videos=2))
    assert hits[0].video == plain.videos[0].video_id and hits[0].why.rerank is not None


def test_wrong_run_or_missing_experts(world: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    from vidseek.search.engine import load_encoder, space_context
    from vidseek.search.rerank import LocalizerReranker

    tmp = world["tmp"]
    col = tmp / "col_e"
    _collection(col)
    with pytest.raises(CollectionError, match="tan2d run, which has no search space"):
        _index(col, world["tan2d"])
    with pytest.raises(CollectionError, match="no config.yaml"):
        _index(col, tmp / "nothing")
    with FeatureStore(col, create=False) as store:
        ctx = space_context(store, load_encoder("bow-test"), str(world["cimha"]))
        with pytest.raises(CollectionError, match="holds a cimha run, not fvmr"):
            build_space("fvmr", ctx)
        with pytest.raises(CollectionError, match="holds a tan2d run, not cimha"):
            LocalizerReranker(world["tan2d"], store, kinds=("cimha",))
        jemc = tmp / "jemc_run"
        jemc.mkdir(exist_ok=True)
        (jemc / "config.yaml").write_text("model: jemc\ndataset: captions\nout: x\n")
        with pytest.raises(CollectionError, match="jemc run, which cannot re-rank"):
            load_reranker(str(jemc), store)
        empty = tmp / "no_weights"
        empty.mkdir(exist_ok=True)
        for f in ("config.yaml", "info.json"):
            (empty / f).write_text((world["tan2d"] / f).read_text())
        with pytest.raises(CollectionError, match="holds no weights"):
            load_reranker(str(empty), store)
    other = _collection(tmp / "col_app_only", experts={"app": 6})
    with pytest.raises(CollectionError, match="needs mot"):
        _index(other, world["fvmr"])
    with FeatureStore(other, create=False) as store, pytest.raises(CollectionError, match="needs mot"):
        load_reranker(str(world["cimha"]), store)


def test_cli_index_model_then_search(world: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    from vidseek.cli import main

    col = world["tmp"] / "col_cli"
    _collection(col)
    # the query encoder a collection uses is a setting (index keeps it); the test oracle encoder
    # avoids loading MiniLM, and FVMR embeds queries with its own text side anyway
    with FeatureStore(col, create=False) as store:
        store.catalog.put_index_settings(IndexSettings("bow-test"))
    assert main(["index", "--collection", str(col), "--model", str(world["fvmr"])]) == 0
    capsys.readouterr()
    assert main(["search", QUERIES[3], "--collection", str(col), "--json", "--top", "5"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert len(hits) == 5
    for h in hits:
        assert 0.0 <= h["start"] < h["end"] <= DURATIONS[h["video"]]
    want = _brute_force(world["fvmr"], col, QUERIES[3])[0]
    assert (hits[0]["video"], hits[0]["start"], hits[0]["end"]) == pytest.approx(want[1:])
    assert main(["search", QUERIES[3], "--collection", str(col), "--json", "--top", "3",
                 "--rerank", str(world["cimha"]), "--rerank-min-confidence", "0.001"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert len(hits) == 3 and all(h["why"]["rerank"]["model"] == "cimha" for h in hits)
    assert all(0.0 <= h["start"] < h["end"] <= DURATIONS[h["video"]] for h in hits)
    assert main(["search", "q", "--collection", str(col), "--rerank", str(world["tmp"] / "nope")]) == 2
    assert "no config.yaml" in capsys.readouterr().err
