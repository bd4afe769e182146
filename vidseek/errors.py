"""Typed errors. Each carries a one-line message that names the file or thing at fault."""

from __future__ import annotations


class VidseekError(Exception):
    """Base class; the CLI prints str(err) as one line and exits non-zero."""


class DecodeError(VidseekError):
    """A file could not be opened or decoded as a video."""


class NoVideoStreamError(DecodeError):
    """The file opens but holds no video stream."""


class WeightsNotFoundError(VidseekError):
    """Pretrained weights are missing; the message says which file to put where."""


class WeightsMismatchError(VidseekError):
    """Features made with different weights (or random weights) would be mixed."""


class CollectionError(VidseekError):
    """The collection is missing, empty, unwritable or inconsistent."""


class DatasetError(VidseekError):
    """A dataset / annotation file is malformed or refers to missing videos."""


class InputError(VidseekError):
    """An input argument cannot be used as given (a URL, an unreadable --from-list file)."""
