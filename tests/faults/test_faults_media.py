"""The fault corpus, bad media: each case's exit code, one-line message naming the file,
`status --json`, and what is kept. Oracle: a clean run of the intact file, and the frame index
painted into every frame (media.frame_number)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from faults_corpus import (
    FPS,
    by_video,
    corrupt_middle,
    cut,
    extract,
    lavfi_clip,
    lossless_clip,
    no_traceback,
    status_json,
)
from media import frame_number, text_as_mp4, tone, write_audio_only, zero_byte_file

from vidseek.extract.decode import TruncatedVideo, open_decoder
from vidseek.extract.probe import probe
from vidseek.extract.sampling import sample_times
from vidseek.store import FeatureStore
from vidseek.store.catalog import decode_note


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return lossless_clip(tmp_path_factory.mktemp("full") / "full.mp4")  # 14.0 s, 10 fps


@pytest.mark.parametrize("keep", [0.1, 0.3, 0.5, 0.9])
def test_truncated_file_never_reuses_a_frame_past_the_break(full, tmp_path, keep) -> None:
    part = cut(full, tmp_path / "part.mp4", keep)
    info = probe(part)
    times = sample_times(info.duration, FPS)
    dec = open_decoder(part, None, info)
    got: list[tuple[float, int]] = []
    with pytest.raises(TruncatedVideo, match=r"part\.mp4: truncated at [\d.]+ s of 14\.0 s") as err:
        for b in dec.frames_at(times, chunk=8):
            got += [(float(t), frame_number(f)) for t, f in zip(b.times, b.frames, strict=True)]
    dec.close()
    assert got and all(k == round(t * FPS) for t, k in got)  # each time shows its own frame
    assert max(t for t, _ in got) < err.value.decoded_end < info.duration


def test_truncated_file_keeps_what_decoded_and_status_says_so(full, tmp_path, capsys) -> None:
    part = cut(full, tmp_path / "part.mp4", 0.3)
    rc, err = extract(capsys, [part], tmp_path / "col")
    assert rc == 0 and "part.mp4: truncated at 4.1 s of 14.0 s" in err
    no_traceback(err)
    rc, st = status_json(capsys, tmp_path / "col")
    row = by_video(st)["part"]
    assert rc == 0 and row["status"] == "done"
    assert row["flags"] == ["truncated at 4.1 s of 14.0 s"] and row["duration"] == pytest.approx(4.1)
    extract(capsys, [full], tmp_path / "clean")
    with FeatureStore(tmp_path / "col") as a, FeatureStore(tmp_path / "clean") as b:
        kept, clean = a.get("part", "test_meancolor"), b.get("full", "test_meancolor")
    n = len(kept)
    assert n == 9 and kept.times[-1, 1] <= 4.1 + 1e-9  # rows at 0.0 .. 4.0 s, none past 4.1 s
    np.testing.assert_array_equal(kept.values, clean.values[:n])
    np.testing.assert_array_equal(kept.times[:, 0], clean.times[:n, 0])
    rc, err = extract(capsys, [part], tmp_path / "col")  # a rerun keeps the decoded end
    rc2, st = status_json(capsys, tmp_path / "col")
    assert rc == 0 and by_video(st)["part"]["duration"] == pytest.approx(4.1)


def test_corrupt_middle_is_flagged_and_named(full, tmp_path, capsys) -> None:
    bad = corrupt_middle(full, tmp_path / "mid.mp4")
    rc, err = extract(capsys, [bad], tmp_path / "col")
    no_traceback(err)
    rc2, st = status_json(capsys, tmp_path / "col")
    row = by_video(st)["mid"]
    assert rc == 0 and row["status"] == "done" and "mid.mp4" in err
    assert any(f.startswith("corrupt from") for f in row["flags"]), row


def test_tiny_video_falls_back_mid_stream_and_says_which_backend(tmp_path, capsys) -> None:
    tiny = lossless_clip(tmp_path / "tiny.mp4", 30, 16, 16)  # decord fails at frame 0
    rc, err = extract(capsys, [tiny], tmp_path / "col")
    assert rc == 0, err
    rc, err = extract(capsys, [tiny], tmp_path / "ref", backend="pyav")
    with FeatureStore(tmp_path / "col") as a, FeatureStore(tmp_path / "ref") as b:
        note = decode_note(a.catalog, "tiny")
        assert note is not None and note.backend == "pyav" and note.decoded_end is None  # decord made none
        np.testing.assert_array_equal(a.get("tiny", "test_meancolor").values,
                                      b.get("tiny", "test_meancolor").values)
    rc, st = status_json(capsys, tmp_path / "col")
    assert by_video(st)["tiny"]["backend"] == "pyav"


def _random_bytes(p: Path) -> Path:
    p.write_bytes(np.random.default_rng(1).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    return p


BAD = {
    "zero_byte": zero_byte_file,
    "text_as_mp4": text_as_mp4,
    "random_bytes": _random_bytes,
    "audio_only": lambda p: write_audio_only(p.with_suffix(".m4a"), tone(440, 1.0)),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_unreadable_files_fail_alone_with_their_name(case, tmp_path, capsys) -> None:
    good = lavfi_clip(tmp_path / "good.mp4")
    bad = Path(BAD[case](tmp_path / f"{case}.mp4"))
    rc, err = extract(capsys, [bad, good], tmp_path / "col")
    no_traceback(err)
    assert rc == 1 and bad.name in err
    rc, st = status_json(capsys, tmp_path / "col")
    rows = by_video(st)
    assert rows["good"]["status"] == "done" and rows[bad.stem]["status"] == "failed"
    assert bad.name in rows[bad.stem]["error"] and "\n" not in rows[bad.stem]["error"]


GOOD = {
    "no_audio": lambda p: lavfi_clip(p),
    "with_audio": lambda p: lavfi_clip(p, audio=True),
    "one_second": lambda p: lavfi_clip(p, seconds=1.0),
    "portrait": lambda p: lavfi_clip(p, size="48x96"),
    "uhd_4k": lambda p: lavfi_clip(p, size="3840x2160", seconds=0.5, fps=2),
    "rotated": lambda p: lavfi_clip(p, extra=["-metadata:s:v:0", "rotate=90"]),
    "vfr": lambda p: lavfi_clip(p, extra=["-vf", "setpts='if(lt(N,10),N,N*3)/TB/10'",
                                          "-fps_mode", "vfr"]),
}


@pytest.mark.parametrize("case", sorted(GOOD))
def test_odd_but_valid_videos_extract(case, tmp_path, capsys) -> None:
    clip = GOOD[case](tmp_path / f"{case}.mp4")
    rc, err = extract(capsys, [clip], tmp_path / "col")
    no_traceback(err)
    assert rc == 0, err
    rc, st = status_json(capsys, tmp_path / "col")
    assert by_video(st)[case]["status"] == "done" and by_video(st)[case]["flags"] == []


def test_two_video_streams_take_the_first(tmp_path, capsys) -> None:
    import subprocess

    from vidseek.extract.audio import ffmpeg_exe

    a, b = lavfi_clip(tmp_path / "a.mp4"), lavfi_clip(tmp_path / "b.mp4", size="32x32")
    two = tmp_path / "two.mkv"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(a), "-i", str(b), "-map", "0:v",
                    "-map", "1:v", "-c", "copy", str(two)], check=True)
    rc, err = extract(capsys, [two], tmp_path / "col")
    assert rc == 0, err
    with FeatureStore(tmp_path / "col") as s:
        assert s.catalog.video("two").width == 64  # type: ignore[union-attr]


NAMES = ["clip one.mp4", "clip_one.mp4", "clip~20one.mp4", "café ☕.mp4", "it's \"q\".mp4",
         "<b>x<\\b>&amp.mp4", ".hidden.mp4", "-dash.mp4"]


def test_names_that_sanitise_alike_keep_their_own_features(tmp_path, capsys) -> None:
    d = tmp_path / "in"
    d.mkdir()
    for k, name in enumerate(NAMES):
        lossless_clip(d / name, 10, 48 + 8 * k, 64, seed=k)  # a different frame size each
    rc, err = extract(capsys, [d], tmp_path / "col")
    assert rc == 0, err
    with FeatureStore(tmp_path / "col") as s:
        recs = s.catalog.features(expert="test_meancolor")
        assert len(recs) == len(NAMES) and len({r.shard for r in recs}) == len(NAMES)
        for k, name in enumerate(NAMES):
            vid = Path(name).stem
            info = s.catalog.video(vid)
            assert info is not None and info.height == 48 + 8 * k, name
            assert len(s.get(vid, "test_meancolor")) == 2
    shards = sorted(os.listdir(tmp_path / "col" / "features" / "test_meancolor"))
    assert len(shards) == len(NAMES) and not any(n.startswith(".") for n in shards)


def test_nested_folders_and_a_symlink_loop(tmp_path, capsys) -> None:
    d = tmp_path / "in"
    (d / "a" / "b").mkdir(parents=True)
    lavfi_clip(d / "a" / "b" / "deep.mp4")
    (d / "a" / "loop").symlink_to(d, target_is_directory=True)
    rc, err = extract(capsys, [d], tmp_path / "col")
    assert rc == 0, err
    rc, st = status_json(capsys, tmp_path / "col")
    assert list(by_video(st)) == ["deep"]


def test_mistyped_path_records_nothing_and_creates_nothing(tmp_path, capsys) -> None:
    col = tmp_path / "col"
    rc, err = extract(capsys, [tmp_path / "nope.mp4"], col)
    assert rc == 2 and "nope.mp4: no such file" in err and not col.exists()
    good = lavfi_clip(tmp_path / "good.mp4")
    rc, err = extract(capsys, [tmp_path / "nope.mp4", good], col)
    assert rc == 1 and "nope.mp4" in err
    rc, st = status_json(capsys, col)
    assert list(by_video(st)) == ["good"]


def test_status_on_an_empty_folder_creates_nothing(tmp_path, capsys) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    rc, st = status_json(capsys, empty)
    assert rc != 0 and os.listdir(empty) == []
    rc, st = status_json(capsys, tmp_path / "missing")
    assert rc != 0 and not (tmp_path / "missing").exists()


def test_cli_mistyped_path_and_status_are_one_line_errors(tmp_path) -> None:
    from faults_corpus import cli

    col = tmp_path / "col"
    r = cli("extract", str(tmp_path / "nope.mp4"), "--collection", str(col), "--no-progress")
    no_traceback(r.stderr)
    assert r.returncode == 2 and "nope.mp4: no such file" in r.stderr and not col.exists()
    r = cli("status", "--collection", str(col))
    no_traceback(r.stderr)
    assert r.returncode != 0 and "no collection at" in r.stderr and not col.exists()
