"""release_free_memory: glibc's malloc_trim, rate-limited; freed pages go back to the OS."""

from __future__ import annotations

import platform

import numpy as np
import pytest

from vidseek.extract import memory


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))


@pytest.mark.skipif(platform.system() != "Linux" or memory._TRIM is None,
                    reason="malloc_trim is glibc's (Linux)")
def test_trim_returns_freed_small_blocks_to_the_os() -> None:
    # many small blocks (below the mmap threshold) freed except every 64th: the heap cannot
    # shrink from the top, so only a trim gives the pages between the survivors back
    blocks = [np.ones(4096, np.uint8) for _ in range(60_000)]  # ~250 MB in 4 KiB blocks
    keep = blocks[::64]
    del blocks
    before = rss_kib()
    assert memory.release_free_memory(force=True)
    after = rss_kib()
    assert before - after > 100 * 1024, (before, after)  # > 100 MiB handed back
    assert len(keep) == 938


def test_trim_is_rate_limited(monkeypatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(memory, "_TRIM", calls.append)
    monkeypatch.setattr(memory, "_last", [0.0])
    assert memory.release_free_memory()
    assert not memory.release_free_memory()  # within MIN_INTERVAL_S of the last one
    assert memory.release_free_memory(force=True)
    assert calls == [0, 0]
