"""Frame decoders: stream the frames displayed at requested times, in chunks, one pass per video.

Two backends in the DECODERS registry: "decord" (random access by frame index; the design
card's choice, fast on plain mp4/mkv) and "pyav" (one forward pass over the packets; reads every
container ffmpeg reads, picks the first video stream, applies rotation metadata). `open_decoder`
with no backend tries decord on the file and falls back to PyAV on any decord failure.

The frame for time t is the one displayed at t: the last frame whose pts <= t (+ a little
slack for millisecond time bases), the first frame for t before it, the last frame for t past
the end. Frame times are measured from the first frame (decord: from the stream start), so a
stream whose first pts is 0.033 s (edit lists, webm) still puts frame 0 at t = 0.

A frame covers its own display time only. A stream that decodes up to its probed duration
(within END_SLACK_S: a container a little longer than its video track) shows its last frame
for every later time; one that ends earlier (a truncated download, a corrupt tail) yields the
times it covers (its last frame for one frame duration) and then raises TruncatedVideo with the decoded end, so no frame is ever reused for a time it does
not cover. With auto (no backend named), a backend that fails mid-stream hands the remaining
times to the next backend; every batch says which backend made it (DecodedBatch.backend).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import av
import numpy as np

from vidseek.errors import DecodeError, NoVideoStreamError
from vidseek.extract.probe import first_video_stream, probe, rotation_of
from vidseek.extract.sampling import frame_index_at, slack
from vidseek.registry import Registry
from vidseek.types import FrameBatch, VideoInfo

DECODERS: Registry[type] = Registry("decoder backend")
AUTO_ORDER = ("decord", "pyav")
# From this many pixels per frame up, auto tries PyAV first. bench/decode.py on a quiet box
# (2026-11-24, 20 s per clip, native fps): decord 1.2-1.5x faster at <= 480x360, even at
# 576x1024, PyAV 1.6x faster at 1280x720 (VP9) and 2.2x at 1920x1080 (H.264).
PYAV_FIRST_PIXELS = 1280 * 720
# From this length up, auto tries PyAV first: decord's get_batch memory grows with the video
# (max RSS decoding 640x360 at 25 fps: 250 MB at 1 min, 447 MB at 5 min, and 10x slower; PyAV
# 90-91 MB at both: it streams). docs/reliability.md has the table and the command.
DECORD_MAX_SECONDS = 90.0
# decord's reader keeps decoding ahead of the last get_batch on its own threads while the caller
# is busy, and holds those frames (dmlc/decord #208, #197, #157); seeking back to frame 0 only
# moves where it reads ahead. Forced onto a long video, the frames of a group of chunks are
# decoded by a reader opened for that group and released before they are handed on, so nothing
# decodes while the experts run. Opening costs ~0.1 s per 20 minutes of video (decord indexes
# the file), so a group holds more chunks the longer the video, up to DECORD_GROUP_BYTES of
# decoded frames. Done only from DECORD_MAX_SECONDS up (auto picks PyAV there anyway).
DECORD_GROUP_BYTES = 64 * 2**20
DECORD_GROUP_SECONDS = 300.0  # one more chunk per group for every this much video
END_SLACK_S = 0.25  # a video track may end this much (or 2 frames) before the probed duration


class TruncatedVideo(DecodeError):
    """The video stream ended (or broke) at `decoded_end` s of a probed `duration` s; the
    frames before it were delivered."""

    def __init__(self, path: str, decoded_end: float, duration: float) -> None:
        super().__init__(f"{path}: truncated at {decoded_end:.1f} s of {duration:.1f} s")
        self.path, self.decoded_end, self.duration = path, decoded_end, duration

    def __reduce__(self) -> tuple[type, tuple[str, float, float]]:  # crosses process queues
        return (TruncatedVideo, (self.path, self.decoded_end, self.duration))


@dataclass(frozen=True)
class DecodedBatch(FrameBatch):
    """A FrameBatch that says which backend decoded it."""

    backend: str = ""
    gaps: tuple[tuple[float, float], ...] = ()  # (from, to) s with no decodable frame, before it
    # frames_at(native_at=...): the flagged times' frames at the video's own size, and their
    # positions in this batch (frames holds every time at the scaled size)
    native: np.ndarray | None = None
    native_pos: np.ndarray | None = None

    def native_frames(self, positions: np.ndarray) -> np.ndarray:
        """Full-size frames at `positions` (each must have been flagged in native_at)."""
        if self.native is None or self.native_pos is None:
            raise ValueError("this batch was decoded without native_at")
        idx = np.searchsorted(self.native_pos, positions)
        if np.any(idx >= len(self.native_pos)) or np.any(self.native_pos[idx] != positions):
            raise ValueError("asked for a native frame at a time not flagged in native_at")
        return self.native[idx]


def covered_until(last_start: float, fps: float, duration: float | None) -> float:
    """The latest time the last decoded frame (shown from `last_start`) covers. A stream that
    reached its probed duration (within END_SLACK_S or 2 frames; without a probe, always)
    ended normally: its last frame stays on screen for any later time, as a player shows it.
    One that stopped earlier was cut short: its last frame covers one frame duration."""
    end = last_start + 1.0 / (fps or 25.0)
    if duration is None or duration - end <= max(END_SLACK_S, 2.0 / (fps or 25.0)):
        return float("inf")
    return end


class Decoder(Protocol):
    name: str

    def __init__(self, path: str, info: VideoInfo | None = None) -> None: ...

    def frames_at(
        self, times: np.ndarray, chunk: int = 16, max_side: int | None = None,
        min_side: int | None = None, native_at: np.ndarray | None = None,
    ) -> Iterator[FrameBatch]: ...

    def close(self) -> None: ...


# ---- helpers shared by the backends ----------------------------------------------------------
def _check_times(path: str, times: np.ndarray) -> np.ndarray:
    times = np.asarray(times, np.float64).ravel()
    if len(times) > 1 and np.any(np.diff(times) < 0):
        raise ValueError(f"{path}: requested times must be non-decreasing (streaming decode)")
    return times


def scaled_size(width: int, height: int, max_side: int | None,
                min_side: int | None = None) -> tuple[int, int]:
    """(width, height) with the longer side at most max_side, or (min_side) the shorter side at
    most min_side; aspect kept, never upscaled. min_side wins when both are given."""
    if min_side:
        if min(width, height) <= min_side:
            return width, height
        s = min_side / min(width, height)
    elif not max_side or max(width, height) <= max_side:
        return width, height
    else:
        s = max_side / max(width, height)
    return max(1, round(width * s)), max(1, round(height * s))


def _native_mask(times: np.ndarray, native_at: np.ndarray | None) -> np.ndarray | None:
    if native_at is None:
        return None
    mask = np.asarray(native_at, bool).ravel()
    if mask.shape != times.shape:
        raise ValueError(f"native_at has {mask.size} flags for {times.size} times")
    return mask


def _video_rotation(info: VideoInfo) -> int:
    for s in info.streams:
        if s.get("type") == "video" and not s.get("attached_pic"):
            return int(s.get("rotation", 0) or 0)
    return 0


class _Batcher:
    """Collects (time, frame) pairs and hands out FrameBatches of at most `chunk` frames."""

    def __init__(self, chunk: int) -> None:
        if chunk < 1:
            raise ValueError(f"chunk must be >= 1, got {chunk}")
        self.chunk = chunk
        self.times: list[float] = []
        self.frames: list[np.ndarray] = []
        self.native: list[np.ndarray] = []  # full-size frames of the flagged times
        self.native_pos: list[int] = []

    def add(self, t: float, frame: np.ndarray, native: np.ndarray | None = None
            ) -> FrameBatch | None:
        if native is not None:
            self.native_pos.append(len(self.times))
            self.native.append(native)
        self.times.append(t)
        self.frames.append(frame)
        return self.flush() if len(self.times) >= self.chunk else None

    def flush(self) -> FrameBatch | None:
        if not self.times:
            return None
        batch = DecodedBatch(np.asarray(self.times, np.float64), np.stack(self.frames),
                             native=np.stack(self.native) if self.native else None,
                             native_pos=np.asarray(self.native_pos, np.int64))
        self.times, self.frames, self.native, self.native_pos = [], [], [], []
        return batch


class _FrameClock:
    """Display times for decoded frames, measured from the first frame (as decord measures
    from the stream start). Like ffmpeg's best_effort_timestamp it trusts pts unless pts has
    gone backwards more often than dts (avi with packed B-frames carries reordered pts), and
    it never lets time run backwards."""

    def __init__(self, step: float, prefer_dts: bool = False) -> None:
        self.step = step
        self.origin: float | None = None
        self.last_t = -np.inf
        self.last = {"pts": None, "dts": None}
        self.faulty = {"pts": int(prefer_dts), "dts": 0}

    def __call__(self, frame: av.VideoFrame) -> float:
        for key in ("pts", "dts"):
            v = getattr(frame, key)
            if v is not None and self.last[key] is not None and v <= self.last[key]:
                self.faulty[key] += 1
            if v is not None:
                self.last[key] = v
        use = "pts" if frame.pts is not None and self.faulty["pts"] <= self.faulty["dts"] else "dts"
        raw = getattr(frame, use)
        if raw is None or frame.time_base is None:
            t = self.last_t + self.step if np.isfinite(self.last_t) else 0.0
        else:
            t = float(raw * frame.time_base)
            if self.origin is None:
                self.origin = t
            t -= self.origin
        t = max(t, self.last_t + 1e-9) if np.isfinite(self.last_t) else t
        self.last_t = t
        return t


# ---- PyAV: one forward pass ------------------------------------------------------------------
@DECODERS.register("pyav")
class PyAVDecoder:
    """Decodes packets in order and keeps the frames that requested times fall on; frames
    nobody asked for are never converted to RGB. Corrupt packets are skipped, as ffmpeg does."""

    name = "pyav"

    def __init__(self, path: str | Path, info: VideoInfo | None = None) -> None:
        self.path = str(path)
        self.info = info
        try:
            self._container = av.open(self.path, metadata_errors="ignore")
        except av.FFmpegError as err:
            raise DecodeError(f"{self.path}: cannot open ({_why(err)})") from None
        stream = first_video_stream(self._container)
        if stream is None:
            self._container.close()
            raise NoVideoStreamError(f"{self.path}: no video stream")
        stream.thread_type = "AUTO"
        self._stream = stream
        fps = info.fps if info else float(stream.average_rate or stream.guessed_rate or 0)
        self._fps = fps or 25.0
        self._used = False

    def _decoded(self) -> Iterator[tuple[float, av.VideoFrame, bool]]:
        """(display time, frame, whether undecodable packets came just before it) in
        presentation order."""
        if self._used:  # a second call starts over: reopen rather than seek (exact, simple)
            self._container.close()
            self._container = av.open(self.path, metadata_errors="ignore")
            stream = first_video_stream(self._container)
            assert stream is not None  # it was there when the file was first opened
            stream.thread_type = "AUTO"
            self._stream = stream
        self._used = True
        # avi has no pts of its own: ffmpeg reorders dts-as-pts with B-frames; count from dts
        clock = _FrameClock(1 / self._fps, prefer_dts=self._container.format.name == "avi")
        n_ok = n_bad = seen_bad = 0
        packets = self._container.demux(self._stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except av.FFmpegError:  # a demux error ends the stream, as ffmpeg does
                n_bad += 1
                break
            try:
                frames = packet.decode()
            except av.FFmpegError:
                n_bad += 1
                continue
            for frame in frames:
                n_ok += 1
                yield clock(frame), frame, n_bad > seen_bad
                seen_bad = n_bad
        if n_ok == 0:
            why = f"{n_bad} undecodable packets" if n_bad else "no frames"
            raise DecodeError(f"{self.path}: corrupt video stream ({why})")

    def frames_at(
        self, times: np.ndarray, chunk: int = 16, max_side: int | None = None,
        min_side: int | None = None, native_at: np.ndarray | None = None,
    ) -> Iterator[FrameBatch]:
        """Frames at `times`, scaled by swscale (AREA) to max_side / min_side (scaled_size).
        native_at (one flag per time): those times also get the frame at the video's own size
        in the batch's `native` (the frame is decoded once, converted twice)."""
        times = _check_times(self.path, times)
        if len(times) == 0:
            return
        full_at = _native_mask(times, native_at)
        # min_side feeds models trained on bilinear-antialiased resizes: swscale's BILINEAR
        # downscale is that triangle filter (features within cosine 0.99 of torch's resize;
        # AREA gave 0.977 on the 720p clip); max_side (thumbnails) keeps AREA
        interp = "BILINEAR" if min_side else "AREA"
        eps = slack(self._fps)
        rot = None
        size: tuple[int, int] | None = None
        batcher = _Batcher(chunk)
        prev: av.VideoFrame | None = None
        prev_rgb: np.ndarray | None = None
        prev_full: np.ndarray | None = None
        i, n = 0, len(times)

        def rgb(frame: av.VideoFrame, native: bool = False) -> np.ndarray:
            nonlocal rot, size
            if rot is None:
                rot = (_video_rotation(self.info) if self.info else 0) or rotation_of(self._stream, frame)
                w, h = frame.width, frame.height
                dw, dh = (h, w) if rot in (90, 270) else (w, h)
                sw, sh = scaled_size(dw, dh, max_side, min_side)
                size = (sh, sw) if rot in (90, 270) else (sw, sh)
            if native or size == (frame.width, frame.height):
                arr = frame.to_ndarray(format="rgb24")
            else:
                arr = frame.to_ndarray(format="rgb24", width=size[0], height=size[1],
                                       interpolation=interp)
            return np.ascontiguousarray(np.rot90(arr, rot // 90)) if rot else arr

        def add(k: int, frame: av.VideoFrame) -> FrameBatch | None:
            """Batch times[k] with `frame` (converted once per frame, cached)."""
            nonlocal prev_rgb, prev_full
            if prev_rgb is None:
                prev_rgb = rgb(frame)
            full = None
            if full_at is not None and full_at[k]:
                if prev_full is None:
                    scaled = size != (frame.width, frame.height)
                    prev_full = rgb(frame, native=True) if scaled else prev_rgb
                full = prev_full
            return batcher.add(float(times[k]), prev_rgb, full)

        prev_t = 0.0
        gaps: list[tuple[float, float]] = []
        for t, frame, broke in self._decoded():
            # corrupt packets before `frame`: the previous frame covers one frame duration,
            # the times after it up to `frame` have no frame (a gap, reported with the batch)
            hole = prev_t + 1.0 / self._fps if broke and prev is not None else None
            if hole is not None and t - hole > eps and i < n:
                gaps.append((hole, t))
            while i < n and times[i] + eps < t:  # `frame` is not on screen yet at times[i]
                if hole is not None and times[i] + eps >= hole:
                    i += 1
                    continue
                out = add(i, prev if prev is not None else frame)
                if out is not None:
                    yield self._tag(out, gaps)
                i += 1
            if i >= n:
                break
            prev, prev_rgb, prev_full, prev_t = frame, None, None, t
        last_t = prev_t
        duration = self.info.duration if self.info else None
        limit = covered_until(last_t, self._fps, duration)
        while i < n and prev is not None and times[i] + eps < limit:  # past the last frame
            out = add(i, prev)
            if out is not None:
                yield self._tag(out, gaps)
            i += 1
        tail = batcher.flush()
        if tail is not None:
            yield self._tag(tail, gaps)
        elif gaps:  # a gap after the last requested frame's batch: its own empty batch
            yield self._tag(FrameBatch(np.zeros(0), np.zeros((0, 1, 1, 3), np.uint8)), gaps)
        if i < n and prev is not None:
            raise TruncatedVideo(self.path, last_t + 1.0 / self._fps, duration or 0.0)

    def _tag(self, batch: FrameBatch, gaps: list[tuple[float, float]] | None = None
             ) -> DecodedBatch:
        native = getattr(batch, "native", None)
        pos = getattr(batch, "native_pos", None)
        out = DecodedBatch(batch.times, batch.frames, self.name, tuple(gaps or ()), native, pos)
        if gaps:
            gaps.clear()
        return out

    def close(self) -> None:
        self._container.close()


# ---- decord: random access by index ----------------------------------------------------------
@DECODERS.register("decord")
class DecordDecoder:
    """Maps requested times to frame indices via decord's pts, then `get_batch` per chunk.

    Refuses (DecodeError) files it would read wrongly: several video streams or cover art
    (decord picks ffmpeg's "best" stream, not the first), rotation metadata (decord 0.6 fails
    on it), and frames whose size disagrees with the probe.
    """

    name = "decord"

    def __init__(self, path: str | Path, info: VideoInfo | None = None) -> None:
        import decord

        decord.logging.set_level(decord.logging.QUIET)
        self.path = str(path)
        self.info = info or probe(path)
        videos = [s for s in self.info.streams if s.get("type") == "video"]
        if len(videos) > 1:
            raise DecodeError(f"{self.path}: decord reads one 'best' video stream of "
                              f"{len(videos)}, not the first")
        if _video_rotation(self.info):  # decord 0.6 reports the rotated size, then fails to copy
            raise DecodeError(f"{self.path}: decord cannot read rotated video "
                              f"({_video_rotation(self.info)} degrees)")
        self._coded = (self.info.height, self.info.width)
        self._readers: dict[tuple[int, int], Any] = {}
        vr = self._reader(None)
        n = len(vr)
        if n == 0:
            raise DecodeError(f"{self.path}: decord sees no frames")
        first = vr[0].asnumpy()
        if first.shape[:2] != self._coded:
            raise DecodeError(f"{self.path}: decord frame {first.shape[1]}x{first.shape[0]} "
                              f"differs from the probed stream")
        self._pts = self._timestamps(vr, n)

    def _reader(self, max_side: int | None, min_side: int | None = None) -> Any:
        import decord

        h, w = self._coded
        sw, sh = scaled_size(w, h, max_side, min_side)
        key = (sw, sh)
        if key not in self._readers:
            kw = {} if key == (w, h) else {"width": sw, "height": sh}
            try:
                self._readers[key] = decord.VideoReader(self.path, ctx=decord.cpu(0), **kw)
            except Exception as err:  # decord raises its own DECORDError / RuntimeError
                raise DecodeError(f"{self.path}: decord cannot open ({_first_line(err)})") from None
        return self._readers[key]

    def _timestamps(self, vr: Any, n: int) -> np.ndarray:
        """Frame start times; where decord's are unusable (avi: garbage, non-monotonic),
        index / fps."""
        try:
            pts = np.asarray(vr.get_frame_timestamp(np.arange(n)), np.float64)[:, 0]
        except Exception:  # noqa: BLE001 - fall back to the frame rate
            pts = np.full(n, np.nan)
        ok = np.all(np.isfinite(pts)) and pts.min() >= -1e-3 and np.all(np.diff(pts) >= 0)
        if not ok:
            fps = self.info.fps or float(vr.get_avg_fps()) or 25.0
            pts = np.arange(n) / fps
        return pts

    def frames_at(
        self, times: np.ndarray, chunk: int = 16, max_side: int | None = None,
        min_side: int | None = None, native_at: np.ndarray | None = None,
    ) -> Iterator[FrameBatch]:
        if chunk < 1:
            raise ValueError(f"chunk must be >= 1, got {chunk}")
        times = _check_times(self.path, times)
        if len(times) == 0:
            return
        full_at = _native_mask(times, native_at)
        fps = self.info.fps or None
        last = float(self._pts[-1])
        limit = covered_until(last, fps or 25.0, self.info.duration)
        n = int(np.searchsorted(times + slack(fps), limit, side="left"))
        idx = frame_index_at(times[:n], self._pts, eps=slack(fps))
        release = self.info.duration > DECORD_MAX_SECONDS  # no reader outlives its group (above)
        if release:
            self._readers.clear()  # the one opened to index the file: it would read ahead too
        group = self._group_size(chunk, max_side, min_side, full_at) if release else chunk
        for g in range(0, n, group):
            want = idx[g:g + group]
            native_g = full_at[g:g + len(want)] if full_at is not None else None
            frames, inv, native_u, native_inv, native_pos = self._decode_group(
                want, native_g, max_side, min_side)
            if release:
                self._readers.clear()
            for s in range(0, len(want), chunk):
                sub = slice(s, s + chunk)
                native, pos = None, None
                if native_g is not None:
                    pos = np.flatnonzero(native_g[sub])
                    at = np.searchsorted(native_pos, s + pos)
                    native = native_u[native_inv[at]] if native_u is not None else frames[inv[s + pos]]
                yield DecodedBatch(times[g + s:g + min(s + chunk, len(want))].copy(),
                                   frames[inv[sub]], self.name, native=native, native_pos=pos)
        if n < len(times):
            raise TruncatedVideo(self.path, last + 1.0 / (fps or 25.0), self.info.duration)

    def _group_size(self, chunk: int, max_side: int | None, min_side: int | None,
                    full_at: np.ndarray | None) -> int:
        """Frames decoded per reader on a long video: a chunk more per DECORD_GROUP_SECONDS of
        video, at most DECORD_GROUP_BYTES of decoded frames (at least one chunk)."""
        h, w = self._coded
        sw, sh = scaled_size(w, h, max_side, min_side)
        frame_bytes = 3 * sw * sh + (3 * w * h if full_at is not None and (sw, sh) != (w, h) else 0)
        by_length = chunk * int(np.ceil(self.info.duration / DECORD_GROUP_SECONDS))
        by_memory = chunk * max(1, DECORD_GROUP_BYTES // (frame_bytes * chunk))
        return max(chunk, min(by_length, by_memory))

    def _decode_group(
        self, want: np.ndarray, native_at: np.ndarray | None, max_side: int | None,
        min_side: int | None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]:
        """The frames of frame indices `want` (unique frames, inverse), and of the flagged ones
        at full size: (frames, inv, native frames or None when the scaled ones are full size,
        their inverse, the flagged positions)."""
        vr = self._reader(max_side, min_side)
        uniq, inv = np.unique(want, return_inverse=True)
        frames = self._get_batch(vr, uniq)
        native_pos = np.flatnonzero(native_at) if native_at is not None else np.zeros(0, np.int64)
        native_u, native_inv = None, np.zeros(0, np.int64)
        if native_at is not None:
            full_vr = self._reader(None)
            if full_vr is not vr:
                u2, native_inv = np.unique(want[native_pos], return_inverse=True)
                native_u = self._get_batch(full_vr, u2) if len(u2) else \
                    np.zeros((0, *self._coded, 3), np.uint8)  # none flagged in this group
        return frames, inv, native_u, native_inv, native_pos

    def _get_batch(self, vr: Any, frames: np.ndarray) -> np.ndarray:
        try:
            return vr.get_batch(frames.tolist()).asnumpy()
        except Exception as err:  # noqa: BLE001 - decord's own error types
            raise DecodeError(f"{self.path}: decord failed at frame {int(frames[0])} "
                              f"({_first_line(err)})") from None

    def close(self) -> None:
        self._readers.clear()


# ---- choosing a backend ----------------------------------------------------------------------
def open_decoder(
    path: str | Path, backend: str | None = None, info: VideoInfo | None = None
) -> Decoder:
    """A decoder for `path`. backend None or "auto": the faster backend for the frame size first
    (auto_order), the other where it cannot open the file or read it correctly. Unknown names
    raise listing the known ones."""
    if backend not in (None, "auto"):
        return DECODERS.get(backend)(str(path), info)
    order = auto_order(info)
    failures: list[str] = []
    for k, name in enumerate(order):
        try:
            first = DECODERS.get(name)(str(path), info)
        except NoVideoStreamError:
            raise
        except Exception as err:  # noqa: BLE001 - try the next backend
            failures.append(f"{name}: {_first_line(err)}")
            continue
        return FallbackDecoder(str(path), info, first, order[k + 1:])
    raise DecodeError(f"{path}: no decoder could open it ({'; '.join(failures)})")


class FallbackDecoder:
    """Auto's decoder: the first backend that opened; where it fails mid-stream (decord's
    C++ checks on a 16x16 video), the next backend decodes the times not yet delivered."""

    def __init__(self, path: str, info: VideoInfo | None, first: Decoder,
                 rest: tuple[str, ...]) -> None:
        self.path, self.info, self._dec, self._rest = path, info, first, list(rest)
        self.name = first.name
        self.failures: list[str] = []

    def frames_at(
        self, times: np.ndarray, chunk: int = 16, max_side: int | None = None,
        min_side: int | None = None, native_at: np.ndarray | None = None,
    ) -> Iterator[FrameBatch]:
        times = _check_times(self.path, times)
        full_at = _native_mask(times, native_at)
        done = 0
        while True:
            try:
                rest = None if full_at is None else full_at[done:]
                for batch in self._dec.frames_at(times[done:], chunk=chunk, max_side=max_side,
                                                 min_side=min_side, native_at=rest):
                    done += len(batch.times)
                    yield batch
                return
            except (TruncatedVideo, NoVideoStreamError):
                raise
            except DecodeError as err:
                self.failures.append(f"{self.name}: {_first_line(err)}")
                if not self._rest:
                    raise
                self._dec.close()
                nxt = self._rest.pop(0)
                try:
                    self._dec = DECODERS.get(nxt)(self.path, self.info)
                except Exception as err2:  # noqa: BLE001 - the original failure is the news
                    raise DecodeError(f"{self.path}: {'; '.join(self.failures)}; "
                                      f"{nxt}: {_first_line(err2)}") from None
                self.name = nxt

    def close(self) -> None:
        self._dec.close()


def auto_order(info: VideoInfo | None) -> tuple[str, ...]:
    """decord first for short videos with small frames; PyAV first from PYAV_FIRST_PIXELS up
    or from DECORD_MAX_SECONDS long (measured, above); without a probe, decord first."""
    if info is not None and (info.width * info.height >= PYAV_FIRST_PIXELS
                             or info.duration > DECORD_MAX_SECONDS):
        return tuple(reversed(AUTO_ORDER))
    return AUTO_ORDER


def _why(err: Exception) -> str:
    msg = getattr(err, "strerror", None) or str(err)
    return str(msg).splitlines()[0] if msg else type(err).__name__


def _first_line(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return text[0][:200] if text else type(err).__name__
