"""Max RSS of `vidseek extract --experts effnet_lite0` by video length and decoder backend.

Run from the repo root: `.venv/bin/python bench/memory.py [--minutes 1,5,20] [--backends auto,decord,pyav]`.
Makes 640x360 30 fps H.264 testsrc2 videos (with the ffmpeg of the imageio-ffmpeg wheel) in
/tmp/vidseek-mem (kept between runs), then runs one `vidseek extract` subprocess per (length,
backend) into a fresh collection, with effnet_lite0's real (package) weights, and reads its max
RSS from wait4's rusage (that child only). Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

MEDIA = Path(tempfile.gettempdir()) / "vidseek-mem"


def make_video(minutes: float) -> Path:
    import imageio_ffmpeg

    out = MEDIA / f"testsrc2_{minutes:g}min_640x360.mp4"
    if out.exists():
        return out
    MEDIA.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".tmp-{out.name}")
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc2=size=640x360:rate=30:duration={minutes * 60:g}",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(tmp)],
                   check=True)
    os.replace(tmp, out)
    return out


def run_extract(video: Path, backend: str, extra: list[str]) -> tuple[int, float, int]:
    """(exit code, wall seconds, max RSS bytes) of one extract subprocess."""
    col = Path(tempfile.mkdtemp(prefix="vidseek-mem-col-"))
    cmd = [sys.executable, "-m", "vidseek.cli", "extract", str(video), "--collection", str(col),
           "--experts", "effnet_lite0", "--no-progress", *extra]
    if backend != "auto":
        cmd += ["--backend", backend]
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        print(f"  {video.name} {backend}: exit {proc.returncode}: {err.strip()[-300:]}")
    shutil.rmtree(col, ignore_errors=True)
    return proc.returncode, wall, usage.ru_maxrss * 1024  # Linux reports KiB


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--minutes", default="1,5,20", help="video lengths in minutes (default 1,5,20)")
    ap.add_argument("--backends", default="auto,decord,pyav",
                    help="decoder backends (auto: vidseek's choice; default auto,decord,pyav)")
    ap.add_argument("--extra", default="", help="more extract flags, space-separated")
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs per cell; the table shows the median (max RSS of one cell varies "
                         "by up to ~25 %% between identical runs)")
    args = ap.parse_args()
    minutes = [float(m) for m in args.minutes.split(",")]
    backends = args.backends.split(",")
    videos = {m: make_video(m) for m in minutes}
    rows = []
    for backend in backends:
        for m in minutes:
            runs = []
            for _ in range(max(1, args.repeat)):
                rc, wall, rss = run_extract(videos[m], backend, args.extra.split())
                runs.append((rc, wall, rss))
                print(f"  done {backend} {m:g} min: exit {rc}, {wall:.0f} s, "
                      f"{rss / 2**20:.0f} MiB", flush=True)
            rcs, walls, rsss = zip(*runs, strict=True)
            rows.append((backend, m, max(rcs), float(np.median(walls)), float(np.median(rsss))))
    print("\n| backend | video | exit | max RSS | vs shortest | wall |")
    print("|---|---|---|---|---|---|")
    for backend, m, rc, wall, rss in rows:
        base = next(r[4] for r in rows if r[0] == backend)
        print(f"| {backend} | {m:g} min | {rc} | {rss / 2**20:.0f} MiB | {rss / base:.2f} | "
              f"{wall:.0f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
