"""Give freed heap memory back to the OS between chunks (glibc `malloc_trim`).

A long extraction allocates and frees frames, tensors and features for every chunk on two
threads (the prefetch producer and the experts); glibc keeps the freed pages of every arena
mapped, and how many depends on timing, so max RSS crept up with the video's length (PyAV,
effnet_lite0, 640x360: 1.13-1.20x from 1 to 20 minutes; 1.06-1.08x trimming after each chunk,
docs/reliability.md). Elsewhere than glibc (musl, macOS) this is a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import time
from collections.abc import Callable

MIN_INTERVAL_S = 0.25  # trimming walks every arena: not more often than this


def _load() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        fn = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    fn.argtypes, fn.restype = [ctypes.c_size_t], ctypes.c_int
    return fn


_TRIM = _load()
_last = [0.0]


def release_free_memory(force: bool = False) -> bool:
    """Return free heap pages to the OS (at most every MIN_INTERVAL_S unless `force`).
    True when a trim ran."""
    now = time.monotonic()
    if _TRIM is None or (not force and now - _last[0] < MIN_INTERVAL_S):
        return False
    _TRIM(0)
    _last[0] = time.monotonic()
    return True
