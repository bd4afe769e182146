"""`vidseek eval queries`: search quality on annotated queries over a collection.

Per query the collection is searched; the annotated video's rank gives video R@1/5/10, MdR and
MnR; its own ranked moments give moment R@1/R@5 at IoU 0.3/0.5/0.7 and mIoU (moment retrieval
given the video, as Charades-STA / ActivityNet report it). "corpus R@1,IoU=t" (t = 0.3, 0.5,
0.7) and "corpus mIoU" ask the same of the top-1 hit of the whole collection, which must be in
the right video (IoU 0 otherwise). Per query, each expert's own video
rank (the video's best window in that expert alone) and its z-score over the annotated span say
which expert carried or missed the query.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from vidseek.errors import DatasetError, Outcome
from vidseek.metrics.moments import moment_recall, temporal_iou
from vidseek.metrics.retrieval import retrieval_metrics
from vidseek.models.datasets.queries import EvalQuery, read_queries, restrict
from vidseek.search.engine import Searcher, SearchOptions, SearchResult, open_searcher
from vidseek.types import EvalReport, QueryReport


@dataclass
class EvalConfig:
    queries: str
    collection: str
    json: bool = False
    html: str | None = None
    format: str | None = None
    weights: dict[str, float] | None = None


def _expert_ranks(res: SearchResult, video: str) -> dict[str, float]:
    """Rank of `video` when each expert alone ranks the candidates by their best raw window."""
    out = {}
    experts = {e for v in res.videos for e in v.raw}
    for e in sorted(experts):
        best = {v.video_id: float(v.raw[e][1].max()) for v in res.videos if e in v.raw}
        if video not in best:
            continue
        out[e] = float(1 + sum(s > best[video] for s in best.values()))
    return out


def _span_z(res: SearchResult, q: EvalQuery) -> dict[str, float]:
    v = res.get(q.video)
    if v is None:
        return {}
    acc: dict[str, list[float]] = {}
    for s, e in q.windows:
        for name, z in v.curve.expert_scores(float(s), float(e)).items():
            acc.setdefault(name, []).append(z)
    return {k: round(float(np.mean(x)), 3) for k, x in acc.items()}


def evaluate_queries(searcher: Searcher, queries: list[EvalQuery],
                     opts: SearchOptions | None = None) -> EvalReport:
    """Metrics and per-query details (`as_json()` is what `vidseek eval queries --json` prints)."""
    opts = opts or SearchOptions(moments_per_video=5)
    ranks, preds, gts, corpus = [], [], [], []
    rows: list[QueryReport] = []
    for q in queries:
        res = searcher.rank(q.query, opts, include=[q.video])
        rank = res.video_rank(q.video)
        v = res.get(q.video)
        pred = np.array([[m.start, m.end] for m in (v.moments if v else [])]).reshape(-1, 2)
        top = res.videos[0] if res.videos and res.videos[0].moments else None
        top_iou = 0.0
        if top is not None and top.video_id == q.video:
            m = top.moments[0]
            top_iou = float(temporal_iou(np.array([[m.start, m.end]]), q.windows).max())
        corpus.append(top_iou)
        ranks.append(rank)
        preds.append(pred)
        gts.append(q.windows)
        iou1 = float(temporal_iou(pred[:1], q.windows).max()) if len(pred) else 0.0
        rows.append(QueryReport(
            qid=q.qid, query=q.query, video=q.video,
            windows=tuple((float(s), float(e)) for s, e in q.windows.round(2).tolist()),
            video_rank=rank if np.isfinite(rank) else None,
            top_videos=tuple(r.video_id for r in res.videos[:3]),
            moments=tuple((round(m.start, 2), round(m.end, 2), round(m.score, 3))
                          for m in (v.moments if v else [])[:5]),
            iou_top1=round(iou1, 3),
            expert_video_rank=_expert_ranks(res, q.video),
            expert_span_z=_span_z(res, q),
            source=q.meta["source"] if "source" in q.meta else None,
        ))
    metrics: dict[str, float] = {}
    if queries:
        metrics.update({f"video {k}": v for k, v in retrieval_metrics(np.array(ranks)).items()})
        metrics.update({f"moment {k}": v for k, v in moment_recall(preds, gts).items()})
        c = np.asarray(corpus)
        for t in (0.3, 0.5, 0.7):
            metrics[f"corpus R@1,IoU={t}"] = 100.0 * float(np.mean(c >= t))
        metrics["corpus mIoU"] = 100.0 * float(np.mean(c))
    return EvalReport(len(queries), metrics, tuple(rows))


def format_report(report: EvalReport) -> str:
    lines = [f"{report.n_queries} queries"]
    for k, v in report.metrics.items():
        lines.append(f"  {k:<24}{v:8.2f}")
    lines.append("")
    lines.append(f"{'rank':>5} {'IoU':>5}  {'video':<22} query  [experts' own video rank]")
    for r in report.queries:
        rank = "-" if r.video_rank is None else f"{r.video_rank:.0f}"
        er = " ".join(f"{k}:{v:.0f}" for k, v in r.expert_video_rank.items())
        lines.append(f"{rank:>5} {r.iou_top1:5.2f}  {r.video:<22} {r.query[:60]}  [{er}]")
    return "\n".join(lines)


def evaluate(cfg: EvalConfig) -> Outcome:
    """Search every query of cfg.queries in cfg.collection and print the metrics (errors raise)."""
    searcher = open_searcher(cfg.collection)
    queries = read_queries(cfg.queries, cfg.format)
    kept = restrict(queries, searcher.store.catalog.video_ids())
    if not kept:
        raise DatasetError(f"none of the {len(queries)} queries in {cfg.queries} is about a video "
                           f"of {cfg.collection}")
    report = replace(evaluate_queries(searcher, kept, SearchOptions(weights=cfg.weights)),
                     skipped_queries=len(queries) - len(kept))
    if cfg.json:
        print(json.dumps(report.as_json()))
    else:
        print(format_report(report))
        if report.skipped_queries:
            print(f"({report.skipped_queries} queries about videos not in the collection skipped)")
    if cfg.html:
        from vidseek.report.html import eval_page

        Path(cfg.html).write_text(eval_page(report, searcher), encoding="utf-8")
        if not cfg.json:
            print(f"wrote {cfg.html}")
    return Outcome.OK
