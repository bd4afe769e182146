"""IndexSettings live in the catalog only: written, reopened, read back; an old collection's
retrieval.json is read once and moved into the catalog."""

from __future__ import annotations

import json
from pathlib import Path

from vidseek.index import read_settings, write_settings
from vidseek.store import FeatureStore
from vidseek.types import IndexSettings


def test_write_reopen_read_no_file(tmp_path: Path) -> None:
    root = tmp_path / "coll"
    want = IndexSettings("bow-test", {"fvmr": "/runs/fvmr"}, {"topk": 3})
    with FeatureStore(root) as store:
        assert read_settings(store) is None
        write_settings(store, want)
    with FeatureStore(root, create=False) as store:
        assert read_settings(store) == want
        write_settings(store, IndexSettings("minilm"))  # one row, replaced
        assert read_settings(store) == IndexSettings("minilm")
    assert not any(p.suffix == ".json" for p in root.rglob("*"))


def test_legacy_retrieval_json_moves_into_the_catalog(tmp_path: Path) -> None:
    root = tmp_path / "old"
    with FeatureStore(root):
        pass
    legacy = root / "retrieval" / "retrieval.json"
    legacy.parent.mkdir()
    legacy.write_text(json.dumps({"encoder": "bow-test", "spaces": ["asr", "fvmr"], "model": "/runs/fvmr",
                                  "models": {"fvmr": "/runs/fvmr"}, "params": {"topk": 2}}))
    want = IndexSettings("bow-test", {"fvmr": "/runs/fvmr"}, {"topk": 2})
    with FeatureStore(root, create=False) as store:
        assert read_settings(store) == want
    assert not legacy.exists()
    with FeatureStore(root, create=False) as store:
        assert store.catalog.index_settings() == want
