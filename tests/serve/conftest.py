"""A tiny served collection: three real video files (lossless, written here) with planted
features, indexed with the bag-of-words oracle encoder, so every hit is known in advance.

Planted (as tests/search/test_search_pipeline.py): "dog" + "skateboard" in [4, 8] s of `dog`, a
transcript line "now we download the dataset" at [10, 14] s of `talk`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "search"))  # the oracle encoder

from media import frames_with_index, write_video  # noqa: E402
from test_search_pipeline import ASR, CLS, W, probs_rows  # noqa: E402  (and the toy_cls space)

from vidseek.extract.probe import probe  # noqa: E402
from vidseek.store import FeatureStore  # noqa: E402
from vidseek.types import Features  # noqa: E402

FPS = 4
VIDEOS = {"dog": (12, 2, {i: (0, 5) for i in range(4, 8)}), "cats": (10, 1, {}), "talk": (20, 4, {})}


def build_collection(root: Path, media_dir: Path) -> Path:
    from vidseek.pipelines.index import IndexConfig, build_index

    media_dir.mkdir(parents=True, exist_ok=True)
    with FeatureStore(root) as store:
        for k, (vid, (dur, background, planted)) in enumerate(VIDEOS.items()):
            path = write_video(media_dir / f"{vid}.mkv", frames_with_index(dur * FPS, 48, 64, seed=k), FPS)
            store.catalog.upsert_video(probe(path, video_id=vid), status="done")
            t = np.stack([np.arange(dur), np.arange(dur) + 1], 1)
            store.put(vid, Features("toy_cls", t, np.zeros((dur, 0)),
                                    probs=probs_rows(dur, background, planted)), CLS, W)
        store.put("talk", Features("asr", [[0, 4], [10, 14], [16, 20]], np.zeros((3, 0)),
                                   texts=["hello everyone", "now we download the dataset", "thanks"]), ASR, W)
    assert build_index(IndexConfig(str(root), encoder="bow-test", progress=False)) == 0
    return root


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("served")
    return build_collection(base / "collection", base / "videos")
