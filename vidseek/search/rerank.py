"""Trained moment localizers as search rerankers: `vidseek search --rerank RUN`.

Every model card with `rerank=True` (tan2d, tan2d_proxies, cimha, fvmr) gets a
vidseek.search.engine.RERANKERS entry under its name (model_views.py). A reranker gets (query, video, the Searcher's moments of that video) and returns them re-scored:

- features: the run's experts (DatasetInfo.experts, in its concatenation order) are read from the
  collection's store and resampled to the model's N clips over the video's duration (catalog
  duration, else the last row's end) - exactly what the `moments` dataset trains on;
- one forward pass gives `proposal_scores` for every valid cell of the model's 2D map (2D-TAN,
  proxies: sigmoid of the score map; FVMR: sigmoid of p_i; CI-MHA: p_start(i) * p_end(j), every
  i <= j being a cell);
- a candidate span takes the score of the valid cell with the highest temporal IoU with it (for
  a span on the clip grid, its own cell; for CI-MHA, the nearest start and end clips; ties: the
  first cell in map order); its start / end are kept;
- the localizer's own best `add_own` moments (NMS at its threshold) are added as new candidates
  when they overlap no given moment by more than that threshold, so a good localizer can move a
  hit to a better span, not only reorder.
Confidence gate: the localizer re-orders a video's moments only when it can read the query and
is confident there: (1) at least `min_vocab` (MIN_VOCAB) of the query's words are in the run's
training vocabulary (DatasetInfo.vocab; the localizers map every other word to <unk>; a run
without a vocabulary passes), and (2) its best proposal score in the video (in [0, 1]: a sigmoid
for 2D-TAN / FVMR, p_start * p_end for CI-MHA) is at least `min_confidence` (MIN_CONFIDENCE).
Otherwise the zero-shot moments are returned unchanged (no rerank note): a localizer that does
not know the words or the video falls back to zero-shot. Measured (docs/moment-search.md): runs
trained on the synthetic benchmark know 0-41 % of the real queries' words (100 % of their own),
and forced onto the real clips they make the moments worse.
The Searcher keeps the videos' zero-shot order either way (a localizer trained on the synthetic
benchmark ranks real videos no better than chance, docs/moment-search.md), so a reranker can move
a video's shown moment but never its rank. A video lacking the run's features keeps its moments.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from vidseek.errors import CollectionError
from vidseek.metrics.moments import temporal_iou
from vidseek.models.localization.nms import nms
from vidseek.models.localization.text import PAD, UNK, tokenize
from vidseek.search.moment_space import video_clips
from vidseek.search.moments import Moment
from vidseek.search.trained_space import load_model, open_run
from vidseek.store import FeatureStore

ADD_OWN = 2  # the localizer's own best moments added per re-ranked video
MIN_CONFIDENCE = 0.05  # the localizer's best proposal score a video needs to be re-ordered
MIN_VOCAB = 0.5  # the share of the query's words the run's vocabulary must hold


class LocalizerReranker:
    """Callable (query, video_id, moments) -> re-scored moments, for one trained localizer run.
    kinds: the model names accepted (default: every card that can re-rank)."""

    def __init__(self, run_dir: str | Path, store: FeatureStore, kinds: tuple[str, ...] | None = None,
                 add_own: int = ADD_OWN, min_confidence: float = MIN_CONFIDENCE,
                 min_vocab: float = MIN_VOCAB) -> None:
        if kinds is None:
            from vidseek.models.cards import model_cards

            kinds = tuple(c.name for c in model_cards() if c.rerank)
        self.run = Path(run_dir)
        run = open_run(self.run, set(kinds))
        self.model, self.name = load_model(run), run.model
        self.store = store
        self.add_own = int(add_own)
        self.min_confidence = float(min_confidence)
        self.min_vocab = float(min_vocab)
        self.vocab = frozenset(self.model.info.vocab) - {PAD, UNK}
        self.experts = tuple(self.model.info.experts)
        have = set(store.experts())
        missing = [e for e in self.experts if e not in have]
        if missing:
            raise CollectionError(f"{self.run} ({self.name}) needs {', '.join(missing)} features, "
                                  f"not in {store.root}")
        self.n = int(self.model.n)
        self.cells = np.asarray(self.model.candidate_spans(), np.float64)  # (P, 2) in [0, 1]

    def duration(self, video_id: str) -> float | None:
        info = self.store.catalog.video(video_id)
        return float(info.duration) if info is not None and info.duration > 0 else None

    def vocab_coverage(self, query: str) -> float:
        """The share of the query's words in the run's vocabulary (1.0: the run has none)."""
        words = tokenize(query)
        if not self.vocab or not words:
            return 1.0
        return sum(w in self.vocab for w in words) / len(words)

    @torch.no_grad()
    def scores(self, query: str, video_id: str) -> tuple[np.ndarray, np.ndarray, float]:
        """(candidate spans in seconds (P, 2), their scores (P,), duration) for one video."""
        feats = {e: self.store.get(video_id, e) for e in self.experts if self.store.has(video_id, e)}
        clips, duration = video_clips(feats, self.experts, self.n, self.duration(video_id))
        self.model.eval()
        dev = self.model.mask2d.device
        s = self.model.proposal_scores(torch.from_numpy(clips)[None].to(dev), [query])[0]
        return self.cells * duration, s.float().cpu().numpy().astype(np.float64), duration

    def __call__(self, query: str, video_id: str, moments: list[Moment]) -> list[Moment]:
        if moments and self.vocab_coverage(query) < self.min_vocab:
            return moments  # the run cannot read this query: the zero-shot moments stand
        try:
            spans, scores, duration = self.scores(query, video_id)
        except CollectionError:  # this video lacks the run's features: leave its moments alone
            return moments
        if moments and (len(scores) == 0 or float(scores.max()) < self.min_confidence):
            return moments  # not confident here: the zero-shot moments stand
        out = []
        given = np.array([[m.start, m.end] for m in moments], np.float64).reshape(-1, 2)
        if moments:
            best = temporal_iou(given, spans).argmax(1)  # first max: map order on ties
            for m, k in zip(moments, best, strict=True):
                why: dict[str, Any] = {**m.why, "rerank": {"model": self.name, "before": round(m.score, 4)}}
                out.append(Moment(m.start, m.end, float(scores[k]), why))
        thresh = float(self.model.nms_thresh)
        for k in nms(spans, scores, thresh, self.add_own) if self.add_own > 0 else []:
            span = spans[k:k + 1]
            if moments and temporal_iou(span, given).max() > thresh:
                continue
            end = float(min(span[0, 1], duration))
            out.append(Moment(float(span[0, 0]), end, float(scores[k]), {"rerank": {"model": self.name, "own": True}}))
        return out


def reranker_builder(name: str) -> Any:
    """The RERANKERS entry of model `name`: builder(run_dir, store) -> LocalizerReranker."""

    def build(run_dir: str, store: FeatureStore, min_confidence: float = MIN_CONFIDENCE,
              min_vocab: float = MIN_VOCAB) -> LocalizerReranker:
        return LocalizerReranker(run_dir, store, kinds=(name,), min_confidence=min_confidence,
                                 min_vocab=min_vocab)

    return build
