"""The typed contracts: Hit / Why / Explanation JSON round-trips and the one evidence vocabulary."""

from __future__ import annotations

import json

import pytest

from vidseek.types import EvalReport, Explanation, Hit, IndexSettings, QueryReport, RerankNote, Why


def _hit() -> Hit:
    return Hit("dog", "/videos/dog.mp4", 4.0, 8.0, 1.25, Why((
        Explanation("i3d", cosine=0.4123, z=2.5, weight=1.0, gate=0.75,
                    concepts=(("skateboarding", 0.5), ("walking the dog", 0.25)), matched=("skateboarding",)),
        Explanation("asr", cosine=0.6, z=1.0, weight=2.0, gate=0.6, text="a dog on a board", at=(4.5, 7.25)),
        Explanation("fvmr", cosine=0.3, z=1.5, weight=1.0),
    ), RerankNote("tan2d", before=0.5)))


def test_hit_json_round_trip() -> None:
    hit = _hit()
    js = hit.as_json()
    assert list(js) == ["video", "path", "start", "end", "score", "why"]
    assert list(js["why"]) == ["i3d", "asr", "fvmr", "rerank"]
    assert js["why"]["asr"] == {"cosine": 0.6, "z": 1.0, "weight": 2.0, "gate": 0.6,
                                "text": "a dog on a board", "at": [4.5, 7.25]}
    assert js["why"]["i3d"]["concepts"] == [["skateboarding", 0.5], ["walking the dog", 0.25]]
    back = Hit.from_json(json.loads(json.dumps(js)))
    assert back == hit
    own = Why(rerank=RerankNote("cimha"))
    assert own.as_json() == {"rerank": {"model": "cimha", "own": True}} and Why.from_json(own.as_json()) == own
    bare = Hit("v", "", 0.0, 1.0, 0.5)
    assert "why" not in bare.as_json() and Hit.from_json(bare.as_json()) == bare


def test_one_vocabulary_unknown_key_raises() -> None:
    e = Explanation.from_evidence("asr", {"text": "hi", "at": [1, 2], "cosine": 0.5})
    assert (e.text, e.at, e.cosine) == ("hi", (1.0, 2.0), 0.5)
    assert e.merged({"z": 1.5}).evidence() == {"cosine": 0.5, "z": 1.5, "text": "hi", "at": (1.0, 2.0)}
    with pytest.raises(ValueError, match="unknown evidence key.*cos;"):
        Explanation.from_evidence("asr", {"text": "hi", "cos": 0.5})


def test_eval_report_json_keys() -> None:
    q = QueryReport("7", "a dog", "dog", ((4.0, 8.0),), 1.0, ("dog", "cats"), ((4.0, 8.0, 1.2),), 1.0,
                    {"i3d": 1.0}, {"i3d": 2.5}, source="planted")
    js = EvalReport(1, {"video R@1": 100.0}, (q,), skipped_queries=2).as_json()
    assert js == {"n_queries": 1, "metrics": {"video R@1": 100.0}, "skipped_queries": 2, "queries": [{
        "qid": "7", "query": "a dog", "video": "dog", "windows": [[4.0, 8.0]], "video_rank": 1.0,
        "top_videos": ["dog", "cats"], "moments": [[4.0, 8.0, 1.2]], "iou_top1": 1.0,
        "expert_video_rank": {"i3d": 1.0}, "expert_span_z": {"i3d": 2.5}, "source": "planted"}]}
    assert "skipped_queries" not in EvalReport(0, {}, ()).as_json()
    assert q.why().space("i3d") == Explanation("i3d", z=2.5)


def test_index_settings_json_round_trip() -> None:
    s = IndexSettings("minilm", {"fvmr": "/runs/fvmr"}, {"topk": 5})
    assert s.as_json() == {"encoder": "minilm", "models": {"fvmr": "/runs/fvmr"}, "params": {"topk": 5}}
    assert IndexSettings.from_json(s.as_json()) == s
