"""Synthetic media for decode tests: tiny lossless videos whose frames identify themselves.

Importable by any test (`from tests.media import ...` or `from media import ...`). Everything is
written with PyAV (always installed), so no ffmpeg binary is needed. RGB pixel formats are used
throughout (ffv1 bgr0, libx264rgb rgb24 at qp 0, png rgb24), so a decoded frame equals the array
that was written, byte for byte.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

# codec -> (pixel format stored in the file, codec options). All lossless in RGB.
LOSSLESS: dict[str, tuple[str, dict[str, str]]] = {
    "ffv1": ("bgr0", {}),
    "libx264rgb": ("rgb24", {"qp": "0", "preset": "ultrafast"}),
    "png": ("rgb24", {}),
}
AUDIO_CODEC = {".mkv": "pcm_s16le", ".mov": "pcm_s16le", ".mp4": "aac", ".m4a": "aac",
               ".wav": "pcm_s16le", ".webm": "libopus", ".avi": "pcm_s16le"}


def frames_with_index(t: int, h: int = 48, w: int = 64, seed: int = 0) -> np.ndarray:
    """(t, h, w, 3) uint8 frames; frame k carries k in its R (k % 256) and G (k // 256) planes
    and per-frame noise in B, so exact equality is a strong check and `frame_number` recovers k."""
    rng = np.random.default_rng(seed)
    k = np.arange(t)
    out = np.empty((t, h, w, 3), np.uint8)
    out[..., 0] = (k % 256)[:, None, None]
    out[..., 1] = (k // 256)[:, None, None]
    out[..., 2] = rng.integers(0, 256, size=(t, h, w), dtype=np.uint8)
    return out


def frame_number(frame: np.ndarray) -> int:
    """The k that `frames_with_index` planted (median over the frame: robust to lossy codecs
    and to downscaling)."""
    r = int(np.round(np.median(frame[..., 0])))
    g = int(np.round(np.median(frame[..., 1])))
    return r + 256 * g


def tone(freq: float, seconds: float, sr: int = 16000, amp: float = 0.5) -> np.ndarray:
    """A mono float32 sine of `freq` Hz."""
    n = int(round(seconds * sr))
    return (amp * np.sin(2 * np.pi * freq * np.arange(n) / sr)).astype(np.float32)


def write_video(
    path: str | Path,
    frames: np.ndarray,
    fps: float | Fraction,
    codec: str = "ffv1",
    audio: np.ndarray | None = None,
    sample_rate: int = 16000,
    rotation: int = 0,
    faststart: bool = False,
) -> Path:
    """Write (T, H, W, 3) uint8 RGB frames losslessly (codec in LOSSLESS) with optional mono
    float audio. `rotation` stores display-matrix rotation metadata (degrees, counter-clockwise
    as ffmpeg's -display_rotation) without touching the pixels."""
    path = Path(path)
    rate = Fraction(fps).limit_denominator(100000)
    pix_fmt, opts = LOSSLESS[codec]
    options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), "w", options=options) as out:
        vs = out.add_stream(codec, rate=rate, options=dict(opts))
        vs.width, vs.height = int(frames.shape[2]), int(frames.shape[1])
        vs.pix_fmt = pix_fmt
        if rotation:
            vs.set_display_rotation(rotation)
        aus = None
        if audio is not None:
            aus = out.add_stream(AUDIO_CODEC[path.suffix], rate=sample_rate, layout="mono")
        for k, arr in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(arr), format="rgb24")
            frame.pts = k  # in the codec time base, 1 / rate
            out.mux(vs.encode(frame))
        out.mux(vs.encode(None))
        if aus is not None and audio is not None:
            _write_audio(out, aus, audio, sample_rate)
    return path


def _write_audio(out: av.container.OutputContainer, aus: av.AudioStream, pcm: np.ndarray,
                 sr: int) -> None:
    fmt = aus.codec_context.format.name  # s16, fltp, flt...
    block = 1024
    for i in range(0, len(pcm), block):
        part = pcm[i:i + block]
        if fmt.startswith("s16"):
            data = np.clip(np.round(part * 32767), -32768, 32767).astype(np.int16)[None, :]
        else:
            data = part.astype(np.float32)[None, :]
        frame = av.AudioFrame.from_ndarray(data, format=fmt, layout="mono")
        frame.sample_rate = sr
        frame.pts = i
        frame.time_base = Fraction(1, sr)
        out.mux(aus.encode(frame))
    out.mux(aus.encode(None))


def write_audio_only(path: str | Path, pcm: np.ndarray, sample_rate: int = 16000) -> Path:
    """An audio-only file (.wav or .m4a): opens fine, holds no video stream."""
    path = Path(path)
    with av.open(str(path), "w") as out:
        aus = out.add_stream(AUDIO_CODEC[path.suffix], rate=sample_rate, layout="mono")
        _write_audio(out, aus, pcm, sample_rate)
    return path


def zero_byte_file(path: str | Path) -> Path:
    path = Path(path)
    path.write_bytes(b"")
    return path


def text_as_mp4(path: str | Path) -> Path:
    """A text file wearing a .mp4 name."""
    path = Path(path)
    path.write_text("this is not a video\n" * 50)
    return path


def corrupt_mp4(path: str | Path, keep: float = 0.0, seed: int = 0) -> Path:
    """A real mp4 (moov first, so its header parses) whose media data after the first `keep`
    fraction of the file (by default: all of it) is replaced by random bytes: the header is
    valid, the frames are not."""
    path = Path(path)
    tmp = path.with_name(path.stem + ".orig.mp4")
    write_video(tmp, frames_with_index(30, 48, 64), 10, codec="libx264rgb", faststart=True)
    data = bytearray(tmp.read_bytes())
    tmp.unlink()
    mdat = data.find(b"mdat")
    cut = max(mdat + 8, int(len(data) * keep)) if mdat >= 0 else int(len(data) * keep)
    rng = np.random.default_rng(seed)
    data[cut:] = rng.integers(0, 256, size=len(data) - cut, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))
    return path


def truncated_mp4(path: str | Path, keep: float = 0.5) -> Path:
    """An mp4 cut short with its index (moov) at the end, as a half-finished download."""
    path = Path(path)
    tmp = path.with_name(path.stem + ".orig.mp4")
    write_video(tmp, frames_with_index(30, 48, 64), 10, codec="libx264rgb")
    data = tmp.read_bytes()
    tmp.unlink()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def video_without_audio(path: str | Path, t: int = 20, fps: float | Fraction = 10) -> Path:
    return write_video(path, frames_with_index(t), fps, codec="ffv1")
