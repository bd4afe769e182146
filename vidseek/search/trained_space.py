"""A trained joint-embedding run (JEMC, MMT) as a search space: one vector per video.

`vidseek index --model RUN` builds it from the run dir (its config names the model; a model card
with `space="video"` gets this space, see model_views.py); the query side is the model's own text
encoder. Videos get one row spanning the whole video, so search ranks videos by the trained
similarity and fusion places the hit on the whole clip.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from vidseek.errors import CollectionError, VidseekError
from vidseek.search.spaces import Space, SpaceContext, identity_of, l2n
from vidseek.types import Features

if TYPE_CHECKING:
    from vidseek.models.rundir import RunDir


def open_run(run_dir: str | Path, want: set[str] | None = None) -> RunDir:
    """The run dir, as search sees it: a missing or broken one, or one of another model than
    `want`, raises CollectionError naming the run dir."""
    from vidseek.models.rundir import RunDir, RunDirError

    try:
        run = RunDir.open(run_dir)
    except RunDirError as err:
        raise CollectionError(str(err)) from None
    if want is not None and run.model not in want:
        raise CollectionError(f"{run.path} holds a {run.model} run, not {' or '.join(sorted(want))}")
    return run


def load_model(run: RunDir) -> Any:
    """The run's model (best weights, eval mode); a missing file raises CollectionError."""
    try:
        return run.load()
    except VidseekError as err:
        raise CollectionError(str(err)) from None


class _FeaturesAsStore:
    """The two store calls load_video_features makes, answered from one video's features."""

    def __init__(self, feats: Mapping[str, Features]) -> None:
        self.feats = feats
        self.catalog = self

    def video(self, video_id: str) -> None:
        return None  # duration then comes from the rows' end times

    def has(self, video_id: str, expert: str) -> bool:
        return expert in self.feats

    def get(self, video_id: str, expert: str) -> Features:
        return self.feats[expert]


class TrainedSpace(Space):
    zero_shot = False

    def __init__(self, ctx: SpaceContext, name: str) -> None:
        if ctx.model is None:
            raise CollectionError(f"space {name!r} needs a trained run dir: vidseek index --model RUN")
        run = open_run(ctx.model, {name})
        self.model = cast(Any, load_model(run))  # a RetrievalModel (JEMC, MMT); nn.Module attrs are untyped
        self.name = name
        self.experts = tuple(self.model.info.experts)
        self.n_bins = int(self.model.info.n_clips)
        self.dim = int(self.model.embed_queries(["probe"]).shape[1])
        self.identity = identity_of(*run.identity(), *(ctx.weights_sha.get(e, "") for e in self.experts))

    def embed_video(self, feats: Mapping[str, Features]) -> tuple[np.ndarray, np.ndarray]:
        present = {e: f for e, f in feats.items() if e in self.experts and len(f)}
        if not present:
            return np.zeros((0, 2)), np.zeros((0, self.dim), np.float32)
        import torch

        from vidseek.models.base import move_to
        from vidseek.models.datasets.features import load_video_features, video_batch

        vf = load_video_features(_FeaturesAsStore(present), "", self.model.info.experts, self.n_bins)
        with torch.no_grad():
            dev = next(self.model.parameters()).device
            vec = self.model.video_vectors(self.model.encode_videos(move_to(video_batch([vf]), dev)))
        start = min(float(f.times[:, 0].min()) for f in present.values())
        end = max(float(f.times[:, 1].max()) for f in present.values())
        return np.array([[start, end]]), l2n(vec.float().cpu().numpy().astype(np.float32))

    def embed_query(self, query: str) -> np.ndarray:
        return l2n(self.model.embed_queries([query])[0].astype(np.float32))
