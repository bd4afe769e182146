"""Shared fixtures: the real data folder (skips with a reason where absent), offline settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
CLIPS = SHARED_DATA / "clips"
ANNOTATIONS = SHARED_DATA / "annotations"


@pytest.fixture(scope="session")
def clips_dir() -> Path:
    if not CLIPS.is_dir():
        pytest.skip(f"real clips not found at {CLIPS} (../shared/data beside the repo)")
    return CLIPS


@pytest.fixture(scope="session")
def annotations_dir() -> Path:
    if not ANNOTATIONS.is_dir():
        pytest.skip(f"annotations not found at {ANNOTATIONS} (../shared/data beside the repo)")
    return ANNOTATIONS


@pytest.fixture
def collection(tmp_path: Path) -> Path:
    return tmp_path / "collection"
