"""Model and dataset cards, typed configs checked on load, and the one run-dir reader.

Loops over the registries, never a hard-coded name list: a new card is tested by being added.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
import torch
import yaml

from vidseek.errors import ConfigError, VidseekError
from vidseek.models.cards import (
    DATASETS,
    MODELS,
    build_dataset,
    dataset_card,
    dataset_syntax,
    model_card,
    model_cards,
    parse_dataset_spec,
    register_dataset,
    register_model,
)
from vidseek.models.config import DEFAULT_CLIPS, TrainConfig, coerce, parse_config
from vidseek.models.rundir import BEST, LAST, RunDir, RunDirError
from vidseek.models.training import train
from vidseek.pipelines.train import TrainCommand, resolve
from vidseek.search.engine import RERANKERS
from vidseek.search.spaces import SPACES

os.environ.setdefault("HF_HUB_OFFLINE", "1")
pytestmark = pytest.mark.usefixtures("one_torch_thread")

PLANTED = {"n_videos": 24, "dims": {"app": 12, "mot": 8}, "n_bins": 4}
SMALL_DATA = {"retrieval": ("planted", PLANTED),
              "localization": ("synth_moments", {"n_videos": 12, "n_clips": 8, "dim": 8, "seed": 1})}
OFFLINE = {"jemc": {"word_vectors": None}, "mmt": {}}  # no GloVe lookups in the generic loop


def _names(cards_of: str) -> list[str]:
    model_cards()  # loads every plugin
    return MODELS.names() if cards_of == "models" else DATASETS.names()


@pytest.mark.parametrize("name", _names("models"))
def test_model_card_tiny_twin_builds(name: str) -> None:
    card = MODELS.get(name)
    fields = {f.name for f in dataclasses.fields(card.config)}
    assert "tiny" in fields and set(card.tiny) <= fields, name
    default = card.make_config({})
    tiny = card.make_config({"tiny": True})
    assert all(getattr(tiny, k) == v for k, v in card.tiny.items())
    assert default.tiny is False and all(getattr(default, k) != v for k, v in card.tiny.items())
    data, params = SMALL_DATA[card.task]
    splits = build_dataset(data, params)
    model = card.build({"tiny": True, **OFFLINE.get(name, {})}, splits.info)
    assert model.task == card.task
    assert sum(p.numel() for p in model.parameters()) > 0
    # the search views follow the card
    assert (name in SPACES) == (card.space is not None)
    assert (name in RERANKERS) == card.rerank


@pytest.mark.parametrize("name", _names("datasets"))
def test_dataset_card(name: str) -> None:
    card = DATASETS.get(name)
    fields = {f.name for f in dataclasses.fields(card.params)}
    assert card.syntax.split(":")[0].split("[")[0] == name
    if card.path_param is None:
        assert ":" not in card.syntax
        with pytest.raises(ConfigError, match="takes no path"):
            parse_dataset_spec(f"{name}:/x")
    else:
        assert card.path_param in fields and ":" in card.syntax
        assert parse_dataset_spec(f"{name}:/some/where") == (name, {card.path_param: "/some/where"})
    defaults = {f.name: f.default for f in dataclasses.fields(card.params)}
    for n in ("n_bins", "n_clips"):  # the one default of time steps per video (planted: its own 8)
        if n in fields and name != "planted":
            assert defaults[n] == DEFAULT_CLIPS
    assert card.syntax in dataset_syntax()


def test_one_registration_per_card() -> None:
    """No `if name not in X` guards: registering a card twice raises, in the views too."""
    for card in model_cards():
        with pytest.raises(ValueError, match="already registered"):
            register_model(card)
    with pytest.raises(ValueError, match="already registered"):
        register_dataset(DATASETS.get("planted"))
    views = {c.name for c in model_cards() if c.space} | {c.name for c in model_cards() if c.rerank}
    assert views <= set(SPACES.names()) | set(RERANKERS.names())


def test_coerce_and_errors() -> None:
    assert coerce("1e-3", float, "lr") == 1e-3
    assert coerce("12", int, "epochs") == 12 and coerce(3.0, int, "epochs") == 3
    assert coerce("yes", bool, "amp") is True and coerce(None, int | None, "n") is None
    assert coerce("app, mot", list[str] | None, "experts") == ["app", "mot"]
    assert coerce({"a": "3"}, dict[str, int], "dims") == {"a": 3}
    for value, tp in (("fast", float), (True, float), (2.5, int), ("maybe", bool), ([1], str)):
        with pytest.raises(ConfigError):
            coerce(value, tp, "x")
    with pytest.raises(ConfigError, match=r"train config: unknown option lrr; known: model"):
        TrainConfig.from_dict({"model": "jemc", "dataset": "planted", "out": "x", "lrr": 1})
    with pytest.raises(ConfigError, match="train config: out is required"):
        TrainConfig.from_dict({"model": "jemc", "dataset": "planted"})
    with pytest.raises(ConfigError, match=r"model jemc: model_params: embed_dim must be int, got 'wide'"):
        model_card("jemc").make_config({"embed_dim": "wide"})
    with pytest.raises(ConfigError, match=r"dataset moments: dataset_params: collection is required"):
        dataset_card("moments").make_params({})
    with pytest.raises(ConfigError, match="unknown model 'nope'; known: cimha"):
        model_card("nope")
    assert issubclass(ConfigError, VidseekError)
    assert parse_config(TrainConfig, {"model": "m", "dataset": "d", "out": "o", "lr": "5e-4"}, "t").lr == 5e-4


def _yaml_config(path: Path, out: Path, lr: str) -> Path:
    path.write_text(f"model: jemc\ndataset: planted\nout: {out}\nepochs: 1\nbatch_size: '8'\nlr: {lr}\n"
                    "progress: false\nnum_threads: 1\n"
                    "model_params: {tiny: true, word_vectors: null}\n"
                    f"dataset_params: {yaml.safe_dump(PLANTED, default_flow_style=True).strip()}\n")
    return path


def test_yaml_lr_as_text_trains(tmp_path: Path) -> None:
    f = _yaml_config(tmp_path / "c.yaml", tmp_path / "run", "1e-3")
    assert yaml.safe_load(f.read_text())["lr"] == "1e-3"  # YAML 1.1 reads it as text
    cfg = resolve(TrainCommand(model="jemc", config=str(f)))
    assert cfg.lr == 1e-3 and cfg.batch_size == 8
    out = train(cfg)
    assert out["epochs_run"] == 1 and out["history"][0]["train_loss"] > 0
    assert RunDir.open(tmp_path / "run").config.lr == 1e-3  # saved as a number


def test_yaml_bad_lr_names_the_field(tmp_path: Path) -> None:
    f = _yaml_config(tmp_path / "c.yaml", tmp_path / "run", "fast")
    with pytest.raises(ConfigError, match=r"c\.yaml: lr must be float, got 'fast'"):
        resolve(TrainCommand(model="jemc", config=str(f)))
    f.write_text(f.read_text().replace("tiny: true", "tiny: true, gru_hidden: big"))
    f.write_text(f.read_text().replace("lr: fast", "lr: 1e-3"))
    with pytest.raises(ConfigError, match=r"model_params: gru_hidden must be int, got 'big'"):
        resolve(TrainCommand(model="jemc", config=str(f)))
    assert not (tmp_path / "run").exists()  # nothing was written


def test_run_dir_round_trip(tmp_path: Path) -> None:
    run = tmp_path / "run"
    with pytest.raises(RunDirError, match="no config.yaml"):
        RunDir.open(run)
    assert RunDir.existing(run) is None
    cfg = TrainConfig(model="jemc", dataset="planted", out=str(run), epochs=1, batch_size=8, progress=False,
                      num_threads=1, model_params={"tiny": True, "word_vectors": None},
                      dataset_params=dict(PLANTED))
    train(cfg)
    rd = RunDir.open(run)
    assert rd.config == cfg and rd.model == "jemc"
    splits = build_dataset("planted", PLANTED)
    assert rd.info() == splits.info and rd.info().n_clips == PLANTED["n_bins"]
    assert rd.weights() == run / BEST and rd.weights("last") == run / LAST
    ident = rd.identity()
    assert ident[:2] == ("jemc", str(run.resolve())) and RunDir.open(run).identity() == ident
    st = (run / BEST).stat()
    os.utime(run / BEST, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert rd.identity() != ident  # a new checkpoint is a new identity
    model = rd.load()
    again = RunDir.open(run).load()
    batch = splits.collate([splits.test[i] for i in range(len(splits.test))])
    with torch.no_grad():
        a = model.similarity(model.encode_texts(batch["texts"]), model.encode_videos(batch))
        b = again.similarity(again.encode_texts(batch["texts"]), again.encode_videos(batch))
    assert torch.equal(a, b) and not model.training
    with pytest.raises(RunDirError, match="holds a 'jemc' run, not 'mmt'"):
        rd.check_model("mmt")
    (run / BEST).unlink()
    assert RunDir.open(run).weights() == run / LAST  # best, else last
    (run / LAST).unlink()
    with pytest.raises(RunDirError, match="holds no weights yet"):
        RunDir.open(run).load()
    (run / "info.json").unlink()
    with pytest.raises(RunDirError, match="no info.json"):
        RunDir.open(run).info()
    (run / "config.yaml").write_text("model: jemc\ndataset: planted\nout: x\nepochs: many\n")
    with pytest.raises(RunDirError, match="epochs must be int"):
        RunDir.open(run)
