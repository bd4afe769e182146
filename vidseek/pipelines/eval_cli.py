"""`vidseek eval`: two evaluations behind one verb.

With a queries file it evaluates search on a collection (pipelines.evaluate); with
--predictions/--ground-truth it scores moment predictions in the QVHighlights format
(pipelines.eval_moments). The choice is made here, not in the CLI.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass


@dataclass
class EvalCommand:
    queries: str | None = None
    collection: str = "./vidseek-collection"
    json: bool = False
    html: str | None = None
    format: str | None = None
    predictions: str | None = None
    ground_truth: str | None = None


def evaluate(cfg: EvalCommand) -> int:
    if cfg.predictions or cfg.ground_truth:
        if not (cfg.predictions and cfg.ground_truth):
            print("vidseek eval: --predictions and --ground-truth go together", file=sys.stderr)
            return 2
        from vidseek.pipelines.eval_moments import EvalMomentsConfig, eval_moments

        return eval_moments(EvalMomentsConfig(cfg.predictions, cfg.ground_truth, cfg.json))
    if not cfg.queries:
        print("vidseek eval: give a queries file, or --predictions and --ground-truth",
              file=sys.stderr)
        return 2
    from vidseek.pipelines.evaluate import EvalConfig
    from vidseek.pipelines.evaluate import evaluate as run

    return run(EvalConfig(queries=cfg.queries, collection=cfg.collection, json=cfg.json,
                          html=cfg.html, format=cfg.format))
