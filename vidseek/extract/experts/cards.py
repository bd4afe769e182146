"""One card per expert and per text encoder: everything vidseek knows about it, in one place.

As timm's `@register_model` + `PretrainedCfg` and torchvision's weights values: a card holds the
builder, the weights it resolves, its preprocessing, its label file, which zero-shot search
space it feeds and whether it is in the default set. Each expert module registers its card once
(`register_expert` / `register_text_encoder`); the search spaces, `weights list`, the default
expert set and the CLI's choices are views of these registries, never separate tables.

Light on purpose: no torch here (builders import their heavy libraries when called).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import ClassVar

from vidseek.extract.experts.base import Expert, ExpertOptions, TextEncoder
from vidseek.registry import Registry, UnknownNameError
from vidseek.weights import WeightSpec

MODALITIES = ("appearance", "motion", "audio", "speech", "ocr", "shots")
FETCH = ("package", "setup", "online", "none")
"""Where a card's weights come from on a fresh install: an installed pip package ("package",
found offline), a one-time conversion by `make setup` ("setup"), a download / import the user
does ("online"), or nowhere: a weight-free expert ("none", e.g. the shot-cut detector)."""

DEFAULT_PROMPT = "a video of {label}"
DEFAULT_TOPK = 10

ExpertBuilder = Callable[[ExpertOptions], Expert]
TextEncoderBuilder = Callable[[ExpertOptions], TextEncoder]


@dataclass(frozen=True)
class Preprocess:
    """How a frame becomes network input: resize (shorter side, or exact (h, w)), center crop,
    then (x * scale - mean) / std."""

    size: int | tuple[int, int]
    crop: int
    mean: tuple[float, ...] | float
    std: tuple[float, ...] | float
    scale: float = 1.0
    mode: str = "bilinear"


@dataclass(frozen=True)
class ConseFeed:
    """The expert's class probabilities are searched by ConSE (vidseek.search.conse): a window
    is the probability-weighted mean of its top-k labels' prompt embeddings."""

    prompt: str = DEFAULT_PROMPT
    topk: int = DEFAULT_TOPK
    kind: ClassVar[str] = "conse"


@dataclass(frozen=True)
class TextLinesFeed:
    """The expert's timed text lines are embedded with the query encoder
    (vidseek.search.textlines); consecutive lines merge into windows of <= merge_seconds
    (0: each line as it is)."""

    merge_seconds: float = 0.0
    kind: ClassVar[str] = "textlines"


SpaceFeed = ConseFeed | TextLinesFeed


@dataclass(frozen=True)
class ExpertCard:
    """Everything about one expert.

    builder: ExpertOptions -> Expert. With `options.tiny` it builds the tiny random-init twin
    (same class, toy size; what every generic test runs on); with `options.random_weights` the
    full architecture with random weights (timing). label_file (in vidseek/data, one class per
    line) and classes: set for classifiers (experts that emit class probabilities).
    space: the zero-shot search space it feeds (None: not searchable by text on its own).
    default: in the set `vidseek extract` runs without --experts. extra: the pip extra it needs
    beyond the core install (None: none). fetch: see FETCH.
    """

    name: str
    modality: str
    summary: str
    builder: ExpertBuilder
    weights: tuple[WeightSpec, ...] = ()
    fetch: str = "package"
    preprocess: Preprocess | None = None
    label_file: str | None = None
    classes: int | None = None
    space: SpaceFeed | None = None
    default: bool = False
    extra: str | None = None

    def __post_init__(self) -> None:
        if self.modality not in MODALITIES:
            raise ValueError(f"expert {self.name}: modality {self.modality!r}; known: {', '.join(MODALITIES)}")
        if self.fetch not in FETCH:
            raise ValueError(f"expert {self.name}: fetch {self.fetch!r}; known: {', '.join(FETCH)}")
        if self.fetch == "none" and self.weights:
            raise ValueError(f"expert {self.name}: fetch 'none' means no weights, but it lists some")
        if (self.label_file is None) != (self.classes is None):
            raise ValueError(f"expert {self.name}: a classifier sets both label_file and classes")
        if isinstance(self.space, ConseFeed) and self.classes is None:
            raise ValueError(f"expert {self.name}: a ConSE space needs a classifier (label_file, classes)")

    @property
    def is_classifier(self) -> bool:
        return self.classes is not None

    def build(self, options: ExpertOptions | None = None) -> Expert:
        return self.builder(options or ExpertOptions())

    def labels(self) -> list[str] | None:
        """The real network's class names from its label file (None: not a classifier)."""
        return read_label_file(self.label_file) if self.label_file else None


@dataclass(frozen=True)
class TextEncoderCard:
    """Everything about one text encoder. builder: ExpertOptions -> TextEncoder; `options.tiny`
    builds the tiny random-init twin. dim: the real encoder's width. default: the query encoder
    of the zero-shot spaces when none is named (exactly one card sets it)."""

    name: str
    summary: str
    builder: TextEncoderBuilder
    dim: int
    weights: tuple[WeightSpec, ...] = ()
    fetch: str = "package"
    default: bool = False
    extra: str | None = None

    def __post_init__(self) -> None:
        if self.fetch not in FETCH:
            raise ValueError(f"text encoder {self.name}: fetch {self.fetch!r}; known: {', '.join(FETCH)}")

    def build(self, options: ExpertOptions | None = None) -> TextEncoder:
        return self.builder(options or ExpertOptions())


EXPERTS: Registry[ExpertCard] = Registry("expert")
TEXT_ENCODERS: Registry[TextEncoderCard] = Registry("text encoder")


def register_expert(card: ExpertCard) -> ExpertCard:
    """The one registration of an expert (module level, in the expert's own file)."""
    EXPERTS.add(card.name, card)
    return card


def register_text_encoder(card: TextEncoderCard) -> TextEncoderCard:
    """The one registration of a text encoder (module level, in its own file)."""
    TEXT_ENCODERS.add(card.name, card)
    return card


def read_label_file(filename: str) -> list[str]:
    """Class names, one per non-empty line, from vidseek/data/<filename>."""
    text = resources.files("vidseek.data").joinpath(filename).read_text(encoding="utf-8")
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


# --- views -------------------------------------------------------------------------------------
def expert_cards() -> list[ExpertCard]:
    return [EXPERTS.get(n) for n in EXPERTS.names()]


def text_encoder_cards() -> list[TextEncoderCard]:
    return [TEXT_ENCODERS.get(n) for n in TEXT_ENCODERS.names()]


def all_cards() -> list[ExpertCard | TextEncoderCard]:
    """Every expert card, then every text encoder card (the rows of `weights list`)."""
    return [*expert_cards(), *text_encoder_cards()]


def default_experts() -> tuple[str, ...]:
    """The experts `vidseek extract` runs when none are named (by name)."""
    return tuple(c.name for c in expert_cards() if c.default)


def default_text_encoder() -> str:
    """The query encoder of the zero-shot spaces when none is named."""
    names = [c.name for c in text_encoder_cards() if c.default]
    if len(names) != 1:
        raise ValueError(f"exactly one text encoder card must be the default; got {names}")
    return names[0]


def weights_of(name: str) -> WeightSpec:
    """The weights spec an expert or text encoder card resolves (`weights import --expert`)."""
    specs = {s.filename: s for c in all_cards() if c.name == name for s in c.weights}
    if len(specs) == 1:
        return next(iter(specs.values()))
    known = ", ".join(sorted({c.name for c in all_cards() if c.weights})) or "(none)"
    if not specs:
        raise UnknownNameError(f"no weights for expert {name!r}; known: {known}")
    raise UnknownNameError(f"expert {name!r} has several weights files: {', '.join(sorted(specs))}")


__all__ = [
    "DEFAULT_PROMPT", "DEFAULT_TOPK", "EXPERTS", "FETCH", "MODALITIES", "TEXT_ENCODERS", "ConseFeed",
    "ExpertBuilder", "ExpertCard", "Preprocess", "SpaceFeed", "TextEncoderBuilder",
    "TextEncoderCard", "TextLinesFeed", "all_cards", "default_experts", "default_text_encoder",
    "expert_cards", "read_label_file", "register_expert", "register_text_encoder",
    "text_encoder_cards", "weights_of",
]
