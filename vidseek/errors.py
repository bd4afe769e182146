"""Typed errors and outcomes. Each error carries a one-line message that names the file or thing
at fault; vidseek.cli alone turns them (and a pipeline's `Outcome`) into exit codes."""

from __future__ import annotations

import errno
import os
import sys
import traceback
from enum import IntEnum

from vidseek.registry import UnknownNameError  # a KeyError subclass listing the known names


class Outcome(IntEnum):
    """What a pipeline that ran reports back. A pipeline that could not run raises instead."""

    OK = 0
    SOME_FAILED = 1  # some videos failed (recorded in the catalog); the rest are done


class VidseekError(Exception):
    """Base class; the CLI prints str(err) as one line and exits 2 (could not run)."""


class ConfigError(VidseekError, ValueError):
    """A bad option or config value; the message names the option or field and the value."""


class DecodeError(VidseekError):
    """A file could not be opened or decoded as a video."""


class NoVideoStreamError(DecodeError):
    """The file opens but holds no video stream."""


class WeightsNotFoundError(VidseekError):
    """Pretrained weights are missing; the message says which file to put where."""


class WeightsMismatchError(VidseekError):
    """Features made with different weights (or random weights) would be mixed."""


class WeightsFileError(VidseekError):
    """A weights file exists but cannot be read as weights (truncated, wrong format)."""


class CollectionError(VidseekError):
    """The collection is missing, empty, unwritable or inconsistent."""


class DatasetError(VidseekError):
    """A dataset / annotation file is malformed or refers to missing videos."""


class QueryError(VidseekError, ValueError):
    """A search query that cannot be searched (no letter or digit in it)."""


class InputError(VidseekError):
    """An input argument cannot be used as given (a URL, an unreadable --from-list file)."""


# --- other libraries' failures that are not bugs in vidseek, as one line ----------------------
def one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def _file_in_traceback(err: BaseException) -> str | None:
    """The innermost existing file a failing frame was reading (`path`, `filename`, `f`, ...)."""
    found = None
    for frame, _ in traceback.walk_tb(err.__traceback__):
        for key in ("path", "wpath", "filename", "f", "file"):
            value = frame.f_locals.get(key)
            if isinstance(value, (str, os.PathLike)) and os.path.isfile(value):
                found = os.fspath(value)
    return str(found) if found else None


_WEIGHTS_LOAD_ERRORS = ("SafetensorError", "UnpicklingError", "InvalidProtobuf", "HeaderTooLarge")
_WEIGHTS_LOAD_TEXT = ("PytorchStreamReader", "failed finding central directory", "invalid load key",
                      "Error(s) in loading state_dict", "Error while deserializing header")


def failure_message(err: BaseException, where: str | None = None) -> str | None:
    """The one-line message of an expected failure (a VidseekError, a full disk, a closed
    cluster, a corrupt shard or weights file), or None for a bug. `where`: the collection or
    output folder the command works on, named when the error names no file."""
    if isinstance(err, (VidseekError, UnknownNameError)):
        return one_line(err)
    if isinstance(err, OSError) and err.errno == errno.ENOSPC:
        bad = err.filename or _file_in_traceback(err) or (f"into {where}" if where else "the output")
        return (f"no space left on device writing {bad}; "
                "free some space and rerun (finished work is kept)")
    if isinstance(err, ConnectionError):  # e.g. ray.init(address="auto") with no cluster
        return f"could not connect: {one_line(err)}"
    if isinstance(err, OSError):
        return f"{err.filename}: {err.strerror or one_line(err)}" if err.filename else one_line(err)
    arrow = sys.modules.get("pyarrow")
    if arrow is not None and isinstance(err, arrow.ArrowException):
        bad = _file_in_traceback(err) or (f"a feature shard of {where}" if where else "a Parquet file")
        return f"{bad} is corrupt or unreadable ({one_line(err)}); `vidseek extract --force` redoes it"
    text = str(err)
    if type(err).__name__ in _WEIGHTS_LOAD_ERRORS or any(t in text for t in _WEIGHTS_LOAD_TEXT):
        bad = _file_in_traceback(err) or "a weights file"
        return (f"{bad} is not a usable weights file ({one_line(err)[:200]}); put the right file in "
                "place: `vidseek weights import FILE --expert NAME`, `vidseek weights list` shows where")
    return None
