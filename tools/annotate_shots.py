"""Find shot cuts in real clips with ffmpeg's scene score, and dump frames to look at.

This is how the cuts behind data/queries/real_moments.jsonl were found (see data/queries/SOURCES.md):
the cut times come from ffmpeg, the words and the windows of each query from a person looking at
the frames this script writes. Rerun it to check a window:

    /work/main/.venv/bin/python tools/annotate_shots.py ../shared/data/clips/women_long_jump.mp4 \
        --threshold 0.1 --frames /tmp/shots --fps 1

prints one line per cut ("cut <seconds> score <scene score>") and, with --frames, writes
<stem>_cut_<t>.png at every cut (the first frame after it) and <stem>_t<sec>.png at `--fps`
(one frame per second by default). Frames go under /tmp, never into the repository.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

PTS = re.compile(r"pts_time:\s*([0-9.]+)")
SCORE = re.compile(r"lavfi\.scene_score=([0-9.]+)")


def ffmpeg() -> str:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from vidseek.extract.audio import ffmpeg_exe

    return ffmpeg_exe()


def scene_cuts(path: Path, threshold: float = 0.3, width: int = 480) -> list[tuple[float, float]]:
    """(time, scene score) of every frame whose scene score exceeds `threshold`, scored on
    frames scaled to `width` pixels (fast on 1080p, and one scale for every clip)."""
    vf = f"scale={width}:-2,select='gt(scene,{threshold})',metadata=print,showinfo"
    proc = subprocess.run([ffmpeg(), "-hide_banner", "-nostats", "-i", str(path), "-an",
                           "-vf", vf, "-f", "null", "-"], capture_output=True, text=True,
                          check=True)
    cuts: list[tuple[float, float]] = []
    score = 0.0
    for line in proc.stderr.splitlines():
        m = SCORE.search(line)
        if m:
            score = float(m.group(1))
        m = PTS.search(line)
        if m and "Parsed_showinfo" in line:
            cuts.append((float(m.group(1)), score))
    return cuts


def dump_frames(path: Path, out: Path, cuts: list[float], fps: float) -> None:
    """PNG frames: one per 1/fps seconds (small, 480 px wide) and one at each cut."""
    out.mkdir(parents=True, exist_ok=True)
    stem = path.stem
    subprocess.run([ffmpeg(), "-v", "error", "-y", "-i", str(path), "-vf",
                    f"fps={fps},scale=480:-2", "-start_number", "0",
                    str(out / f"{stem}_t%03d.png")], check=True)
    for t in cuts:
        subprocess.run([ffmpeg(), "-v", "error", "-y", "-ss", f"{t + 0.02:.3f}", "-i", str(path),
                        "-frames:v", "1", "-vf", "scale=480:-2",
                        str(out / f"{stem}_cut_{t:07.3f}.png")], check=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("videos", nargs="+", type=Path)
    ap.add_argument("--threshold", type=float, default=0.3, help="ffmpeg scene score (0-1)")
    ap.add_argument("--frames", type=Path, default=None, help="write PNG frames here (/tmp/...)")
    ap.add_argument("--fps", type=float, default=1.0, help="frames per second to dump")
    ap.add_argument("--width", type=int, default=480, help="scale to this width before scoring")
    args = ap.parse_args(argv)
    for video in args.videos:
        cuts = scene_cuts(video, args.threshold, args.width)
        print(f"# {video.name}: {len(cuts)} cuts at scene > {args.threshold}")
        for t, s in cuts:
            print(f"cut {t:.3f} score {s:.3f}")
        if args.frames is not None:
            dump_frames(video, args.frames, [t for t, _ in cuts], args.fps)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
