"""QVHighlights evaluator: hand cases and the golden numbers of the reference evaluator."""

from __future__ import annotations

import json

import numpy as np
import pytest
from paths import ANNOTATIONS  # noqa: E402

from vidseek.metrics.qvhighlights import (
    detection_ap,
    eval_submission,
    load_jsonl,
    ranking_ap,
)

QVH = ANNOTATIONS / "qvhighlights"


def test_detection_ap_hand_case() -> None:
    gt = np.array([[0.0, 10.0], [20.0, 30.0]])
    pred = np.array([[0.0, 10.0], [0.0, 9.0], [20.0, 30.0]])
    # sorted by score: exact gt0 (tp), duplicate of gt0 (fp: gt0 used), exact gt1 (tp)
    ap = detection_ap(gt, pred, np.array([0.9, 0.8, 0.7]), thresholds=[0.5])
    # precision 1, 1/2, 2/3 at recall 0.5, 0.5, 1 -> envelope 1 at r=.5, 2/3 at r=1
    assert ap[0] == pytest.approx(0.5 * 1 + 0.5 * (2 / 3))
    assert detection_ap(gt, np.zeros((0, 2)), np.zeros(0))[0] == 0.0


def test_ranking_ap_hand_case() -> None:
    y = np.array([1, 0, 1, 0.0])
    s = np.array([0.9, 0.8, 0.7, 0.1])
    # ranks: +,-,+,- -> precision at recall steps: 1, 2/3 -> mean 5/6
    assert ranking_ap(y, s) == pytest.approx(5 / 6)
    # a tie between a positive and a negative counts as one step with precision 1/2
    assert ranking_ap(np.array([1, 0.0]), np.array([0.5, 0.5])) == pytest.approx(0.5)
    assert ranking_ap(np.zeros(3), s[:3]) == 0.0
    assert ranking_ap(np.ones(3), s[:3]) == 1.0


def test_submission_hand_case() -> None:
    gts = [{"qid": 1, "duration": 8, "relevant_windows": [[0, 4]], "relevant_clip_ids": [0, 1],
            "saliency_scores": [[4, 4, 4], [1, 2, 3]]}]
    preds = [{"qid": 1, "pred_relevant_windows": [[0, 4, 0.9], [4, 8, 0.1]],
              "pred_saliency_scores": [0.9, 0.1, 0.2, 0.3]}]
    out = eval_submission(preds, gts)
    assert out["brief"]["MR-full-R1@0.7"] == 100.0
    assert out["brief"]["MR-full-mAP"] == 100.0
    assert out["brief"]["HL-min-VeryGood-Hit1"] == 100.0
    assert out["short"]["MR-R1"]["0.5"] == 100.0  # a 4 s window is short
    assert out["HL-min-Fair"]["HL-Hit1"] == 100.0


@pytest.mark.real
def test_reproduces_reference_numbers() -> None:
    if not QVH.is_dir():
        pytest.skip(f"QVHighlights annotations not found at {QVH}")
    golden = json.loads((QVH / "sample_val_preds_metrics_raw.json").read_text())
    ours = eval_submission(load_jsonl(QVH / "sample_val_preds.jsonl"),
                           load_jsonl(QVH / "highlight_val_release.jsonl"))

    def walk(ref: dict, got: dict, path: str) -> None:
        assert set(ref) <= set(got), f"{path}: missing {set(ref) - set(got)}"
        for key, val in ref.items():
            if isinstance(val, dict):
                walk(val, got[key], f"{path}/{key}")
            else:
                assert round(got[key], 2) == pytest.approx(val, abs=1e-9), f"{path}/{key}"

    walk(golden, ours, "")
