"""Where the repository and the shared real data are, for every test (one definition)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = ROOT.parent / "shared" / "data"
CLIPS = SHARED_DATA / "clips"
ANNOTATIONS = SHARED_DATA / "annotations"
TEST_DATA = ROOT / "tests" / "data"
