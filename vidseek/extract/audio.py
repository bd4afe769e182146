"""Audio through ffmpeg: mono float32 PCM at the rate an expert asks for, streamed in chunks.

The ffmpeg binary comes from $VIDSEEK_FFMPEG, else `ffmpeg` on PATH, else the one shipped in the
imageio-ffmpeg wheel, so nothing has to be installed by hand.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import ffmpeg
import numpy as np

from vidseek.errors import DecodeError
from vidseek.types import AudioChunk


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    env = os.environ.get("VIDSEEK_FFMPEG")
    if env:
        return env
    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def has_audio_stream(path: str | Path) -> bool:
    import av

    try:
        with av.open(str(path)) as container:
            return len(container.streams.audio) > 0
    except av.error.FFmpegError as err:
        raise DecodeError(f"{path}: cannot open: {err}") from err


def audio_chunks(
    path: str | Path, sample_rate: int, chunk_seconds: float = 30.0
) -> Iterator[AudioChunk]:
    """Mono float32 PCM of the first audio stream; nothing for a file without audio."""
    path = str(path)
    if not os.path.exists(path):
        raise DecodeError(f"{path}: no such file")
    if not has_audio_stream(path):
        return
    cmd = (
        ffmpeg.input(path)
        .output("pipe:", format="f32le", acodec="pcm_f32le", ac=1, ar=int(sample_rate),
                map="0:a:0?", vn=None, sn=None)
        .global_args("-nostdin", "-v", "error")
        .compile(cmd=ffmpeg_exe())
    )
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    per_chunk = max(int(chunk_seconds * sample_rate), 1) * 4
    start = 0
    try:
        while True:
            buf = proc.stdout.read(per_chunk)
            if not buf:
                break
            buf = buf[: len(buf) - len(buf) % 4]
            pcm = np.frombuffer(buf, dtype="<f4").astype(np.float32)
            yield AudioChunk(start / sample_rate, int(sample_rate), pcm)
            start += len(pcm)
    finally:
        proc.stdout.close()
        err = proc.stderr.read().decode(errors="replace").strip()
        proc.stderr.close()
        rc = proc.wait()
    if rc != 0:
        last = err.splitlines()[-1] if err else f"exit code {rc}"
        raise DecodeError(f"{path}: ffmpeg could not decode the audio: {last}")
