"""What vidseek prints besides its results: progress bars, status notes, other libraries' noise.

The CLI calls `setup` once from `-q` / `-v`; library callers keep the defaults (bars only on a
terminal, notes on, other libraries left alone). Results go to stdout; everything here goes to
stderr, so `--json` output stays clean.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings

QUIET, NORMAL, VERBOSE = -1, 0, 1
_level = NORMAL

# Read by those libraries when they are imported (setup runs before any of them is).
_QUIET_ENV = {
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # huggingface_hub downloads and transformers' "Loading weights"
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    "TOKENIZERS_PARALLELISM": "false",  # the fork warning of HF tokenizers
    "RAY_DEDUP_LOGS": "1",
}
_NOISY_LOGGERS = ("ray", "transformers", "huggingface_hub", "faster_whisper", "filelock",
                  "urllib3", "numexpr", "onnxruntime", "RapidOCR", "matplotlib")


def setup(quiet: bool = False, verbose: bool = False) -> None:
    """Quiet (no bars, no notes), normal (bars on a terminal, other libraries silenced) or
    verbose (everything, including other libraries' logs and warnings)."""
    global _level
    _level = QUIET if quiet else VERBOSE if verbose else NORMAL
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr,
                        format="%(name)s: %(message)s")
    if verbose:
        return
    for key, value in _QUIET_ENV.items():
        os.environ.setdefault(key, value)
    warnings.filterwarnings("ignore")
    warnings.filterwarnings("default", module=r"vidseek(\.|$)")
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    if "transformers" in sys.modules:  # imported before setup (a library caller): tell it directly
        from transformers.utils import logging as tlog

        tlog.set_verbosity_error()
        tlog.disable_progress_bar()
    if "huggingface_hub" in sys.modules:
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()


def bar_disable(enabled: bool = True) -> bool | None:
    """tqdm's `disable`: True when asked off or quiet, else None (tqdm: shown only on a terminal)."""
    return True if (not enabled or _level == QUIET) else None


def note(message: str) -> None:
    """A status line for people (summaries, "wrote FILE"); dropped with -q."""
    if _level > QUIET:
        print(message, file=sys.stderr)


def verbose() -> bool:
    return _level == VERBOSE
