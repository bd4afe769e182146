"""Real clips: every clip probes as the data README says and decodes with open_decoder(auto).

Kept cheap: three sampled frames per clip (decord seeks; PyAV reads to the last one), and a
decord-vs-PyAV agreement check on three small clips only.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from paths import SHARED_DATA as DATA  # noqa: E402

from vidseek.extract.decode import open_decoder
from vidseek.extract.probe import probe
from vidseek.extract.sampling import sample_times

CLIPS = DATA / "clips"
pytestmark = [
    pytest.mark.real,
    pytest.mark.skipif(not CLIPS.is_dir(), reason=f"real clips not found at {CLIPS}"),
]
# The README's 16.6 s for nasa_13013.mp4 is where its subtitle streams end (16.57 s); its
# video ends at 13.0 s and its audio at 13.056 s (the container duration we report).
DURATION_OVERRIDE = {"nasa_13013.mp4": 13.056}


def _table() -> dict[str, dict[str, object]]:
    """file -> {duration, fps, has_audio} from the clips table of ../shared/data/README.md."""
    rows: dict[str, dict[str, object]] = {}
    readme = DATA / "README.md"
    if not readme.is_file():
        return rows
    for line in readme.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not re.search(r"\.(mp4|mkv|avi|webm)$", cells[0]):
            continue
        streams = cells[3]
        dur = re.search(r"([\d.]+) s\b", streams)
        fps = re.search(r"([\d.]+) fps", streams)
        rows[cells[0]] = {
            "duration": float(dur.group(1)) if dur else None,
            "fps": float(fps.group(1)) if fps else None,
            "has_audio": "no audio" not in streams,
        }
    return rows


TABLE = _table()
NAMES = sorted(p.name for p in CLIPS.iterdir()) if CLIPS.is_dir() else []


def test_table_covers_every_clip() -> None:
    assert NAMES and set(NAMES) == set(TABLE)


@pytest.mark.parametrize("name", NAMES)
def test_probe_matches_readme(name: str) -> None:
    info = probe(CLIPS / name)
    row = TABLE[name]
    want = DURATION_OVERRIDE.get(name, row["duration"])
    if want is not None:
        assert abs(info.duration - float(want)) <= 0.15, (info.duration, want)
    if row["fps"] is not None:
        assert abs(info.fps - float(row["fps"])) <= 0.05, (info.fps, row["fps"])
    assert info.has_audio is row["has_audio"]
    assert info.width > 0 and info.height > 0 and info.fps > 0


@pytest.mark.parametrize("name", NAMES)
def test_auto_decodes_first_middle_last(name: str) -> None:
    info = probe(CLIPS / name)
    times = sample_times(info.duration, 1.0)
    pick = times[[0, len(times) // 2, -1]]
    dec = open_decoder(CLIPS / name, info=info)
    try:
        out = [b for b in dec.frames_at(pick, chunk=2, max_side=None)]
    finally:
        dec.close()
    frames = np.concatenate([b.frames for b in out])
    np.testing.assert_array_equal(np.concatenate([b.times for b in out]), pick)
    assert frames.shape == (3, info.height, info.width, 3)
    assert frames.std() > 1  # real pictures, not blank buffers
    assert not (frames[0] == frames[-1]).all()


def test_portrait_clip_is_portrait() -> None:
    info = probe(CLIPS / "skateboarding_dog.mp4")
    assert info.height > info.width
    dec = open_decoder(CLIPS / "skateboarding_dog.mp4", info=info)
    frame = next(iter(dec.frames_at(np.array([1.0])))).frames[0]
    assert frame.shape == (1024, 576, 3)


def test_multi_stream_picks_first_video_and_audio() -> None:
    path = CLIPS / "nasa_13013.mp4"
    info = probe(path)
    kinds = [s["type"] for s in info.streams]
    assert kinds.count("video") == 2 and kinds.count("audio") == 2
    first_video = next(s for s in info.streams if s["type"] == "video")
    assert (info.width, info.height) == (first_video["width"], first_video["height"]) == (320, 180)
    dec = open_decoder(path, info=info)  # decord would read the other (480x270) stream
    assert dec.name == "pyav"
    assert next(iter(dec.frames_at(np.array([2.0])))).frames.shape == (1, 180, 320, 3)
    from vidseek.extract.audio import audio_chunks

    pcm = np.concatenate([c.pcm for c in audio_chunks(path, 16000)])
    assert abs(len(pcm) / 16000 - 13.056) < 0.1 and np.abs(pcm).max() > 0.01


@pytest.mark.parametrize("name", ["eye_makeup.avi", "flipping_a_pancake.mkv",
                                  "skateboarding_dog.mp4"])
def test_backends_agree_on_real_clips(name: str) -> None:
    """avi (no pts of its own), mkv/opus and an mp4 whose video starts at 0.033 s: decord and
    PyAV return the same frames for the same times."""
    info = probe(CLIPS / name)
    times = sample_times(info.duration, 2.0)
    out = {}
    for backend in ("decord", "pyav"):
        dec = open_decoder(CLIPS / name, backend, info)
        out[backend] = np.concatenate([b.frames[:, ::4, ::4] for b in dec.frames_at(times)])
        dec.close()
    np.testing.assert_array_equal(out["decord"], out["pyav"])
