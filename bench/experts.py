"""Expert throughput on the real clips: each expert alone, then all of them from one decode.

    .venv/bin/python bench/experts.py [--clips a.mp4,b.mkv] [--experts effnet_lite0,i3d,asr,ocr]
        [--device cuda --dtype bf16] [--random-weights] [--threads 2] [--json out.json]

Per expert: seconds of video per second of wall time (x real-time) and sampled frames/s (frame
experts), decode included (that is what a user waits for). Then the whole multi-expert
extraction from one decode: videos/minute and x real-time. Prints a markdown table. Numbers on
a shared CPU are noisy; compare runs made on the same machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLIPS = ROOT.parent / "shared" / "data" / "clips"
DEFAULT_CLIPS = "flipping_a_pancake.mkv,arm_wrestling.mp4,nasa_13013.mp4"
DEFAULT_EXPERTS = "effnet_lite0,i3d,whisper_audio,asr,ocr"


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--clips", default=DEFAULT_CLIPS)
    p.add_argument("--experts", default=DEFAULT_EXPERTS)
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", default="fp32", choices=["fp32", "bf16", "fp16"])
    p.add_argument("--random-weights", action="store_true")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--json", default=None)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    import torch

    from vidseek.extract.experts import ExpertOptions, create_expert
    from vidseek.extract.probe import probe
    from vidseek.extract.run import extract_video

    a = _args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    clips = [Path(c) if os.sep in c else CLIPS / c for c in a.clips.split(",")]
    missing = [str(c) for c in clips if not c.exists()]
    if missing:
        print(f"bench/experts.py: clips not found: {', '.join(missing)}", file=sys.stderr)
        return 2
    extra: dict[str, object] = {"dtype": a.dtype, "amp": a.dtype != "fp32"}
    opts = ExpertOptions(device=a.device, random_weights=a.random_weights, extra=extra)
    names = a.experts.split(",")
    experts = {n: create_expert(n, opts) for n in names}
    infos = [probe(str(c)) for c in clips]
    video_s = sum(i.duration for i in infos)
    rows: list[dict[str, object]] = []
    for name, expert in experts.items():
        t0 = time.perf_counter()
        n_rows = 0
        for clip, info in zip(clips, infos, strict=True):
            n_rows += len(extract_video(str(clip), [expert], info=info)[name])
        dt = time.perf_counter() - t0
        fps = expert.spec.fps
        rows.append({"expert": name, "video_s": round(video_s, 1), "wall_s": round(dt, 2),
                     "x_realtime": round(video_s / dt, 2), "rows": n_rows,
                     "frames_per_s": round(video_s * fps / dt, 1) if fps else None})
    t0 = time.perf_counter()
    for clip, info in zip(clips, infos, strict=True):
        extract_video(str(clip), list(experts.values()), info=info)
    dt = time.perf_counter() - t0
    rows.append({"expert": "ALL (one decode)", "video_s": round(video_s, 1), "wall_s": round(dt, 2),
                 "x_realtime": round(video_s / dt, 2), "rows": None, "frames_per_s": None,
                 "videos_per_min": round(60 * len(clips) / dt, 2)})
    dev = f"{a.device} {a.dtype}" + (f", {torch.get_num_threads()} threads" if a.device == "cpu" else "")
    print(f"\n{len(clips)} clips, {video_s:.1f} s of video, {dev}\n")
    print("| expert | wall s | x real-time | sampled frames/s | rows | videos/min |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['expert']} | {r['wall_s']} | {r['x_realtime']} | {r['frames_per_s'] or '-'} "
              f"| {r['rows'] if r['rows'] is not None else '-'} | {r.get('videos_per_min', '-')} |")
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
