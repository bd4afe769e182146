"""`vidseek index`: a thin call of `vidseek.api.Collection.run_index` (the work itself is
vidseek.search.indexing)."""

from __future__ import annotations

from vidseek.api import Collection
from vidseek.errors import Outcome
from vidseek.search.indexing import IndexConfig

__all__ = ["IndexConfig", "build_index"]


def build_index(cfg: IndexConfig) -> Outcome:
    """Build or extend the indexes of cfg.collection: OK, or SOME_FAILED (a video left out)."""
    return Collection(cfg.collection).run_index(cfg)
