"""Extraction against real time, old path vs new, side by side in one run: per expert its
x real-time and its share of the whole, then all experts from one decode.

    PYTHONPATH=. .venv/bin/python bench/realtime.py [--clips a.mp4,b.webm] [--seconds 30]
        [--experts effnet_lite0,i3d,whisper_audio,asr,ocr] [--threads 2] [--no-all]

old = every frame decoded at full size and resized by each expert in float32 (scaled=False),
I3D unfused at 256 / 224, OCR reading every sampled frame; new = the defaults (frames scaled by
swscale to the experts' shorter side, full size only at OCR's times, fused I3D at 182 / 160,
OCR's change gate). --seconds cuts each clip to its first N s (a stream copy, so both paths read
the same file). Per clip the old and new runs of an expert follow each other, so load drift hits
both; wall and CPU seconds are printed (CPU is less noisy on a shared box: x real-time on 2
cores needs CPU s <= 2 x video s). Shares are of the sum over experts run alone. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CLIPS = ROOT.parent / "shared" / "data" / "clips"
DEFAULT_CLIPS = "laion_talk_1080p.mp4,v_ZNVhz7ctTq0.mp4,big_buck_bunny_0_30.webm"
DEFAULT_EXPERTS = "effnet_lite0,i3d,whisper_audio,asr,ocr"
OLD_EXTRA: dict[str, dict[str, Any]] = {
    "i3d": {"fuse": False, "resize": 256, "crop": 224},
    "ocr": {"change_threshold": 0},
}


def _cut(clips: list[Path], seconds: float | None, tmp: str) -> list[Path]:
    if not seconds:
        return clips
    from vidseek.extract.audio import ffmpeg_exe

    out = []
    for c in clips:
        dst = Path(tmp) / f"{c.stem}_{seconds:g}s{c.suffix}"
        subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-y", "-i", str(c), "-t",
                        str(seconds), "-map", "0", "-c", "copy", str(dst)], check=True)
        out.append(dst)
    return out


def _timed(clip: Path, experts: list[Any], info: Any, scaled: bool) -> tuple[float, float]:
    from vidseek.extract.run import run_experts

    w0, c0 = time.perf_counter(), time.process_time()
    _, errors = run_experts(str(clip), experts, info, scaled=scaled)
    if errors:
        raise RuntimeError(f"{clip.name}: {errors}")
    return time.perf_counter() - w0, time.process_time() - c0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clips", default=DEFAULT_CLIPS)
    ap.add_argument("--seconds", type=float, default=None)
    ap.add_argument("--experts", default=DEFAULT_EXPERTS)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-all", action="store_true", help="skip the all-experts runs")
    a = ap.parse_args(argv)
    clips = [Path(c) if os.sep in c else CLIPS / c for c in a.clips.split(",")]
    missing = [str(c) for c in clips if not c.is_file()]
    if missing:
        print(f"bench/realtime.py: clips not found: {', '.join(missing)}", file=sys.stderr)
        return 2
    import torch

    from vidseek.extract.experts import ExpertOptions, create_expert
    from vidseek.extract.probe import probe

    torch.set_num_threads(a.threads)
    names = a.experts.split(",")
    new = {n: create_expert(n, ExpertOptions()) for n in names}
    old = {n: create_expert(n, ExpertOptions(extra=OLD_EXTRA.get(n, {}))) for n in names}
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="vidseek-rt-") as tmp:
        clips = _cut(clips, a.seconds, tmp)
        infos = [probe(str(c)) for c in clips]
        video_s = sum(i.duration for i in infos)
        cost: dict[tuple[str, str], list[float]] = {}
        for clip, info in zip(clips, infos, strict=True):
            for n in names:
                for tag, ex, scaled in (("old", old[n], False), ("new", new[n], True)):
                    w, c = _timed(clip, [ex], info, scaled)
                    acc = cost.setdefault((n, tag), [0.0, 0.0])
                    acc[0] += w
                    acc[1] += c
                    print(f"{clip.name} {n} {tag}: wall {w:.1f} s, cpu {c:.1f} s", flush=True)
            if not a.no_all:
                for tag, group, scaled in (("old", old, False), ("new", new, True)):
                    w, c = _timed(clip, list(group.values()), info, scaled)
                    acc = cost.setdefault(("ALL (one decode)", tag), [0.0, 0.0])
                    acc[0] += w
                    acc[1] += c
                    print(f"{clip.name} ALL {tag}: wall {w:.1f} s, cpu {c:.1f} s", flush=True)
    load1 = os.getloadavg()
    sums = {tag: sum(cost[(n, tag)][0] for n in names) for tag in ("old", "new")}
    desc = ", ".join(f"{c.name} {i.width}x{i.height} {i.duration:.1f} s"
                     for c, i in zip(clips, infos, strict=True))
    print(f"\n{len(clips)} clips ({desc}): {video_s:.1f} s of video, {a.threads} torch threads; "
          f"load average {load0[0]:.1f} before, {load1[0]:.1f} after (1 min)\n")
    print("| expert | old wall s | new wall s | old x real-time | new x real-time | speed-up "
          "| old cpu s | new cpu s | old share | new share |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in [*names, *(["ALL (one decode)"] if not a.no_all else [])]:
        (ow, oc), (nw, nc) = cost[(n, "old")], cost[(n, "new")]
        share = (f"{100 * ow / sums['old']:.0f} % | {100 * nw / sums['new']:.0f} %"
                 if n in names else "- | -")
        print(f"| {n} | {ow:.1f} | {nw:.1f} | {video_s / ow:.2f} | {video_s / nw:.2f} | "
              f"{ow / nw:.2f}x | {oc:.1f} | {nc:.1f} | {share} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
