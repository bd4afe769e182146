"""vidseek: find moments in a video collection by natural language.

`vidseek.open_collection(DIR)` is the Python API (vidseek/api.py); it is imported on first use,
so `import vidseek` stays cheap (no numpy, no torch).
"""

from __future__ import annotations

import os
from typing import Any

# torch and FAISS each bring an OpenMP pool; with the default (active) wait policy each pool's
# idle threads spin against the other's work on a small box: one MiniLM query encode after a
# FAISS search took ~476 ms instead of ~12 ms. Set before either library is loaded (this package
# is imported first by the CLI and the API); an explicit setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"

_LAZY = {"open_collection": "vidseek.api", "Collection": "vidseek.api"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'vidseek' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = ["Collection", "__version__", "open_collection"]
