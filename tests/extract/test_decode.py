"""Decoders against lossless synthetic video: exact frames, the right frame for each time,
streaming in bounded chunks, rotation as ffmpeg displays it, and typed errors.

Both registry backends read both fixtures losslessly: ffv1 (bgr0) in .mkv and libx264rgb
(rgb24, qp 0) in .mp4 — decord 0.6 reads ffv1 too, so every backend is checked for exact
equality on every fixture.
"""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from media import corrupt_mp4, frame_number, frames_with_index, text_as_mp4, write_video

from vidseek.errors import DecodeError
from vidseek.extract.audio import ffmpeg_exe
from vidseek.extract.decode import DECODERS, open_decoder, scaled_size
from vidseek.extract.probe import probe
from vidseek.extract.sampling import sample_times
from vidseek.registry import UnknownNameError

NTSC = Fraction(30000, 1001)
BACKENDS = DECODERS.names()
FIXTURES = {"ffv1": ".mkv", "libx264rgb": ".mp4"}


@pytest.fixture(scope="module", params=sorted(FIXTURES))
def ntsc_video(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    frames = frames_with_index(40, 48, 64)
    path = tmp_path_factory.mktemp("dec") / f"ntsc{FIXTURES[request.param]}"
    write_video(path, frames, NTSC, codec=request.param)
    return path, frames


def _decode(path: Path, backend: str, times: np.ndarray, **kw) -> np.ndarray:
    dec = open_decoder(path, backend)
    try:
        return np.concatenate([b.frames for b in dec.frames_at(times, **kw)])
    finally:
        dec.close()


def test_registry_holds_both_backends() -> None:
    assert BACKENDS == ["decord", "pyav"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_native_rate_decode_is_exact(ntsc_video, backend: str) -> None:
    path, frames = ntsc_video
    info = probe(path)
    times = sample_times(info.duration, info.fps)
    out = _decode(path, backend, times)
    assert out.dtype == np.uint8 and out.shape[1:] == (48, 64, 3)
    assert len(out) == len(times) >= len(frames)
    np.testing.assert_array_equal(out[: len(frames)], frames)
    assert all((f == frames[-1]).all() for f in out[len(frames):])  # past the end: last frame


@pytest.mark.parametrize("backend", BACKENDS)
def test_times_map_to_the_frame_on_screen_at_2997(ntsc_video, backend: str) -> None:
    path, frames = ntsc_video
    k = np.array([0, 1, 2, 7, 8, 20, 33, 39])
    exact = k * 1001 / 30000
    mid = (k + 0.5) * 1001 / 30000
    times = np.sort(np.concatenate([exact, mid, [5.0]]))
    out = _decode(path, backend, times, chunk=3)
    want = np.minimum(np.floor(times * 30000 / 1001 + 1e-6).astype(int), len(frames) - 1)
    assert [frame_number(f) for f in out] == want.tolist()
    for f, w in zip(out, want, strict=True):
        np.testing.assert_array_equal(f, frames[w])


@pytest.mark.parametrize("backend", BACKENDS)
def test_streaming_never_exceeds_chunk(tmp_path: Path, backend: str) -> None:
    n = 300
    path = write_video(tmp_path / "long.mkv", frames_with_index(n, 24, 32), 30, codec="ffv1")
    times = sample_times(n / 30, 30)
    dec = open_decoder(path, backend)
    seen = 0
    for batch in dec.frames_at(times, chunk=4):
        assert 1 <= len(batch.frames) <= 4 and len(batch.times) == len(batch.frames)
        np.testing.assert_array_equal(batch.times, times[seen:seen + len(batch.times)])
        assert [frame_number(f) for f in batch.frames] == list(range(seen, seen + len(batch.frames)))
        seen += len(batch.frames)
    assert seen == n
    # sparse sampling (1 fps) and a second pass on the same decoder
    sparse = [frame_number(f) for b in dec.frames_at(sample_times(n / 30, 1.0)) for f in b.frames]
    assert sparse == list(range(0, n, 30))
    dec.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_max_side_keeps_aspect(ntsc_video, backend: str) -> None:
    path, _ = ntsc_video
    out = _decode(path, backend, np.array([0.0, 0.52, 0.99]), max_side=32)
    assert out.shape == (3, 24, 32, 3)
    assert [frame_number(f) for f in out] == [0, 15, 29]
    assert scaled_size(1920, 1080, 640) == (640, 360) and scaled_size(64, 48, 100) == (64, 48)


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotation_matches_ffmpeg_display(tmp_path: Path, rotation: int) -> None:
    frames = frames_with_index(5, 48, 64)
    frames[:, :10, :20, 2] = 255  # an asymmetric mark
    path = write_video(tmp_path / f"rot{rotation}.mp4", frames, 10, codec="libx264rgb",
                       rotation=rotation)
    info = probe(path)
    assert (info.width, info.height) == ((48, 64) if rotation != 180 else (64, 48))
    raw = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    shown = np.frombuffer(raw, np.uint8).reshape(5, info.height, info.width, 3)
    dec = open_decoder(path, info=info)  # auto: decord refuses rotated files, PyAV reads them
    assert dec.name == "pyav"
    out = np.concatenate([b.frames for b in dec.frames_at(np.arange(5) / 10)])
    np.testing.assert_array_equal(out, shown)
    with pytest.raises(DecodeError, match="rotated"):
        open_decoder(path, "decord", info)


def test_auto_prefers_decord(ntsc_video) -> None:
    path, _ = ntsc_video
    assert open_decoder(path).name == "decord"
    assert open_decoder(path, "auto").name == "decord"


def test_auto_prefers_pyav_from_720p(tmp_path: Path) -> None:
    frames = frames_with_index(3, 720, 1280)
    path = write_video(tmp_path / "hd.mp4", frames, 10)
    info = probe(path)
    assert open_decoder(path, info=info).name == "pyav"  # measured faster at this size
    assert open_decoder(path).name == "decord"  # without a probe: decord first


def test_unknown_backend_lists_known() -> None:
    with pytest.raises(UnknownNameError, match="decord, pyav"):
        open_decoder("x.mp4", "opencv")


def test_times_must_be_sorted(ntsc_video) -> None:
    path, _ = ntsc_video
    for backend in BACKENDS:
        with pytest.raises(ValueError, match="non-decreasing"):
            list(open_decoder(path, backend).frames_at(np.array([1.0, 0.5])))
        assert list(open_decoder(path, backend).frames_at(np.zeros(0))) == []


@pytest.mark.parametrize("maker", [corrupt_mp4, text_as_mp4])
def test_bad_files_raise_decode_error(tmp_path: Path, maker) -> None:
    path = maker(tmp_path / "bad.mp4")
    for backend in [*BACKENDS, None]:  # opening may succeed (PyAV is lazy); decoding may not
        with pytest.raises(DecodeError, match="bad.mp4"):
            list(open_decoder(path, backend).frames_at(np.array([0.0, 1.0])))


def test_auto_reads_long_videos_with_the_streaming_backend() -> None:
    """decord's memory grows with video length (docs/reliability.md): PyAV first past 90 s."""
    from vidseek.extract.decode import auto_order
    from vidseek.types import VideoInfo

    def info(seconds: float, w: int = 640, h: int = 360) -> VideoInfo:
        return VideoInfo("v", "v.mp4", 1, 0.0, "", seconds, 30.0, w, h, False)

    assert auto_order(info(60)) == ("decord", "pyav")
    assert auto_order(info(300)) == ("pyav", "decord")
    assert auto_order(info(20, 1920, 1080)) == ("pyav", "decord")


def test_truncated_stream_yields_only_covered_times_then_says_where(tmp_path: Path) -> None:
    """A download cut at 30 %: every delivered time shows its own frame, none past the break
    (the old decoder repeated the last decoded frame up to 14 s)."""
    from vidseek.extract.decode import TruncatedVideo

    full = write_video(tmp_path / "full.mp4", frames_with_index(140, 48, 64), 10,
                       codec="libx264rgb", faststart=True)
    part = tmp_path / "part.mp4"
    part.write_bytes(full.read_bytes()[: int(full.stat().st_size * 0.3)])
    info = probe(part)
    for backend in [*BACKENDS, None]:
        try:
            dec = open_decoder(part, backend, info)
        except DecodeError:
            continue  # decord may refuse to open it; auto then reads it with PyAV
        got = []
        with pytest.raises(TruncatedVideo, match=r"part\.mp4: truncated at [\d.]+ s of 14\.0 s"):
            for b in dec.frames_at(sample_times(info.duration, 10.0), chunk=8):
                got += [(float(t), frame_number(f)) for t, f in zip(b.times, b.frames, strict=True)]
        assert got and all(k == round(t * 10) for t, k in got), backend



def test_decord_releases_its_readers_on_long_videos_and_frames_stay_exact(tmp_path: Path,
                                                                           monkeypatch) -> None:
    """Past DECORD_MAX_SECONDS each group of chunks is decoded by readers opened for it and
    released before its batches are handed on (decord reads ahead while the caller is busy,
    docs/reliability.md): no reader is alive while a batch is used; each time still shows its
    own frame, native ones too, across groups of several chunks."""
    from vidseek.extract import decode

    path = write_video(tmp_path / "long.mp4", frames_with_index(60, 48, 64), 10, codec="libx264rgb")
    monkeypatch.setattr(decode, "DECORD_MAX_SECONDS", 2.0)  # 6 s counts as long here
    monkeypatch.setattr(decode, "DECORD_GROUP_SECONDS", 2.0)  # 3 chunks per group
    dec = open_decoder(path, "decord")
    open_reader = dec._reader
    opened: list[tuple] = []

    def spy(*a):
        known = {id(r) for r in dec._readers.values()}
        vr = open_reader(*a)
        if id(vr) not in known:
            opened.append(a)
        return vr

    monkeypatch.setattr(dec, "_reader", spy)
    times = np.arange(0.05, 6.0, 0.7)  # 9 times: groups of 6 and 3, chunks of 2
    native_at = np.arange(len(times)) % 2 == 0
    got, native, sizes = [], [], []
    for b in dec.frames_at(times, chunk=2, max_side=32, native_at=native_at):
        assert not dec._readers  # nothing is left to decode ahead while the batch is used
        sizes.append(len(b.times))
        got += [(float(t), frame_number(f)) for t, f in zip(b.times, b.frames, strict=True)]
        native += [(float(b.times[p]), frame_number(f)) for p, f in zip(b.native_pos, b.native,
                                                                           strict=True)]
    dec.close()
    assert sizes == [2, 2, 2, 2, 1]
    assert [t for t, _ in got] == times.tolist() and len(native) == native_at.sum()
    assert all(k == int(t * 10) for t, k in got + native)
    assert len(opened) == 2 * 2  # 2 groups, each a scaled and a native reader


def test_decord_keeps_its_reader_on_short_videos(tmp_path: Path) -> None:
    path = write_video(tmp_path / "short.mp4", frames_with_index(30, 48, 64), 10, codec="libx264rgb")
    dec = open_decoder(path, "decord")
    batches = list(dec.frames_at(np.arange(0.05, 3.0, 0.3), chunk=3, max_side=32))
    assert len(batches) == 4 and len(dec._readers) == 2  # the full-size one and the scaled one
    assert all(frame_number(f) == int(t * 10) for b in batches
               for t, f in zip(b.times, b.frames, strict=True))
    dec.close()
