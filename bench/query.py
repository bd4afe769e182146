"""Where the user waits on a query: cold `vidseek search`, `vidseek --help`, and warm queries
through the Python API, for one or more code trees side by side in one run.

    .venv/bin/python bench/query.py --collection /tmp/col                # the 13 real clips
    .venv/bin/python bench/query.py --synthetic 1e6                      # 1e6 synthetic windows
    .venv/bin/python bench/query.py --collection /tmp/col --code /tmp/base,.   # before / after
    .venv/bin/python bench/query.py --collection /tmp/col --profile      # cProfile top functions

Every measurement runs in a fresh subprocess with PYTHONPATH set to the code tree, so trees
are compared on the same collection under the same load (quote the ratios; print `uptime`).
- cold: wall time of `python -m vidseek.cli search QUERY --collection DIR` (best of --cold-runs)
  and of `python -m vidseek.cli --help`;
- warm: `vidseek.open_collection(DIR).search(query, top=10)` after one warm-up query, over
  --queries queries that are all new to the process (the query-embedding cache never hits):
  p50 / p95 ms; `--profile` prints the top functions by cumulative and own time.
The synthetic collection (`--synthetic N`, kept in --synthetic-dir for reuse) is built through
the real index code: windows of 100 per video, each video drawn around 3 of 1,000 "scene"
centres that are MiniLM embeddings of caption-like sentences (so text queries land near some),
an IVF index from `choose_factory` trained and tuned as SpaceIndex does (bench/search.py's
`build`), its rows in the catalog; one space `bench` (MiniLM queries, no features to explain).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve()
SUBJECTS = ("a man", "a woman", "a child", "a dog", "a cat", "two people", "a crowd", "a chef",
            "a cyclist", "a teacher", "a bird", "a horse", "a robot", "a band", "a player")
ACTIONS = ("rides a bicycle", "cooks pasta", "plays guitar", "jumps into a lake", "explains a graph",
           "runs across a field", "dances on a stage", "throws a ball", "reads a book",
           "climbs a wall", "drives a car", "paints a picture", "swims in the sea",
           "opens a laptop", "writes on a whiteboard", "eats an apple", "flips a pancake")
PLACES = ("at night", "in the rain", "in a kitchen", "on a beach", "in a classroom", "in a park",
          "on a street", "in the snow", "at a wedding", "in an office")


def sentences(seed: int, n: int) -> list[str]:
    """n distinct caption-like sentences (seeded order)."""
    combos = list(itertools.product(SUBJECTS, ACTIONS, PLACES))
    random.Random(seed).shuffle(combos)
    return [" ".join(c) for c in combos[:n]]


# ---- the synthetic collection -----------------------------------------------------------------
def register_bench_space() -> None:
    """The `bench` space: MiniLM queries over the stored vectors; nothing to explain."""
    from vidseek.search.spaces import SPACES, Space, query_encoder

    class BenchSpace(Space):
        def __init__(self, ctx) -> None:  # type: ignore[no-untyped-def]
            self.name, self.experts, self.dim, self.identity = "bench", ("bench",), 384, "bench"
            self.encode = query_encoder(ctx.encoder)

        def embed_video(self, feats):  # type: ignore[no-untyped-def]
            raise NotImplementedError("bench vectors are made in bench/query.py")

        def embed_query(self, query: str) -> np.ndarray:
            return self.encode(query)

    if "bench" not in SPACES:
        SPACES.add("bench", BenchSpace)


def build_synthetic(root: Path, n: int) -> None:
    sys.path.insert(0, str(HERE.parent))
    from search import build, make_queries  # bench/search.py: the same build as its table

    from vidseek.index import SpaceIndex
    from vidseek.index.settings import write_settings
    from vidseek.index.vector_index import choose_factory, normalize
    from vidseek.search.engine import load_encoder
    from vidseek.store import FeatureStore
    from vidseek.types import IndexSettings

    t0 = time.perf_counter()
    enc = load_encoder("minilm")
    centres = enc(sentences(0, 1000))
    rng = np.random.default_rng(0)
    per_video, n_videos = 100, n // 100
    scenes = rng.integers(0, len(centres), (n_videos, 3))
    data = np.empty((n_videos * per_video, 384), np.float32)
    for s in range(0, n_videos, 1000):
        vids = np.arange(s, min(s + 1000, n_videos))
        which = scenes[vids][:, (np.arange(per_video) * 3) // per_video]  # 3 scenes in turn
        noise = rng.standard_normal((len(vids), per_video, 384), dtype=np.float32) * (0.6 / np.sqrt(384))
        data[s * per_video:(s + len(vids)) * per_video] = (centres[which] + noise).reshape(-1, 384)
    data = normalize(data)
    factory = choose_factory(len(data), 384)
    idx, build_s = build(data, factory, make_queries(data, 128, seed=3))
    root.mkdir(parents=True, exist_ok=True)
    with FeatureStore(root) as store:
        si = SpaceIndex(store, "bench", 384, "bench")
        idx.save(si.path)
        ids = np.arange(len(data))
        rows = {int(i): (f"v{i // per_video:06d}", float(i % per_video), float(i % per_video + 1),
                         int(i % per_video)) for i in ids.tolist()}
        store.catalog.commit_index_rows("bench", (), rows, idx.factory, 384, "bench", len(data))
        write_settings(store, IndexSettings("minilm", {}, {}))
    (root / "BENCH").write_text(json.dumps({"n": len(data), "factory": idx.factory,
                                            "build_s": round(build_s, 1)}))
    print(f"synthetic collection {root}: {len(data)} windows, {idx.factory} "
          f"(nprobe {idx.nprobe}), built in {time.perf_counter() - t0:.0f} s", flush=True)


# ---- workers (run in a subprocess under each code tree) -----------------------------------------
def worker_warm(root: str, queries: list[str], profile: bool, synthetic: bool) -> None:
    t0 = time.perf_counter()
    import vidseek

    if synthetic:
        register_bench_space()
    col = vidseek.open_collection(root)
    col.search("warm up the searcher", top=10)
    opened = time.perf_counter() - t0
    ts = []
    prof = None
    if profile:
        import cProfile

        prof = cProfile.Profile()
    for q in queries:
        t = time.perf_counter()
        if prof is not None:
            prof.enable()
        hits = col.search(q, top=10)
        if prof is not None:
            prof.disable()
        ts.append((time.perf_counter() - t) * 1e3)
        assert hits, q
    out = {"open_s": opened, "p50": float(np.percentile(ts, 50)), "p95": float(np.percentile(ts, 95)),
           "n": len(ts)}
    if prof is not None:
        import io
        import pstats

        for key in ("cumulative", "tottime"):
            buf = io.StringIO()
            pstats.Stats(prof, stream=buf).sort_stats(key).print_stats(14)
            out[key] = buf.getvalue()
    print("RESULT " + json.dumps(out))


def run_worker(code: Path, args: list[str]) -> dict:
    env = {**os.environ, "PYTHONPATH": str(code)}
    proc = subprocess.run([sys.executable, str(HERE), *args], env=env, capture_output=True,
                          text=True, cwd=str(code))
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return dict(json.loads(line[7:]))
    raise SystemExit(f"worker under {code} failed: {(proc.stderr or proc.stdout).strip()[-600:]}")


def cold(code: Path, root: str, query: str, runs: int) -> tuple[float, float]:
    env = {**os.environ, "PYTHONPATH": str(code)}
    best_search = best_help = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.run([sys.executable, "-m", "vidseek.cli", "search", query, "--collection", root],
                           env=env, capture_output=True, text=True, cwd=str(code))
        best_search = min(best_search, time.perf_counter() - t)
        if p.returncode != 0:
            raise SystemExit(f"vidseek search under {code} failed: {p.stderr.strip()[-400:]}")
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "vidseek.cli", "--help"], env=env, capture_output=True,
                       cwd=str(code), check=True)
        best_help = min(best_help, time.perf_counter() - t)
    return best_search, best_help


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--collection", help="a collection folder (e.g. a copy of the 13 real clips)")
    ap.add_argument("--synthetic", type=float, default=None, help="windows of a synthetic collection")
    ap.add_argument("--synthetic-dir", default="/tmp/vidseek-bench-synthetic")
    ap.add_argument("--code", default=str(HERE.parents[1]), help="comma-separated code trees")
    ap.add_argument("--queries", type=int, default=40)
    ap.add_argument("--cold-runs", type=int, default=3)
    ap.add_argument("--no-cold", action="store_true")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--worker", choices=["warm"], help=argparse.SUPPRESS)
    ap.add_argument("--queries-json", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker_warm(args.collection, json.loads(args.queries_json or "[]"), args.profile,
                    args.synthetic is not None)
        return
    targets: list[tuple[str, str, bool]] = []
    if args.collection:
        targets.append(("collection", args.collection, False))
    if args.synthetic:
        n = int(args.synthetic)
        root = Path(args.synthetic_dir) / f"n{n}"
        if not (root / "BENCH").exists():
            build_synthetic(root, n)
        targets.append((f"synthetic {n:.0e}", str(root), True))
    if not targets:
        raise SystemExit("give --collection and/or --synthetic")
    codes = [Path(c).resolve() for c in args.code.split(",")]
    print(f"load: {os.getloadavg()[0]:.1f} (1 min), {os.cpu_count()} cpus; "
          f"{args.queries} new queries per warm run")
    print(f"{'target':<18} {'code':<28} {'cold search s':>13} {'--help s':>9} {'open s':>7} "
          f"{'warm p50 ms':>11} {'p95 ms':>8}")
    qs = sentences(1, args.queries + 1000)[1000:]  # not the scene sentences of the synthetic set
    for name, root, synthetic in targets:
        for code in codes:
            cs, ch = (float("nan"), float("nan")) if args.no_cold or synthetic else \
                cold(code, root, qs[0], args.cold_runs)
            wargs = ["--worker", "warm", "--collection", root, "--queries-json", json.dumps(qs)]
            if synthetic:
                wargs += ["--synthetic", "1"]
            if args.profile:
                wargs.append("--profile")
            w = run_worker(code, wargs)
            print(f"{name:<18} {str(code)[-28:]:<28} {cs:>13.2f} {ch:>9.2f} {w['open_s']:>7.2f} "
                  f"{w['p50']:>11.1f} {w['p95']:>8.1f}", flush=True)
            for key in ("cumulative", "tottime"):
                if key in w:
                    print(f"--- profile by {key} ({code})\n" + "\n".join(
                        ln for ln in w[key].splitlines() if ln.strip())[:3000])
    print(f"load after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
