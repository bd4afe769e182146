"""`vidseek index`: embed every video's windows in each search space and add them to its FAISS index.

Incremental: a video already in a space's index is skipped, so indexing after extracting new
videos only embeds those. A space whose identity (expert weights, encoder, parameters) changed is
dropped and rebuilt, never mixed; `--rebuild` drops every space first.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from pathlib import Path

from tqdm import tqdm

from vidseek import console
from vidseek.errors import CollectionError, Outcome, WeightsMismatchError
from vidseek.models.rundir import RunDir
from vidseek.registry import UnknownNameError
from vidseek.search.spaces import (
    DEFAULT_ENCODER,
    Space,
    build_space,
    default_space_names,
)
from vidseek.store import FeatureStore
from vidseek.types import IndexSettings


@dataclass
class IndexConfig:
    collection: str
    spaces: list[str] | None = None
    rebuild: bool = False
    model: str | None = None  # a trained run dir: index with its space (jemc, mmt, fvmr)
    encoder: str = DEFAULT_ENCODER  # query encoder of the zero-shot spaces
    progress: bool = True


def _model_space(run_dir: str) -> str:
    """The SPACES name of a trained run dir: its model."""
    from vidseek.search.trained_space import open_run

    return open_run(run_dir).model


def open_store(collection: str) -> FeatureStore:
    root = Path(collection)
    if not (root / "catalog.sqlite").exists():
        raise CollectionError(f"collection {root} does not exist or is empty; run `vidseek extract` first")
    return FeatureStore(root, create=False)


def index_space(store: FeatureStore, space: Space, progress: bool = True) -> tuple[int, int, int]:
    """Add every video with done features not yet in the space. (added, skipped, rows added)."""
    from vidseek.index import SpaceIndex, drop_space

    try:
        idx = SpaceIndex(store, space.name, space.dim, space.identity)
    except WeightsMismatchError:
        console.note(f"vidseek index: space {space.name} was built with other weights or encoder; "
                     "rebuilding")
        drop_space(store, space.name)
        idx = SpaceIndex(store, space.name, space.dim, space.identity)
    done = [{r.video_id for r in store.catalog.features(expert=ex, status="done")} for ex in space.experts]
    videos = sorted(set.intersection(*done)) if done else []
    have = idx.video_ids()
    todo = [v for v in videos if v not in have]
    rows = 0
    for vid in tqdm(todo, desc=f"index {space.name}", unit="video", disable=console.bar_disable(progress and bool(todo)),
                    file=sys.stderr):
        feats = {ex: store.get(vid, ex) for ex in space.experts}
        times, vecs = space.embed_video(feats)
        idx.add_video(vid, times, vecs)
        rows += len(times)
    idx.commit()
    return len(todo), len(videos) - len(todo), rows


def build_index(cfg: IndexConfig) -> Outcome:
    from vidseek.index import drop_space, list_spaces, read_settings, write_settings
    from vidseek.search.engine import load_encoder, space_context

    store = open_store(cfg.collection)
    experts = store.experts()
    if not experts:
        raise CollectionError(f"collection {cfg.collection} has no extracted features; run `vidseek extract` first")
    old = read_settings(store) or IndexSettings(cfg.encoder)
    encoder_name = cfg.encoder if cfg.encoder != DEFAULT_ENCODER or cfg.rebuild else old.encoder
    names = list(cfg.spaces or default_space_names(experts))
    models = {} if cfg.rebuild else dict(old.models)  # trained space -> run dir
    if cfg.model:
        model_space = _model_space(cfg.model)
        names.append(model_space)
        models[model_space] = str(cfg.model)
    if not cfg.spaces:  # a plain `index` also brings the trained spaces indexed before up to date
        for name, run in sorted(models.items()):
            if name in names:
                continue
            if RunDir.existing(run) is not None:
                names.append(name)
            else:
                console.note(f"vidseek index: space {name}: its run dir {run} is gone; "
                             "its index is left as it is")
    if not names:
        raise CollectionError(
            f"no searchable expert in {cfg.collection} (has: {', '.join(experts)}); "
            "extract effnet_lite0, i3d, asr or ocr")
    if cfg.rebuild:
        for row in list_spaces(store):
            drop_space(store, row["space"])
    encoder = load_encoder(encoder_name)
    ctx = space_context(store, encoder, cfg.model)
    summary = []
    for name in names:
        try:
            space = build_space(name, replace(ctx, model=models[name]) if name in models else ctx)
        except UnknownNameError:
            if not cfg.model or models.get(name) != str(cfg.model):
                raise
            raise CollectionError(f"{cfg.model} holds a {name} run, which has no search space (index --model "
                                  "takes jemc, mmt or fvmr runs; use localizers with search --rerank)") from None
        missing = [ex for ex in space.experts if ex not in experts]
        if missing:
            raise CollectionError(f"space {name} needs {', '.join(missing)} features, not in {cfg.collection}")
        added, skipped, rows = index_space(store, space, cfg.progress)
        summary.append((name, added, skipped, rows))
    write_settings(store, IndexSettings(encoder_name, models, old.params))
    total = {r["space"]: r for r in list_spaces(store)}
    print(f"{'space':<16}{'added':>8}{'skipped':>9}{'rows added':>12}{'rows total':>12}  index")
    for name, added, skipped, rows in summary:
        t = total.get(name, {})
        print(f"{name:<16}{added:>8}{skipped:>9}{rows:>12}{t.get('n', 0):>12}  {t.get('factory', '')}")
    print(f"encoder {encoder_name}; {len(store.catalog.videos())} videos in {cfg.collection}")
    return Outcome.OK
