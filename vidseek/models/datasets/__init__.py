"""Datasets the trainer knows by name (DATASETS registry).

- `captions`: a vidseek collection + a captions CSV/JSONL (split column or seeded 80/10/10).
- `synth`: a `vidseek synth` folder (captions.jsonl + DIR/collection by default).
- `msrvtt`: MSR-VTT 1k-A test split + a training captions file, over a collection.
- `planted`: random features with planted caption structure, in memory (tests, smoke runs).
Retrieval datasets yield (caption, video features) pairs; batches follow
`vidseek.models.datasets.features.pairs_collate`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from vidseek.errors import DatasetError
from vidseek.models.base import DATASETS, DatasetInfo, DatasetSplits
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
    planted_splits,
)

DEFAULT_BINS = 16


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


@DATASETS.register("captions")
def captions_dataset(p: dict[str, Any]) -> DatasetSplits:
    """params: captions (file), collection, experts, n_bins, seed, event_types."""
    if "captions" not in p:
        raise DatasetError("dataset `captions` needs dataset_params.captions (a CSV/JSONL file)")
    collection = p.get("collection") or os.environ.get("VIDSEEK_COLLECTION")
    if not collection:
        raise DatasetError("dataset `captions` needs dataset_params.collection (a vidseek collection)")
    rows = with_splits(_event_filter(read_captions(p["captions"]), p.get("event_types")),
                       int(p.get("seed", 0)))
    return retrieval_splits(rows, collection, p.get("experts"), int(p.get("n_bins", DEFAULT_BINS)),
                            "captions", str(p["captions"]))


@DATASETS.register("synth")
def synth_dataset(p: dict[str, Any]) -> DatasetSplits:
    """params: path (a `vidseek synth` dir), collection (default PATH/collection), experts,
    n_bins, event_types (default ["video"]: whole-video captions)."""
    if "path" not in p:
        raise DatasetError("dataset `synth` needs dataset_params.path (a `vidseek synth` folder)")
    root = Path(p["path"])
    rows = _event_filter(read_captions(root / "captions.jsonl"), p.get("event_types", ["video"]))
    return retrieval_splits(rows, p.get("collection") or root / "collection", p.get("experts"),
                            int(p.get("n_bins", DEFAULT_BINS)), "synth", str(root))


@DATASETS.register("msrvtt")
def msrvtt_dataset(p: dict[str, Any]) -> DatasetSplits:
    """params: collection, test_csv (MSR-VTT 1k-A JSFusion CSV), train_captions (CSV/JSONL of
    training captions; its `val` rows, or 5% of its videos, validate), experts, n_bins."""
    from vidseek.models.datasets.msrvtt import msrvtt_rows

    rows = msrvtt_rows(p)
    return retrieval_splits(rows, p["collection"], p.get("experts"),
                            int(p.get("n_bins", DEFAULT_BINS)), "msrvtt", str(p.get("test_csv")))


DATASETS.add("planted", planted_splits)

__all__ = ["DEFAULT_BINS", "captions_dataset", "msrvtt_dataset", "retrieval_splits", "synth_dataset"]
