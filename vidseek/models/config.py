"""Typed configs of training runs, models and datasets, checked where they are read.

Every config is a frozen dataclass whose fields (with defaults) are the one list of its options.
`parse_config` turns a raw mapping (a YAML file, CLI options, a run dir's config.yaml) into one,
coercing what YAML leaves as text (`lr: 1e-3` is read as a string) to the field's type, and
raises ConfigError naming the field for anything else. No torch here: a run dir's config and
DatasetInfo are read without building a model.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar, Union

import yaml

from vidseek.errors import ConfigError

DEFAULT_CLIPS = 16
"""Time steps per video, the one default: retrieval datasets' `n_bins` (feature bins) and
localization datasets' `n_clips` (the 2D map's side)."""

C = TypeVar("C")
_TRUE, _FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}


def _type_name(tp: Any) -> str:
    if tp is type(None):
        return "None"
    if typing.get_origin(tp) is not None:
        return str(tp).replace("typing.", "")
    return getattr(tp, "__name__", None) or str(tp)


def coerce(value: Any, tp: Any, name: str) -> Any:
    """`value` as type `tp` (int, float, bool, str, X | None, list[X], tuple[X, ...], dict[K, V],
    Any); numbers and booleans written as text are converted; anything else raises ConfigError."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for arg in (a for a in args if a is not type(None)):
            try:
                return coerce(value, arg, name)
            except ConfigError:
                pass
        raise ConfigError(f"{name} must be {' or '.join(_type_name(a) for a in args)}, got {value!r}")
    if origin in (list, tuple):
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{name} must be a list, got {value!r}")
        item = args[0] if args else Any
        out = [coerce(v, item, f"{name}[{i}]") for i, v in enumerate(value)]
        return tuple(out) if origin is tuple else out
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{name} must be a mapping, got {value!r}")
        kt, vt = args if args else (Any, Any)
        return {coerce(k, kt, name): coerce(v, vt, f"{name}.{k}") for k, v in value.items()}
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                pass
    elif tp is str:
        if isinstance(value, (str, Path)) or (isinstance(value, (int, float)) and not isinstance(value, bool)):
            return str(value)
    else:
        raise TypeError(f"{name}: config fields of type {tp!r} are not supported")
    raise ConfigError(f"{name} must be {_type_name(tp)}, got {value!r}")


def parse_config(cls: type[C], raw: Mapping[str, Any] | None, where: str) -> C:
    """An instance of dataclass `cls` from `raw`: unknown keys, missing required fields and values
    of the wrong type raise ConfigError "WHERE: FIELD ...". An instance of `cls` passes through."""
    if isinstance(raw, cls):
        return raw
    raw = dict(raw or {})
    hints = typing.get_type_hints(cls)
    fs = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(raw) - set(fs))
    if unknown:
        raise ConfigError(f"{where}: unknown option{'s' * (len(unknown) > 1)} {', '.join(unknown)}; "
                          f"known: {', '.join(fs)}")
    kw = {}
    for name, f in fs.items():
        if name in raw:
            try:
                kw[name] = coerce(raw[name], hints[name], name)
            except ConfigError as err:
                raise ConfigError(f"{where}: {err}") from None
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            hint = f.metadata.get("help", "")
            raise ConfigError(f"{where}: {name} is required" + (f" ({hint})" if hint else ""))
    return cls(**kw)


def config_json(cfg: Any) -> dict[str, Any]:
    """A config dataclass as plain JSON/YAML values (tuples become lists)."""
    return yaml.safe_load(yaml.safe_dump(asdict(cfg)))  # type: ignore[no-any-return]


# ---- the run's own config -----------------------------------------------------------------------

@dataclass(frozen=True)
class TrainConfig:
    """Everything a run needs. YAML only at the edge (load_config / save_config). model_params and
    dataset_params are checked against the model's / dataset's card (vidseek.models.cards)."""

    model: str
    dataset: str
    out: str
    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.0
    seed: int = 0
    device: str = "cpu"
    amp: bool = True  # bf16 autocast on CUDA; ignored on CPU
    num_workers: int = 0
    num_threads: int | None = None  # torch CPU threads for this run (None: torch's default)
    grad_clip: float | None = 2.0
    eval_batch_size: int = 256
    max_steps_per_epoch: int | None = None  # cap for smoke tests and benches
    progress: bool = True
    model_params: dict[str, Any] = field(default_factory=dict)
    dataset_params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "train config") -> TrainConfig:
        return parse_config(cls, d, where)


def load_config(path: str | Path) -> dict[str, Any]:
    """The raw mapping of a YAML config file (merged with CLI options by the caller)."""
    try:
        with open(path) as fh:
            data = yaml.safe_load(fh) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not YAML ({str(err).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a train config must be a YAML mapping")
    return data


def save_config(cfg: TrainConfig, path: str | Path) -> None:
    with open(path, "w") as fh:
        yaml.safe_dump(config_json(cfg), fh, sort_keys=False)


# ---- what a model knows of its data ---------------------------------------------------------------

@dataclass
class DatasetInfo:
    """What a model needs to know about its data to be built (JSON-able; saved in the run dir).

    experts: expert name -> feature dim, in a fixed order. extra: task-specific facts (vocabulary,
    number of time steps, class names, split sizes...); the typed properties below read them.
    """

    name: str
    task: str  # "retrieval" | "localization"
    experts: dict[str, int] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_clips(self) -> int:
        """Time steps per video: `n_clips` (localization) or `n_bins` (retrieval)."""
        return int(self.extra.get("n_clips", self.extra.get("n_bins", DEFAULT_CLIPS)))

    @property
    def vocab(self) -> list[str]:
        return list(self.extra.get("vocab") or [])

    @property
    def num_classes(self) -> int:
        return int(self.extra.get("num_classes", 0))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> DatasetInfo:
        return cls(name=d["name"], task=d["task"], experts=dict(d.get("experts", {})),
                   extra=dict(d.get("extra", {})))
