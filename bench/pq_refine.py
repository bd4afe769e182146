"""Does product quantisation alone keep recall@10 on clustered windows? PQ vs PQ + exact re-rank.

    .venv/bin/python bench/pq_refine.py                  # 2e5 windows, ~10 CPU minutes (OPQ)
    .venv/bin/python bench/pq_refine.py --n 1e5 --factories IVF256,PQ48

The same data as bench/search.py (384-d, 1,000 Gaussian clusters, queries = noisy copies of
stored vectors). For each factory (built by VectorIndex.create, trained on 50k rows) and nprobe:
recall@10 vs exact search of the top 10 of the PQ scores, and of the top 10 after re-scoring
the PQ top R*10 with the stored vectors read from a float16 file on disk (np.memmap: what an
on-disk refine stage would do at 1e7, where the float32 vectors are 15 GB); p50 / p95 ms of one
query (PQ search + re-rank), and the index's bytes in memory (codes + ids + lists).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np
from search import make_data, make_queries

from vidseek.index.vector_index import VectorIndex, recall_at_k


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=float, default=2e5)
    ap.add_argument("--factories", default="OPQ64,IVF512,PQ64;IVF512,PQ48", help="';'-separated")
    ap.add_argument("--nprobe", default="8,32")
    ap.add_argument("--refine", default="1,10,50", help="re-rank the top R*10 (1: no re-rank)")
    args = ap.parse_args()
    n = int(args.n)
    data = make_data(n, 384)
    q = make_queries(data, 200, 2)
    exact = faiss.IndexFlatIP(384)
    exact.add(data)
    truth = exact.search(q, 10)[1]
    tmp = Path(tempfile.mkdtemp(prefix="pq-refine-"))
    on_disk = np.lib.format.open_memmap(tmp / "vectors.f16.npy", "w+", np.float16, data.shape)
    on_disk[:] = data
    on_disk.flush()
    del on_disk
    disk = np.load(tmp / "vectors.f16.npy", mmap_mode="r")
    print(f"n={n}, 384-d, 1000 clusters, 200 queries; recall@10 vs exact; re-rank from {disk.dtype} on disk")
    print(f"{'factory':<20} {'build s':>8} {'MB':>6} {'nprobe':>6} {'re-rank':>8} {'R@10':>6} {'p50 ms':>7} {'p95 ms':>7}")
    for factory in args.factories.split(";"):
        t0 = time.perf_counter()
        idx = VectorIndex.create(384, factory, data[: min(n, 50_000)])
        idx.add(data, np.arange(n))
        build_s = time.perf_counter() - t0
        mb = len(faiss.serialize_index(idx.index)) / 1e6
        for nprobe in (int(x) for x in args.nprobe.split(",")):
            idx.nprobe = nprobe
            for r in (int(x) for x in args.refine.split(",")):
                found, ts = [], []
                for qq in q:
                    t = time.perf_counter()
                    ids = idx.search(qq, 10 * r)[1][0]
                    if r > 1:
                        ok = ids[ids >= 0]
                        ids = ok[np.argsort(-(np.asarray(disk[ok], np.float32) @ qq))[:10]]
                    ts.append((time.perf_counter() - t) * 1e3)
                    found.append(np.pad(ids[:10], (0, max(0, 10 - len(ids[:10]))), constant_values=-1))
                rec = recall_at_k(np.stack(found), truth)
                print(f"{factory:<20} {build_s:>8.0f} {mb:>6.0f} {nprobe:>6} "
                      f"{('x' + str(r)) if r > 1 else 'none':>8} {rec:>6.3f} "
                      f"{np.percentile(ts, 50):>7.2f} {np.percentile(ts, 95):>7.2f}", flush=True)
    del disk
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
