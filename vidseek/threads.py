"""One BLAS thread for latency-bound work (a query), all of them for throughput.

numpy's OpenBLAS splits even a (10 x 384) @ (384 x 1536) product over its threads; on a small,
loaded box a descheduled helper thread turns a 35 ms MiniLM query encode into 200-1,200 ms
(measured, bench/query.py). `one_blas_thread()` limits BLAS to the calling thread for the
duration (threadpoolctl: the library's own set_num_threads, ~0.1 ms per use); big batches
(indexing transcripts, label prompts) are left alone.
The limit is process-wide (BLAS has one thread count): overlapping uses from several threads
(the app's request threads) may restore in the wrong order and leave BLAS at one thread, which
is what a query-serving process wants anyway.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

_CONTROLLER: list[Any] = []


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    try:
        if not _CONTROLLER:
            from threadpoolctl import ThreadpoolController

            _CONTROLLER.append(ThreadpoolController())
        limit = _CONTROLLER[0].limit(limits=1, user_api="blas")
    except Exception:  # noqa: BLE001 - no threadpoolctl / unknown BLAS: run as is
        yield
        return
    with limit:
        yield
