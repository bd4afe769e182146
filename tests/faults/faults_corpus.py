"""The fault corpus's media and runners: small synthetic files made at test time (PyAV and the
ffmpeg of the installed imageio-ffmpeg wheel), and the verbs run in-process as the CLI runs
them (exit code, stderr, `status --json`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pipeline_experts  # noqa: F401  (registers the test experts)
import pytest
from media import frames_with_index, write_video

from vidseek.errors import failure_message
from vidseek.extract.audio import ffmpeg_exe
from vidseek.pipelines.extract import ExtractConfig, extract_collection
from vidseek.pipelines.status import StatusConfig, status

EXPERTS = ["test_meancolor"]
FPS = 10


def lossless_clip(path: Path, n_frames: int = 140, h: int = 48, w: int = 64, seed: int = 0,
                  faststart: bool = True) -> Path:
    """A lossless mp4 (moov first, as a streamed download), frame k shows index k."""
    return write_video(path, frames_with_index(n_frames, h, w, seed=seed), FPS,
                       codec="libx264rgb", faststart=faststart)


def cut(src: Path, dst: Path, keep: float) -> Path:
    """The first `keep` of a file's bytes: a half-finished download."""
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * keep)])
    return dst


def corrupt_middle(src: Path, dst: Path, at: float = 0.5, span: float = 0.05) -> Path:
    data = bytearray(src.read_bytes())
    a, b = int(len(data) * at), int(len(data) * (at + span))
    data[a:b] = np.random.default_rng(0).integers(0, 256, b - a, dtype=np.uint8).tobytes()
    dst.write_bytes(bytes(data))
    return dst


def lavfi_clip(path: Path, size: str = "64x48", seconds: float = 2.0, fps: int = 10,
               audio: bool = False, extra: list[str] | None = None) -> Path:
    cmd = [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi",
           "-i", f"testsrc=size={size}:rate={fps}:duration={seconds}"]
    if audio:
        cmd += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=16000:duration={seconds}",
                "-c:a", "aac"]
    cmd += [*(extra or []), "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path)]
    subprocess.run(cmd, check=True)
    return path


def extract(capsys: pytest.CaptureFixture[str], paths: list[Path], col: Path,
            experts: list[str] | None = None, **kw: Any) -> tuple[int, str]:
    """(exit code, stderr) of `vidseek extract PATHS --collection COL`."""
    capsys.readouterr()
    rc = as_cli("extract", col, lambda: extract_collection(ExtractConfig(
        [str(p) for p in paths], str(col), experts=experts or EXPERTS, progress=False, **kw)))
    return rc, capsys.readouterr().err


def as_cli(verb: str, col: Path, run: Any) -> int:
    """A pipeline's exit code as the CLI gives it: its Outcome, or 2 and the one line the CLI
    prints for an expected failure (vidseek.errors.failure_message); a bug still raises."""
    try:
        return int(run())
    except Exception as err:  # noqa: BLE001 - mapped exactly as vidseek.cli.main maps it
        message = failure_message(err, str(col))
        if message is None:
            raise
        print(f"vidseek {verb}: {message}", file=sys.stderr)
        return 2


def status_json(capsys: pytest.CaptureFixture[str], col: Path) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    rc = as_cli("status", col, lambda: status(StatusConfig(str(col), json=True)))
    out = capsys.readouterr().out
    return rc, (json.loads(out) if out.strip() else {})


def by_video(st: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["video"]: r for r in st.get("videos", [])}


def no_traceback(text: str) -> None:
    assert "Traceback" not in text, text


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The real `python -m vidseek.cli` (for what only a process shows: exit code, no trace)."""
    import os

    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    return subprocess.run([sys.executable, "-m", "vidseek.cli", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300)
