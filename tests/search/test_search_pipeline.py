"""`vidseek index` + `search` + `eval` end to end on a tiny store of planted features.

Three videos; a toy classifier space (ConSE over 6 labels) and an ASR text-line space, embedded by
the bag-of-words oracle encoder of test_spaces. Planted: "dog" + "skateboard" probabilities in
[4, 8] s of `dog`, a transcript line about downloading the dataset at [10, 14] s of `talk`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_spaces import TOY_LABELS  # registers the "bow-test" encoder

from vidseek.cli import main
from vidseek.errors import CollectionError, ConfigError
from vidseek.extract.experts.base import ExpertSpec, WeightsInfo
from vidseek.pipelines.evaluate import EvalConfig, evaluate
from vidseek.pipelines.index import IndexConfig, build_index
from vidseek.pipelines.search import SearchConfig, search
from vidseek.search.conse import conse_builder
from vidseek.search.spaces import SPACES
from vidseek.store import FeatureStore
from vidseek.types import Features, IndexSettings, VideoInfo

if "toy_cls" not in SPACES:
    SPACES.add("toy_cls", conse_builder("toy_cls", labels=TOY_LABELS, topk=2))

CLS = ExpertSpec("toy_cls", "appearance", 0, fps=1.0)
ASR = ExpertSpec("asr", "speech", 0, sample_rate=16000)
W = WeightsInfo("toy-weights", "test", random=True)


def probs_rows(n: int, background: int, planted: dict[int, tuple[int, ...]]) -> np.ndarray:
    p = np.full((n, len(TOY_LABELS)), 0.01, np.float32)
    for i in range(n):
        labels = planted.get(i, (background,))
        for c in labels:
            p[i, c] = 0.9 / len(labels)
    return p


def info(vid: str, duration: float) -> VideoInfo:
    return VideoInfo(vid, f"/nonexistent/{vid}.mp4", 1, 0.0, "h", duration, 25.0, 64, 48, True)


def add_cls(store: FeatureStore, vid: str, duration: int, background: int,
            planted: dict[int, tuple[int, ...]]) -> None:
    store.catalog.upsert_video(info(vid, float(duration)), status="done")
    t = np.stack([np.arange(duration), np.arange(duration) + 1], 1)
    store.put(vid, Features("toy_cls", t, np.zeros((duration, 0)),
                            probs=probs_rows(duration, background, planted)), CLS, W)


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    root = tmp_path / "coll"
    with FeatureStore(root) as store:
        add_cls(store, "dog", 12, 2, {i: (0, 5) for i in range(4, 8)})  # car, dog+skateboard 4-8 s
        add_cls(store, "cats", 10, 1, {})
        add_cls(store, "talk", 20, 4, {})
        store.put("talk", Features("asr", [[0, 4], [10, 14], [16, 20]], np.zeros((3, 0)),
                                   texts=["hello everyone", "now we download the dataset", "thanks"]), ASR, W)
    return root


def run_json(capsys: pytest.CaptureFixture[str], cfg: SearchConfig) -> list[dict]:
    assert search(cfg) == 0
    return json.loads(capsys.readouterr().out)


def test_planted_moment_first(planted: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert build_index(IndexConfig(str(planted), encoder="bow-test", progress=False)) == 0
    assert not (planted / "retrieval" / "retrieval.json").exists()  # settings: the catalog only
    with FeatureStore(planted, create=False) as store:
        assert store.catalog.index_settings() == IndexSettings("bow-test")
    capsys.readouterr()
    hits = run_json(capsys, SearchConfig("a dog on a skateboard", str(planted), json=True))
    assert hits[0]["video"] == "dog"
    assert (hits[0]["start"], hits[0]["end"]) == (4.0, 8.0)
    assert set(hits[0]) >= {"video", "path", "start", "end", "score", "why"}
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    why = hits[0]["why"]
    assert "dog" in why["toy_cls"]["matched"] and why["toy_cls"]["z"] > 0
    assert set(why["toy_cls"]) >= {"cosine", "z", "weight", "gate", "concepts", "matched"}

    speech = run_json(capsys, SearchConfig("download the dataset", str(planted), json=True, top=3))
    assert speech[0]["video"] == "talk"
    assert (speech[0]["start"], speech[0]["end"]) == (10.0, 14.0)
    asr = speech[0]["why"]["asr"]
    assert asr["text"] == "now we download the dataset" and asr["at"] == [10.0, 14.0]
    assert 0.0 < asr["cosine"] <= 1.0  # one key for the cosine in every space (was "cos" here)

    videos = run_json(capsys, SearchConfig("a dog on a skateboard", str(planted), json=True, videos=True))
    assert [h["video"] for h in videos][0] == "dog"
    assert len({h["video"] for h in videos}) == len(videos) == 3

    # weights: switching the classifier off leaves the speech video first for a dog query
    off = run_json(capsys, SearchConfig("a dog on a skateboard", str(planted), json=True,
                                        weights={"toy_cls": 0.0}))
    assert all(h["video"] == "talk" for h in off)
    with pytest.raises(ConfigError, match="known: asr, toy_cls"):
        search(SearchConfig("a dog", str(planted), weights={"nope": 1.0}))


def test_index_is_incremental_and_rebuild(planted: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build_index(IndexConfig(str(planted), encoder="bow-test", progress=False))
    first = capsys.readouterr().out
    assert "toy_cls" in first and "asr" in first
    build_index(IndexConfig(str(planted), progress=False))  # keeps the collection's encoder
    again = capsys.readouterr().out.splitlines()
    row = next(r for r in again if r.startswith("toy_cls")).split()
    assert row[1:4] == ["0", "3", "0"]  # added 0, skipped 3, rows added 0
    build_index(IndexConfig(str(planted), rebuild=True, encoder="bow-test", progress=False))
    row = next(r for r in capsys.readouterr().out.splitlines() if r.startswith("toy_cls")).split()
    assert row[1:5] == ["3", "0", "42", "42"]


def test_eval_and_html(planted: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build_index(IndexConfig(str(planted), encoder="bow-test", progress=False))
    q = tmp_path / "q.jsonl"
    q.write_text("\n".join(json.dumps(r) for r in [
        {"query": "a dog on a skateboard", "video": "dog", "windows": [[4, 8]]},
        {"query": "download the dataset", "video": "talk", "windows": [[10, 14]]},
        {"query": "a cat", "video": "cats", "windows": [[0, 10]]},
        {"query": "not in this collection", "video": "elsewhere", "windows": [[0, 1]]},
    ]) + "\n")
    capsys.readouterr()
    page = tmp_path / "eval.html"
    assert evaluate(EvalConfig(str(q), str(planted), json=True, html=str(page))) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_queries"] == 3 and out["skipped_queries"] == 1
    m = out["metrics"]
    assert m["video R@1"] == 100.0 and m["moment R@1,IoU=0.5"] == 100.0 and m["video MdR"] == 1.0
    assert out["queries"][1]["expert_video_rank"]["asr"] == 1.0
    assert "<svg" in page.read_text()
    html_file = tmp_path / "hits.html"
    assert search(SearchConfig("a dog", str(planted), html=str(html_file))) == 0
    text = html_file.read_text()
    assert "dog" in text and "video file not found" in text  # planted paths do not exist


def test_missing_collection_or_index_is_one_line_error(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "a dog", "--collection", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err.strip()
    assert "does not exist" in err and "\n" not in err
    with FeatureStore(tmp_path / "empty"):
        pass
    with pytest.raises(CollectionError, match="vidseek index"):
        search(SearchConfig("a dog", str(tmp_path / "empty")))
    assert main(["eval", "queries", str(tmp_path / "q.jsonl"), "--collection", str(tmp_path / "empty")]) == 2
