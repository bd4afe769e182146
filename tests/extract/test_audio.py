"""audio_chunks(): ffmpeg PCM round trip of a tone, chunking, no-audio, and ffmpeg failures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from media import frames_with_index, tone, video_without_audio, write_audio_only, write_video

from vidseek.errors import DecodeError
from vidseek.extract.audio import audio_chunks, ffmpeg_exe


def _peak_hz(pcm: np.ndarray, sr: int) -> float:
    spec = np.abs(np.fft.rfft(pcm * np.hanning(len(pcm))))
    return float(np.fft.rfftfreq(len(pcm), 1 / sr)[spec.argmax()])


@pytest.fixture(scope="module")
def toned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("aud") / "tone.mkv"
    return write_video(path, frames_with_index(30, 24, 32), 10, audio=tone(440, 3.0, 16000),
                       sample_rate=16000)


@pytest.mark.parametrize("sr", [16000, 8000, 22050])
def test_tone_round_trip(toned: Path, sr: int) -> None:
    chunks = list(audio_chunks(toned, sr, chunk_seconds=1.0))
    assert all(c.sample_rate == sr and c.pcm.dtype == np.float32 for c in chunks)
    assert [c.start for c in chunks][:3] == [0.0, 1.0, 2.0]
    assert all(len(c.pcm) == sr for c in chunks[:-1]) and 0 < len(chunks[-1].pcm) <= sr
    pcm = np.concatenate([c.pcm for c in chunks])
    assert abs(len(pcm) - 3 * sr) <= sr  # within one chunk boundary
    assert abs(_peak_hz(pcm, sr) - 440) < 2
    assert 0.3 < np.abs(pcm).max() <= 1.0


def test_audio_only_file_and_aac(tmp_path: Path) -> None:
    path = write_audio_only(tmp_path / "a.m4a", tone(1000, 1.5, 16000))
    pcm = np.concatenate([c.pcm for c in audio_chunks(path, 16000, chunk_seconds=30)])
    assert abs(len(pcm) - 24000) < 2048 and abs(_peak_hz(pcm, 16000) - 1000) < 3


def test_no_audio_yields_nothing(tmp_path: Path) -> None:
    assert list(audio_chunks(video_without_audio(tmp_path / "mute.mkv"), 16000)) == []


def test_ffmpeg_failure_names_file_and_reason(toned: Path) -> None:
    # a real ffmpeg failure: the resampler cannot be built for an absurd output rate
    with pytest.raises(DecodeError, match="tone.mkv: ffmpeg failed") as info:
        list(audio_chunks(toned, 2**31 - 1, chunk_seconds=1e-3))
    assert "\n" not in str(info.value)
    with pytest.raises(DecodeError, match="nope.wav"):
        list(audio_chunks(toned.parent / "nope.wav", 16000))


def test_ffmpeg_exe_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert Path(ffmpeg_exe()).exists()
    monkeypatch.setenv("VIDSEEK_FFMPEG", "/opt/ff/ffmpeg")
    assert ffmpeg_exe() == "/opt/ff/ffmpeg"
