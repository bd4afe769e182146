"""Decode throughput per real clip and backend, and decode-once vs decode-per-expert.

Run from the repo root: `.venv/bin/python bench/decode.py [--seconds 30]`. Each clip is decoded
over its first --seconds (the 1080p clip is 122 s). Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from vidseek.extract.decode import DECODERS, open_decoder
from vidseek.extract.probe import probe
from vidseek.extract.sampling import merge_schedules, sample_times

CLIPS = Path(__file__).resolve().parents[2] / "shared" / "data" / "clips"
BENCH_CLIPS = ["v_ZNVhz7ctTq0.mp4", "flipping_a_pancake.mkv", "big_buck_bunny_0_30.webm",
               "skateboarding_dog.mp4", "laion_talk_1080p.mp4"]


def timed_pass(path: Path, backend: str, times: np.ndarray, info) -> tuple[int, float]:  # noqa: ANN001
    t0 = time.perf_counter()
    dec = open_decoder(path, backend, info)
    n = 0
    for batch in dec.frames_at(times, chunk=16):
        n += len(batch.frames)
    dec.close()
    return n, time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=30.0, help="decode at most this much per clip")
    args = ap.parse_args()
    if not CLIPS.is_dir():
        print(f"skipped: real clips not found at {CLIPS} (../shared/data beside the repo)")
        return 0
    print(f"## decode throughput (first {args.seconds:g} s of each clip; frames/s = frames "
          "delivered per wall second; xRT = video seconds per wall second)\n")
    print("| clip | size | backend | native fps: frames | frames/s | xRT | 1 fps: frames | frames/s | xRT |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in BENCH_CLIPS:
        path = CLIPS / name
        if not path.is_file():
            continue
        info = probe(path)
        span = min(info.duration, args.seconds)
        native, sparse = sample_times(span, info.fps), sample_times(span, 1.0)
        for backend in DECODERS.names():
            try:
                n1, s1 = timed_pass(path, backend, native, info)
                n2, s2 = timed_pass(path, backend, sparse, info)
            except Exception as err:  # noqa: BLE001 - a backend that refuses the file
                print(f"| {name} | {info.width}x{info.height} | {backend} | refused: "
                      f"{str(err).split(': ', 1)[-1][:60]} | | | | | |")
                continue
            print(f"| {name} | {info.width}x{info.height} | {backend} | {n1} | {n1 / s1:.0f} | "
                  f"{span / s1:.1f} | {n2} | {n2 / s2:.1f} | {span / s2:.1f} |")
    print("\n## decode once vs once per expert (experts at 1 fps and 25 fps, auto backend)\n")
    print("| clip | backend | union frames | one pass s | two passes s | speed-up |")
    print("|---|---|---|---|---|---|")
    for name in ["v_ZNVhz7ctTq0.mp4", "laion_talk_1080p.mp4"]:
        path = CLIPS / name
        if not path.is_file():
            continue
        info = probe(path)
        span = min(info.duration, args.seconds)
        scheds = {"frame_1fps": sample_times(span, 1.0), "motion_25fps": sample_times(span, 25.0)}
        union, _ = merge_schedules(scheds)
        backend = open_decoder(path, None, info).name
        _, once = timed_pass(path, backend, union, info)
        twice = sum(timed_pass(path, backend, t, info)[1] for t in scheds.values())
        print(f"| {name} | {backend} | {len(union)} | {once:.2f} | {twice:.2f} | {twice / once:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
