"""FAISS indexes over window vectors; rows map to (video, start, end) in the catalog."""

from vidseek.index.settings import read_settings, require_settings, write_settings
from vidseek.index.space_index import SpaceIndex, drop_space, list_spaces
from vidseek.index.vector_index import VectorIndex, choose_factory

__all__ = ["SpaceIndex", "VectorIndex", "choose_factory", "drop_space", "list_spaces",
           "read_settings", "require_settings", "write_settings"]
