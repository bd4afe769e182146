"""`vidseek serve`: load a collection's search engine once and answer over HTTP."""

from __future__ import annotations

import ipaddress
import sys
from dataclasses import dataclass
from pathlib import Path

from vidseek.errors import CollectionError, Outcome
from vidseek.extras import require


@dataclass
class ServeConfig:
    collection: str
    host: str = "127.0.0.1"
    port: int = 8765
    log_level: str = "warning"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(cfg: ServeConfig) -> Outcome:
    require("fastapi", "serve", "vidseek serve")
    require("uvicorn", "serve", "vidseek serve")
    import faiss
    import uvicorn

    from vidseek.serve.app import create_app

    # One search thread answers every query (serve/app.py): the OpenMP / intra-op thread teams
    # of FAISS and torch for a single query vector only spin on a busy 2-core box; one thread
    # each was 3-7x faster per query (docs/serve.md).
    faiss.omp_set_num_threads(1)
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass

    if not (Path(cfg.collection) / "catalog.sqlite").exists():
        raise CollectionError(f"collection {cfg.collection} does not exist; run `vidseek extract` first")
    if not is_loopback(cfg.host):
        print(f"vidseek serve: WARNING: listening on {cfg.host}: the collection's videos and "
              "features become readable by anyone who can reach this address", file=sys.stderr)
    print(f"vidseek serve: {cfg.collection} on http://{cfg.host}:{cfg.port}/ (Ctrl-C stops)",
          file=sys.stderr)
    uvicorn.run(create_app(cfg.collection), host=cfg.host, port=cfg.port, log_level=cfg.log_level)
    return Outcome.OK
