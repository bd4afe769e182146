"""Shared fixtures: the real data folder (skips with a reason where absent), offline settings."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))  # media, paths, test experts

from paths import ANNOTATIONS, CLIPS  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")



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
