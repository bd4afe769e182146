"""Audio as mono float32 PCM, streamed from an ffmpeg subprocess pipe in fixed-length chunks.

ffmpeg resamples and downmixes (what every audio expert wants) and reads every container PyAV
reads; streaming through a pipe keeps a 2-hour soundtrack out of memory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections import deque
from collections.abc import Iterator
from pathlib import Path

import av
import ffmpeg
import numpy as np

from vidseek.errors import DecodeError
from vidseek.types import AudioChunk

BYTES_PER_SAMPLE = 4  # f32le


def ffmpeg_exe() -> str:
    """$VIDSEEK_FFMPEG, else `ffmpeg` on PATH, else the binary shipped by imageio-ffmpeg."""
    env = os.environ.get("VIDSEEK_FFMPEG")
    if env:
        return env
    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def has_audio_stream(path: str | Path) -> bool:
    """True when the file holds an audio stream; False for none; DecodeError if unreadable."""
    try:
        with av.open(str(path), metadata_errors="ignore") as c:
            return bool(c.streams.audio)
    except av.FFmpegError as err:
        raise DecodeError(f"{path}: cannot open for audio ({_first(str(err))})") from None


def audio_chunks(
    path: str | Path, sample_rate: int, chunk_seconds: float = 30.0
) -> Iterator[AudioChunk]:
    """Mono float32 PCM of the first audio stream at `sample_rate`, in chunks of chunk_seconds
    (the last one shorter). A file without audio yields nothing; ffmpeg failing raises
    DecodeError naming the file with ffmpeg's last stderr line."""
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    path = Path(path)
    if not path.is_file():
        raise DecodeError(f"{path}: no such file")
    if not has_audio_stream(path):
        return
    per_chunk = max(1, int(round(chunk_seconds * sample_rate)))
    cmd = (
        ffmpeg.input(str(path))
        .output("pipe:", format="f32le", acodec="pcm_f32le", ac=1, ar=sample_rate,
                map="0:a:0", vn=None, sn=None)
        .global_args("-nostdin", "-hide_banner", "-loglevel", "error")
        .compile(cmd=ffmpeg_exe())
    )
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    tail: deque[str] = deque(maxlen=20)
    reader = threading.Thread(target=_drain, args=(proc.stderr, tail), daemon=True)
    reader.start()
    done = 0
    try:
        assert proc.stdout is not None
        while True:
            buf = _read_exactly(proc.stdout, per_chunk * BYTES_PER_SAMPLE)
            n = len(buf) // BYTES_PER_SAMPLE
            if n == 0:
                break
            pcm = np.frombuffer(buf[: n * BYTES_PER_SAMPLE], dtype="<f4").astype(np.float32)
            yield AudioChunk(start=done / sample_rate, sample_rate=sample_rate, pcm=pcm)
            done += n
            if n < per_chunk:
                break
        rc = proc.wait()
        reader.join(timeout=5)
        if rc != 0:
            last = next((s for s in reversed(tail) if s.strip()), f"exit code {rc}")
            raise DecodeError(f"{path}: ffmpeg failed decoding audio ({last.strip()})")
    finally:
        if proc.poll() is None:  # consumer stopped early, or an error: do not leave ffmpeg
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _read_exactly(stream, n: int) -> bytes:  # noqa: ANN001 - a binary pipe
    parts: list[bytes] = []
    left = n
    while left > 0:
        b = stream.read(min(left, 1 << 20))
        if not b:
            break
        parts.append(b)
        left -= len(b)
    return b"".join(parts)


def _drain(stream, tail: deque[str]) -> None:  # noqa: ANN001 - a binary pipe
    for line in iter(stream.readline, b""):
        tail.append(line.decode("utf-8", "replace"))
    stream.close()


def _first(msg: str) -> str:
    return msg.splitlines()[0] if msg else "unknown error"
