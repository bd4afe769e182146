"""Probe a video file with PyAV: what the catalog needs before any expert runs.

Probing also decodes the first video frame: a file whose header parses but whose frames do not
(a broken download) fails here, with its name, instead of deep inside a batch job.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import av

from vidseek.errors import DecodeError, NoVideoStreamError
from vidseek.types import VideoInfo

HASH_BLOCK = 1 << 20  # 1 MiB from each end


def content_hash(path: Path) -> str:
    """sha256 over (size, first 1 MiB, last 1 MiB): cheap identity that survives renames and
    catches re-encodes, without reading a 2 GB file."""
    path = Path(path)
    size = path.stat().st_size
    h = hashlib.sha256()
    h.update(str(size).encode() + b"\0")
    with open(path, "rb") as f:
        h.update(f.read(HASH_BLOCK))
        if size > HASH_BLOCK:
            f.seek(max(size - HASH_BLOCK, HASH_BLOCK))
            h.update(f.read(HASH_BLOCK))
    return h.hexdigest()


def first_video_stream(container: av.container.InputContainer) -> av.VideoStream | None:
    """The first real video stream (cover art, an attached picture, does not count)."""
    for s in container.streams.video:
        if not s.disposition & av.stream.Disposition.attached_pic:
            return s
    return None


def rotation_of(stream: av.VideoStream, first_frame: av.VideoFrame | None) -> int:
    """Display rotation in degrees (0, 90, 180, 270), counter-clockwise as ffmpeg stores it."""
    deg = 0.0
    if first_frame is not None:
        deg = float(first_frame.rotation or 0)
    if not deg:
        deg = float(stream.metadata.get("rotate", 0) or 0)
    return int(round(deg)) % 360


def _rate(stream: av.VideoStream) -> float:
    for r in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if r:
            return float(r)
    return 0.0


def _stream_dict(s: av.stream.Stream, rotation: int = 0) -> dict[str, Any]:
    cc: Any = s.codec_context  # a Video- or AudioCodecContext by s.type
    d: dict[str, Any] = {"index": s.index, "type": s.type, "codec": cc.name if cc else None}
    if s.duration is not None and s.time_base is not None:
        d["duration"] = float(s.duration * s.time_base)
    if s.language:
        d["language"] = s.language
    if s.type == "video":
        d.update(width=cc.width, height=cc.height, fps=_rate(s), pix_fmt=cc.pix_fmt,  # type: ignore[arg-type]
                 frames=int(s.frames), rotation=rotation,
                 attached_pic=bool(s.disposition & av.stream.Disposition.attached_pic))
    elif s.type == "audio":
        d.update(sample_rate=cc.sample_rate, channels=getattr(cc, "channels", None))
    return d


def _last_pts(container: av.container.InputContainer, stream: av.VideoStream) -> float:
    """End of the last video packet, by demuxing (no decoding): the duration of last resort."""
    end = 0.0
    for pkt in container.demux(stream):
        if pkt.pts is not None and pkt.time_base is not None:
            end = max(end, float((pkt.pts + (pkt.duration or 0)) * pkt.time_base))
    return end


def probe(path: str | Path, video_id: str | None = None) -> VideoInfo:
    """VideoInfo for `path`; DecodeError (NoVideoStreamError) naming the file when it is not a
    playable video."""
    path = Path(path)
    if not path.exists():
        raise DecodeError(f"{path}: no such file")
    if not path.is_file():
        raise DecodeError(f"{path}: not a regular file")
    stat = path.stat()
    if stat.st_size == 0:
        raise DecodeError(f"{path}: empty file (0 bytes)")
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.FFmpegError as err:
        raise DecodeError(f"{path}: not a readable media file ({_why(err)})") from None
    with container:
        stream = first_video_stream(container)
        if stream is None:
            kinds = ", ".join(s.type for s in container.streams) or "no streams"
            raise NoVideoStreamError(f"{path}: no video stream ({kinds})")
        first = _first_frame(path, container, stream)
        rotation = rotation_of(stream, first)
        width, height = stream.codec_context.width or first.width, stream.codec_context.height or first.height
        if rotation in (90, 270):
            width, height = height, width
        duration = _duration(container, stream)
        fps = _rate(stream)
        n_frames = int(stream.frames) or None
        if not fps and n_frames and duration:
            fps = n_frames / duration
        streams = tuple(_stream_dict(s, rotation if s is stream else 0) for s in container.streams)
        has_audio = bool(container.streams.audio)
        if not duration:
            container.seek(0)
            duration = _last_pts(container, stream)
    if not duration or duration <= 0:
        raise DecodeError(f"{path}: cannot tell the duration")
    return VideoInfo(
        video_id=video_id or path.stem,
        path=str(path),
        size=stat.st_size,
        mtime=stat.st_mtime,
        content_hash=content_hash(path),
        duration=float(duration),
        fps=float(fps),
        width=int(width),
        height=int(height),
        has_audio=has_audio,
        n_frames=n_frames,
        streams=streams,
    )


def _duration(container: av.container.InputContainer, stream: av.VideoStream) -> float:
    """Container duration (what players show), else the video stream's end."""
    if container.duration and container.duration > 0:
        return container.duration / av.time_base
    if stream.duration and stream.time_base:
        start = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
        return float(stream.duration * stream.time_base) + start
    return 0.0


def _first_frame(path: Path, container: av.container.InputContainer,
                 stream: av.VideoStream) -> av.VideoFrame:
    try:
        for frame in container.decode(stream):
            return frame
    except av.FFmpegError as err:
        raise DecodeError(f"{path}: corrupt video stream ({_why(err)})") from None
    raise DecodeError(f"{path}: corrupt video stream (no decodable frame)")


def _why(err: Exception) -> str:
    """ffmpeg's reason without the file name PyAV appends (we already lead with it)."""
    msg = getattr(err, "strerror", None) or str(err)
    return str(msg).splitlines()[0] if msg else type(err).__name__
