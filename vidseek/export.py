"""Features out of a collection, in the layouts other tools read.

- npy: OUT/<video>/<expert>/{values,times}.npy (+ probs.npy, text.jsonl), as video_features
  users expect: times (n, 2) float64 seconds, values (n, d) float32.
- parquet: one Parquet dataset, hive-partitioned by expert (OUT/expert=<name>/part-0.parquet):
  video_id, start, end, values, probs, text; `pyarrow.dataset.dataset(OUT, partitioning="hive")`.
- hf: a Hugging Face `datasets.DatasetDict` (one split per expert) saved with save_to_disk.
Each writes OUT/_manifest.json (the leading _ keeps Parquet readers from taking it for data): experts, videos, rows, the weights sha of each expert.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from vidseek.errors import CollectionError
from vidseek.extras import require
from vidseek.registry import Registry
from vidseek.store import FeatureStore
from vidseek.types import Features

Exporter = Callable[[FeatureStore, list[tuple[str, str]], Path], None]
EXPORTERS: Registry[Exporter] = Registry("export format")


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)


def pairs(store: FeatureStore, experts: Sequence[str] | None = None,
          videos: Sequence[str] | None = None) -> list[tuple[str, str]]:
    """(video, expert) pairs with done features, restricted to the experts / videos named."""
    have = store.experts()
    unknown = sorted(set(experts or ()) - set(have))
    if unknown:
        raise CollectionError(f"no {', '.join(unknown)} features in {store.root}; has: {', '.join(have)}")
    recs = store.catalog.features(status="done")
    out = [(r.video_id, r.expert) for r in recs
           if (not experts or r.expert in experts) and (not videos or r.video_id in videos)]
    if videos:
        missing = sorted(set(videos) - {v for v, _ in out})
        if missing:
            raise CollectionError(f"no done features for video(s) {', '.join(missing)} in {store.root}")
    return out


def _items(store: FeatureStore, todo: list[tuple[str, str]]) -> Iterator[tuple[str, str, Features]]:
    for vid, ex in todo:
        yield vid, ex, store.get(vid, ex)


@EXPORTERS.register("npy")
def export_npy(store: FeatureStore, todo: list[tuple[str, str]], out: Path) -> None:
    for vid, ex, f in _items(store, todo):
        d = out / _safe(vid) / _safe(ex)
        d.mkdir(parents=True, exist_ok=True)
        np.save(d / "times.npy", f.times)
        np.save(d / "values.npy", f.values)
        if f.probs is not None:
            np.save(d / "probs.npy", f.probs)
        if f.texts is not None:
            with open(d / "text.jsonl", "w", encoding="utf-8") as fh:
                metas: list[dict[str, Any] | None] = list(f.meta) if f.meta else [None] * len(f)
                for (s, e), text, meta in zip(f.times, f.texts, metas, strict=True):
                    row: dict[str, Any] = {"start": float(s), "end": float(e), "text": text}
                    if meta:
                        row["meta"] = meta
                    fh.write(json.dumps(row) + "\n")


def _table(store: FeatureStore, todo: list[tuple[str, str]], expert: str) -> pa.Table:
    cols: dict[str, list[Any]] = {"video_id": [], "start": [], "end": [], "values": []}
    probs: list[Any] = []
    texts: list[Any] = []
    any_probs = any_text = False
    for vid, _, f in _items(store, [p for p in todo if p[1] == expert]):
        n = len(f)
        cols["video_id"] += [vid] * n
        cols["start"] += f.times[:, 0].tolist()
        cols["end"] += f.times[:, 1].tolist()
        cols["values"] += list(f.values)
        any_probs |= f.probs is not None
        any_text |= f.texts is not None
        probs += list(f.probs) if f.probs is not None else [None] * n
        texts += list(f.texts) if f.texts is not None else [None] * n
    data: dict[str, Any] = {
        "video_id": pa.array(cols["video_id"], pa.string()),
        "start": pa.array(cols["start"], pa.float64()), "end": pa.array(cols["end"], pa.float64()),
        "values": pa.array([v.tolist() for v in cols["values"]], pa.list_(pa.float32())),
    }
    if any_probs:
        data["probs"] = pa.array([None if p is None else p.tolist() for p in probs], pa.list_(pa.float32()))
    if any_text:
        data["text"] = pa.array(texts, pa.string())
    return pa.table(data)


@EXPORTERS.register("parquet")
def export_parquet(store: FeatureStore, todo: list[tuple[str, str]], out: Path) -> None:
    import pyarrow.parquet as pq

    for ex in sorted({e for _, e in todo}):
        d = out / f"expert={_safe(ex)}"
        d.mkdir(parents=True, exist_ok=True)
        pq.write_table(_table(store, todo, ex), d / "part-0.parquet", compression="zstd")


@EXPORTERS.register("hf")
def export_hf(store: FeatureStore, todo: list[tuple[str, str]], out: Path) -> None:
    require("datasets", "hf", "export --format hf")
    import datasets

    splits = {_safe(ex): datasets.Dataset(_table(store, todo, ex)) for ex in sorted({e for _, e in todo})}
    datasets.DatasetDict(splits).save_to_disk(str(out))


def export_features(store: FeatureStore, fmt: str, out: str | Path, experts: Sequence[str] | None = None,
                    videos: Sequence[str] | None = None) -> dict[str, Any]:
    """Write the features in `fmt` under `out`; returns the manifest it also writes there."""
    exporter = EXPORTERS.get(fmt)
    todo = pairs(store, experts, videos)
    if not todo:
        raise CollectionError(f"no extracted features to export in {store.root}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    exporter(store, todo, out)
    manifest = {
        "format": fmt, "collection": str(store.root),
        "experts": {ex: {"weights_sha": store.weights_of(ex).sha256,
                         "videos": sum(1 for _, e in todo if e == ex)} for ex in sorted({e for _, e in todo})},
        "videos": sorted({v for v, _ in todo}),
    }
    (out / "_manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return manifest
