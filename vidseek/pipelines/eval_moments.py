"""`vidseek eval predictions --predictions PRED.jsonl --ground-truth GT.jsonl [--json]`: QVHighlights-style
moment retrieval (and highlight detection, when both files carry saliency) metrics."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass

from vidseek.errors import DatasetError, Outcome
from vidseek.metrics.qvhighlights import eval_submission, load_jsonl


@dataclass
class EvalMomentsConfig:
    predictions: str
    ground_truth: str
    json: bool = False


def eval_moments(cfg: EvalMomentsConfig) -> Outcome:
    """Print the metrics (a table, or the reference evaluator's JSON layout with --json)."""
    try:
        metrics = eval_submission(load_jsonl(cfg.predictions), load_jsonl(cfg.ground_truth))
    except KeyError as err:
        raise DatasetError(f"{cfg.predictions} or {cfg.ground_truth}: a row lacks the field {err} "
                           "(QVHighlights format)") from None
    if cfg.json:
        print(json.dumps(metrics, indent=4))
        return Outcome.OK
    out = sys.stdout
    out.write(f"{'metric':<26}{'value':>8}\n")
    for k, v in metrics["brief"].items():
        out.write(f"{k:<26}{v:>8.2f}\n")
    for bucket in ("full", "short", "middle", "long"):
        if bucket in metrics:
            r1 = metrics[bucket]["MR-R1"]
            out.write(f"{bucket:<8} R1@0.5 {r1['0.5']:6.2f}  R1@0.7 {r1['0.7']:6.2f}  "
                      f"mAP {metrics[bucket]['MR-mAP']['average']:6.2f}\n")
    return Outcome.OK
