"""Feature-store-backed datasets: per-video expert sequences on one shared time grid.

Each expert's rows are averaged into `n_bins` equal time bins over the video (by row centre),
so experts with different windows line up by time, never by trimming. A bin with no row is
masked; an expert missing for a video is all-masked and flagged absent, so models can drop it
(MMT renormalises its expert weights over present experts).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from vidseek.errors import DatasetError
from vidseek.models.base import DatasetSplits
from vidseek.models.cards import DatasetCard, register_dataset
from vidseek.models.config import DatasetInfo
from vidseek.models.datasets.captions import CaptionRow, build_vocab


def bin_rows(times: np.ndarray, values: np.ndarray, n_bins: int, duration: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean of the rows whose centre falls in each of n_bins equal bins of [0, duration].

    Returns ((n_bins, d) float32, (n_bins,) bool mask of non-empty bins).
    """
    d = values.shape[1]
    out = np.zeros((n_bins, d), np.float32)
    mask = np.zeros(n_bins, bool)
    if len(times) == 0:
        return out, mask
    centre = times.mean(1)
    dur = max(duration, float(times[:, 1].max()), 1e-6)
    idx = np.clip((centre / dur * n_bins).astype(int), 0, n_bins - 1)
    counts = np.bincount(idx, minlength=n_bins)
    np.add.at(out, idx, values.astype(np.float32))
    mask = counts > 0
    out[mask] /= counts[mask, None]
    return out, mask


@dataclass
class VideoFeatures:
    """One video's experts on the shared grid. seqs[e]: (T, d_e); masks[e]: (T,); present[e]."""

    seqs: dict[str, np.ndarray]
    masks: dict[str, np.ndarray]
    present: dict[str, bool]


def load_video_features(store: Any, video_id: str, experts: dict[str, int], n_bins: int) -> VideoFeatures:
    """Read one video's experts from a FeatureStore onto an n_bins grid (missing -> masked)."""
    info = store.catalog.video(video_id)
    raw = {}
    for e in experts:
        if store.has(video_id, e):
            f = store.get(video_id, e)
            if len(f) and f.dim == experts[e]:
                raw[e] = f
    duration = info.duration if info is not None and info.duration else max(
        [float(f.times[:, 1].max()) for f in raw.values()] or [1.0])
    seqs, masks, present = {}, {}, {}
    for e, d in experts.items():
        if e in raw:
            seqs[e], masks[e] = bin_rows(raw[e].times, raw[e].values, n_bins, duration)
            present[e] = bool(masks[e].any())
        else:
            seqs[e], masks[e], present[e] = np.zeros((n_bins, d), np.float32), np.zeros(n_bins, bool), False
    return VideoFeatures(seqs, masks, present)


def expert_dims(store: Any, experts: Sequence[str] | None) -> dict[str, int]:
    """expert -> dim for the requested experts (default: every expert in the store)."""
    names = list(experts) if experts else store.experts()
    if not names:
        raise DatasetError(f"collection {store.root} holds no features; run `vidseek extract`")
    dims = {}
    for e in names:
        recs = [r for r in store.catalog.features(expert=e, status="done") if r.dim > 0]
        if not recs:
            have = ", ".join(store.experts()) or "none"
            raise DatasetError(f"collection {store.root} has no {e} features (has: {have})")
        dims[e] = recs[0].dim
    return dims


def filter_to_store(rows: list[CaptionRow], known: set[str], where: str) -> list[CaptionRow]:
    """Drop captions whose video is not in the store (warn with the count); none left -> error."""
    kept = [r for r in rows if r.video in known]
    missing = {r.video for r in rows} - known
    if not kept:
        raise DatasetError(f"none of the {len(rows)} captions in {where} name a video with features")
    if missing:
        print(f"warning: {len(rows) - len(kept)} captions of {len(missing)} videos not in the "
              f"collection were skipped ({where})", file=sys.stderr)
    return kept


class CaptionVideoPairs(Dataset):
    """(caption, video features) pairs; videos are loaded once and shared by their captions."""

    def __init__(self, rows: list[CaptionRow], videos: dict[str, VideoFeatures], experts: list[str]) -> None:
        self.rows = rows
        self.videos = videos
        self.experts = experts

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict[str, Any]:
        r = self.rows[i]
        return {"text": r.caption, "video_id": r.video, "feats": self.videos[r.video],
                "span": (r.start, r.end)}


def pairs_collate(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Batch: texts, video_ids, feats[e] (B, T, d), masks[e] (B, T), present (B, E)."""
    experts = list(items[0]["feats"].seqs)
    vf = [it["feats"] for it in items]
    return {
        "texts": [it["text"] for it in items],
        "video_ids": [it["video_id"] for it in items],
        "feats": {e: torch.from_numpy(np.stack([v.seqs[e] for v in vf])) for e in experts},
        "masks": {e: torch.from_numpy(np.stack([v.masks[e] for v in vf])) for e in experts},
        "present": torch.tensor([[v.present[e] for e in experts] for v in vf], dtype=torch.bool),
    }


def video_batch(vfs: list[VideoFeatures]) -> dict[str, Any]:
    """A videos-only batch (for a model's encode_videos) in the same layout as pairs_collate."""
    return pairs_collate([{"text": "", "video_id": "", "feats": v} for v in vfs])


# ---- planted: random features whose structure the captions describe ------------------------

_P_COLORS = ("red", "blue", "green", "yellow", "purple", "orange")
_P_SHAPES = ("circle", "square", "triangle", "star")
_P_ACTIONS = ("jumps", "spins", "rolls", "falls", "waves", "runs")
_P_SOUNDS = ("beep", "hum", "chirp", "crash")


@dataclass(frozen=True)
class PlantedParams:
    """dims: expert -> width (the first carries colour + shape, the second the action, the last
    the sound); missing: fraction of videos without the last expert; offset: the norm of one
    shared non-negative vector added to every row of every expert (real CNN / audio features
    share a large common component: effnet_lite0 means on the synthetic benchmark have norm
    ~11 against ~4 of per-video variation), 0 = centred features."""

    n_videos: int = 48
    dims: dict[str, int] = field(default_factory=lambda: {"app": 32, "mot": 24, "aud": 16})
    n_bins: int = 8
    noise: float = 0.2
    missing: float = 0.0
    offset: float = 0.0
    seed: int = 0


def planted_splits(p: PlantedParams) -> DatasetSplits:
    """In-memory retrieval data for tests and smoke runs: each video is a (colour, shape, action,
    sound) combination; the appearance expert carries colour + shape vectors, the motion expert
    the action during a random span, the audio expert the sound. Captions name all four."""
    rng = np.random.default_rng(p.seed)
    dims = dict(p.dims)
    n, t_bins, noise = p.n_videos, p.n_bins, p.noise
    names = list(dims)
    combos = [(c, s, a, o) for c in range(6) for s in range(4) for a in range(6) for o in range(4)]
    pick = rng.choice(len(combos), size=n, replace=False)

    def unit(k: int, d: int) -> np.ndarray:
        v = rng.standard_normal((k, d)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    vec = {"c": unit(6, dims[names[0]]), "s": unit(4, dims[names[0]]),
           "a": unit(6, dims[names[1 % len(names)]]), "o": unit(4, dims[names[-1]])}
    off_rng = np.random.default_rng([p.seed, 1])  # its own stream: offset 0 leaves the data as it was
    shared = {}
    for e, d in dims.items():
        v = np.abs(off_rng.standard_normal(d)).astype(np.float32)
        shared[e] = p.offset * v / np.linalg.norm(v)
    rows, videos = [], {}
    for i, ci in enumerate(pick):
        c, s, a, o = combos[ci]
        vid = f"planted{i:03d}"
        seqs = {e: noise * rng.standard_normal((t_bins, d)).astype(np.float32) for e, d in dims.items()}
        seqs[names[0]] += vec["c"][c] + vec["s"][s]
        lo = int(rng.integers(0, t_bins // 2))
        seqs[names[1 % len(names)]][lo:lo + t_bins // 2] += 2 * vec["a"][a]
        seqs[names[-1]] += vec["o"][o]
        for e in dims:
            seqs[e] += shared[e]
        masks = {e: np.ones(t_bins, bool) for e in dims}
        present = {e: True for e in dims}
        if len(names) > 1 and rng.random() < p.missing:
            seqs[names[-1]][:] = 0
            masks[names[-1]][:] = False
            present[names[-1]] = False
        videos[vid] = VideoFeatures(seqs, masks, present)
        cap = f"a {_P_COLORS[c]} {_P_SHAPES[s]} {_P_ACTIONS[a]} with a {_P_SOUNDS[o]}"
        split = "train" if i < 0.7 * n else "val" if i < 0.85 * n else "test"
        rows.append(CaptionRow(vid, cap, split=split))
    by = {s: [r for r in rows if r.split == s] for s in ("train", "val", "test")}
    info = DatasetInfo("planted", "retrieval", dims, {
        "n_bins": t_bins, "vocab": build_vocab([r.caption for r in rows]),
        "sizes": {s: len(v) for s, v in by.items()}})
    ds = {s: CaptionVideoPairs(by[s], videos, names) if by[s] else None for s in ("train", "val", "test")}
    train = ds["train"]
    assert train is not None  # 70% of n > 0 rows
    return DatasetSplits(train, ds["val"], ds["test"], pairs_collate, info)


register_dataset(DatasetCard(
    name="planted", task="retrieval", summary="random features with planted caption structure, in memory",
    builder=planted_splits, params=PlantedParams, syntax="planted"))
