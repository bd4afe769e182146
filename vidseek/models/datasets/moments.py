"""Moment-localization data: annotation formats, 2D-TAN's HDF5 features, feature datasets.

Formats (every reader returns MomentRow lists; `line` names the source line for errors):
- `moments`: our JSONL, one {"video", "query" (or "caption"), "start", "end"[, "duration",
  "label" / "event_type", "split"]} per line;
- `charades_sta`: `VID start end##sentence` (durations and action classes from Charades_v1_*.csv);
- `activitynet`: ActivityNet Captions {vid: {duration, timestamps, sentences}};
- `tacos`: 2D-TAN's TACoS JSON {vid: {num_frames, fps, timestamps (frames), sentences}};
- `qvhighlights`: JSONL {qid, query, duration, vid, relevant_windows} (first window trains, all count).
Bad input: start > end raises naming the line; spans outside [0, duration] are clamped (counted,
one warning); zero-length videos and empty queries are skipped with a warning. Queries longer
than the encoder's limit are truncated by the model (text.MAX_WORDS); videos with fewer feature
rows than N clips are interpolated up to N (common.resample_clips).
"""

from __future__ import annotations

import csv
import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from vidseek.errors import DatasetError
from vidseek.models.base import DatasetSplits
from vidseek.models.cards import DatasetCard, register_dataset
from vidseek.models.config import DEFAULT_CLIPS, DatasetInfo
from vidseek.models.localization.common import resample_clips
from vidseek.models.localization.text import build_vocab


@dataclass
class MomentRow:
    video: str
    query: str
    start: float
    end: float
    duration: float | None = None
    label: str | None = None
    split: str | None = None
    windows: list[list[float]] = field(default_factory=list)  # every true window (QVHighlights)
    line: str = ""


def read_moments_jsonl(path: str | Path) -> list[MomentRow]:
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            rows.append(MomentRow(
                str(d["video"]), str(d.get("query", d.get("caption", ""))), float(d["start"]), float(d["end"]),
                None if d.get("duration") is None else float(d["duration"]),
                d.get("label", d.get("event_type")), d.get("split"), line=f"{path}:{n}"))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
            raise DatasetError(f"{path}:{n}: bad moment row ({err})") from None
    return rows


def read_charades_meta(path: str | Path) -> dict[str, tuple[float, list[tuple[str, float, float]]]]:
    """Charades_v1_*.csv -> {vid: (duration, [(action class, start, end), ...])}."""
    out = {}
    with open(path, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            acts = []
            for a in (r.get("actions") or "").split(";"):
                parts = a.split()
                if len(parts) == 3:
                    acts.append((parts[0], float(parts[1]), float(parts[2])))
            out[r["id"]] = (float(r["length"]), acts)
    return out


def read_charades_sta(path: str | Path, meta: str | Path | None = None) -> list[MomentRow]:
    """Charades-STA txt; with the Charades csv, rows get durations and the action class whose
    annotated span overlaps the moment most (temporal IoU)."""
    info = read_charades_meta(meta) if meta else {}
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        head, sep, sent = line.partition("##")
        parts = head.split()
        if not sep or len(parts) != 3:
            raise DatasetError(f"{path}:{n}: expected `VID start end##sentence`")
        vid, s, e = parts[0], float(parts[1]), float(parts[2])
        dur, acts = info.get(vid, (None, []))
        label = None
        if acts:
            ious = [max(0.0, min(e, b) - max(s, a)) / max(max(e, b) - min(s, a), 1e-9) for _, a, b in acts]
            if max(ious) > 0:
                label = acts[int(np.argmax(ious))][0]
        rows.append(MomentRow(vid, sent.strip(), s, e, dur, label, line=f"{path}:{n}"))
    return rows


def read_activitynet(path: str | Path) -> list[MomentRow]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    rows = []
    for vid, d in data.items():
        for k, ((s, e), sent) in enumerate(zip(d["timestamps"], d["sentences"], strict=True)):
            rows.append(MomentRow(vid, sent.strip(), float(s), float(e), float(d["duration"]),
                                  line=f"{path}:{vid}[{k}]"))
    return rows


def read_tacos(path: str | Path) -> list[MomentRow]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    rows = []
    for vid, d in data.items():
        fps = float(d["fps"])
        for k, ((s, e), sent) in enumerate(zip(d["timestamps"], d["sentences"], strict=True)):
            rows.append(MomentRow(vid.removesuffix(".avi"), sent.strip(), s / fps, e / fps,
                                  float(d["num_frames"]) / fps, line=f"{path}:{vid}[{k}]"))
    return rows


def read_qvhighlights(path: str | Path) -> list[MomentRow]:
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        d = json.loads(line)
        wins = [[float(a), float(b)] for a, b in d.get("relevant_windows") or []]
        if not wins:
            raise DatasetError(f"{path}:{n}: query {d.get('qid')} has no relevant_windows")
        rows.append(MomentRow(str(d["vid"]), str(d["query"]), wins[0][0], wins[0][1], float(d["duration"]),
                              split=d.get("split"), windows=wins, line=f"{path}:{n}"))
    return rows


READERS = {"moments": read_moments_jsonl, "charades_sta": read_charades_sta, "activitynet": read_activitynet,
           "tacos": read_tacos, "qvhighlights": read_qvhighlights}


def read_rows(path: str | Path, fmt: str, **kw: Any) -> list[MomentRow]:
    if fmt not in READERS:
        raise DatasetError(f"unknown moments format {fmt!r}; known: {', '.join(sorted(READERS))}")
    return READERS[fmt](path, **kw) if kw else READERS[fmt](path)


def clean_rows(rows: Sequence[MomentRow], durations: dict[str, float] | None = None) -> list[MomentRow]:
    """Apply the bad-input rules (see module doc); durations fill rows that lack one."""
    out, clamped, skipped_dur, skipped_q = [], 0, 0, 0
    for r in rows:
        dur = r.duration if r.duration is not None else (durations or {}).get(r.video)
        if r.start > r.end:
            raise DatasetError(f"{r.line or r.video}: start {r.start} > end {r.end}")
        if not r.query.strip():
            skipped_q += 1
            continue
        if dur is None or dur <= 0:
            skipped_dur += 1
            continue
        s, e = min(max(r.start, 0.0), dur), min(max(r.end, 0.0), dur)
        if (s, e) != (r.start, r.end):
            clamped += 1
        out.append(replace(r, start=s, end=e, duration=dur))
    if clamped:
        warnings.warn(f"{clamped} moment(s) reached outside their video and were clamped", stacklevel=2)
    if skipped_dur:
        warnings.warn(f"{skipped_dur} moment(s) skipped: zero-length or unknown-duration video", stacklevel=2)
    if skipped_q:
        warnings.warn(f"{skipped_q} moment(s) skipped: empty query", stacklevel=2)
    return out


# ---- features ---------------------------------------------------------------------------------

def read_tan2d_hdf5(path: str | Path, videos: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """2D-TAN's published features: one dataset per video (Charades VGG, TACoS C3D) or one group
    per video holding `c3d_features` (ActivityNet) -> {video: (T, d) float32}."""
    import h5py

    out = {}
    with h5py.File(path, "r") as f:
        for vid in (videos if videos is not None else list(f.keys())):
            if vid not in f:
                raise DatasetError(f"{path}: no features for video {vid!r}")
            item = f[vid]
            if isinstance(item, h5py.Group):
                keys = list(item.keys())
                item = item["c3d_features"] if "c3d_features" in item else item[keys[0]]
            out[vid] = np.asarray(item[()], np.float32)
    return out


def import_tan2d_hdf5(path: str | Path, store: Any, expert: str, durations: dict[str, float]) -> int:
    """Write 2D-TAN HDF5 features into a FeatureStore as `expert`, rows spread evenly over each
    video's duration (the published features are uniformly strided). Returns videos written."""
    from vidseek.extract.experts.base import ExpertSpec, WeightsInfo
    from vidseek.types import Features

    feats = read_tan2d_hdf5(path, [v for v in durations])
    n = 0
    for vid, vals in feats.items():
        dur = durations[vid]
        edges = np.linspace(0, dur, len(vals) + 1)
        spec = ExpertSpec(expert, "appearance", vals.shape[1], window=dur / len(vals), stride=dur / len(vals))
        store.put(vid, Features(expert, np.stack([edges[:-1], edges[1:]], 1), vals),
                  spec, WeightsInfo(sha256=f"tan2d-hdf5:{Path(path).name}", source=str(path)))
        n += 1
    return n


def load_clip_features(store: Any, video: str, experts: Sequence[str], n: int, duration: float) -> np.ndarray:
    """(N, sum d) clip features of one video from a FeatureStore, experts side by side in time."""
    parts = []
    for e in experts:
        f = store.get(video, e)
        if len(f) == 0:
            raise DatasetError(f"video {video!r} has no {e} rows")
        parts.append(resample_clips(f.values, f.times, duration, n))
    return np.concatenate(parts, axis=1)


class MomentFeatures(Dataset):
    """(query, span, N clip features of its video, class) items."""

    def __init__(self, rows: list[MomentRow], clips: dict[str, np.ndarray], classes: dict[str, int]) -> None:
        self.rows, self.clips, self.classes = rows, clips, classes

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict[str, Any]:
        r = self.rows[i]
        return {"feats": self.clips[r.video], "query": r.query, "span": (r.start, r.end),
                "duration": r.duration, "label": self.classes.get(r.label, -1) if r.label else -1,
                "video": r.video}


def collate_moments(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "feats": torch.from_numpy(np.stack([it["feats"] for it in items])).float(),
        "queries": [it["query"] for it in items],
        "spans": torch.tensor([it["span"] for it in items], dtype=torch.float64),
        "durations": torch.tensor([it["duration"] for it in items], dtype=torch.float64),
        "labels": torch.tensor([it["label"] for it in items], dtype=torch.long),
        "videos": [it["video"] for it in items],
    }


def _assign_splits(rows: list[MomentRow], seed: int) -> list[MomentRow]:
    if all(r.split for r in rows):
        return rows
    vids = sorted({r.video for r in rows})
    order = np.random.default_rng(seed).permutation(len(vids))
    n_tr, n_va = int(0.8 * len(vids)), int(0.1 * len(vids))
    split = {vids[k]: "train" if i < n_tr else "val" if i < n_tr + n_va else "test" for i, k in enumerate(order)}
    return [r if r.split else replace(r, split=split[r.video]) for r in rows]


def moment_splits(rows: list[MomentRow], clips: dict[str, np.ndarray], name: str, experts: dict[str, int],
                  n: int, k: int = 0, seed: int = 0) -> DatasetSplits:
    """Rows with splits + per-video clip features -> DatasetSplits (labels: the rows' own classes,
    or k-means pseudo-classes of the queries when k = `pseudo_classes` > 0)."""
    rows = [r for r in rows if r.video in clips]
    by = {s: [r for r in rows if r.split == s] for s in ("train", "val", "test")}
    if not by["train"]:
        raise DatasetError(f"dataset {name!r}: no training moments")
    source = "none"
    if k:
        from vidseek.models.localization.proxies import pseudo_classes

        ids = pseudo_classes([r.query for r in rows], k, seed=seed)
        rows = [replace(r, label=f"k{c}") for r, c in zip(rows, ids, strict=True)]
        by = {s: [r for r in rows if r.split == s] for s in ("train", "val", "test")}
        source = f"kmeans({k}) of sentence embeddings"
    elif any(r.label for r in rows):
        source = "annotated classes"
    classes = {c: i for i, c in enumerate(sorted({r.label for r in by["train"] if r.label}))}
    info = DatasetInfo(name=name, task="localization", experts=dict(experts), extra={
        "n_clips": n, "vocab": build_vocab(r.query for r in by["train"]), "num_classes": len(classes),
        "classes": sorted(classes, key=classes.__getitem__), "label_source": source,
        "sizes": {s: len(v) for s, v in by.items()}})

    def ds(s: str) -> MomentFeatures | None:
        return MomentFeatures(by[s], clips, classes) if by[s] else None

    train = ds("train")
    assert train is not None  # checked above
    return DatasetSplits(train=train, val=ds("val"), test=ds("test"), collate=collate_moments, info=info)


@dataclass(frozen=True)
class MomentsParams:
    """moments: one annotation file (split column or a seeded 80/10/10 split by video), or
    train / val / test: one file per split; format: a READERS name; charades_meta: Charades_v1 csv
    (durations, action classes); pseudo_classes: K > 0 labels moments by k-means of the queries."""

    collection: str = field(metadata={"help": "a vidseek collection"})
    moments: str | None = None
    train: str | None = None
    val: str | None = None
    test: str | None = None
    format: str = "moments"
    experts: list[str] | None = None
    n_clips: int = DEFAULT_CLIPS
    charades_meta: str | None = None
    pseudo_classes: int = 0
    seed: int = 0


def moments_dataset(p: MomentsParams) -> DatasetSplits:
    from vidseek.store import FeatureStore

    kw = {"meta": p.charades_meta} if p.format == "charades_sta" and p.charades_meta else {}
    if p.moments:
        rows = _assign_splits(read_rows(p.moments, p.format, **kw), p.seed)
    else:
        files = {"train": p.train, "val": p.val, "test": p.test}
        rows = [replace(r, split=s) for s, f in files.items() if f for r in read_rows(f, p.format, **kw)]
    n = p.n_clips
    store = FeatureStore(p.collection, create=False)
    try:
        experts = list(p.experts or store.experts())
        durs = {v.video_id: v.duration for v in store.catalog.videos()}
        rows = clean_rows(rows, durs)
        dims: dict[str, int] = {}
        clips: dict[str, np.ndarray] = {}
        for vid in sorted({r.video for r in rows}):
            if not all(store.has(vid, e) for e in experts):
                continue
            dur = next(r.duration for r in rows if r.video == vid and r.duration is not None)
            clips[vid] = load_clip_features(store, vid, experts, n, dur)
            for e in experts:
                dims.setdefault(e, store.get(vid, e).dim)
    finally:
        store.close()
    missing = len({r.video for r in rows}) - len(clips)
    if missing:
        warnings.warn(f"{missing} video(s) of the moments file have no features; skipped", stacklevel=2)
    return moment_splits(rows, clips, "moments", {e: dims[e] for e in experts if e in dims}, n,
                         p.pseudo_classes, p.seed)


def _read_scenes(path: Path) -> tuple[list[Any], dict[str, str]]:
    """scenes.jsonl of a synth benchmark -> (scenes, video -> split)."""
    from vidseek.models.datasets.synth import Scene, SoundEvent, VisualEvent

    if not path.exists():
        raise DatasetError(f"{path}: no scenes.jsonl (write one with `vidseek synth --out DIR`)")
    scenes, splits = [], {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            ev = tuple(VisualEvent(**e) for e in d["events"])
            scenes.append(Scene(d["video"], float(d["duration"]), d.get("background", ""), ev,  # type: ignore[arg-type]
                                SoundEvent(**d["sound"]), 0, ((0.5, 0.5), (0.5, 0.5)), 0.0,
                                int(d.get("family", 0)), str(d.get("variant", ""))))
            splits[d["video"]] = str(d.get("split", "train"))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
            raise DatasetError(f"{path}:{n}: bad scene row ({err})") from None
    return scenes, splits


@dataclass(frozen=True)
class SynthMomentsParams:
    """path: a `vidseek synth` dir whose scenes.jsonl to use (default: n_videos generated
    scenes); dim: the planted feature width; noise: Gaussian noise std."""

    path: str | None = None
    n_videos: int = 200
    seed: int = 0
    dim: int = 32
    n_clips: int = DEFAULT_CLIPS
    noise: float = 0.3
    pseudo_classes: int = 0


def synth_moments_dataset(p: SynthMomentsParams) -> DatasetSplits:
    """The synthetic benchmark's scenes with features planted from their true event spans (no
    rendering or extraction): each visual event adds its colour + shape + action vectors to the
    clips it covers, the sound adds its vector, plus Gaussian noise. Classes are event types."""
    from vidseek.models.datasets.synth import SOUNDS, assign_splits, make_scenes, moment_rows

    seed, dim, n, noise = p.seed, p.dim, p.n_clips, p.noise
    rng = np.random.default_rng(seed)
    table: dict[str, np.ndarray] = {}

    def vec(key: str) -> np.ndarray:
        if key not in table:
            v = rng.standard_normal(dim).astype(np.float32)
            table[key] = v / np.linalg.norm(v)
        return table[key]

    if p.path:  # `synth_moments:DIR`: the scenes a `vidseek synth` run wrote there
        scenes, split_of = _read_scenes(Path(p.path) / "scenes.jsonl")
    else:
        scenes = make_scenes(p.n_videos, seed)
        fam = assign_splits(scenes, seed)
        split_of = {sc.video: fam[sc.family] for sc in scenes}
    rows: list[MomentRow] = []
    clips: dict[str, np.ndarray] = {}
    for sc in scenes:
        split = split_of[sc.video]
        t = (np.arange(n) + 0.5) / n * sc.duration
        x = noise * rng.standard_normal((n, dim)).astype(np.float32)
        for ev in sc.events:
            on = (t >= ev.start) & (t <= ev.end)
            x[on] += vec("c:" + ev.color) + vec("s:" + ev.shape) + vec("a:" + ev.action)
        on = (t >= sc.sound.start) & (t <= sc.sound.end)
        x[on] += vec("snd:" + SOUNDS[sc.sound.phrase])
        clips[sc.video] = x
        for m in moment_rows(sc, split, len(rows)):
            (s, e), = m["relevant_windows"]
            rows.append(MomentRow(sc.video, m["query"], s, e, sc.duration, m["event_type"], split))
    return moment_splits(clean_rows(rows), clips, "synth_moments", {"planted": dim}, n, p.pseudo_classes, seed)


register_dataset(DatasetCard(
    name="moments", task="localization", summary="a collection + moment annotations (moments, charades_sta, "
    "activitynet, tacos, qvhighlights)", builder=moments_dataset, params=MomentsParams, path_param="moments",
    syntax="moments:FILE"))
register_dataset(DatasetCard(
    name="synth_moments", task="localization", summary="synthetic scenes with features planted on their true spans",
    builder=synth_moments_dataset, params=SynthMomentsParams, path_param="path", syntax="synth_moments[:DIR]"))
