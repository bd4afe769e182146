"""Moment-localization benchmark on the synthetic benchmark (planted features).

Features: `synth_moments` plants each scene's true event spans into N clip vectors (colour +
shape + action + sound directions plus noise); no rendering or extraction runs, so this measures
the localizers, not the experts. Prints:
1. per model: R@1 at IoU 0.5 / 0.7, mIoU on the test split, training time;
2. the proxies report's claim: early-epoch mIoU of 2D-TAN with proxies, without, and without
   but with a doubled batch;
3. per-query inference time of FVMR's common space (moment vectors precomputed, one matrix
   product per query) vs 2D-TAN (a full forward per video) on the same proposals.

    .venv/bin/python bench/localization.py                 # CPU, a few minutes
    .venv/bin/python bench/localization.py --device cuda --dtype bf16
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

import vidseek.models.localization  # noqa: F401
from vidseek.models.base import build_dataset, build_model

BENCH_PARAMS: dict[str, dict[str, Any]] = {  # smaller than the papers' settings: CPU minutes
    "tan2d": {"hidden": 48, "tan_layers": 3, "tan_kernel": 3, "lstm_layers": 1},
    "tan2d_proxies": {"hidden": 48, "tan_layers": 3, "tan_kernel": 3, "lstm_layers": 1},
    "fvmr": {"hidden": 48, "dim": 48, "map_layers": 2, "kernel": 3},
    "cimha": {"hidden": 64, "heads": 4, "dropout": 0.1},
}


def fit(name: str, splits: Any, epochs: int, batch: int, device: str, dtype: torch.dtype, seed: int,
        evaluate_each: bool = False) -> tuple[torch.nn.Module, float, list[float]]:
    torch.manual_seed(seed)
    model = build_model(name, BENCH_PARAMS[name], splits.info).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(seed)
    loader = DataLoader(splits.train, batch_size=batch, shuffle=True, collate_fn=splits.collate, generator=g)
    val = DataLoader(splits.test, batch_size=64, collate_fn=splits.collate)
    curve, spent = [], 0.0
    for _ in range(epochs):
        t0 = time.perf_counter()
        model.train()
        for b in loader:
            b = model.to_device(b, device)
            with torch.autocast(device.split(":")[0], dtype=dtype, enabled=dtype != torch.float32):
                loss, _ = model.training_loss(b)
            opt.zero_grad()
            loss.backward()
            opt.step()
        spent += time.perf_counter() - t0
        if evaluate_each:
            curve.append(model.evaluate(val)["mIoU"])
    return model, spent, curve


def per_query_times(tan: Any, fvmr: Any, splits: Any, device: str, n_queries: int) -> tuple[float, float, int]:
    """ms per query over the whole test collection (every video scored for every query)."""
    ds = splits.test
    videos = sorted({ds.rows[i].video for i in range(len(ds))})
    feats = torch.from_numpy(np.stack([ds.clips[v] for v in videos])).to(device)
    queries = [ds.rows[i].query for i in range(min(n_queries, len(ds)))]
    tan.eval()
    fvmr.eval()
    with torch.no_grad():
        mom = fvmr.moment_map(feats)[:, :, fvmr._rows, fvmr._cols]  # offline: index every moment
        index = mom.permute(0, 2, 1).reshape(-1, mom.shape[1]).contiguous()
        t0 = time.perf_counter()
        for q in queries:
            qv, *_ = fvmr.encode_query([q])
            scores = index @ qv[0]
            scores.topk(5)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        t_fvmr = (time.perf_counter() - t0) / len(queries)
        t0 = time.perf_counter()
        for q in queries:
            s = tan.proposal_scores(feats, [q] * len(videos))
            s.flatten().topk(5)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        t_tan = (time.perf_counter() - t0) / len(queries)
    return 1e3 * t_fvmr, 1e3 * t_tan, len(videos)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="fp32", choices=["fp32", "bf16"])
    ap.add_argument("--videos", type=int, default=160)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--early-epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    dtype = torch.bfloat16 if args.dtype == "bf16" else torch.float32
    splits = build_dataset("synth_moments", {"n_videos": args.videos, "n_clips": 16, "seed": args.seed})
    sizes = splits.info.extra["sizes"]
    print(f"synth_moments (planted features): {args.videos} videos, N=16 clips, {sizes}, "
          f"classes={splits.info.extra['num_classes']} ({splits.info.extra['label_source']}), "
          f"device={args.device} dtype={args.dtype}")
    print(f"\n{'model':<15}{'R@1 IoU0.5':>11}{'R@1 IoU0.7':>11}{'mIoU':>8}{'train s':>9}  ({args.epochs} epochs, batch {args.batch})")
    trained = {}
    for name in BENCH_PARAMS:
        model, spent, _ = fit(name, splits, args.epochs, args.batch, args.device, dtype, args.seed)
        m = model.evaluate(DataLoader(splits.test, batch_size=64, collate_fn=splits.collate))
        trained[name] = model
        print(f"{name:<15}{m['R@1,IoU=0.5']:>11.2f}{m['R@1,IoU=0.7']:>11.2f}{m['mIoU']:>8.2f}{spent:>9.1f}")
    print(f"\nearly-epoch test mIoU (2D-TAN), epochs 1..{args.early_epochs}, mean of 2 seeds")
    runs = {"2D-TAN + proxies": ("tan2d_proxies", args.batch), "2D-TAN": ("tan2d", args.batch),
            f"2D-TAN batch {2 * args.batch}": ("tan2d", 2 * args.batch)}
    for label, (name, bs) in runs.items():
        curves = [fit(name, splits, args.early_epochs, bs, args.device, dtype, s, evaluate_each=True)[2]
                  for s in (args.seed, args.seed + 1)]
        mean = np.mean(curves, 0)
        print(f"  {label:<20}" + "".join(f"{v:>8.2f}" for v in mean))
    t_f, t_t, n_v = per_query_times(trained["tan2d"], trained["fvmr"], splits, args.device, 50)
    p = len(trained["fvmr"]._rows)
    print(f"\nper-query search over {n_v} test videos x {p} proposals: FVMR common space {t_f:.3f} ms, "
          f"2D-TAN {t_t:.2f} ms ({t_t / max(t_f, 1e-9):.0f}x)")


if __name__ == "__main__":
    main()
