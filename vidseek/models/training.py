"""The shared training loop for every trainable model (retrieval and localization).

It writes one run dir (layout and reader: vidseek.models.rundir): the resolved config, the
DatasetInfo, last + best weights, optimizer and RNG state (resume), a per-epoch log and the test
metrics of the best checkpoint. Every epoch reseeds from (seed, epoch), so a resumed run follows
the same trajectory as an uninterrupted one.
"""

from __future__ import annotations

import base64
import csv
import json
import math
import os
import random
import sys
import time
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch.utils.data import DataLoader
from tqdm import tqdm

from vidseek import console
from vidseek.errors import VidseekError
from vidseek.models.base import DatasetSplits, TrainableModel
from vidseek.models.cards import build_dataset, model_card
from vidseek.models.config import TrainConfig, load_config, save_config
from vidseek.models.rundir import (
    BEST,
    CONFIG,
    INFO,
    LAST,
    LAST_OPTIM,
    LOG,
    METRICS,
    STATE,
    RunDir,
    RunDirError,
)

__all__ = ["RunDirError", "TrainConfig", "load_config", "load_run", "save_config", "save_weights", "train"]


def _state_dict(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}


def save_weights(model: torch.nn.Module, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    save_file(_state_dict(model), str(tmp))
    os.replace(tmp, path)


def _rng_state() -> dict[str, str]:
    enc = base64.b64encode
    return {
        "torch": enc(torch.get_rng_state().numpy().tobytes()).decode(),
        "numpy": enc(json.dumps(np.asarray(cast(Any, np.random.get_state())[1]).tolist()).encode()).decode(),
        "python": enc(json.dumps(random.getstate()[1]).encode()).decode(),
    }


def load_run(run_dir: str | Path, which: str = "best", device: str = "cpu") -> tuple[TrainableModel, TrainConfig]:
    """(model with the run's weights in eval mode, its config). which: "best" or "last"."""
    run = RunDir.open(run_dir)
    return run.load(which, device), run.config


# ---- the loop -----------------------------------------------------------------------------

def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def _epoch_seed(seed: int, epoch: int) -> int:
    return seed * 100_003 + epoch


def _loader(ds: Any, cfg: TrainConfig, collate: Any, train: bool, epoch: int) -> DataLoader:
    gen = torch.Generator().manual_seed(_epoch_seed(cfg.seed, epoch))
    return DataLoader(
        ds, batch_size=cfg.batch_size if train else cfg.eval_batch_size, shuffle=train,
        drop_last=False, collate_fn=collate, num_workers=cfg.num_workers, generator=gen,
        pin_memory=cfg.device.startswith("cuda"),
    )


def _autocast(cfg: TrainConfig) -> Any:
    if cfg.amp and cfg.device.startswith("cuda"):
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast("cpu", enabled=False)


def run_epoch(model: TrainableModel, loader: DataLoader, opt: torch.optim.Optimizer,
              cfg: TrainConfig, epoch: int) -> dict[str, float]:
    """One pass over the train loader; returns mean loss and mean logged scalars."""
    model.train()
    sums: dict[str, float] = {}
    n = 0
    bar = tqdm(loader, desc=f"epoch {epoch}", unit="batch", leave=False, file=sys.stderr,
               disable=console.bar_disable(cfg.progress))
    for step, batch in enumerate(bar):
        if cfg.max_steps_per_epoch is not None and step >= cfg.max_steps_per_epoch:
            break
        batch = model.to_device(batch, cfg.device)
        with _autocast(cfg):
            loss, logs = model.training_loss(batch)
        opt.zero_grad(set_to_none=True)
        loss.float().backward()
        if cfg.grad_clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        val = float(loss.detach())
        if not math.isfinite(val):
            raise VidseekError(f"loss became {val} at epoch {epoch} step {step}; lower --lr")
        sums["loss"] = sums.get("loss", 0.0) + val
        for k, v in logs.items():
            sums[k] = sums.get(k, 0.0) + float(v)
        n += 1
        bar.set_postfix(loss=f"{val:.4f}")
    return {k: v / max(n, 1) for k, v in sums.items()}


def evaluate_model(model: TrainableModel, ds: Any, cfg: TrainConfig, collate: Any) -> dict[str, float]:
    model.eval()
    with torch.no_grad(), _autocast(cfg):
        return {k: float(v) for k, v in model.evaluate(_loader(ds, cfg, collate, False, 0)).items()}


def _append_log(path: Path, row: dict[str, Any]) -> None:
    new = not path.exists()
    if not new:
        with open(path) as fh:
            header = next(csv.reader(fh), [])
    else:
        header = list(row)
    with open(path, "a", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=header, extrasaction="ignore")
        if new:
            w.writeheader()
        w.writerow(row)


def train(cfg: TrainConfig, splits: DatasetSplits | None = None) -> dict[str, Any]:
    """Fit cfg.model on cfg.dataset into cfg.out; resume when the run dir has a last checkpoint.

    Returns {"epochs_run", "best_epoch", "best": val metric, "test": test metrics, "history"}.
    `splits` lets callers (tests, benches) pass an already-built dataset.
    """
    threads = torch.get_num_threads()
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    try:
        return _train(cfg, splits)
    finally:
        torch.set_num_threads(threads)


def _train(cfg: TrainConfig, splits: DatasetSplits | None) -> dict[str, Any]:
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    existing = RunDir.existing(out)
    if existing is not None:
        existing.check_model(cfg.model)
    card = model_card(cfg.model)
    card.make_config(cfg.model_params)  # a bad model param fails before the data is read
    seed_everything(cfg.seed)
    if splits is None:
        splits = build_dataset(cfg.dataset, cfg.dataset_params)
    seed_everything(cfg.seed)
    model = card.build(cfg.model_params, splits.info).to(cfg.device)
    if splits.info.task and splits.info.task != card.task:
        raise VidseekError(f"model {cfg.model} is a {card.task} model; dataset {cfg.dataset} "
                           f"is a {splits.info.task} dataset")
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    save_config(cfg, out / CONFIG)
    (out / INFO).write_text(json.dumps(splits.info.to_json(), indent=1))

    start, best_val, best_epoch, history = 1, -math.inf, 0, []
    if (out / STATE).exists() and (out / LAST).exists():
        state = json.loads((out / STATE).read_text())
        model.load_state_dict(load_file(str(out / LAST)), strict=True)
        if (out / LAST_OPTIM).exists():
            opt.load_state_dict(torch.load(out / LAST_OPTIM, map_location=cfg.device, weights_only=True))
        start = int(state["epoch"]) + 1
        best_val = float(state.get("best_val", -math.inf))
        best_epoch = int(state.get("best_epoch", 0))
        history = list(state.get("history", []))
        console.note(f"train: resuming {out} after epoch {state['epoch']}")

    metric = model.select_metric
    for epoch in range(start, cfg.epochs + 1):
        t0 = time.monotonic()
        seed_everything(_epoch_seed(cfg.seed, epoch))
        logs = run_epoch(model, _loader(splits.train, cfg, splits.collate, True, epoch), opt, cfg, epoch)
        row: dict[str, Any] = {"epoch": epoch, **{f"train_{k}": v for k, v in logs.items()}}
        if splits.val is not None:
            val = evaluate_model(model, splits.val, cfg, splits.collate)
            row.update({f"val_{k}": v for k, v in val.items()})
            score = val.get(metric, -math.inf)
        else:
            score = -logs.get("loss", math.inf)  # no val split: keep the lowest training loss
        row["seconds"] = round(time.monotonic() - t0, 3)
        if score > best_val:
            best_val, best_epoch = score, epoch
            save_weights(model, out / BEST)
        history.append(row)
        _append_log(out / LOG, row)
        save_weights(model, out / LAST)
        torch.save(opt.state_dict(), out / LAST_OPTIM)
        state = {"epoch": epoch, "best_val": best_val, "best_epoch": best_epoch,
                 "select_metric": metric, "history": history, "rng": _rng_state()}
        tmp = out / (STATE + ".tmp")
        tmp.write_text(json.dumps(state))
        os.replace(tmp, out / STATE)
        if cfg.progress:
            shown = {k: round(v, 4) for k, v in row.items() if isinstance(v, float)}
            console.note(f"epoch {epoch}: {shown}")

    test: dict[str, float] = {}
    if splits.test is not None and (out / BEST).exists():
        model.load_state_dict(load_file(str(out / BEST)), strict=True)
        test = evaluate_model(model, splits.test, cfg, splits.collate)
        (out / METRICS).write_text(json.dumps(
            {"model": cfg.model, "dataset": cfg.dataset, "best_epoch": best_epoch,
             "select_metric": metric, "val_best": best_val, "test": test}, indent=1))
    return {"epochs_run": max(0, cfg.epochs - start + 1), "best_epoch": best_epoch,
            "best": best_val, "test": test, "history": history}
