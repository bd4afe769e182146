"""Retrieval: search spaces (zero-shot ConSE and text lines; trained JEMC / MMT / FVMR), fusion
of experts per time, moments, and the search engine. Importing this package registers the
zero-shot spaces in SPACES."""

from vidseek.models.retrieval import conse, textlines  # noqa: F401 - registration
from vidseek.models.retrieval.spaces import SPACES, Space, SpaceContext, build_space

__all__ = ["SPACES", "Space", "SpaceContext", "build_space"]
