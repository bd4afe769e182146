"""Model-only throughput of the experts' networks, fp32 vs bf16 + channels_last, random weights.

What a GPU machine adds to bench/experts.py (which includes decoding): how close each expert's
network gets to the physical limits in ../shared/ARCHITECTURE.md (one H100, bf16, random
weights: ResNet-152 6.2k img/s, CLIP ViT-B/32 27.9k img/s, S3D 1.37k 16-frame clips/s). Inputs
are random tensors at each model's own input size, so this measures the network, not the
decoder. Networks whose package is missing are skipped with the reason.

    python bench/gpu_models.py [--device cuda] [--seconds 5] [--batch 64] [--json out.json]
    python bench/gpu_models.py --device cpu --seconds 0.5 --batch 2     # a CPU smoke run
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

LIMITS = {"resnet152": 6200.0, "clip_b32": 27900.0, "s3d": 1370.0}  # ARCHITECTURE.md, H100 bf16


def _resnet152() -> tuple[torch.nn.Module, tuple[int, ...]]:
    from torchvision.models import resnet152

    return resnet152(weights=None), (3, 224, 224)


def _s3d() -> tuple[torch.nn.Module, tuple[int, ...]]:
    from torchvision.models.video import s3d

    return s3d(weights=None), (3, 16, 224, 224)


def _i3d() -> tuple[torch.nn.Module, tuple[int, ...]]:
    from vidseek.extract.experts.i3d_net import InceptionI3d

    return InceptionI3d(num_classes=400), (3, 64, 224, 224)


def _effnet_lite0() -> tuple[torch.nn.Module, tuple[int, ...]]:
    from efficientnet_lite_pytorch import EfficientNet

    return EfficientNet.from_name("efficientnet-lite0"), (3, 224, 224)


def _clip_b32() -> tuple[torch.nn.Module, tuple[int, ...]]:
    import open_clip

    model = open_clip.create_model("ViT-B-32", pretrained=None)
    return model.visual, (3, 224, 224)


NETWORKS: dict[str, Callable[[], tuple[torch.nn.Module, tuple[int, ...]]]] = {
    "effnet_lite0": _effnet_lite0, "resnet152": _resnet152, "clip_b32": _clip_b32,
    "i3d": _i3d, "s3d": _s3d,
}


def throughput(model: torch.nn.Module, shape: tuple[int, ...], batch: int, device: str,
               bf16: bool, seconds: float) -> float:
    """Inputs per second over `seconds` of repeated forwards after two warm-ups."""
    model = model.eval().to(device)
    x = torch.randn(batch, *shape, device=device)
    if bf16 and x.dim() == 4:
        model = model.to(memory_format=torch.channels_last)
        x = x.to(memory_format=torch.channels_last)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    ctx = torch.autocast(device.split(":")[0], dtype=torch.bfloat16, enabled=bf16)
    with torch.inference_mode(), ctx:
        for _ in range(2):
            model(x)
        sync()
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            model(x)
            n += batch
        sync()
        return n / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--seconds", type=float, default=5.0, help="timed seconds per network and dtype")
    ap.add_argument("--batch", type=int, default=64, help="images per batch (video nets: batch // 8 clips)")
    ap.add_argument("--networks", default=",".join(NETWORKS))
    ap.add_argument("--json", default="")
    a = ap.parse_args(argv)
    rows: list[dict[str, Any]] = []
    print(f"device={a.device} torch={torch.__version__} random weights (timing only)")
    print("| network | input | fp32 /s | bf16+channels_last /s | speed-up | limit (H100 bf16) | of limit |")
    print("|---|---|---|---|---|---|---|")
    for name in a.networks.split(","):
        try:
            model, shape = NETWORKS[name]()
        except Exception as err:  # noqa: BLE001 - a missing package skips the row
            print(f"| {name} | skipped: {type(err).__name__}: {err} | | | | | |")
            continue
        batch = a.batch if len(shape) == 3 else max(1, a.batch // 8)
        fp32 = throughput(model, shape, batch, a.device, False, a.seconds)
        bf16 = throughput(model, shape, batch, a.device, True, a.seconds)
        limit = LIMITS.get(name)
        of = f"{bf16 / limit:.2f}" if limit else "-"
        print(f"| {name} | {tuple(shape)} | {fp32:.1f} | {bf16:.1f} | {bf16 / fp32:.2f}x | "
              f"{limit or '-'} | {of} |")
        rows.append({"network": name, "input": list(shape), "batch": batch, "fp32": fp32,
                     "bf16_channels_last": bf16, "limit": limit})
    if a.json:
        Path(a.json).write_text(json.dumps({"device": a.device, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
