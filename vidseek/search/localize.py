"""Where inside one video: spans from where the fused evidence changes, snapped to cuts and lines.

vidseek.search.moments.find_moments scores a span against the collection baseline and rewards
leaving no high bins outside it, so on a curve that is high everywhere its best span is the whole
video. Here a span is scored only against the SAME video's other bins:

    score = (mean_in - mean_out) / sigma - LAMBDA * sqrt(1 / n_in + 1 / n_out)

the lower confidence bound of the inside-minus-outside contrast, in units of the curve's own
noise sigma (robust: the MAD of differences NOISE_LAG_S apart / sqrt 2, so the signal's few
steps do not inflate it; floored). The contrast term does not grow with length (a span that takes in
lower bins lowers its own mean; one that leaves high bins outside raises the other mean), and
the penalty only stops one noisy bin from passing for a moment: a span needs more contrast the
shorter it is. So the best span of a plateau with a short, higher peak is the peak; of two
separated peaks, each peak (the higher first, after NMS); and of a flat curve nothing clears
FLAT_SCORE, so the answer is the whole video with score 0.

Spans: every [i, j) bin span when the curve has at most MAX_EXHAUSTIVE_BINS bins; beyond that
the multi-scale proposals of moments.py, runs above several levels, and the spans between
consecutive boundaries. The best candidates are then grown to where the curve crosses halfway
between their inside and outside levels (`refine`: the edge is where the evidence changes, and
a sub-span holding a plateau's noisiest bins does not win), rescored and put through temporal
NMS (IoU 0.5), so a peak on a plateau and the plateau can both be answers. Boundaries (shot cuts from the `shots` expert, ASR / OCR line starts
and ends) move a kept span's start and end to the nearest boundary within SNAP_S seconds; the
span keeps the score of its bins. Output: moments.Moment, best first, so it can replace
find_moments where the within-video answer is wanted; why holds inside / outside / level
(inside mean minus the collection baseline, for ranking videos against each other) and the
snapped boundary kinds.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from vidseek.errors import CollectionError
from vidseek.search.fusion import FusedCurve
from vidseek.search.moments import (
    NMS_IOU,
    Moment,
    _runs,
    best_first,
    find_moments,
    nms,
    proposal_parts,
    span_scores,
    unite_with_scales,
)
from vidseek.store import FeatureStore
from vidseek.types import Features

LAMBDA = 1.5
FLAT_SCORE = 2.5  # about the 95th percentile of the best score on pure noise (20-240 bins)
NOISE_LAG_S = 2.0
SNAP_S = 1.0
SIGMA_FLOOR = 1e-3  # absolute, in curve units
SIGMA_FLOOR_FRAC = 0.05  # of the curve's standard deviation
MAX_EXHAUSTIVE_BINS = 600
REFINE_TOP = 20  # candidates per wanted moment that are grown to their halfway edges
LEVELS = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)  # run thresholds: mean + k * std


def noise_sigma(curve: np.ndarray, lag: int = 1) -> float:
    """Noise of a curve: 1.4826 * MAD(differences at `lag` bins) / sqrt 2, floored. The lag
    spans the experts' windows (1-2.56 s over 0.5 s bins): at lag 1 smoothed noise looks tiny."""
    curve = np.asarray(curve, np.float64)
    floor = max(SIGMA_FLOOR, SIGMA_FLOOR_FRAC * float(np.std(curve)) if len(curve) else 0.0)
    lag = max(1, min(lag, len(curve) // 4))
    if len(curve) < 3:
        return floor
    d = curve[lag:] - curve[:-lag]
    mad = float(np.median(np.abs(d - np.median(d))))
    return max(floor, 1.4826 * mad / np.sqrt(2.0))


@functools.lru_cache(maxsize=64)
def all_spans(nb: int) -> np.ndarray:
    """(P, 2) every [i, j) with 0 <= i < j <= nb (read-only: one array per length, shared)."""
    i, j = np.triu_indices(nb + 1, k=1)
    out = np.stack([i, j], 1).astype(np.int64)
    out.flags.writeable = False
    return out


def candidate_spans(curve: np.ndarray, bin_s: float, boundaries: Sequence[float] = ()) -> np.ndarray:
    """Exhaustive for short curves; multi-scale + level runs + boundary segments otherwise."""
    nb = len(curve)
    if nb <= MAX_EXHAUSTIVE_BINS:
        return all_spans(nb)
    parts = proposal_parts(curve)
    mu, sd = float(np.mean(curve)), float(np.std(curve))
    parts += [np.array(_runs(curve > mu + k * sd, gap=1)) for k in LEVELS]
    b = np.asarray(boundaries, np.float64).ravel() / bin_s
    inner = np.rint(b[(b > 0) & (b < nb)]).astype(np.int64)  # rint: half to even, as round()
    edges = np.unique(np.concatenate([[0, nb], inner]))
    for step in (1, 2, 3):  # each edge to the next three: the segments between boundaries
        if len(edges) > step:
            parts.append(np.stack([edges[:-step], edges[step:]], 1))
    spans = unite_with_scales(nb, float(bin_s), parts)
    return spans[spans[:, 1] > spans[:, 0]]


def contrast_scores(curve: np.ndarray, spans: np.ndarray, sigma: float,
                    lam: float = LAMBDA) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(score, mean inside, mean outside) per span; the whole video scores 0 (no outside)."""
    c = np.concatenate([[0.0], np.cumsum(curve)])
    nb = len(curve)
    i, j = spans[:, 0], spans[:, 1]
    n_in = (j - i).astype(np.float64)
    n_out = nb - n_in
    s_in = c[j] - c[i]
    inside = s_in / n_in
    with np.errstate(divide="ignore", invalid="ignore"):
        outside = np.where(n_out > 0, (c[-1] - s_in) / np.maximum(n_out, 1), inside)
        pen = lam * np.sqrt(1.0 / n_in + np.where(n_out > 0, 1.0 / np.maximum(n_out, 1), 0.0))
    score = np.where(n_out > 0, (inside - outside) / sigma - pen, 0.0)
    return score, inside, outside


def refine(curve: np.ndarray, span: tuple[int, int], inside: float, outside: float,
           gap: int = 1) -> tuple[int, int]:
    """Grow a span over its neighbours closer to its own level than to the rest's (above the
    midpoint), bridging dips of `gap` bins: the edge is where the evidence crosses halfway.
    Without it a sub-span that happens to hold a plateau's few noisiest-high bins wins."""
    mid = 0.5 * (inside + outside)
    i, j = span
    nb = len(curve)
    while i > 0:
        k = next((g for g in range(1, gap + 2) if i - g >= 0 and curve[i - g] > mid), None)
        if k is None:
            break
        i -= k
    while j < nb:
        k = next((g for g in range(gap + 1) if j + g < nb and curve[j + g] > mid), None)
        if k is None:
            break
        j += k + 1
    return i, j


def snap(t: float, points: np.ndarray, kinds: Sequence[str], tol: float) -> tuple[float, str | None]:
    """The nearest boundary within tol of t (and its kind), else t itself."""
    if len(points) == 0:
        return t, None
    k = int(np.argmin(np.abs(points - t)))
    if abs(points[k] - t) <= tol:
        return float(points[k]), kinds[k]
    return t, None


def find_spans(curve: np.ndarray, bin_s: float, duration: float, *,
               cuts: Sequence[float] | np.ndarray = (), edges: Sequence[float] | np.ndarray = (), baseline: float = 0.0,
               top: int = 5, iou: float = NMS_IOU, snap_s: float = SNAP_S,
               lam: float = LAMBDA, flat_score: float = FLAT_SCORE) -> list[Moment]:
    """Ranked moments of one video from its fused per-bin curve (module docstring).

    nan bins (no expert covers them) take the mean of the covered bins: they neither help nor
    hurt a span. cuts: shot-cut times; edges: ASR / OCR line start and end times (seconds)."""
    curve = np.asarray(curve, np.float64)
    if len(curve) == 0 or not np.isfinite(curve).any():
        return []
    curve = np.where(np.isfinite(curve), curve, float(np.nanmean(curve)))
    sigma = noise_sigma(curve, max(1, int(round(NOISE_LAG_S / bin_s))))
    points = np.asarray([0.0, float(duration), *cuts, *edges], np.float64)
    kinds = ["video", "video"] + ["cut"] * len(cuts) + ["edge"] * len(edges)
    spans = candidate_spans(curve, bin_s, points.tolist())
    score, inside, outside = contrast_scores(curve, spans, sigma, lam)
    if float(score.max()) < flat_score:
        level = float(curve.mean()) - baseline
        return [Moment(0.0, float(duration), 0.0,
                       {"flat": True, "contrast": 0.0, "inside": float(curve.mean()), "level": level,
                        "best_contrast": float(score.max())})]
    best = best_first(score, REFINE_TOP * max(1, top))
    best = best[score[best] >= flat_score]
    grown = {refine(curve, (int(spans[k, 0]), int(spans[k, 1])), float(inside[k]),
                    float(outside[k])) for k in best}
    spans = np.array(sorted(grown), np.int64).reshape(-1, 2)
    score, inside, outside = contrast_scores(curve, spans, sigma, lam)
    keep = nms(spans * bin_s, score, iou=iou, top=top)
    out = []
    for k in keep:
        s, e = (spans[k] * bin_s).tolist()
        e = min(e, float(duration))
        s2, ks = snap(s, points, kinds, snap_s)
        e2, ke = snap(e, points, kinds, snap_s)
        if e2 - s2 <= 0:
            s2, ks, e2, ke = s, None, e, None
        out.append(Moment(max(0.0, s2), min(float(duration), e2), float(score[k]),
                          {"contrast": float(score[k]), "inside": float(inside[k]),
                           "outside": float(outside[k]),
                           "level": float(inside[k]) - baseline, "sigma": sigma,
                           "snapped": {"start": ks, "end": ke}}))
    return out


# ---- wiring into search: boundaries from the store, the video's moments, hits' scores -------
OCR_MIN_CONFIDENCE = 0.5  # as the ocr text space (textlines.py): lines it would not read are no edges
MATCH_CENTER = 1.84  # match_score: the fused value at which a video is an even bet (see below)
MATCH_SCALE = 0.45
NESTED = 0.5  # a moment is nested in another when this fraction of the shorter one overlaps


def boundaries(store: FeatureStore, video_id: str) -> tuple[np.ndarray, np.ndarray]:
    """(cuts, edges) of one video from its store: the starts of the `shots` expert's rows after
    the first (the cuts), and the start and end of every ASR line and OCR line (OCR lines below
    OCR_MIN_CONFIDENCE left out). Missing experts give no boundaries."""

    def rows(expert: str) -> Features | None:
        try:
            return store.get(video_id, expert) if store.has(video_id, expert) else None
        except CollectionError:
            return None

    shots = rows("shots")
    cuts = shots.times[1:, 0] if shots is not None and len(shots.times) > 1 else np.zeros(0)
    edges = []
    asr = rows("asr")
    if asr is not None:
        edges.append(asr.times.ravel())
    ocr = rows("ocr")
    if ocr is not None and len(ocr.times):
        conf = np.array([float((m or {}).get("confidence", 1.0)) for m in (ocr.meta or [{}] * len(ocr.times))])
        edges.append(ocr.times[conf >= OCR_MIN_CONFIDENCE].ravel())
    e = np.unique(np.concatenate(edges)) if edges else np.zeros(0)
    return np.asarray(cuts, np.float64), e.astype(np.float64)


def video_moments(curve: FusedCurve, baseline: float, cuts: Sequence[float] | np.ndarray = (),
                  edges: Sequence[float] | np.ndarray = (), top: int = 5) -> tuple[float, list[Moment]]:
    """(the video's ranking value, its moments best first).

    The ranking value is find_moments' best span score (the collection-baseline contrast that
    ranked videos before the span finder, so video recall is unchanged); the moments come from
    find_spans on the same fused curve, snapped to the cuts and line edges, then (up to `top`)
    find_moments' spans that overlap none of them at IoU >= NMS_IOU (find_spans keeps only
    what clears its contrast bar, often one span; the alternatives keep R@5 where it was)."""
    fused = curve.fused
    if len(fused) == 0 or not np.isfinite(fused).any():
        return -np.inf, []
    ranked = find_moments(fused, curve.bin_s, curve.duration, baseline, top=top)
    value = ranked[0].score if ranked else -np.inf
    spans = find_spans(fused, curve.bin_s, curve.duration, cuts=cuts, edges=edges,
                       baseline=baseline, top=top)
    for m in ranked:  # fill up to `top` with find_moments' spans unlike any kept one
        if len(spans) >= top:
            break
        if all(_iou(m, k) < NMS_IOU for k in spans):
            spans.append(Moment(m.start, m.end, 0.0, {"contrast": None, "from": "find_moments"}))
    return float(value), spans


def _iou(a: Moment, b: Moment) -> float:
    inter = max(0.0, min(a.end, b.end) - max(a.start, b.start))
    union = max(a.end, b.end) - min(a.start, b.start)
    return inter / union if union > 0 else 0.0


def fused_values(curve: FusedCurve, moments: Sequence[Moment], baseline: float,
                 first: float) -> list[float]:
    """Per moment (best first): its span's fused contrast against the collection baseline
    (moments.span_scores), the first one being the video's ranking value `first`, each capped
    by the one before it so the order stays the span finder's."""
    fused = np.where(np.isfinite(curve.fused), curve.fused, baseline)
    out: list[float] = []
    for k, m in enumerate(moments):
        if k == 0:
            v = first
        else:
            i = int(np.floor(m.start / curve.bin_s + 1e-9))
            j = max(i + 1, int(np.ceil(m.end / curve.bin_s - 1e-9)))
            v = float(span_scores(fused, np.array([[i, min(j, len(fused))]]), baseline)[0])
            v = min(v, out[-1])
        out.append(float(v))
    return out


def match_score(value: float) -> float:
    """The hit's score in [0, 1]: a logistic of the fused ranking value,
    1 / (1 + exp(-(value - MATCH_CENTER) / MATCH_SCALE)), fitted on the real clips
    (docs/search.md, "Scores"): about the chance that a video ranked with this value is the
    one the query describes. -inf (nothing scored) is 0."""
    if not np.isfinite(value):
        return 0.0
    return float(1.0 / (1.0 + np.exp(-(float(value) - MATCH_CENTER) / MATCH_SCALE)))


def nested(a: Moment, b: Moment, frac: float = NESTED) -> bool:
    """True when at least `frac` of the shorter of two moments lies inside the other."""
    inter = min(a.end, b.end) - max(a.start, b.start)
    shorter = min(a.end - a.start, b.end - b.start)
    return inter > 0 and (shorter <= 0 or inter >= frac * shorter)


def collapse(moments: Sequence[Moment], one: bool = False) -> list[tuple[int, list[int]]]:
    """Group a video's moments (best first) into hits: (index of the hit's moment, indices of
    the moments folded into it as "also"). A moment joins the first kept one it is nested in;
    with one=True every moment joins the best (one hit per video)."""
    groups: list[tuple[int, list[int]]] = []
    for k, m in enumerate(moments):
        home = next((g for g in groups if one or nested(moments[g[0]], m)), None)
        if home is None:
            groups.append((k, []))
        else:
            home[1].append(k)
    return groups
