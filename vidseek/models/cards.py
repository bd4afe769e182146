"""Model and dataset cards: one registration per trainable model and per dataset, holding
everything the rest of vidseek needs to know about it.

A model's module registers its card once (`register_model(ModelCard(...))`); the trainer builds
from it, the CLI lists it, and the search side derives its views from it: a card with
`space` becomes a SPACES entry ("video": one vector per video, JEMC / MMT; "moments": one row
per candidate moment, FVMR), a card with `rerank` a RERANKERS entry (vidseek.search.model_views).
Every model has a tiny random-init twin: `model_params: {tiny: true}` applies the card's `tiny`
overrides under the user's own params (timm's test_* models, without a second name).
A dataset card says which param a `--dataset NAME:PATH` spec fills (`path_param`).
Cards import no torch; the modules that register them do (vidseek.plugins lists them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from vidseek.errors import ConfigError
from vidseek.models.config import DatasetInfo, TrainConfig, parse_config
from vidseek.registry import Registry

if TYPE_CHECKING:
    from vidseek.models.base import DatasetSplits, TrainableModel

TASKS = ("retrieval", "localization")
SPACE_KINDS = ("video", "moments")


@dataclass(frozen=True)
class ModelCard:
    """name: the registry name (a run dir's config.yaml `model`). builder(config, info) gets the
    typed config (an instance of `config`, a frozen dataclass whose fields and defaults are the
    model's hyper-parameters) and the DatasetInfo. tiny: overrides of the tiny twin. train: the
    model's own TrainConfig defaults (epochs, batch_size, lr...), used where neither the config
    file nor a flag sets them (`vidseek train`); TrainConfig's own defaults fill the rest."""

    name: str
    task: str
    summary: str
    builder: Callable[[Any, DatasetInfo], TrainableModel]
    config: type
    tiny: Mapping[str, Any] = field(default_factory=dict)
    space: str | None = None
    rerank: bool = False
    train: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        known = {f.name for f in fields(TrainConfig)} - {"model", "dataset", "out"}
        if set(self.train) - known:
            raise ValueError(f"model {self.name}: train defaults {sorted(set(self.train) - known)} "
                             f"are not TrainConfig fields")
        if self.task not in TASKS:
            raise ValueError(f"model {self.name}: task {self.task!r} not in {TASKS}")
        if self.space is not None and self.space not in SPACE_KINDS:
            raise ValueError(f"model {self.name}: space {self.space!r} not in {SPACE_KINDS}")

    def make_config(self, params: Mapping[str, Any] | None) -> Any:
        """The typed config of `params` (model_params), the tiny overrides under them when
        `tiny` is set; a bad or unknown value raises ConfigError naming model_params.FIELD."""
        where = f"model {self.name}: model_params"
        raw = dict(params or {})
        if parse_config(self.config, raw, where).tiny:
            raw = {**self.tiny, **raw}
        return parse_config(self.config, raw, where)

    def build(self, params: Mapping[str, Any] | None, info: DatasetInfo) -> TrainableModel:
        return self.builder(self.make_config(params), info)


@dataclass(frozen=True)
class DatasetCard:
    """builder(params) gets an instance of `params` (a frozen dataclass of the dataset's options).
    path_param: the field `--dataset NAME:PATH` fills (None: the dataset takes no path); syntax:
    how `--dataset` names it, for help text."""

    name: str
    task: str
    summary: str
    builder: Callable[[Any], DatasetSplits]
    params: type
    path_param: str | None = None
    syntax: str = ""

    def make_params(self, params: Mapping[str, Any] | None) -> Any:
        return parse_config(self.params, params, f"dataset {self.name}: dataset_params")

    def build(self, params: Mapping[str, Any] | None) -> DatasetSplits:
        return self.builder(self.make_params(params))


MODELS: Registry[ModelCard] = Registry("model")
DATASETS: Registry[DatasetCard] = Registry("dataset")


def register_model(card: ModelCard) -> ModelCard:
    MODELS.add(card.name, card)
    return card


def register_dataset(card: DatasetCard) -> DatasetCard:
    DATASETS.add(card.name, card)
    return card


def load_plugins() -> None:
    """Import every module that registers a model or dataset card (vidseek.plugins lists them)."""
    from vidseek import plugins

    plugins.load_models()


def model_card(name: str) -> ModelCard:
    load_plugins()
    try:
        return MODELS.get(name)
    except KeyError as err:
        raise ConfigError(str(err)) from None


def dataset_card(name: str) -> DatasetCard:
    load_plugins()
    try:
        return DATASETS.get(name)
    except KeyError as err:
        raise ConfigError(str(err)) from None


def model_cards() -> list[ModelCard]:
    load_plugins()
    return [MODELS.get(n) for n in MODELS.names()]


def build_model(name: str, params: Mapping[str, Any] | None, info: DatasetInfo) -> TrainableModel:
    return model_card(name).build(params, info)


def build_dataset(name: str, params: Mapping[str, Any] | None = None) -> DatasetSplits:
    return dataset_card(name).build(params)


def parse_dataset_spec(spec: str, params: Mapping[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """`NAME[:PATH]` -> (name, params with PATH in the card's path_param)."""
    name, sep, path = spec.partition(":")
    out = dict(params or {})
    if sep:
        card = dataset_card(name)
        if card.path_param is None:
            raise ConfigError(f"dataset {name} takes no path (use `--dataset {card.syntax or name}`)")
        out[card.path_param] = path
    return name, out


def train_default(key: str) -> str:
    """Help text of one TrainConfig default: "30 for jemc, else 10" (the cards' `train` first)."""
    own = {c.name: c.train[key] for c in model_cards() if key in c.train}
    base = next(f.default for f in fields(TrainConfig) if f.name == key)
    return ", ".join(f"{v:g} for {n}" for n, v in sorted(own.items())) + (", else " if own else "") + f"{base:g}"


def dataset_syntax() -> list[str]:
    """How `--dataset` names every dataset ("synth:DIR", "captions:FILE", "planted", ...)."""
    load_plugins()
    return [DATASETS.get(n).syntax or n for n in DATASETS.names()]
