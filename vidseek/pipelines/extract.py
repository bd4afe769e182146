"""`vidseek extract`: a thin call of `vidseek.api.Collection.extract` (the batch job itself is
vidseek.extract.batch). What could not run raises; the CLI maps it to exit code 2."""

from __future__ import annotations

from vidseek.api import Collection
from vidseek.errors import Outcome
from vidseek.extract.worker import ExtractConfig

__all__ = ["ExtractConfig", "extract_collection"]


def extract_collection(cfg: ExtractConfig) -> Outcome:
    """Extract every video of cfg.paths into cfg.collection: OK, or SOME_FAILED (the rest done)."""
    return Collection(cfg.collection).run_extract(cfg)
