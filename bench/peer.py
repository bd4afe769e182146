"""vidseek vs v-iashin/video_features, side by side in one process: ResNet-152 at 1 fps and
I3D RGB at 25 fps (64-frame windows, step 64) on the same clips, both with random weights.

    PYTHONPATH=. .venv/bin/python bench/peer.py /path/to/video_features \\
        [--clips laion_talk_1080p.mp4,...] [--models resnet152,i3d] [--threads 2]

The peer is a checkout of github.com/v-iashin/video_features made outside this repo (nothing of
it is copied here); it needs `omegaconf` and `opencv-python` importable (e.g. a --target folder
on PYTHONPATH) and `ffmpeg` on PATH (it re-encodes to the extraction fps with it). Random
weights: torchvision's get_model is called with weights=None and the I3D checkpoint load is
replaced by a fresh model's state dict, so neither side downloads or reads pretrained weights.

Per clip and model: wall seconds of each side's extract call (model construction excluded,
decoding, re-encoding and preprocessing included: what a user waits for), interleaved
(peer, then vidseek, per clip) so load drift hits both; prints a markdown table with the
speed-up. Asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CLIPS = ROOT.parent / "shared" / "data" / "clips"
DEFAULT_CLIPS = "laion_talk_1080p.mp4,women_long_jump.mp4,big_buck_bunny_0_30.webm,v_ZNVhz7ctTq0.mp4"


@contextlib.contextmanager
def _in_dir(path: Path) -> Iterator[None]:
    """The peer resolves its checkpoints and configs relative to its own folder."""
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def peer_resnet(peer: Path, tmp: str, threads: int) -> Callable[[str], Any]:
    import torchvision.models as tvm
    from omegaconf import OmegaConf

    real_get = tvm.get_model

    def random_get(name: str, **kw: Any) -> Any:
        kw["weights"] = None  # random init: no download
        return real_get(name, **kw)

    tvm.get_model = random_get
    try:
        from models.resnet.extract_resnet import ExtractResNet

        args = OmegaConf.create({
            "feature_type": "resnet", "model_name": "resnet152", "batch_size": 1,
            "extraction_fps": 1, "extraction_total": None, "device": "cpu",
            "on_extraction": "print", "output_path": tmp, "tmp_path": tmp,
            "keep_tmp_files": False, "show_pred": False,
        })
        with _in_dir(peer):
            ex = ExtractResNet(args)
    finally:
        tvm.get_model = real_get
    return lambda path: ex.extract(path)


def peer_i3d(peer: Path, tmp: str, threads: int) -> Callable[[str], Any]:
    import torch
    from models.i3d.extract_i3d import ExtractI3D
    from models.i3d.i3d_src.i3d_net import I3D
    from omegaconf import OmegaConf

    args = OmegaConf.create({
        "feature_type": "i3d", "stack_size": 64, "step_size": 64, "streams": "rgb",
        "flow_type": "raft", "extraction_fps": 25, "device": "cpu", "on_extraction": "print",
        "output_path": tmp, "tmp_path": tmp, "keep_tmp_files": False, "show_pred": False,
    })
    real_load = torch.load
    torch.load = lambda *a, **k: I3D(num_classes=400, modality="rgb").state_dict()  # random
    try:
        with _in_dir(peer):
            ex = ExtractI3D(args)
    finally:
        torch.load = real_load

    def run(path: str) -> Any:
        with _in_dir(peer):
            return ex.extract(path)

    return run


def ours(name: str) -> Callable[[str], Any]:
    from vidseek.extract.experts import ExpertOptions, create_expert
    from vidseek.extract.probe import probe
    from vidseek.extract.run import extract_video

    expert = create_expert(name, ExpertOptions(random_weights=True))
    return lambda path: extract_video(path, [expert], info=probe(path))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("peer", help="a checkout of v-iashin/video_features")
    ap.add_argument("--clips", default=DEFAULT_CLIPS)
    ap.add_argument("--models", default="resnet152,i3d")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    peer = Path(a.peer).resolve()
    if not (peer / "models" / "i3d" / "extract_i3d.py").is_file():
        print(f"bench/peer.py: {peer} is not a video_features checkout", file=sys.stderr)
        return 2
    clips = [Path(c) if os.sep in c else CLIPS / c for c in a.clips.split(",")]
    missing = [str(c) for c in clips if not c.is_file()]
    if missing:
        print(f"bench/peer.py: clips not found: {', '.join(missing)}", file=sys.stderr)
        return 2
    import torch

    from vidseek.extract.probe import probe

    torch.set_num_threads(a.threads)
    sys.path.insert(0, str(peer))
    tmp = tempfile.mkdtemp(prefix="vidseek-peer-")
    makers = {"resnet152": peer_resnet, "i3d": peer_i3d}
    rows = []
    for model in a.models.split(","):
        theirs, mine = makers[model](peer, tmp, a.threads), ours(model)
        for clip in clips:
            info = probe(clip)
            t0 = time.perf_counter()
            theirs(str(clip))
            t1 = time.perf_counter()
            mine(str(clip))
            t2 = time.perf_counter()
            rows.append((model, clip.name, info, t1 - t0, t2 - t1))
            print(f"{model} {clip.name}: peer {t1 - t0:.1f} s, vidseek {t2 - t1:.1f} s", flush=True)
    load = os.getloadavg()
    print(f"\n{a.threads} torch threads, random weights, load average {load[0]:.1f} / "
          f"{load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min) at the end\n")
    print("| model | clip | size | s | peer wall s | vidseek wall s | vidseek speed-up |")
    print("|---|---|---|---:|---:|---:|---:|")
    for model, name, info, theirs_s, mine_s in rows:
        print(f"| {model} | {name} | {info.width}x{info.height} | {info.duration:.1f} | "
              f"{theirs_s:.1f} | {mine_s:.1f} | {theirs_s / mine_s:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
