"""JEMC learns at its defaults (issue 14): `vidseek train jemc` with nothing but the data given.

The data are planted features with a large shared offset, as real pooled CNN / audio features
have (effnet_lite0 on the synthetic benchmark: mean of norm ~11 against ~4 of per-video
variation). Before the fix, JEMC's defaults (TrainConfig's batch 64 x 10 epochs, no input
standardisation) stayed at chance here, as on the 120-video benchmark (R@1 4.2). Tiny twin widths;
a CPU run of a few seconds.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from vidseek.extract.experts import TEXT_ENCODERS
from vidseek.models.cards import model_card
from vidseek.models.training import train
from vidseek.pipelines.train import TrainCommand, resolve

os.environ.setdefault("HF_HUB_OFFLINE", "1")

# 120 videos: 84 train captions (as the 120-video benchmark), 18 test; offset 5 >> the unit signals
DATA = {"n_videos": 120, "offset": 5.0}


def test_jemc_loss_falls_and_beats_chance_at_its_defaults(tmp_path: Path) -> None:
    words = "glove50" if "glove50" in TEXT_ENCODERS else None
    conf = tmp_path / "jemc.yaml"
    conf.write_text(yaml.safe_dump({  # only what is not a training default: data, twin, threads
        "progress": False, "num_threads": 1, "dataset_params": DATA,
        "model_params": {"tiny": True, "word_vectors": words}}))
    cfg = resolve(TrainCommand(model="jemc", dataset="planted", out=str(tmp_path / "run"), config=str(conf)))
    card = model_card("jemc")
    assert (cfg.epochs, cfg.batch_size) == (card.train["epochs"], card.train["batch_size"])
    out = train(cfg)
    losses = [h["train_loss"] for h in out["history"]]
    assert losses[-1] < 0.7 * losses[0]
    test = out["test"]
    assert test["chance_R@1"] == 100 / 18
    assert test["t2v_R@1"] > 5 * test["chance_R@1"]


def test_flags_and_file_override_the_model_train_defaults(tmp_path: Path) -> None:
    conf = tmp_path / "c.yaml"
    conf.write_text("epochs: 3\n")
    cfg = resolve(TrainCommand(model="jemc", dataset="planted", out=str(tmp_path / "r"), config=str(conf),
                               batch_size=5))
    assert (cfg.epochs, cfg.batch_size, cfg.lr) == (3, 5, 1e-3)  # file, flag, TrainConfig's own
    assert resolve(TrainCommand(model="mmt", dataset="planted", out="r")).batch_size == 64  # no card default


def test_runs_from_before_input_norm_load_and_score_as_before() -> None:
    import torch

    from vidseek.models.cards import build_dataset, build_model

    splits = build_dataset("planted", {"n_videos": 24, "dims": {"app": 12, "mot": 8}, "n_bins": 4, "offset": 3.0})
    params = {"tiny": True, "word_vectors": None}
    old = build_model("jemc", {**params, "input_norm": False}, splits.info).eval()
    new = build_model("jemc", params, splits.info)
    new.load_state_dict(old.state_dict(), strict=True)  # no statistics in it: identity ones
    new.eval()
    batch = splits.collate([splits.train[i] for i in range(6)])
    with torch.no_grad():
        want = old.similarity(old.encode_texts(batch["texts"]), old.encode_videos(batch))
        got = new.similarity(new.encode_texts(batch["texts"]), new.encode_videos(batch))
    assert torch.allclose(got, want, atol=1e-4)
    new.train()
    one = splits.collate([splits.train[0]])
    new.encode_videos(one)  # a training batch of one video uses the running statistics


def test_train_help_names_models_dataset_forms_and_the_model_defaults() -> None:
    from vidseek.cli import build_parser, verb_parsers
    from vidseek.models.cards import model_cards

    text = " ".join(dict(verb_parsers(build_parser()))["train"].format_help().split())
    for card in model_cards():
        assert card.name in text
    for form in ("synth:DIR", "captions:FILE", "moments:FILE"):
        assert form in text
    assert "30 for jemc, else 10" in text and "16 for jemc, else 64" in text
