"""`vidseek train MODEL --dataset NAME[:PATH] --out RUN_DIR [--config FILE]`.

Options given on the command line override the config file; options not given never do; what
neither sets comes from the model card's `train` defaults (JEMC's epochs, batch size...), then
TrainConfig's.
`--dataset synth:DIR` is short for dataset `synth` with its card's path param (here `path`) = DIR
(`captions:FILE` sets `captions`; `vidseek.models.cards.dataset_syntax()` lists every form).
The resolved config is checked against the model's and the dataset's cards before any data is
read: a bad value raises ConfigError naming the field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from vidseek import console
from vidseek.errors import ConfigError
from vidseek.models.cards import dataset_card, model_card, parse_dataset_spec
from vidseek.models.config import TrainConfig, load_config


@dataclass
class TrainCommand:
    model: str
    dataset: str | None = None
    out: str | None = None
    epochs: int | None = None
    device: str | None = None
    config: str | None = None
    seed: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    progress: bool | None = None


def resolve(cmd: TrainCommand) -> TrainConfig:
    """The model card's train defaults, then file values, then every CLI option that was given
    (None means not given), checked."""
    where = str(cmd.config) if cmd.config else "train options"
    base: dict[str, Any] = load_config(cmd.config) if cmd.config else {}
    for key in ("model", "dataset", "out", "epochs", "device", "seed", "batch_size", "lr", "progress"):
        val = getattr(cmd, key)
        if val is not None:
            base[key] = val
    base = {**model_card(str(base["model"])).train, **base}
    for key in ("dataset", "out"):
        if not base.get(key):
            raise ConfigError(f"vidseek train needs --{key} (or `{key}:` in the config file)")
    cfg = TrainConfig.from_dict(base, where)
    name, params = parse_dataset_spec(cfg.dataset, cfg.dataset_params)
    cfg = replace(cfg, dataset=name, dataset_params=params)
    model_card(cfg.model).make_config(cfg.model_params)
    dataset_card(cfg.dataset).make_params(cfg.dataset_params)
    return cfg


def train(cmd: TrainCommand) -> int:
    from vidseek.models.training import train as run_training

    cfg = resolve(cmd)
    result = run_training(cfg)
    print(json.dumps({"out": cfg.out, "best_epoch": result["best_epoch"], "test": result["test"]},
                     indent=1))
    console.note(f"train: {cfg.model} -> {cfg.out}")
    return 0
