"""probe(): metadata of synthetic videos, and a typed error naming the file for bad inputs."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from media import (
    corrupt_mp4,
    frames_with_index,
    text_as_mp4,
    tone,
    truncated_mp4,
    video_without_audio,
    write_audio_only,
    write_video,
    zero_byte_file,
)

from vidseek.errors import DecodeError, NoVideoStreamError
from vidseek.extract.probe import content_hash, probe


def test_probe_lossless_ntsc_with_audio(tmp_path: Path) -> None:
    path = write_video(tmp_path / "clip.mp4", frames_with_index(60, 48, 64), Fraction(30000, 1001),
                       codec="libx264rgb", audio=tone(440, 2.0), sample_rate=16000)
    info = probe(path)
    assert info.video_id == "clip" and info.path == str(path)
    assert info.fps == 30000 / 1001  # not floored, not rounded
    assert (info.width, info.height, info.n_frames, info.has_audio) == (64, 48, 60, True)
    assert abs(info.duration - 60 * 1001 / 30000) < 0.05
    assert info.size == path.stat().st_size and info.mtime == path.stat().st_mtime
    assert [s["type"] for s in info.streams] == ["video", "audio"]
    v, a = info.streams
    assert v["codec"] == "h264" and v["width"] == 64 and v["rotation"] == 0
    assert a["sample_rate"] == 16000 and a["channels"] == 1
    assert probe(path, video_id="x7").video_id == "x7"


def test_probe_mkv_without_audio(tmp_path: Path) -> None:
    info = probe(video_without_audio(tmp_path / "silent.mkv", t=20, fps=10))
    assert not info.has_audio and info.fps == 10.0 and abs(info.duration - 2.0) < 0.05


def test_portrait_by_rotation_stays_portrait(tmp_path: Path) -> None:
    path = write_video(tmp_path / "phone.mp4", frames_with_index(5, 48, 64), 10,
                       codec="libx264rgb", rotation=90)
    info = probe(path)
    assert (info.width, info.height) == (48, 64) and info.streams[0]["rotation"] == 90


def test_content_hash_is_cheap_identity(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * 20000)  # 5 MB: only the ends are read
    h = content_hash(big)
    assert len(h) == 64 and h == content_hash(big)
    copy = tmp_path / "renamed.bin"
    copy.write_bytes(big.read_bytes())
    assert content_hash(copy) == h
    data = bytearray(big.read_bytes())
    data[-1] ^= 1
    big.write_bytes(bytes(data))
    assert content_hash(big) != h


BAD = {
    "missing": (lambda d: d / "nope.mp4", DecodeError, "no such file"),
    "zero-byte": (lambda d: zero_byte_file(d / "empty.mp4"), DecodeError, "empty"),
    "text": (lambda d: text_as_mp4(d / "notes.mp4"), DecodeError, "not a readable media file"),
    "corrupt": (lambda d: corrupt_mp4(d / "broken.mp4"), DecodeError, "corrupt"),
    "truncated": (lambda d: truncated_mp4(d / "half.mp4"), DecodeError, "not a readable"),
    "wav": (lambda d: write_audio_only(d / "voice.wav", tone(300, 0.5)), NoVideoStreamError,
            "no video stream"),
    "m4a": (lambda d: write_audio_only(d / "song.m4a", tone(300, 0.5)), NoVideoStreamError,
            "no video stream"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_inputs_raise_typed_errors_naming_the_file(tmp_path: Path, case: str) -> None:
    make, err, why = BAD[case]
    path = make(tmp_path)
    with pytest.raises(err) as info:
        probe(path)
    msg = str(info.value)
    assert str(path) in msg and why in msg and "\n" not in msg
    if err is DecodeError:
        assert not isinstance(info.value, NoVideoStreamError)
