"""Frozen value types shared by every part. Times are float seconds from the start of the video."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np


@dataclass(frozen=True)
class VideoInfo:
    """What the catalog knows about one video file (from probing, before any expert runs)."""

    video_id: str
    path: str
    size: int
    mtime: float
    content_hash: str
    duration: float
    fps: float
    width: int
    height: int
    has_audio: bool
    n_frames: int | None = None
    streams: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class FrameBatch:
    """Frames sampled at requested timestamps. frames: (T, H, W, 3) uint8 RGB; times: (T,) seconds."""

    times: np.ndarray
    frames: np.ndarray


@dataclass(frozen=True)
class AudioChunk:
    """Mono float32 PCM in [-1, 1] at sample_rate, its first sample at `start` seconds."""

    start: float
    sample_rate: int
    pcm: np.ndarray


@dataclass
class Features:
    """One expert's output rows for one video.

    times: (N, 2) float64 (start, end) per row. values: (N, dim) float32 (dim may be 0 for
    text-only experts). probs: (N, C) class probabilities for classifier experts. texts: one
    string per row for speech / on-screen text. meta: one JSON-able dict per row (word times,
    boxes, padding notes).
    """

    expert: str
    times: np.ndarray
    values: np.ndarray
    probs: np.ndarray | None = None
    texts: list[str] | None = None
    meta: list[dict[str, Any]] | None = None

    def __post_init__(self) -> None:
        self.times = np.asarray(self.times, dtype=np.float64).reshape(-1, 2)
        n = len(self.times)
        self.values = _rows(self.values, n)
        if self.probs is not None:
            self.probs = _rows(self.probs, n)
        for name in ("texts", "meta"):
            col = getattr(self, name)
            if col is not None and len(col) != n:
                raise ValueError(f"Features.{name} has {len(col)} rows, times has {n}")

    def __len__(self) -> int:
        return len(self.times)

    @property
    def dim(self) -> int:
        return int(self.values.shape[1])

    @classmethod
    def empty(cls, expert: str, dim: int) -> Features:
        return cls(expert, np.zeros((0, 2)), np.zeros((0, dim), np.float32))


def _rows(a: np.ndarray, n: int) -> np.ndarray:
    """(n, d) float32; keeps d of an empty array, where reshape(n, -1) cannot infer it."""
    a = np.asarray(a, dtype=np.float32)
    if a.size == 0:
        return a.reshape(n, a.shape[-1] if a.ndim == 2 else 0)
    return a.reshape(n, -1)


# ---- search contracts --------------------------------------------------------------------
@dataclass(frozen=True)
class SearchRow:
    """One window row an index search returns: a span of a video and its score in one space."""

    video: str
    start: float
    end: float
    score: float
    row: int  # the window's position among the video's rows in this space
    space: str = ""


@dataclass(frozen=True)
class Explanation:
    """One space's evidence for one hit; its field names are the one vocabulary of `why`.

    cosine: the best raw cosine (query · row) of the space's rows in the moment; z: the space's
    normalised score over the moment (what fusion added, or a moment row's z); weight: its fusion
    weight (1 unless --weights), gate: the query gate fusion multiplied it by; concepts / matched:
    a classifier's top classes in the moment (with mean probability) and those that read like the
    query; text / at: the best transcript or on-screen line in the moment and its (start, end).
    """

    space: str
    cosine: float | None = None
    z: float | None = None
    weight: float | None = None
    gate: float | None = None
    concepts: tuple[tuple[str, float], ...] = ()
    matched: tuple[str, ...] = ()
    text: str | None = None
    at: tuple[float, float] | None = None

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        """The evidence keys a space's explain() may return (every field but `space`)."""
        return tuple(f.name for f in fields(cls) if f.name != "space")

    @classmethod
    def from_evidence(cls, space: str, evidence: Mapping[str, Any]) -> Explanation:
        """From a producer's dict (Space.explain, Moment.why); an unknown key is a producer's
        bug and raises, so producers cannot drift apart again ("cos" vs "cosine")."""
        unknown = sorted(set(evidence) - set(cls.keys()))
        if unknown:
            raise ValueError(f"space {space!r}: unknown evidence key(s) {', '.join(unknown)}; "
                             f"known: {', '.join(cls.keys())}")
        e = dict(evidence)
        num = {k: None if e.get(k) is None else float(e[k]) for k in ("cosine", "z", "weight", "gate")}
        return cls(
            space=space, **num,
            concepts=tuple((str(c), float(p)) for c, p in e.get("concepts") or ()),
            matched=tuple(str(m) for m in e.get("matched") or ()),
            text=None if e.get("text") is None else str(e["text"]),
            at=None if e.get("at") is None else (float(e["at"][0]), float(e["at"][1])),
        )

    def merged(self, evidence: Mapping[str, Any]) -> Explanation:
        """This explanation with a producer's evidence laid over it (same vocabulary)."""
        return Explanation.from_evidence(self.space, {**self.evidence(), **evidence})

    def evidence(self) -> dict[str, Any]:
        """The set fields (raw values), keyed by the vocabulary."""
        out: dict[str, Any] = {}
        for k in self.keys():
            v = getattr(self, k)
            if v is not None and v != ():
                out[k] = v
        return out

    def as_json(self) -> dict[str, Any]:
        out = self.evidence()
        for k in ("cosine", "z", "weight", "gate"):
            if k in out:
                out[k] = round(float(out[k]), 4)
        if "concepts" in out:
            out["concepts"] = [[c, round(p, 4)] for c, p in out["concepts"]]
        if "matched" in out:
            out["matched"] = list(out["matched"])
        if "at" in out:
            out["at"] = [round(x, 2) for x in out["at"]]
        return out


@dataclass(frozen=True)
class RerankNote:
    """A trained localizer re-scored the hit: its model, and the score before (None: the
    localizer proposed this moment itself)."""

    model: str
    before: float | None = None

    @property
    def own(self) -> bool:
        return self.before is None

    def as_json(self) -> dict[str, Any]:
        if self.before is None:
            return {"model": self.model, "own": True}
        return {"model": self.model, "before": round(float(self.before), 4)}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> RerankNote:
        return cls(str(d["model"]), None if d.get("own") or d.get("before") is None else float(d["before"]))


RERANK_KEY = "rerank"  # the key of the RerankNote in `why` (no space is called so)
MOMENT_KEY = "moment"  # the key of the MomentNote in `why` (no space is called so either)


@dataclass(frozen=True)
class MomentNote:
    """How the hit's span was found: `fused` (the raw fused value that ranks its video: the
    best span's contrast in fused z units, search/moments.py), `contrast` (the within-video
    span score in noise sigmas, search/localize.py; 0 for a flat video), `flat` (no part of the
    video stands out: the span is the whole video), `snapped` (which boundary kind each end
    was moved to: cut, edge, video, or None) and `also` (other moments of the same video
    folded into this hit, best first)."""

    fused: float | None = None
    contrast: float | None = None
    flat: bool = False
    snapped: tuple[str | None, str | None] = (None, None)
    also: tuple[tuple[float, float], ...] = ()

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.fused is not None:
            out["fused"] = round(float(self.fused), 4)
        if self.contrast is not None:
            out["contrast"] = round(float(self.contrast), 3)
        if self.flat:
            out["flat"] = True
        if self.snapped != (None, None):
            out["snapped"] = list(self.snapped)
        if self.also:
            out["also"] = [[round(s, 2), round(e, 2)] for s, e in self.also]
        return out

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> MomentNote:
        sn = d.get("snapped") or (None, None)
        return cls(None if d.get("fused") is None else float(d["fused"]),
                   None if d.get("contrast") is None else float(d["contrast"]),
                   bool(d.get("flat", False)),
                   (None if sn[0] is None else str(sn[0]), None if sn[1] is None else str(sn[1])),
                   tuple((float(s), float(e)) for s, e in d.get("also") or ()))


@dataclass(frozen=True)
class Why:
    """Why a hit matched: one Explanation per space (fusion order), a rerank note, and how its
    span was found (MomentNote: raw fused value, within-video contrast, folded "also" times).

    `as_json()` is `search --json`'s "why": {space: explanation, ..., "rerank": note,
    "moment": note}."""

    spaces: tuple[Explanation, ...] = ()
    rerank: RerankNote | None = None
    moment: MomentNote | None = None

    def __bool__(self) -> bool:
        return bool(self.spaces) or self.rerank is not None or self.moment is not None

    def space(self, name: str) -> Explanation | None:
        return next((e for e in self.spaces if e.space == name), None)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {e.space: e.as_json() for e in self.spaces}
        if self.rerank is not None:
            out[RERANK_KEY] = self.rerank.as_json()
        if self.moment is not None:
            out[MOMENT_KEY] = self.moment.as_json()
        return out

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Why:
        note, mom = d.get(RERANK_KEY), d.get(MOMENT_KEY)
        return cls(tuple(Explanation.from_evidence(k, v) for k, v in d.items()
                         if k not in (RERANK_KEY, MOMENT_KEY)),
                   None if note is None else RerankNote.from_json(note),
                   None if mom is None else MomentNote.from_json(mom))


@dataclass(frozen=True)
class Hit:
    """One search result: a moment of a video, best first in a result list."""

    video: str
    path: str
    start: float
    end: float
    score: float
    why: Why = field(default_factory=Why)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "video": self.video,
            "path": self.path,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "score": round(float(self.score), 6),
        }
        if self.why:
            out["why"] = self.why.as_json()
        return out

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Hit:
        return cls(str(d["video"]), str(d["path"]), float(d["start"]), float(d["end"]),
                   float(d["score"]), Why.from_json(d.get("why") or {}))


# ---- index and evaluation contracts -----------------------------------------------------
@dataclass(frozen=True)
class IndexSettings:
    """How a collection's search index is built, in one place (the catalog's index_settings).

    encoder: the query encoder of the zero-shot spaces; models: trained space -> the run dir it
    is built from (merged over `index --model` runs, reset by --rebuild); params: space
    parameters (prompt, topk, merge seconds). Which spaces are indexed is the catalog's
    index_spaces table, not a setting."""

    encoder: str
    models: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"encoder": self.encoder, "models": dict(sorted(self.models.items())),
                "params": dict(self.params)}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> IndexSettings:
        return cls(str(d["encoder"]), {str(k): str(v) for k, v in (d.get("models") or {}).items()},
                   dict(d.get("params") or {}))


@dataclass(frozen=True)
class QueryReport:
    """One annotated query of `vidseek eval queries` (values rounded as printed)."""

    qid: str
    query: str
    video: str
    windows: tuple[tuple[float, float], ...]
    video_rank: float | None  # None: the video was not among the candidates
    top_videos: tuple[str, ...]
    moments: tuple[tuple[float, float, float], ...]  # the video's own (start, end, score), best first
    iou_top1: float
    expert_video_rank: Mapping[str, float]  # each space's own rank of the video
    expert_span_z: Mapping[str, float]  # each space's z over the annotated span
    source: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "qid": self.qid, "query": self.query, "video": self.video,
            "windows": [list(w) for w in self.windows], "video_rank": self.video_rank,
            "top_videos": list(self.top_videos), "moments": [list(m) for m in self.moments],
            "iou_top1": self.iou_top1, "expert_video_rank": dict(self.expert_video_rank),
            "expert_span_z": dict(self.expert_span_z),
        }
        if self.source is not None:
            out["source"] = self.source
        return out

    def why(self) -> Why:
        """The per-space evidence over the annotated span, for the renderers."""
        return Why(tuple(Explanation(name, z=z) for name, z in self.expert_span_z.items()))


@dataclass(frozen=True)
class EvalReport:
    """What `vidseek eval queries` computes; `as_json()` is what `--json` prints."""

    n_queries: int
    metrics: Mapping[str, float]
    queries: tuple[QueryReport, ...]
    skipped_queries: int | None = None  # queries about videos outside the collection

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"n_queries": self.n_queries, "metrics": dict(self.metrics),
                               "queries": [q.as_json() for q in self.queries]}
        if self.skipped_queries is not None:
            out["skipped_queries"] = self.skipped_queries
        return out


@dataclass(frozen=True)
class ExpertSpec:
    """What an expert is and what it asks of the decoder.

    fps: frames per second it wants (None: no frames). sample_rate: audio Hz (None: no audio).
    window / stride: seconds covered by one output row and the step between rows.
    """

    name: str
    modality: str  # "appearance" | "motion" | "audio" | "speech" | "ocr"
    dim: int
    fps: float | None = None
    sample_rate: int | None = None
    window: float = 1.0
    stride: float = 1.0


@dataclass(frozen=True)
class WeightsInfo:
    """Which weights an expert runs with; recorded next to every feature it makes."""

    sha256: str
    source: str  # a path, a package name, or "random-init"
    random: bool = False
