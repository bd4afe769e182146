"""vidseek: find moments in a video collection by natural language.

`vidseek.open_collection(DIR)` is the Python API (vidseek/api.py); it is imported on first use,
so `import vidseek` stays cheap (no numpy, no torch).
"""

from __future__ import annotations

from typing import Any

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
