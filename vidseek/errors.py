"""Typed errors and outcomes. Each error carries a one-line message that names the file or thing
at fault; vidseek.cli alone turns them (and a pipeline's `Outcome`) into exit codes."""

from __future__ import annotations

from enum import IntEnum


class Outcome(IntEnum):
    """What a pipeline that ran reports back. A pipeline that could not run raises instead."""

    OK = 0
    SOME_FAILED = 1  # some videos failed (recorded in the catalog); the rest are done


class VidseekError(Exception):
    """Base class; the CLI prints str(err) as one line and exits 2 (could not run)."""


class ConfigError(VidseekError):
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
