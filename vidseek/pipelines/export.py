"""`vidseek export`: a collection's features as .npy files, one Parquet dataset or a HF dataset."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from vidseek.errors import Outcome


@dataclass
class ExportConfig:
    collection: str
    format: str
    out: str
    experts: list[str] | None = None
    videos: list[str] | None = None


def export(cfg: ExportConfig) -> Outcome:
    """A thin call of `Collection.export` (read-only: the collection is not written)."""
    from vidseek.api import Collection

    m = Collection(cfg.collection, read_only=True).export(cfg.format, cfg.out, cfg.experts,
                                                          cfg.videos)
    print(f"export: {len(m['videos'])} videos, experts {', '.join(m['experts'])} as {cfg.format} "
          f"-> {cfg.out}", file=sys.stderr)
    return Outcome.OK
