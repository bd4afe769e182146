"""`vidseek train MODEL --dataset NAME[:PATH] --out RUN_DIR [--config FILE]`.

Options given on the command line override the config file; options not given never do.
`--dataset synth:DIR` is short for dataset `synth` with dataset_params.path = DIR (likewise
`captions:FILE` sets dataset_params.captions).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

from vidseek.models.training import TrainConfig, load_config
from vidseek.models.training import train as run_training

# which dataset_params key a `NAME:PATH` dataset spec fills
PATH_PARAM = {"synth": "path", "captions": "captions", "msrvtt": "train_captions"}


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


def resolve(cmd: TrainCommand) -> TrainConfig:
    """File values, then every CLI option that was given (None means not given)."""
    base: dict[str, Any] = load_config(cmd.config) if cmd.config else {}
    for key in ("model", "dataset", "out", "epochs", "device", "seed", "batch_size", "lr"):
        val = getattr(cmd, key)
        if val is not None:
            base[key] = val
    params = dict(base.get("dataset_params") or {})
    name = str(base.get("dataset", ""))
    if ":" in name:
        name, _, path = name.partition(":")
        params[PATH_PARAM.get(name, "path")] = path
    base["dataset"], base["dataset_params"] = name, params
    for key in ("dataset", "out"):
        if not base.get(key):
            raise ValueError(f"vidseek train needs --{key} (or `{key}:` in the config file)")
    return TrainConfig.from_dict(base)


def train(cmd: TrainCommand) -> int:
    cfg = resolve(cmd)
    result = run_training(cfg)
    print(json.dumps({"out": cfg.out, "best_epoch": result["best_epoch"], "test": result["test"]},
                     indent=1))
    print(f"train: {cfg.model} -> {cfg.out}", file=sys.stderr)
    return 0
