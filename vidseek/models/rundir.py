"""The one reader of a training run folder.

A run dir (written by vidseek.models.training) holds config.yaml (the resolved TrainConfig),
info.json (DatasetInfo, so the model is rebuilt without the data), best.safetensors (by the
model's selection metric) and last.safetensors (+ last_optim.pt, state.json: resume), log.csv,
metrics.json. Everything that reads one - the trainer's resume check, search spaces, rerankers,
`vidseek index --model` - goes through RunDir, so there is one rule for which weights are used
(best, else last) and one identity (model, resolved path, those weights' mtime).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vidseek.errors import ConfigError, VidseekError
from vidseek.models.config import DatasetInfo, TrainConfig, load_config

if TYPE_CHECKING:
    from vidseek.models.base import TrainableModel

CONFIG, INFO = "config.yaml", "info.json"
LAST, LAST_OPTIM, BEST, STATE = "last.safetensors", "last_optim.pt", "best.safetensors", "state.json"
LOG, METRICS = "log.csv", "metrics.json"


class RunDirError(VidseekError):
    """A run dir is missing, incomplete, or belongs to another model."""


@dataclass(frozen=True)
class RunDir:
    """A run folder and its parsed config. `open` needs config.yaml only; info, weights and
    load need the rest and say which file is missing."""

    path: Path
    config: TrainConfig

    @classmethod
    def open(cls, path: str | Path) -> RunDir:
        run = Path(path)
        if not (run / CONFIG).exists():
            raise RunDirError(f"{run} is not a vidseek run dir (no {CONFIG})")
        try:
            cfg = TrainConfig.from_dict(load_config(run / CONFIG), where=str(run / CONFIG))
        except ConfigError as err:
            raise RunDirError(str(err)) from None
        return cls(run, cfg)

    @classmethod
    def existing(cls, path: str | Path) -> RunDir | None:
        """The run dir at `path`, or None where nothing was trained there yet."""
        return cls.open(path) if (Path(path) / CONFIG).exists() else None

    @property
    def model(self) -> str:
        return self.config.model

    def info(self) -> DatasetInfo:
        f = self.path / INFO
        if not f.exists():
            raise RunDirError(f"{self.path} is not a complete vidseek run dir (no {INFO})")
        return DatasetInfo.from_json(json.loads(f.read_text()))

    def weights(self, which: str = "best") -> Path:
        """best.safetensors (which="best", else last) or last.safetensors (which="last")."""
        order = (BEST, LAST) if which == "best" else (LAST,)
        for name in order:
            if (self.path / name).exists():
                return self.path / name
        raise RunDirError(f"{self.path} holds no weights yet ({' / '.join(order)})")

    def identity(self) -> tuple[str, str, int]:
        """What a search index built from this run depends on: (the model, where the run lives,
        the mtime of the weights `load` uses; it changes on every checkpoint; 0 before any)."""
        try:
            mtime = self.weights().stat().st_mtime_ns
        except RunDirError:
            mtime = 0
        return self.model, str(self.path.resolve()), mtime

    def check_model(self, model: str) -> None:
        if self.model != model:
            raise RunDirError(f"run dir {self.path} holds a {self.model!r} run, not {model!r}; pick another --out")

    def load(self, which: str = "best", device: str = "cpu") -> TrainableModel:
        """The model with this run's weights, in eval mode."""
        from safetensors.torch import load_file

        from vidseek.models.cards import build_model

        info = self.info()
        wpath = self.weights(which)
        model = build_model(self.model, self.config.model_params, info)
        model.load_state_dict(load_file(str(wpath)), strict=True)
        return model.to(device).eval()

    def as_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "model": self.model, "dataset": self.config.dataset,
                "identity": list(self.identity())}
