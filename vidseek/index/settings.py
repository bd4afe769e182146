"""A collection's index settings (IndexSettings), kept in its catalog and nowhere else.

Collections indexed before the catalog held them have COLLECTION/retrieval/retrieval.json; it is
read once, moved into the catalog and removed (left as it is where the collection is read-only).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

from vidseek.errors import CollectionError
from vidseek.store.features import FeatureStore
from vidseek.types import IndexSettings

log = logging.getLogger(__name__)

LEGACY_FILE = Path("retrieval") / "retrieval.json"


def read_settings(store: FeatureStore) -> IndexSettings | None:
    """The collection's settings (None before its first `vidseek index`)."""
    settings = store.catalog.index_settings()
    if settings is not None:
        return settings
    legacy = store.root / LEGACY_FILE
    if not legacy.exists():
        return None
    try:
        settings = IndexSettings.from_json(json.loads(legacy.read_text()))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise CollectionError(f"{legacy}: unreadable index settings ({err}); "
                              f"run `vidseek index --rebuild --collection {store.root}`") from None
    try:
        write_settings(store, settings)
        legacy.unlink()
    except (OSError, sqlite3.Error) as err:  # a read-only collection still searches
        log.info("left %s in place (%s)", legacy, err)
    return settings


def require_settings(store: FeatureStore) -> IndexSettings:
    settings = read_settings(store)
    if settings is None:
        raise CollectionError(f"collection {store.root} has no search index; "
                              f"run `vidseek index --collection {store.root}`")
    return settings


def write_settings(store: FeatureStore, settings: IndexSettings) -> None:
    store.catalog.put_index_settings(settings)
