"""The feature store: immutable Parquet shards per (video, expert) and a SQLite catalog."""

from vidseek.store.catalog import Catalog, FeatureRecord
from vidseek.store.features import CorruptShardError, FeatureStore, StoreWriteError

__all__ = ["Catalog", "CorruptShardError", "FeatureRecord", "FeatureStore", "StoreWriteError"]
