"""The fault corpus, `vidseek index`: a corrupt shard during `index --rebuild`, a full disk
while indexing, and a rerun with nothing new. Real extraction (a test text-line expert on
synthetic clips), real FAISS and SQLite; the oracle is a bag-of-words query encoder, so the
planted line of each video is its own best hit."""

from __future__ import annotations

import errno
import os
import sqlite3
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from faults_corpus import as_cli, by_video, extract, lavfi_clip, no_traceback, status_json

from vidseek.extract.experts.base import (
    Expert,
    ExpertSession,
    ExpertSpec,
    TextEncoder,
    WeightsInfo,
)
from vidseek.extract.experts.cards import (
    EXPERTS,
    TEXT_ENCODERS,
    ExpertCard,
    TextEncoderCard,
    TextLinesFeed,
    register_expert,
    register_text_encoder,
)
from vidseek.index import SpaceIndex, list_spaces
from vidseek.pipelines.index import IndexConfig, build_index
from vidseek.pipelines.search import SearchConfig, search
from vidseek.store import FeatureStore
from vidseek.types import Features, FrameBatch, VideoInfo

LINES = "test_lines"
ENCODER = "bow-faults"


class _Bow(TextEncoder):
    """Bag of words with a fixed random vector per word: a line and a query sharing their
    words are each other's nearest neighbours."""

    name, dim = ENCODER, 32
    weights = WeightsInfo(sha256="bow-faults-v1", source="tests/faults", random=True)

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().split():
                out[i] += np.random.default_rng(zlib.crc32(w.encode())).standard_normal(self.dim)
        return out


class _LinesSession(ExpertSession):
    def __init__(self, spec: ExpertSpec, info: VideoInfo) -> None:
        self.spec, self.info = spec, info
        self.times: list[float] = []

    def add_frames(self, batch: FrameBatch) -> None:
        self.times += batch.times.tolist()

    def finish(self) -> Features:
        """One line per sampled second, naming the video; none for a 'quiet' video (as asr on
        a video without speech)."""
        vid = self.info.video_id
        t = [] if vid.startswith("quiet") else self.times
        return Features(LINES, np.array([[s, s + 1.0] for s in t]).reshape(-1, 2),
                        np.zeros((len(t), 0)), texts=[f"{vid} says line {k}" for k in range(len(t))])


class _Lines(Expert):
    spec = ExpertSpec(LINES, "ocr", dim=0, fps=1.0, window=1.0, stride=1.0)
    weights = WeightsInfo("test-lines", "test")

    def session(self, info: VideoInfo) -> ExpertSession:
        return _LinesSession(self.spec, info)


@pytest.fixture(autouse=True)
def lines_expert() -> Iterator[None]:
    """The test expert and its zero-shot text-line space, only while a test here runs."""
    if ENCODER not in TEXT_ENCODERS:
        register_text_encoder(TextEncoderCard(name=ENCODER, summary="test oracle",
                                              builder=lambda o: _Bow(), dim=_Bow.dim))
    register_expert(ExpertCard(LINES, "ocr", "test: a line per second", lambda o: _Lines(),
                               space=TextLinesFeed(0.0)))
    try:
        yield
    finally:
        EXPERTS._items.pop(LINES)  # Registry has no removal on purpose; tests only


@pytest.fixture
def col(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """Three clips with lines (alpha, bravo, charlie) and two without (quiet1, quiet2),
    extracted and indexed."""
    clips = [lavfi_clip(tmp_path / f"{n}.mp4", seconds=3.0)
             for n in ("alpha", "bravo", "charlie", "quiet1", "quiet2")]
    out = tmp_path / "col"
    rc, err = extract(capsys, clips, out, experts=[LINES])
    assert rc == 0, err
    assert index(capsys, out)[0] == 0
    return out


def index(capsys: pytest.CaptureFixture[str], col: Path, **kw: object) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `vidseek index --collection COL`."""
    capsys.readouterr()
    rc = as_cli("index", col, lambda: build_index(
        IndexConfig(str(col), encoder=ENCODER, progress=False, **kw)))  # type: ignore[arg-type]
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def added(out: str, space: str = LINES) -> int:
    """The `added` column of the index summary table for `space`."""
    row = next(ln.split() for ln in out.splitlines() if ln.startswith(space + " "))
    return int(row[1])


def top_video(capsys: pytest.CaptureFixture[str], col: Path, query: str) -> str | None:
    import json

    capsys.readouterr()
    assert search(SearchConfig(query, str(col), json=True, top=1)) == 0
    hits = json.loads(capsys.readouterr().out)
    return hits[0]["video"] if hits else None


def indexed(col: Path) -> set[str]:
    with FeatureStore(col, create=False) as s:
        return s.catalog.index_video_ids(LINES)


def corrupt(col: Path, video: str) -> Path:
    with FeatureStore(col, create=False) as s:
        shard = col / str(s.catalog.feature(video, LINES).shard)  # type: ignore[union-attr]
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    return shard


def test_rerun_with_nothing_new_embeds_nothing(col, capsys) -> None:
    """quiet1 / quiet2 have zero lines: the first run embeds them once, the rerun never."""
    rc, out, _ = index(capsys, col)
    assert rc == 0 and added(out) == 0
    rc, out, _ = index(capsys, col, rebuild=True)
    assert rc == 0 and added(out) == 5  # a rebuild embeds every video once again
    rc, out, _ = index(capsys, col)
    assert rc == 0 and added(out) == 0


def test_corrupt_shard_during_rebuild_is_reported_and_the_rest_indexed(col, capsys) -> None:
    assert top_video(capsys, col, "bravo says line") == "bravo"
    shard = corrupt(col, "bravo")
    rc, out, err = index(capsys, col, rebuild=True)
    no_traceback(err)
    assert rc == 1, err
    failed = [ln for ln in err.splitlines() if ln.startswith("FAILED")]
    assert len(failed) == 1 and "bravo" in failed[0] and shard.name in failed[0]
    assert added(out) == 4 and indexed(col) == {"alpha", "charlie"}  # quiet ones have no rows
    assert top_video(capsys, col, "charlie says line") == "charlie"
    assert not [r for r in list_spaces_of(col) if r.endswith(".rebuild")]  # swapped, not left
    rc, st = status_json(capsys, col)
    assert by_video(st)["bravo"]["experts"][LINES]["status"] == "corrupt"
    clips = [Path(r["path"]) for r in st["videos"]]
    rc, err = extract(capsys, clips, col, experts=[LINES])
    assert rc == 0 and "1 done, 4 already done" in err, err
    rc, out, _ = index(capsys, col)
    assert rc == 0 and added(out) == 1 and indexed(col) == {"alpha", "bravo", "charlie"}
    assert top_video(capsys, col, "bravo says line") == "bravo"


def list_spaces_of(col: Path) -> list[str]:
    """Every space in the catalog's table, staged rebuilds included."""
    with FeatureStore(col, create=False) as s:
        return [str(r[0]) for r in s.catalog.execute("SELECT space FROM index_spaces")]


def test_a_rebuild_killed_before_its_swap_is_never_searched(col, capsys, monkeypatch) -> None:
    """Killed after the staged space is committed, before the swap: search still uses the old
    space (the staged one is never listed); the next rebuild drops it and swaps."""
    import vidseek.search.indexing as pipeline

    def killed(*a: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "_swap", killed)
    with pytest.raises(KeyboardInterrupt):
        index(capsys, col, rebuild=True)
    monkeypatch.undo()
    assert f"{LINES}.rebuild" in list_spaces_of(col)
    with FeatureStore(col, create=False) as s:
        assert [r["space"] for r in list_spaces(s)] == [LINES]
    assert top_video(capsys, col, "charlie says line") == "charlie"
    rc, out, _ = index(capsys, col, rebuild=True)
    assert rc == 0 and added(out) == 5 and list_spaces_of(col) == [LINES]


def test_rebuild_that_cannot_finish_keeps_the_old_index(col, capsys, monkeypatch) -> None:
    """A rebuild whose index write fails (ENOSPC injected at the FAISS file write, raised as
    FAISS raises it) leaves the old space as it was: same rows, still searchable; the next
    rebuild succeeds."""
    import faiss

    before = indexed(col)
    real = faiss.write_index

    def full(index: object, path: str) -> None:
        if ".rebuild" in path:
            raise RuntimeError("Error in void faiss::write_index(const Index*, IOWriter*, int) "
                               "at /project/faiss/impl/index_write.cpp:499: Error: 'ret == "
                               f"(size * 4)' failed: write error in {path}: 0 != 2560 "
                               f"({os.strerror(errno.ENOSPC)})")
        real(index, path)

    monkeypatch.setattr(faiss, "write_index", full)
    rc, out, err = index(capsys, col, rebuild=True)
    monkeypatch.undo()
    no_traceback(err)
    assert rc == 2 and len(err.strip().splitlines()) == 1, err
    assert "cannot write" in err and ".rebuild.faiss" in err and "(ENOSPC)" in err
    assert indexed(col) == before and top_video(capsys, col, "alpha says line") == "alpha"
    assert not list((col / "index").glob(".tmp-*"))
    rc, out, _ = index(capsys, col, rebuild=True)
    assert rc == 0 and added(out) == 5 and indexed(col) == before
    assert not [r for r in list_spaces_of(col) if r.endswith(".rebuild")]


def test_catalog_full_while_indexing_is_one_line(col, capsys, tmp_path) -> None:
    """SQLite's own "database or disk is full" (PRAGMA max_page_count at the current size of
    a vacuumed catalog, on the connection the index run opens): one line naming the catalog,
    exit 2, and the space is still what it was."""
    clips = [lavfi_clip(tmp_path / "delta.mp4", seconds=600.0)]  # 600 new rows: pages more
    rc, err = extract(capsys, clips, col, experts=[LINES])
    assert rc == 0, err
    before = indexed(col)
    with FeatureStore(col) as s:
        s.catalog.execute("VACUUM")  # no free pages left inside the file
    real_init = FeatureStore.__init__

    def capped(self: FeatureStore, *a: object, **kw: object) -> None:
        real_init(self, *a, **kw)  # type: ignore[arg-type]
        pages = self.catalog.execute("PRAGMA page_count").fetchone()[0]
        self.catalog.execute(f"PRAGMA max_page_count={int(pages)}")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(FeatureStore, "__init__", capped)
        rc, out, err = index(capsys, col)
    no_traceback(err)
    assert rc == 2 and len(err.strip().splitlines()) == 1, err
    assert "catalog.sqlite" in err and "database or disk is full" in err
    with FeatureStore(col) as s:  # the repair on open leaves the index as its rows say
        assert SpaceIndex(s, LINES, _Bow.dim, _identity(s)).video_ids() == before
    assert top_video(capsys, col, "alpha says line") == "alpha"
    rc, out, _ = index(capsys, col)
    assert rc == 0 and added(out) == 1 and indexed(col) == before | {"delta"}


def _identity(store: FeatureStore) -> str:
    meta = store.catalog.index_space(LINES)
    assert meta is not None
    return str(meta["identity"])


def test_a_really_full_disk_while_indexing(col, capsys, tmp_path) -> None:
    """A real small tmpfs, filled: `index --rebuild` fails in one line naming a path under it
    and the old index stays searchable; with space freed it finishes."""
    import shutil
    import subprocess

    if os.geteuid() != 0:
        pytest.skip("a real small tmpfs needs root (mount -t tmpfs)")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    try:
        small = mnt / "col"
        shutil.copytree(col, small)
        before = indexed(small)
        filler = mnt / "filler"
        with open(filler, "wb", buffering=0) as fh:
            try:
                while True:
                    fh.write(b"\0" * 4096)
            except OSError:
                pass
        rc, out, err = index(capsys, small, rebuild=True)
        no_traceback(err)
        assert rc == 2 and len(err.strip().splitlines()) == 1, err
        assert f"cannot write {small}: no space left on the device" in err
        filler.unlink()
        assert indexed(small) == before and top_video(capsys, small, "alpha says line") == "alpha"
        rc, out, err = index(capsys, small, rebuild=True)
        assert rc == 0 and indexed(small) == before, err
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_sqlite_error_is_not_swallowed_when_not_a_write(col) -> None:
    """Only write failures become one line; the wrapper keeps other errors as they are."""
    from vidseek.search.indexing import _write_error

    with FeatureStore(col, create=False) as s:
        assert _write_error(RuntimeError("some bug"), s, LINES) is None
        got = _write_error(sqlite3.OperationalError("database or disk is full"), s, LINES)
        assert got is not None and "catalog.sqlite" in str(got)
