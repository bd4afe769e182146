"""Query-file readers on small inline samples of each format, and the committed real_clips.jsonl."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from paths import ROOT  # noqa: E402

from vidseek.errors import DatasetError
from vidseek.models.datasets.queries import QUERY_FORMATS, detect_format, read_queries, restrict


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_vidseek_jsonl(tmp_path: Path) -> None:
    p = write(tmp_path, "q.jsonl", '{"query": "a dog", "video": "v1", "windows": [[1, 2], [5, 7.5]], "source": "x"}\n\n'
                                  '{"query": "a cat", "video": "v2", "windows": [0, 3]}\n')
    qs = read_queries(p)
    assert [q.query for q in qs] == ["a dog", "a cat"]
    np.testing.assert_array_equal(qs[0].windows, [[1, 2], [5, 7.5]])
    np.testing.assert_array_equal(qs[1].windows, [[0, 3]])
    assert qs[0].meta == {"source": "x"}


def test_qvhighlights_jsonl(tmp_path: Path) -> None:
    row = {"qid": 2579, "query": "A girl and her mother cooked while talking.", "duration": 150,
           "vid": "NUsG9BgSes0_210.0_360.0", "relevant_windows": [[26, 36], [40, 42]]}
    p = write(tmp_path, "val.jsonl", json.dumps(row) + "\n")
    assert detect_format(p) == "qvhighlights"
    (q,) = read_queries(p)
    assert q.video == "NUsG9BgSes0_210.0_360.0" and q.qid == "2579"
    np.testing.assert_array_equal(q.windows, [[26, 36], [40, 42]])


def test_charades_sta_txt(tmp_path: Path) -> None:
    p = write(tmp_path, "charades_sta_test.txt",
              "Y1HGC 0.2 9.8##a person walks in a doorway drinking some coffee.\n"
              "Y1HGC 1.7 12.1##person drinking a glass of water.\n")
    qs = read_queries(p)
    assert [(q.video, q.query) for q in qs][1] == ("Y1HGC", "person drinking a glass of water.")
    np.testing.assert_allclose(qs[0].windows, [[0.2, 9.8]])
    bad = write(tmp_path, "bad.txt", "Y1HGC 0.2##no end\n")
    with pytest.raises(DatasetError, match="bad.txt:1"):
        read_queries(bad)


def test_activitynet_json(tmp_path: Path) -> None:
    data = {"v_GGSY1Qvo990": {"duration": 18.16, "timestamps": [[0, 2.27], [2.91, 6.54]],
                              "sentences": ["A female weight lifter bends at the knees.",
                                            " She lifts a barbell to her chest."]}}
    p = write(tmp_path, "val_1.json", json.dumps(data))
    qs = read_queries(p)
    assert qs[1].query == "She lifts a barbell to her chest." and qs[1].qid == "v_GGSY1Qvo990#1"
    np.testing.assert_allclose(qs[1].windows, [[2.91, 6.54]])
    assert [q.video for q in restrict(qs, {"other"})] == []
    assert len(restrict(qs, {"v_GGSY1Qvo990", "x"})) == 2


def test_errors_name_the_line(tmp_path: Path) -> None:
    p = write(tmp_path, "q.jsonl", '{"query": "a", "video": "v", "windows": [[1, 2]]}\n{"query": "b"}\n')
    with pytest.raises(DatasetError, match="q.jsonl:2: missing video, windows"):
        read_queries(p)
    rev = write(tmp_path, "r.jsonl", '{"query": "a", "video": "v", "windows": [[3, 2]]}\n')
    with pytest.raises(DatasetError, match="start <= end"):
        read_queries(rev)
    with pytest.raises(DatasetError, match="cannot tell"):
        read_queries(write(tmp_path, "u.jsonl", '{"foo": 1}\n'))
    with pytest.raises(DatasetError, match="does not exist"):
        read_queries(tmp_path / "missing.jsonl")
    assert set(QUERY_FORMATS.names()) == {"vidseek", "qvhighlights", "charades_sta", "activitynet"}


def test_committed_real_clip_queries_parse_and_cite_sources() -> None:
    qs = read_queries(ROOT / "data" / "queries" / "real_clips.jsonl")
    assert len(qs) >= 12
    assert all(q.meta.get("source") for q in qs)
    sources = (ROOT / "data" / "queries" / "SOURCES.md").read_text()
    for video in {q.video for q in qs}:
        assert video in sources


@pytest.mark.real
def test_real_annotation_files_match_committed_lines(annotations_dir: Path) -> None:
    """The committed lines are the human annotations, verbatim (modulo whitespace)."""
    ours = {(q.video, q.query): q.windows for q in read_queries(ROOT / "data" / "queries" / "real_clips.jsonl")}
    theirs = read_queries(annotations_dir / "activitynet_captions" / "val_1.json")
    theirs += read_queries(annotations_dir / "charades_sta" / "charades_sta_test.txt")
    found = 0
    for q in theirs:
        video = "charades" if q.video == "Y1HGC" else q.video
        if (video, q.query) in ours:
            np.testing.assert_allclose(ours[(video, q.query)], q.windows)
            found += 1
    assert found == 5
