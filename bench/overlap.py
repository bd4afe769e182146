"""Decode overlapped with inference vs decoded in-line, side by side, on the real clips.

    .venv/bin/python bench/overlap.py [--clips flipping_a_pancake.mkv,laion_talk_1080p.mp4]
        [--seconds 20] [--experts effnet_lite0,ocr,whisper_audio] [--threads 2]
        [--producers serial,thread,process] [--depth 2] [--random-weights]

Per clip: wall time of run_experts with prefetch=0 (serial), and prefetch=depth with each
producer; plus decode alone (frames + audio, no experts) as the floor overlap can reach
towards. --seconds cuts each clip to its first N s (ffmpeg stream copy to a temp file). Prints
a markdown table with torch threads and the load average before and after. Shared-CPU numbers
are noisy: compare rows of one run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLIPS = ROOT.parent / "shared" / "data" / "clips"


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--clips", default="flipping_a_pancake.mkv,laion_talk_1080p.mp4")
    p.add_argument("--seconds", type=float, default=20.0, help="first N s of each clip; 0: all")
    p.add_argument("--experts", default="effnet_lite0,ocr,whisper_audio")
    p.add_argument("--producers", default="serial,thread,process")
    p.add_argument("--depth", type=int, default=2)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--random-weights", action="store_true")
    return p.parse_args(argv)


def _cut(src: Path, seconds: float, tmp: Path) -> Path:
    from vidseek.extract.audio import ffmpeg_exe

    if not seconds:
        return src
    out = tmp / f"{src.stem}_{int(seconds)}s{src.suffix}"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-i", str(src), "-t", str(seconds),
                    "-map", "0", "-c", "copy", str(out)], check=True)
    return out


def _decode_only(path: Path, experts: list, info: object) -> float:
    from vidseek.extract import prefetch as ahead
    from vidseek.extract.sampling import merge_schedules, sample_times

    t0 = time.perf_counter()
    fps = {e.spec.name: float(e.spec.fps) for e in experts if e.spec.fps}
    if fps:
        union, _ = merge_schedules({n: sample_times(info.duration, f) for n, f in fps.items()})  # type: ignore[attr-defined]
        for _ in ahead.frames(str(path), union, None, info, 16, depth=0):  # type: ignore[arg-type]
            pass
    if info.has_audio:  # type: ignore[attr-defined]
        for rate in {int(e.spec.sample_rate) for e in experts if e.spec.sample_rate}:
            for _ in ahead.audio(str(path), rate, depth=0):
                pass
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    import torch

    from vidseek.extract.experts import ExpertOptions, create_expert
    from vidseek.extract.probe import probe
    from vidseek.extract.run import run_experts

    a = _args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    clips = [CLIPS / c for c in a.clips.split(",")]
    if missing := [str(c) for c in clips if not c.exists()]:
        print(f"bench/overlap.py: clips not found: {', '.join(missing)}", file=sys.stderr)
        return 2
    opts = ExpertOptions(random_weights=a.random_weights)
    experts = [create_expert(n, opts) for n in a.experts.split(",")]
    if a.threads:  # again: building an expert may reset torch's thread count
        torch.set_num_threads(a.threads)
    producers = a.producers.split(",")
    load0 = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for clip in clips:
            path = _cut(clip, a.seconds, Path(tmp))
            info = probe(path)
            run_experts(path, experts, info, prefetch=0)  # warm-up: caches, lazy model init
            row = {"clip": path.name, "video_s": info.duration,
                   "decode": _decode_only(path, experts, info)}
            for prod in producers:
                t0 = time.perf_counter()
                depth = 0 if prod == "serial" else a.depth
                _, errors = run_experts(path, experts, info, prefetch=depth,
                                        producer="thread" if prod == "serial" else prod)
                row[prod] = time.perf_counter() - t0
                if errors:
                    print(f"{path.name}: {errors}", file=sys.stderr)
            rows.append(row)
    load1 = os.getloadavg()
    print(f"\nexperts {a.experts}; cpu, torch {torch.get_num_threads()} threads, "
          f"{os.cpu_count()} cores; depth {a.depth}; load average before "
          f"{load0[0]:.2f} after {load1[0]:.2f} (1 min)\n")
    head = ["clip", "video s", "decode alone s", *[f"{p} s" for p in producers]]
    head += [f"{p} speed-up" for p in producers if p != "serial"] if "serial" in producers else []
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        cells = [r["clip"], f"{r['video_s']:.1f}", f"{r['decode']:.2f}",
                 *[f"{r[p]:.2f}" for p in producers]]
        if "serial" in producers:
            cells += [f"{r['serial'] / r[p]:.2f}x" for p in producers if p != "serial"]
        print("| " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
