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


@pytest.fixture(scope="module")
def one_torch_thread():  # type: ignore[no-untyped-def]
    """Tiny models: thread spin-up costs more than it saves on a shared 2-core box."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)
