"""The Python API: the README's example runs (with the tiny random-init twin and the oracle
encoder in place of the real models), and each method answers like its CLI verb."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "search"))  # the oracle encoder

from media import frames_with_index, write_video  # noqa: E402
from test_spaces import BowEncoder  # noqa: E402, F401  (registers "bow-test")

import vidseek  # noqa: E402
from vidseek.errors import CollectionError, ConfigError, InputError  # noqa: E402
from vidseek.types import Hit  # noqa: E402

README = Path(__file__).resolve().parents[1] / "README.md"
# The README shows the default experts and encoder; the test swaps in their tiny twins (never
# the real models in unit tests). Each swap must still match the README's text.
SWAPS = {"experts=None)": 'experts=["effnet_lite0"], tiny=True)',
         "col.index()": 'col.index(encoder="bow-test")'}


def readme_example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Python API", 1)[1]
    m = re.search(r"```python\n(.*?)```", section, re.S)
    assert m, "README.md lost its Python API example"
    return m.group(1)


@pytest.fixture
def videos(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write_video(tmp_path / "a.mp4", frames_with_index(8, 48, 64), 4, codec="libx264rgb")
    (tmp_path / "dir").mkdir()
    write_video(tmp_path / "dir" / "skateboarding_dog.mp4", frames_with_index(12, 48, 64, seed=1), 4,
                codec="libx264rgb")
    return tmp_path


def test_readme_example_runs(videos: Path, one_torch_thread: None) -> None:
    code = readme_example()
    for old, new in SWAPS.items():
        assert old in code, f"README example no longer contains {old!r}"
        code = code.replace(old, new)
    ns: dict = {}
    exec(compile(code, str(README), "exec"), ns)  # noqa: S102 - the documented example itself
    hits, feats = ns["hits"], ns["feats"]
    assert hits and all(isinstance(h, Hit) for h in hits) and len(hits) <= 5
    assert {h.video for h in hits} <= {"a", "skateboarding_dog"}
    assert feats.times.shape == (3, 2) and feats.values.shape == (3, 1280)  # 3 s at 1 fps
    np.testing.assert_allclose(feats.times[:, 0], np.arange(3))
    assert (videos / "my-collection" / "catalog.sqlite").exists()


def test_open_missing_raises_and_methods_answer(videos: Path, one_torch_thread: None) -> None:
    with pytest.raises(CollectionError, match="does not exist"):
        vidseek.open_collection("nothing-here")
    col = vidseek.open_collection("c", create=True)
    assert col.extract(["a.mp4", "dir/"], experts=["effnet_lite0"], tiny=True) == 0
    assert col.index(encoder="bow-test") == 0
    assert [(v["id"], v["status"]) for v in col.videos()] == [("a", "done"), ("skateboarding_dog", "done")]
    st = col.status()
    assert st["counts"] == {"done": 2, "failed": 0, "pending": 0} and st["experts"] == ["effnet_lite0"]
    assert st["encoder"] == "bow-test" and [s["space"] for s in st["spaces"]] == ["effnet_lite0"]
    hits = col.search("random class", top=3)
    assert col.searcher is col.searcher  # loaded once
    assert 1 <= len(hits) <= 3 and {h.video for h in hits} <= {"a", "skateboarding_dog"}
    with pytest.raises(ValueError, match="empty"):
        col.search("  ")
    with pytest.raises(ConfigError, match="known: effnet_lite0"):
        col.search("a dog", weights={"nope": 1.0})
    report = col.report()  # what `status --json` prints
    assert report["counts"] == st["counts"]
    assert {r["video"]: sorted(r["experts"]) for r in report["videos"]} == \
        {"a": ["effnet_lite0"], "skateboarding_dog": ["effnet_lite0"]}
    ro = vidseek.open_collection("c", read_only=True)
    assert [(h.video, h.start) for h in ro.search("random class", top=5, videos=True)] == \
        [(h.video, h.start) for h in col.search("random class", top=5, videos=True)]
    with pytest.raises(CollectionError, match="read-only"):
        ro.index()
    ro.close()
    with pytest.raises(InputError, match="URLs are not fetched"):
        from vidseek.inputs import gather_inputs

        gather_inputs(["https://example.com/v.mp4"])
    col.close()
