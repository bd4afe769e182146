"""Moment-localization benchmark: 2D-TAN, 2D-TAN + proxies, FVMR, CI-MHA (and zero-shot search).

Planted features (default): `synth_moments` plants each scene's true event spans into N clip
vectors (colour + shape + action + sound directions plus noise); no rendering or extraction runs,
so this measures the localizers, not the experts. The zero-shot search has no experts there (n/a).
Real features (`--work DIR`): the rendered synthetic benchmark in DIR (videos/, moments.jsonl,
collection/ with extracted expert features; rendered and extracted first when DIR/collection is
missing), the same four models on the extracted features (`moments` dataset), plus the zero-shot
default: `vidseek index` zero-shot spaces + search fusion, each test query localized inside its
own video, scored with the same metrics. Prints per feature set:
1. per model: R@1 at IoU 0.5 / 0.7, mIoU on the test split, training time;
2. the proxies report's claim: per-epoch test mIoU of 2D-TAN with proxies, without, and without
   but with a doubled batch (mean over --seeds seeds);
3. per-query inference time of FVMR's common space (moment vectors precomputed, one matrix
   product per query) vs 2D-TAN (a full forward per video) on the same proposals, at the bench
   sizes (trained) and at the papers' sizes (random weights, timing only).

    .venv/bin/python bench/localization.py --threads 2                        # planted, ~3 CPU min
    .venv/bin/python bench/localization.py --threads 2 --work /tmp/js5/b120   # + real features
    .venv/bin/python bench/localization.py --device cuda --dtype bf16
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

import vidseek.models.localization  # noqa: F401
from vidseek.models.base import DatasetSplits
from vidseek.models.cards import build_dataset, build_model

BENCH_PARAMS: dict[str, dict[str, Any]] = {  # smaller than the papers' settings: CPU minutes
    "tan2d": {"hidden": 64, "tan_layers": 4, "tan_kernel": 3, "lstm_layers": 1},
    "tan2d_proxies": {"hidden": 64, "tan_layers": 4, "tan_kernel": 3, "lstm_layers": 1},
    "fvmr": {"hidden": 64, "dim": 64, "map_layers": 2, "kernel": 3},
    "cimha": {"hidden": 64, "heads": 4, "dropout": 0.1},
}
PAPER_PARAMS: dict[str, dict[str, Any]] = {  # timing only (random weights): the papers' sizes
    "tan2d": {"hidden": 512, "tan_layers": 8, "tan_kernel": 5, "lstm_layers": 3},
    "fvmr": {"hidden": 256, "dim": 256, "map_layers": 4, "kernel": 5},
}


def fit(name: str, splits: DatasetSplits, epochs: int, batch: int, lr: float, device: str, dtype: torch.dtype,
        seed: int, evaluate_each: bool = False) -> tuple[torch.nn.Module, float, list[float]]:
    """Adam, fixed lr, `epochs` passes; training seconds exclude evaluation."""
    torch.manual_seed(seed)
    model = build_model(name, BENCH_PARAMS[name], splits.info).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
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


def per_query_times(tan: Any, fvmr: Any, splits: DatasetSplits, device: str, n_queries: int,
                    n_videos: int | None = None) -> tuple[float, float, int]:
    """ms per query, every test video (or the first n_videos) scored for every query; FVMR's
    moment vectors are indexed once beforehand (offline), its query side runs per query."""
    ds = splits.test
    videos = sorted({ds.rows[i].video for i in range(len(ds))})[:n_videos]
    feats = torch.from_numpy(np.stack([ds.clips[v] for v in videos])).to(device)
    queries = [ds.rows[i].query for i in range(min(n_queries, len(ds)))]
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    tan.eval()
    fvmr.eval()
    with torch.no_grad():
        mom = fvmr.moment_map(feats)[:, :, fvmr._rows, fvmr._cols]  # offline: index every moment
        index = mom.permute(0, 2, 1).reshape(-1, mom.shape[1]).contiguous()
        tan.proposal_scores(feats[:1], queries[:1])  # warm-up
        sync()
        t0 = time.perf_counter()
        for q in queries:
            qv, *_ = fvmr.encode_query([q])
            (index @ qv[0]).topk(5)
        sync()
        t_fvmr = (time.perf_counter() - t0) / len(queries)
        t0 = time.perf_counter()
        for q in queries:
            tan.proposal_scores(feats, [q] * len(videos)).flatten().topk(5)
        sync()
        t_tan = (time.perf_counter() - t0) / len(queries)
    return 1e3 * t_fvmr, 1e3 * t_tan, len(videos)


def zero_shot_localization(collection: Path, splits: DatasetSplits) -> tuple[dict[str, float], float]:
    """(metrics, seconds) of the zero-shot search: each test query ranks moments inside its own
    video (`vidseek index` zero-shot spaces + search fusion, as `vidseek eval` scores moments)."""
    from vidseek.errors import CollectionError
    from vidseek.metrics.moments import moment_recall
    from vidseek.search.engine import SearchOptions, open_searcher

    t0 = time.perf_counter()
    try:
        searcher = open_searcher(collection)
    except CollectionError:  # not indexed yet
        from vidseek.pipelines.index import IndexConfig, build_index

        build_index(IndexConfig(collection=str(collection), progress=False))
        searcher = open_searcher(collection)
    opts = SearchOptions(moments_per_video=5, explain=False)
    preds, gts = [], []
    for r in splits.test.rows:
        v = searcher.rank(r.query, opts, include=[r.video]).get(r.video)
        preds.append(np.array([[m.start, m.end] for m in (v.moments if v else [])]).reshape(-1, 2))
        gts.append(np.array([[r.start, r.end]]))
    return moment_recall(preds, gts), time.perf_counter() - t0


def real_splits(work: Path, experts: list[str], videos: int, seed: int, device: str) -> DatasetSplits:
    """The `moments` dataset on WORK's extracted features; classes are the event types.
    Renders (`vidseek synth`) and extracts first when WORK/collection does not exist."""
    if not (work / "collection").exists():
        from vidseek.pipelines.extract import ExtractConfig, extract_collection
        from vidseek.pipelines.synth import SynthConfig, synth

        synth(SynthConfig(out=str(work), videos=videos, seed=seed, progress=False))
        extract_collection(ExtractConfig(paths=[str(work / "videos")], collection=str(work / "collection"),
                                         experts=experts, device=device, progress=False))
    rows = []  # QVHighlights-style file -> our `moments` JSONL, keeping event_type as the label
    for line in (work / "moments.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            (s, e), *_ = d["relevant_windows"]
            rows.append({"video": d["vid"], "query": d["query"], "start": s, "end": e, "duration": d["duration"],
                         "event_type": d.get("event_type"), "split": d.get("split")})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "moments.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        return build_dataset("moments", {"collection": str(work / "collection"), "moments": str(path),
                                         "experts": experts, "n_clips": 16, "seed": seed})


def run_suite(title: str, splits: DatasetSplits, args: argparse.Namespace, dtype: torch.dtype,
              zero_shot: tuple[dict[str, float], float] | None) -> dict[str, Any]:
    """Table, proxies early-epoch curves and per-query timing on one feature set."""
    info = splits.info.extra
    print(f"\n=== {title}: {info['sizes']} moments, N={info['n_clips']} clips, feature dim "
          f"{sum(splits.info.experts.values())} {dict(splits.info.experts)}, {info['num_classes']} classes "
          f"({info['label_source']}), device={args.device} dtype={args.dtype}, "
          f"torch threads {torch.get_num_threads()}")
    out: dict[str, Any] = {"sizes": info["sizes"], "models": {}}
    print(f"\n{'model':<15}{'R@1 IoU0.5':>11}{'R@1 IoU0.7':>11}{'mIoU':>8}{'train s':>9}"
          f"  ({args.epochs} epochs, batch {args.batch}, Adam lr {args.lr:g})")
    if zero_shot is None:
        print(f"{'zero-shot':<15}{'n/a':>11}{'n/a':>11}{'n/a':>8}{'':>9}  (planted features: no experts)")
    else:
        m, secs = zero_shot
        out["models"]["zero-shot"] = {**m, "seconds": secs}
        print(f"{'zero-shot':<15}{m['R@1,IoU=0.5']:>11.2f}{m['R@1,IoU=0.7']:>11.2f}{m['mIoU']:>8.2f}"
              f"{0.0:>9.1f}  (no training; index + search {secs:.1f} s)")
    trained = {}
    for name in BENCH_PARAMS:
        model, spent, _ = fit(name, splits, args.epochs, args.batch, args.lr, args.device, dtype, args.seed)
        m = model.evaluate(DataLoader(splits.test, batch_size=64, collate_fn=splits.collate))
        trained[name] = model
        out["models"][name] = {**m, "train_s": spent}
        print(f"{name:<15}{m['R@1,IoU=0.5']:>11.2f}{m['R@1,IoU=0.7']:>11.2f}{m['mIoU']:>8.2f}{spent:>9.1f}")
    seeds = list(range(args.seed, args.seed + args.seeds))
    print(f"\nearly-epoch test mIoU (2D-TAN), epochs 1..{args.early_epochs}, mean (min-max) of seeds {seeds}")
    runs = {"2D-TAN + proxies": ("tan2d_proxies", args.batch), "2D-TAN": ("tan2d", args.batch),
            f"2D-TAN batch {2 * args.batch}": ("tan2d", 2 * args.batch)}
    out["early"] = {}
    for label, (name, bs) in runs.items():
        curves = np.array([fit(name, splits, args.early_epochs, bs, args.lr, args.device, dtype, s,
                               evaluate_each=True)[2] for s in seeds])
        out["early"][label] = curves.tolist()
        cells = [f"{c.mean():5.1f} ({c.min():.1f}-{c.max():.1f})" for c in curves.T]
        print(f"  {label:<18}" + "".join(f"{c:>20}" for c in cells))
    print("\nper-query search over the test videos, same proposals (2D-TAN: full forward per video; "
          "FVMR: query encoder + one matrix product over the indexed moment vectors)")
    t_f, t_t, n_v = per_query_times(trained["tan2d"], trained["fvmr"], splits, args.device, 50)
    p = len(trained["fvmr"]._rows)
    out["timing"] = {"bench": {"fvmr_ms": t_f, "tan2d_ms": t_t, "videos": n_v, "proposals": p}}
    print(f"  bench sizes : {n_v} videos x {p} proposals: FVMR {t_f:.3f} ms, 2D-TAN {t_t:.2f} ms "
          f"({t_t / max(t_f, 1e-9):.0f}x)")
    if args.paper_queries:
        torch.manual_seed(0)
        big = {k: build_model(k, v, splits.info).to(args.device) for k, v in PAPER_PARAMS.items()}
        t_f, t_t, n_v = per_query_times(big["tan2d"], big["fvmr"], splits, args.device, args.paper_queries,
                                        args.paper_videos)
        out["timing"]["paper"] = {"fvmr_ms": t_f, "tan2d_ms": t_t, "videos": n_v, "proposals": p,
                                  "queries": args.paper_queries}
        print(f"  paper sizes : {n_v} videos x {p} proposals: FVMR {t_f:.3f} ms, 2D-TAN {t_t:.1f} ms "
              f"({t_t / max(t_f, 1e-9):.0f}x)  [random weights, {args.paper_queries} queries]")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="fp32", choices=["fp32", "bf16"])
    ap.add_argument("--videos", type=int, default=160, help="planted-feature videos")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--early-epochs", type=int, default=4)
    ap.add_argument("--seeds", type=int, default=2, help="seeds averaged in the early-epoch comparison")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--paper-queries", type=int, default=3, help="queries timed at paper sizes (0: skip)")
    ap.add_argument("--paper-videos", type=int, default=8, help="videos per query at paper sizes")
    ap.add_argument("--work", default="", help="rendered synthetic benchmark dir: adds the real-feature suite")
    ap.add_argument("--real-videos", type=int, default=240, help="videos to render when --work is new")
    ap.add_argument("--experts", default="effnet_lite0,whisper_audio")
    ap.add_argument("--no-planted", action="store_true", help="only the real-feature suite")
    ap.add_argument("--json", default="", help="write all numbers here")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.threads:
        torch.set_num_threads(args.threads)
    dtype = torch.bfloat16 if args.dtype == "bf16" else torch.float32
    results: dict[str, Any] = {"args": vars(args), "torch": torch.__version__}
    if not args.no_planted:
        splits = build_dataset("synth_moments", {"n_videos": args.videos, "n_clips": 16, "seed": args.seed})
        results["planted"] = run_suite(f"planted features (synth_moments, {args.videos} videos)", splits,
                                       args, dtype, None)
    if args.work:
        work = Path(args.work)
        experts = [e for e in args.experts.split(",") if e]
        splits = real_splits(work, experts, args.real_videos, args.seed, args.device)
        zs = zero_shot_localization(work / "collection", splits)
        results["real"] = run_suite(f"extracted features ({work}, {'+'.join(experts)})", splits, args, dtype, zs)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
