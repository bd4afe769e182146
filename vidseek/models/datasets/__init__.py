"""Datasets the trainer knows by name (DATASETS registry).

- `captions`: a vidseek collection + a captions CSV/JSONL (split column or seeded 80/10/10).
- `synth`: a `vidseek synth` folder (captions.jsonl + DIR/collection by default).
- `msrvtt`: MSR-VTT 1k-A test split + a training captions file, over a collection.
- `planted`: random features with planted caption structure, in memory (tests, smoke runs).
Retrieval datasets yield (caption, video features) pairs; batches follow
`vidseek.models.datasets.features.pairs_collate`. Each dataset registers one card (its typed
params, which param `--dataset NAME:PATH` fills) in the module that builds it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from vidseek.errors import DatasetError
from vidseek.models.base import DatasetSplits
from vidseek.models.cards import DatasetCard, register_dataset
from vidseek.models.config import DEFAULT_CLIPS, DatasetInfo
from vidseek.models.datasets.captions import (
    CaptionRow,
    build_vocab,
    read_captions,
    with_splits,
)
from vidseek.models.datasets.features import (
    CaptionVideoPairs,
    expert_dims,
    filter_to_store,
    load_video_features,
    pairs_collate,
)


def retrieval_splits(rows: list[CaptionRow], collection: str | Path, experts: list[str] | None,
                     n_bins: int, name: str, where: str) -> DatasetSplits:
    """Caption rows with splits + a FeatureStore -> train/val/test pair datasets."""
    from vidseek.store import FeatureStore

    store = FeatureStore(collection, create=False)
    try:
        dims = expert_dims(store, experts)
        known = {v.video_id for v in store.catalog.videos()} | {
            r.video_id for e in dims for r in store.catalog.features(expert=e, status="done")}
        rows = filter_to_store(rows, known, where)
        videos = {v: load_video_features(store, v, dims, n_bins) for v in sorted({r.video for r in rows})}
    finally:
        store.close()
    by = {s: [r for r in rows if r.split == s] for s in ("train", "val", "test")}
    if not by["train"]:
        raise DatasetError(f"{where}: no training captions left")
    exp = list(dims)

    def ds(s: str) -> CaptionVideoPairs | None:
        return CaptionVideoPairs(by[s], videos, exp) if by[s] else None

    info = DatasetInfo(name=name, task="retrieval", experts=dims, extra={
        "n_bins": n_bins, "vocab": build_vocab([r.caption for r in by["train"]]),
        "collection": str(collection), "sizes": {s: len(v) for s, v in by.items()}})
    train = ds("train")
    if train is None:
        raise DatasetError(f"dataset {name!r}: no training captions")
    return DatasetSplits(train, ds("val"), ds("test"), pairs_collate, info)


def _event_filter(rows: list[CaptionRow], types: list[str] | None) -> list[CaptionRow]:
    return rows if not types else [r for r in rows if (r.event_type or "video") in types]


@dataclass(frozen=True)
class CaptionsParams:
    """captions: a CSV/JSONL file; collection: a vidseek collection (default $VIDSEEK_COLLECTION);
    experts: default every expert of the collection; n_bins: time bins per video; seed: of the
    80/10/10 split of rows without one; event_types: keep only captions of these types."""

    captions: str = field(metadata={"help": "a CSV/JSONL captions file"})
    collection: str | None = None
    experts: list[str] | None = None
    n_bins: int = DEFAULT_CLIPS
    seed: int = 0
    event_types: list[str] | None = None


def captions_dataset(p: CaptionsParams) -> DatasetSplits:
    collection = p.collection or os.environ.get("VIDSEEK_COLLECTION")
    if not collection:
        raise DatasetError("dataset `captions` needs dataset_params.collection (a vidseek collection)")
    rows = with_splits(_event_filter(read_captions(p.captions), p.event_types), p.seed)
    return retrieval_splits(rows, collection, p.experts, p.n_bins, "captions", p.captions)


@dataclass(frozen=True)
class SynthParams:
    """path: a `vidseek synth` dir; collection: default PATH/collection; event_types: default
    ["video"] (whole-video captions)."""

    path: str = field(metadata={"help": "a `vidseek synth` folder"})
    collection: str | None = None
    experts: list[str] | None = None
    n_bins: int = DEFAULT_CLIPS
    event_types: list[str] | None = field(default_factory=lambda: ["video"])


def synth_dataset(p: SynthParams) -> DatasetSplits:
    root = Path(p.path)
    rows = _event_filter(read_captions(root / "captions.jsonl"), p.event_types)
    return retrieval_splits(rows, p.collection or root / "collection", p.experts, p.n_bins, "synth", str(root))


@dataclass(frozen=True)
class MsrvttParams:
    """test_csv: the MSR-VTT 1k-A JSFusion CSV; train_captions: CSV/JSONL of training captions
    (its `val` rows, or 5% of its videos by `seed`, validate)."""

    collection: str = field(metadata={"help": "a vidseek collection"})
    test_csv: str = field(metadata={"help": "the MSR-VTT 1k-A (JSFusion) test CSV"})
    train_captions: str = field(metadata={"help": "a CSV/JSONL of training captions"})
    experts: list[str] | None = None
    n_bins: int = DEFAULT_CLIPS
    seed: int = 0


def msrvtt_dataset(p: MsrvttParams) -> DatasetSplits:
    from vidseek.models.datasets.msrvtt import msrvtt_rows

    rows = msrvtt_rows(p.collection, p.test_csv, p.train_captions, p.seed)
    return retrieval_splits(rows, p.collection, p.experts, p.n_bins, "msrvtt", p.test_csv)


register_dataset(DatasetCard(
    name="captions", task="retrieval", summary="a collection + a captions CSV/JSONL",
    builder=captions_dataset, params=CaptionsParams, path_param="captions", syntax="captions:FILE"))
register_dataset(DatasetCard(
    name="synth", task="retrieval", summary="a `vidseek synth` folder (its whole-video captions)",
    builder=synth_dataset, params=SynthParams, path_param="path", syntax="synth:DIR"))
register_dataset(DatasetCard(
    name="msrvtt", task="retrieval", summary="MSR-VTT 1k-A test split + training captions, over a collection",
    builder=msrvtt_dataset, params=MsrvttParams, path_param="train_captions", syntax="msrvtt:FILE"))

__all__ = ["captions_dataset", "msrvtt_dataset", "retrieval_splits", "synth_dataset"]
