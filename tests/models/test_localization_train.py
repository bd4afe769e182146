"""One epoch of a tiny localizer through the shared trainer on a `vidseek synth` benchmark dir."""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from vidseek.models.training import TrainConfig, train  # noqa: E402
from vidseek.pipelines.synth import SynthConfig, synth  # noqa: E402


def test_tan2d_trains_one_epoch_on_synth_dir(tmp_path: Path) -> None:
    bench = tmp_path / "synth"
    synth(SynthConfig(out=str(bench), videos=12, seed=0, render=False, progress=False))
    run = tmp_path / "run"
    train(TrainConfig(model="tan2d", dataset="synth_moments", out=str(run), epochs=1, batch_size=16,
                      progress=False, model_params={"tiny": True},
                      dataset_params={"path": str(bench)}))
    for name in ("config.yaml", "log.csv", "metrics.json"):
        assert (run / name).exists(), name
    metrics = json.loads((run / "metrics.json").read_text())
    assert 0.0 <= metrics["test"]["mIoU"] <= 100.0
    info = json.loads((run / "info.json").read_text())
    assert sum(info["extra"]["sizes"].values()) == 12 * 3  # 3 moments per scene, all from the dir
