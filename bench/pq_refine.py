"""Does product quantisation alone keep recall@10 on clustered windows? PQ vs PQ + exact re-rank.

    .venv/bin/python bench/pq_refine.py                  # 2e5 windows, ~10 CPU minutes (OPQ)
    .venv/bin/python bench/pq_refine.py --n 1e5 --factories IVF256,PQ48

The same data as bench/search.py (384-d, 1,000 Gaussian clusters, queries = noisy copies of
stored vectors). For each factory (built by VectorIndex.create, trained on 50k rows) and nprobe:
recall@10 vs exact search of the top 10 of the PQ scores, and of the top 10 after re-scoring
the PQ top R*10 with the exact vectors (what an on-disk refine stage would do at 1e7).
"""

from __future__ import annotations

import argparse
import time

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
    print(f"n={n}, 384-d, 1000 clusters, 200 queries; recall@10 vs exact")
    print(f"{'factory':<20} {'build s':>8} {'nprobe':>6} {'re-rank':>8} {'R@10':>6}")
    for factory in args.factories.split(";"):
        t0 = time.perf_counter()
        idx = VectorIndex.create(384, factory, data[: min(n, 50_000)])
        idx.add(data, np.arange(n))
        build_s = time.perf_counter() - t0
        for nprobe in (int(x) for x in args.nprobe.split(",")):
            idx.nprobe = nprobe
            for r in (int(x) for x in args.refine.split(",")):
                ids = idx.search(q, 10 * r)[1]
                if r > 1:
                    ids = np.stack([row[np.argsort(-(data[row] @ qq))[:10]] for qq, row in zip(q, ids, strict=True)])
                rec = recall_at_k(ids[:, :10], truth)
                print(f"{factory:<20} {build_s:>8.0f} {nprobe:>6} {('x' + str(r)) if r > 1 else 'none':>8} {rec:>6.3f}",
                      flush=True)


if __name__ == "__main__":
    main()
