"""Joint embeddings on the synthetic benchmark: render, extract, train JEMC and MMT, print a table.

    .venv/bin/python bench/train.py --videos 200 --experts effnet_lite0,whisper_audio \
        --work /tmp/vidseek-bench-train [--device cuda] [--epochs 30] [--train-seed 0]

Each model trains at its own defaults (`vidseek train MODEL` with no flags: the card's `train`
defaults, then TrainConfig's) unless --epochs / --batch-size / --lr are given.

Reports text->video R@1/5/10 and MdR on the test split against chance, the pair accuracy
(caption scores its own video above its same-words distractor; 50% = chance, where a bag of
words sits), and training wall time. Rendering and extraction are skipped when already done.
The zero-shot baseline (`vidseek index` zero-shot spaces + the search fusion, no training)
ranks the same test videos for the same test captions (`--no-zero-shot` skips it). The table
is also written to WORK/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch


def pair_accuracy(model, splits, scenes: dict[str, dict]) -> float:
    """% of test captions that score their own video above their distractor (ties 1/2)."""
    from torch.utils.data import DataLoader

    loader = DataLoader(splits.test, batch_size=256, collate_fn=splits.collate)
    scores, gt, vids = model.score_loader(loader)
    index = {v: i for i, v in enumerate(vids)}
    fam: dict[int, list[str]] = {}
    for v in vids:
        fam.setdefault(scenes[v]["family"], []).append(v)
    acc = []
    for c, g in enumerate(gt):
        mates = [m for m in fam[scenes[vids[g]]["family"]] if m != vids[g]]
        if not mates:
            continue
        own, other = scores[c, g], scores[c, index[mates[0]]]
        acc.append(1.0 if own > other else 0.5 if own == other else 0.0)
    return 100.0 * float(np.mean(acc)) if acc else float("nan")


def _pair_acc(scores: np.ndarray, gt: np.ndarray, vids: list[str], scenes: dict[str, dict]) -> float:
    """pair_accuracy on an already computed (captions, videos) score matrix."""
    index = {v: i for i, v in enumerate(vids)}
    acc = []
    for c, g in enumerate(gt):
        mates = [m for m in vids if m != vids[g] and scenes[m]["family"] == scenes[vids[g]]["family"]]
        if mates:
            own, other = scores[c, g], scores[c, index[mates[0]]]
            acc.append(1.0 if own > other else 0.5 if own == other else 0.0)
    return 100.0 * float(np.mean(acc)) if acc else float("nan")


def zero_shot(collection: Path, test_rows: list, scenes: dict[str, dict]) -> tuple[dict[str, float], float, float]:
    """(t2v metrics, pair %, seconds) of zero-shot search: every test caption ranks the test
    videos (each scored by its best fused moment, as `vidseek search --videos` ranks them)."""
    from vidseek.metrics.retrieval import ranks_from_scores, retrieval_metrics
    from vidseek.pipelines.index import IndexConfig, build_index
    from vidseek.search.engine import SearchOptions, open_searcher

    t0 = time.monotonic()
    build_index(IndexConfig(collection=str(collection), progress=False))
    searcher = open_searcher(collection)
    vids = sorted({r.video for r in test_rows})
    opts = SearchOptions(candidates=1, max_videos=1, explain=False)
    scores = np.full((len(test_rows), len(vids)), -np.inf)
    for c, r in enumerate(test_rows):
        res = searcher.rank(r.caption, opts, include=vids)
        for j, v in enumerate(vids):
            got = res.get(v)
            if got is not None and np.isfinite(got.score):
                scores[c, j] = got.score
    gt = np.array([vids.index(r.video) for r in test_rows])
    m = retrieval_metrics(ranks_from_scores(scores, gt))
    return {f"t2v_{k}": v for k, v in m.items()}, _pair_acc(scores, gt, vids, scenes), time.monotonic() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--videos", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--experts", default="effnet_lite0,whisper_audio")
    ap.add_argument("--work", default="/tmp/vidseek-bench-train")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--epochs", type=int, default=None, help="default: each model's")
    ap.add_argument("--batch-size", type=int, default=None, help="default: each model's")
    ap.add_argument("--lr", type=float, default=None, help="default: each model's")
    ap.add_argument("--train-seed", type=int, default=None, help="default: --seed")
    ap.add_argument("--models", default="jemc,mmt")
    ap.add_argument("--n-bins", type=int, default=16, help="time bins per video (16: the dataset default)")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads for training")
    ap.add_argument("--random-weights", action="store_true", help="experts with random weights (timing only)")
    ap.add_argument("--no-zero-shot", action="store_true", help="skip the zero-shot search baseline")
    args = ap.parse_args()

    from vidseek.models.cards import build_dataset, model_card
    from vidseek.models.datasets.synth import bow_pair_accuracy, make_scenes
    from vidseek.models.rundir import RunDir
    from vidseek.models.training import TrainConfig, train
    from vidseek.pipelines.extract import ExtractConfig, extract_collection
    from vidseek.pipelines.synth import SynthConfig, synth

    work = Path(args.work)
    experts = [e for e in args.experts.split(",") if e]
    t0 = time.monotonic()
    synth(SynthConfig(out=str(work), videos=args.videos, seed=args.seed, progress=False))
    t_synth = time.monotonic() - t0
    t0 = time.monotonic()
    rc = extract_collection(ExtractConfig(paths=[str(work / "videos")], collection=str(work / "collection"),
                                          experts=experts, device=args.device, progress=False,
                                          random_weights=args.random_weights))
    t_extract = time.monotonic() - t0
    if rc == 2:
        return rc
    scenes = {json.loads(x)["video"]: json.loads(x) for x in (work / "scenes.jsonl").read_text().splitlines()}
    dparams = {"path": str(work), "experts": experts, "n_bins": args.n_bins}
    splits = build_dataset("synth", dparams)
    rows = []
    given = {k: v for k, v in (("epochs", args.epochs), ("batch_size", args.batch_size), ("lr", args.lr))
             if v is not None}
    for name in args.models.split(","):
        out = work / "runs" / name
        shutil.rmtree(out, ignore_errors=True)
        cfg = TrainConfig.from_dict({
            **model_card(name).train, **given, "model": name, "dataset": "synth", "out": str(out),
            "seed": args.seed if args.train_seed is None else args.train_seed, "device": args.device,
            "progress": False, "num_threads": args.threads if args.device == "cpu" else None,
            "dataset_params": dparams})
        t0 = time.monotonic()
        res = train(cfg, splits=splits)
        secs = time.monotonic() - t0
        model = RunDir.open(out).load()
        rows.append((name, res["test"], pair_accuracy(model, splits, scenes), secs, res["best_epoch"], cfg))
    zs = None
    if not args.no_zero_shot:
        zs = zero_shot(work / "collection", list(splits.test.rows), scenes)
    all_scenes = make_scenes(args.videos, args.seed)
    bow = bow_pair_accuracy(all_scenes)["all"]
    n_test = len({r.video for r in splits.test.rows})
    print(f"\nsynthetic benchmark: {args.videos} videos ({n_test} test), experts {experts}, "
          f"device {args.device}, torch threads {args.threads}; render {t_synth:.0f} s, "
          f"extract {t_extract:.0f} s")
    print(f"{'model':8} {'R@1':>6} {'R@5':>6} {'R@10':>6} {'MdR':>5} {'pair%':>6} {'train s':>8} {'best ep':>7}"
          "  epochs/batch/lr")
    print(f"{'chance':8} {100 / n_test:6.1f} {500 / n_test:6.1f} {1000 / n_test:6.1f} {n_test / 2:5.1f} {50.0:6.1f}")
    print(f"{'BoW':8} {'':>6} {'':>6} {'':>6} {'':>5} {bow:6.1f}")
    if zs is not None:
        m, pair, secs = zs
        print(f"{'zeroshot':8} {m['t2v_R@1']:6.1f} {m['t2v_R@5']:6.1f} {m['t2v_R@10']:6.1f} "
              f"{m['t2v_MdR']:5.1f} {pair:6.1f} {secs:8.1f}   (index+search)")
    for name, m, pair, secs, ep, c in rows:
        print(f"{name:8} {m['t2v_R@1']:6.1f} {m['t2v_R@5']:6.1f} {m['t2v_R@10']:6.1f} "
              f"{m['t2v_MdR']:5.1f} {pair:6.1f} {secs:8.1f} {ep:7d}  {c.epochs}/{c.batch_size}/{c.lr:g}")
    (work / "results.json").write_text(json.dumps({
        "videos": args.videos, "test_videos": n_test, "test_captions": len(splits.test.rows),
        "experts": experts, "device": args.device, "threads": args.threads, "n_bins": args.n_bins,
        "render_s": t_synth, "extract_s": t_extract, "bow_pair": bow,
        "zero_shot": None if zs is None else {**zs[0], "pair": zs[1], "seconds": zs[2]},
        "models": {name: {**m, "pair": pair, "train_s": secs, "best_epoch": ep, "epochs": c.epochs,
                          "batch_size": c.batch_size, "lr": c.lr, "seed": c.seed}
                   for name, m, pair, secs, ep, c in rows}}, indent=1))
    print(f"torch {torch.__version__}, cpu count {os.cpu_count()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
