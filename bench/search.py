"""Index build time, single-query latency and recall@10 vs exact, at several collection sizes.

    .venv/bin/python bench/search.py                      # 1e3, 1e5, 1e6 windows, 384-d
    .venv/bin/python bench/search.py --sizes 1e3,1e5      # a subset
    .venv/bin/python bench/search.py --sizes 1e6 --mem-budget 2e9   # force the IVF class

Data: L2-normalised vectors around --clusters Gaussian centres (1,000 by default: windows of
real embeddings cluster by scene and concept; `--clusters 0` gives structureless Gaussians,
the hardest case for any ANN index). Queries: noisy copies of stored vectors (cosine ~0.9 to
their source). Rows per size: the factory `choose_factory` picks, built the way SpaceIndex
builds it (IVF trained on max(1e5, 39 per list) rows, then efSearch / nprobe tuned to the
smallest value with recall@10 >= 0.95 on separate tuning queries), the older default HNSW32
(`--compare`), and exact Flat.
Past --in-memory-max windows (default 2e6) nothing holds all vectors: they are generated in
seeded chunks of 1e5 (regenerated, never stored), exact neighbours come from a chunked
brute-force pass, the index is trained on the first chunks, filled chunk by chunk, tuned with
`exact_search` in blocks, saved and re-opened memory-mapped (IVF lists on disk), and timed
there; only the chosen factory (or --factory) is built. Reported beside it: the index file's
size and the process's resident memory after the mapped searches.

    .venv/bin/python bench/search.py --sizes 1e7 --mem-budget 2e9 --no-e2e       # OPQ/IVF/PQ
    .venv/bin/python bench/search.py --sizes 3e6 --factory IVF2048,PQ48 --no-e2e  # faster to train
"e2e" (when vidseek.search.engine imports): MiniLM query encoding + SpaceIndex
shortlist (k=100) + exact window scores of the top 10 videos (100 windows each) + fusion.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

from vidseek.index.vector_index import (
    VectorIndex,
    choose_factory,
    normalize,
    recall_at_k,
    train_size,
)

WINDOWS_PER_VIDEO = 100
CHUNK = 100_000


def make_data(n: int, dim: int, seed: int = 0, clusters: int = 1000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((max(clusters, 1), dim), dtype=np.float32)
    out = np.empty((n, dim), np.float32)
    for s in range(0, n, 100_000):
        m = min(100_000, n - s)
        noise = rng.standard_normal((m, dim), dtype=np.float32)
        out[s : s + m] = noise if clusters <= 0 else centres[rng.integers(0, clusters, m)] + 0.6 * noise
    faiss.normalize_L2(out)
    return out


def data_chunks(n: int, dim: int, seed: int = 0, clusters: int = 1000):  # type: ignore[no-untyped-def]
    """(start, (m, dim) unit vectors) for chunks of CHUNK rows; chunk i is seeded by (seed, i),
    so any chunk can be regenerated alone."""
    centres = np.random.default_rng(seed).standard_normal((max(clusters, 1), dim), dtype=np.float32)
    for i, s in enumerate(range(0, n, CHUNK)):
        rng = np.random.default_rng([seed, i])
        m = min(CHUNK, n - s)
        noise = rng.standard_normal((m, dim), dtype=np.float32)
        out = noise if clusters <= 0 else centres[rng.integers(0, clusters, m)] + 0.6 * noise
        faiss.normalize_L2(out)
        yield s, out


def chunked_truth(n: int, dim: int, clusters: int, queries: np.ndarray, k: int) -> np.ndarray:
    best_s = np.full((len(queries), k), -np.inf, np.float32)
    best_i = np.full((len(queries), k), -1, np.int64)
    for s, x in data_chunks(n, dim, clusters=clusters):
        flat = faiss.IndexFlatIP(dim)
        flat.add(x)
        sc, pos = flat.search(queries, k)
        cs, ci = np.concatenate([best_s, sc], 1), np.concatenate([best_i, pos + s], 1)
        top = np.argsort(-cs, axis=1, kind="stable")[:, :k]
        best_s, best_i = np.take_along_axis(cs, top, 1), np.take_along_axis(ci, top, 1)
    return best_i


def build_chunked(n: int, dim: int, clusters: int, factory: str, tune_q: np.ndarray) -> tuple[VectorIndex, float]:
    t0 = time.perf_counter()
    want = train_size(factory, n)
    parts, have = [], 0
    for _, x in data_chunks(n, dim, clusters=clusters):
        if have >= want:
            break
        parts.append(x[: want - have])
        have += len(parts[-1])
    idx = VectorIndex.create(dim, factory, np.concatenate(parts))
    del parts
    for s, x in data_chunks(n, dim, clusters=clusters):
        idx.add(x, np.arange(s, s + len(x)))
    idx.tune(tune_q, target=0.95, k=10)
    return idx, time.perf_counter() - t0


def rss_mb() -> float:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except OSError:
        return float("nan")


def run_chunked(n: int, args: argparse.Namespace, factory: str) -> None:
    first = next(data_chunks(min(n, CHUNK), args.dim, clusters=args.clusters))[1]
    queries = make_queries(first, args.queries, seed=2)
    tune_q = make_queries(first, 128, seed=3)
    t0 = time.perf_counter()
    truth = chunked_truth(n, args.dim, args.clusters, queries, 10)
    exact_s = time.perf_counter() - t0
    idx, build_s = build_chunked(n, args.dim, args.clusters, factory, tune_q)
    nprobe = idx.nprobe
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.faiss"
        idx.save(path)
        del idx
        size_mb = path.stat().st_size / 1e6
        before = rss_mb()
        mapped = VectorIndex.load(path, mmap=True)
        p50, p95 = latency(lambda q: mapped.search(q, args.k), queries)
        rec = recall_at_k(mapped.search(queries, 10)[1], truth)
        after = rss_mb()
        tag = factory + ("" if args.factory else " *")
        print(f"{n:>9} {tag:<22} {'nprobe=' + str(nprobe):<14} {build_s:>8.2f} {p50:>8.2f} {p95:>8.2f} {rec:>6.3f}  "
              f"file {size_mb:.0f} MB, RSS {before:.0f} -> {after:.0f} MB (mapped), exact pass {exact_s:.0f} s",
              flush=True)


def make_queries(data: np.ndarray, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    src = data[rng.integers(0, len(data), n)]
    return normalize(src + 0.5 * rng.standard_normal(src.shape, dtype=np.float32) / np.sqrt(src.shape[1]))


def build(data: np.ndarray, factory: str, tune_q: np.ndarray) -> tuple[VectorIndex, float]:
    t0 = time.perf_counter()
    train = None
    if factory != "Flat" and not factory.startswith("HNSW"):
        rng = np.random.default_rng(1)
        train = data[rng.choice(len(data), train_size(factory, len(data)), replace=False)]
    idx = VectorIndex.create(data.shape[1], factory, train)
    for s in range(0, len(data), 100_000):
        idx.add(data[s : s + 100_000], np.arange(s, min(s + 100_000, len(data))))
    if factory != "Flat":
        idx.tune(tune_q, target=0.95, k=10)
    return idx, time.perf_counter() - t0


def latency(fn, queries: np.ndarray) -> tuple[float, float]:
    fn(queries[0])  # warm
    ts = []
    for q in queries:
        t0 = time.perf_counter()
        fn(q)
        ts.append((time.perf_counter() - t0) * 1e3)
    return float(np.percentile(ts, 50)), float(np.percentile(ts, 95))


def e2e_latency(idx: VectorIndex, texts: list[str]) -> str:
    """Open a SpaceIndex over this index in a temp collection and time text -> fused curves."""
    try:
        from vidseek.search.engine import load_encoder
        from vidseek.search.fusion import Normaliser, fuse
    except Exception as err:  # noqa: BLE001 - another part; absent or broken means n/a
        return f"n/a ({type(err).__name__})"
    from vidseek.index import SpaceIndex
    from vidseek.store import FeatureStore

    try:
        enc = load_encoder("minilm")
        if enc.dim != idx.dim:
            return f"n/a (minilm dim {enc.dim})"
    except Exception as err:  # noqa: BLE001 - weights missing offline
        return f"n/a ({type(err).__name__})"
    with tempfile.TemporaryDirectory() as tmp, FeatureStore(Path(tmp) / "coll") as store:
        space = "bench"
        si = SpaceIndex(store, space, idx.dim, "bench")  # creates the tables
        idx.save(si.path)
        ids = idx.ids()
        starts = (ids % WINDOWS_PER_VIDEO).astype(float)
        rows = {int(i): (f"v{i // WINDOWS_PER_VIDEO}", s, s + 1.0, int(i % WINDOWS_PER_VIDEO))
                for i, s in zip(ids.tolist(), starts.tolist(), strict=True)}
        store.catalog.commit_index_rows(space, (), rows, idx.factory, idx.dim, "bench", len(ids))
        si = SpaceIndex(store, space, idx.dim, "bench")

        def one(text: str) -> None:
            q = enc([text])[0]
            vids: list[str] = []
            for h in si.search(q, 100):
                if h.video not in vids:
                    vids.append(h.video)
            windows = {v: si.window_scores(q, v) for v in vids[:10]}
            norm = Normaliser.fit([s for _, s in windows.values()])
            for v, (t, s) in windows.items():
                fuse(v, float(WINDOWS_PER_VIDEO), {space: (t, s)}, {space: norm})

        one("warm up")
        ts = []
        for text in texts:
            t0 = time.perf_counter()
            one(text)
            ts.append((time.perf_counter() - t0) * 1e3)
    return f"{np.percentile(ts, 50):.1f} / {np.percentile(ts, 95):.1f}"


QUERY_TEXTS = [
    "a man rides a bicycle down a hill", "people dancing at a wedding", "a dog catches a frisbee",
    "someone cooking pasta in a kitchen", "cars driving in the rain at night", "a child laughing",
    "a goal is scored in a football match", "waves crashing on rocks", "a cat jumps onto a table",
    "a person giving a speech on stage",
] * 3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1e3,1e5,1e6", help="comma-separated window counts")
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--queries", type=int, default=200, help="latency / recall queries")
    ap.add_argument("--k", type=int, default=100, help="k for the latency queries")
    ap.add_argument("--mem-budget", type=float, default=None, help="bytes for choose_factory")
    ap.add_argument("--no-e2e", action="store_true")
    ap.add_argument("--clusters", type=int, default=1000, help="Gaussian clusters in the data; 0: none")
    ap.add_argument("--in-memory-max", type=float, default=2e6, help="past this, chunked (see above)")
    ap.add_argument("--factory", default=None, help="build this instead of choose_factory's pick")
    ap.add_argument("--compare", default="HNSW32", help="comma-separated factories built beside the pick ('' for none)")
    args = ap.parse_args()
    budget = int(args.mem_budget) if args.mem_budget else None

    print(f"faiss {faiss.__version__}, {faiss.omp_get_max_threads()} threads, dim {args.dim}, "
          f"{args.clusters or 'no'} clusters, "
          f"single queries, k={args.k} (latency), recall@10 vs exact on {args.queries} queries")
    head = f"{'n':>9} {'factory':<22} {'knob':<14} {'build s':>8} {'p50 ms':>8} {'p95 ms':>8} {'R@10':>6}  e2e p50/p95 ms"
    print(head)
    print("-" * len(head))
    for n in (int(float(s)) for s in args.sizes.split(",")):
        if n > args.in_memory_max:
            run_chunked(n, args, args.factory or choose_factory(n, args.dim, budget))
            continue
        data = make_data(n, args.dim, clusters=args.clusters)
        queries = make_queries(data, args.queries, seed=2)
        tune_q = make_queries(data, 128, seed=3)
        exact = faiss.IndexFlatIP(args.dim)
        exact.add(data)
        truth = exact.search(queries, 10)[1]
        del exact
        chosen = args.factory or choose_factory(n, args.dim, budget)
        extra = [f for f in args.compare.split(",") if f and n > 100_000]
        for factory in dict.fromkeys([chosen, *extra, "Flat"]):
            idx, build_s = build(data, factory, tune_q)
            p50, p95 = latency(lambda q, idx=idx: idx.search(q, args.k), queries)
            rec = recall_at_k(idx.search(queries, 10)[1], truth)
            knob = (f"efSearch={idx.ef_search}" if idx.ef_search else
                    f"nprobe={idx.nprobe}" if idx.nprobe else "exact")
            e2e = "n/a" if args.no_e2e or factory != chosen else e2e_latency(idx, QUERY_TEXTS)
            tag = factory + (" *" if factory == chosen and not args.factory else "")
            print(f"{n:>9} {tag:<22} {knob:<14} {build_s:>8.2f} {p50:>8.2f} {p95:>8.2f} {rec:>6.3f}  {e2e}",
                  flush=True)
            del idx
    print("* = choose_factory's pick")


if __name__ == "__main__":
    main()
