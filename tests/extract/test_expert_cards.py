"""The expert and text encoder cards: each complete and consistent, and the only registration
an expert needs (search spaces, `weights list`, the default set are views of the cards)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from vidseek.extract.experts import (
    EXPERTS,
    TEXT_ENCODERS,
    ConseFeed,
    ExpertCard,
    ExpertOptions,
    TextLinesFeed,
    all_cards,
    default_experts,
    default_text_encoder,
    register_expert,
    weights_of,
)
from vidseek.extract.experts.cards import read_label_file
from vidseek.extract.experts.text import HashedWords
from vidseek.extract.worker import DEFAULT_EXPERTS
from vidseek.registry import UnknownNameError
from vidseek.search.conse import ConseSpace, load_labels
from vidseek.search.spaces import DEFAULT_ENCODER, SpaceContext, build_space, space_names
from vidseek.search.textlines import TextLineSpace
from vidseek.weights import WeightSpec, list_weights, locate

# the shipped zoo (tests register toy cards of their own, from tests/support)
EXPERT_NAMES = [n for n in EXPERTS.names() if EXPERTS.get(n).builder.__module__.startswith("vidseek.")]
ENCODER_NAMES = [n for n in TEXT_ENCODERS.names()
                 if TEXT_ENCODERS.get(n).builder.__module__.startswith("vidseek.")]


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Empty weights dir, torch hub and HF caches, offline: only installed packages remain."""
    monkeypatch.setenv("VIDSEEK_WEIGHTS_DIR", str(tmp_path / "weights"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.delenv("VIDSEEK_ONLINE", raising=False)
    return tmp_path / "weights"


@pytest.mark.parametrize("name", EXPERT_NAMES + [f"text:{n}" for n in ENCODER_NAMES])
def test_card_weights_resolvable_or_optional(name: str, isolated: Path) -> None:
    card = TEXT_ENCODERS.get(name[5:]) if name.startswith("text:") else EXPERTS.get(name)
    assert card.summary and (bool(card.weights) == (card.fetch != "none")), card
    for spec in card.weights:
        assert spec.expert == card.name  # the offline error names the card users know
        if card.fetch == "package":  # found offline on a fresh install, nothing to do
            found = locate(spec)
            assert found is not None and found[1] == f"package:{spec.package}", spec
        elif card.fetch == "setup":  # `make setup` converts it
            assert spec.convert is not None and spec.note
        else:  # the user fetches it: the message must say from where
            assert spec.url or spec.hf_repo, spec
    if card.default:
        assert card.fetch in ("package", "setup", "none"), "a default must work without a download"


@pytest.mark.parametrize("name", EXPERT_NAMES)
def test_expert_card_matches_its_tiny_twin(name: str, one_torch_thread: None) -> None:
    card = EXPERTS.get(name)
    expert = card.build(ExpertOptions(tiny=True))
    assert expert.spec.name == name and expert.spec.modality == card.modality
    assert expert.weights.random or card.fetch == "none"  # weight-free: the twin is the expert
    assert (expert.labels is not None) == card.is_classifier
    if card.is_classifier:
        labels = card.labels()
        assert labels is not None and len(labels) == card.classes  # the real label file
        assert len(read_label_file(str(card.label_file))) == card.classes
        if len(expert.labels or []) == card.classes:  # a twin with the real head: real names
            assert expert.labels == labels
    if isinstance(card.space, ConseFeed):
        assert card.is_classifier


def test_inconsistent_cards_are_refused() -> None:
    def build(o: ExpertOptions):  # type: ignore[no-untyped-def]
        raise AssertionError("never built")

    with pytest.raises(ValueError, match="ConSE space needs a classifier"):
        ExpertCard("bad", "appearance", "x", build, space=ConseFeed())
    with pytest.raises(ValueError, match="both label_file and classes"):
        ExpertCard("bad", "appearance", "x", build, label_file="imagenet_classes.txt")
    with pytest.raises(ValueError, match="modality"):
        ExpertCard("bad", "smell", "x", build)
    with pytest.raises(ValueError, match="already registered"):
        register_expert(EXPERTS.get("i3d"))  # the registry's duplicate check holds


def test_defaults_are_views_of_the_cards() -> None:
    assert DEFAULT_EXPERTS == default_experts()
    assert set(default_experts()) == {"effnet_lite0", "i3d", "whisper_audio", "asr", "ocr", "shots"}
    assert DEFAULT_ENCODER == default_text_encoder() == "minilm"


def test_zero_shot_spaces_keep_their_parameters(tmp_path: Path) -> None:
    ctx = SpaceContext(root=tmp_path, encoder=HashedWords("toy", 16))
    for name in EXPERT_NAMES:
        feed = EXPERTS.get(name).space
        if feed is None:
            assert name not in space_names()
            continue
        space = build_space(name, ctx)
        assert space.name == name and space.experts == (name,)
        if isinstance(feed, ConseFeed):
            assert isinstance(space, ConseSpace)
            assert (space.prompt, space.topk) == ("a video of {label}", 10) == (feed.prompt, feed.topk)
        else:
            assert isinstance(space, TextLineSpace)
            assert space.merge_seconds == feed.merge_seconds
    assert build_space("asr", ctx).merge_seconds == 6.0  # type: ignore[attr-defined]
    assert build_space("ocr", ctx).merge_seconds == 0.0  # type: ignore[attr-defined]


def test_weights_list_has_a_row_per_card() -> None:
    rows = list_weights(all_cards(), with_sha256=False)
    assert {r["expert"] for r in rows} >= set(EXPERT_NAMES) | set(ENCODER_NAMES)
    for r in rows:
        assert {"expert", "filename", "source", "status", "where", "path", "sha256", "license",
                "default", "optional", "extra"} <= set(r)
        assert r["optional"] == (not r["default"])


# --- adding a card is the only registration ----------------------------------------------------
@contextmanager
def registered(card: ExpertCard) -> Iterator[ExpertCard]:
    register_expert(card)
    try:
        yield card
    finally:
        EXPERTS._items.pop(card.name)  # Registry has no removal on purpose; tests only


def _toy_builder(options: ExpertOptions):  # type: ignore[no-untyped-def]
    return EXPERTS.get("effnet_lite0").build(ExpertOptions(tiny=True))


def test_a_new_card_appears_in_every_view(tmp_path: Path) -> None:

    spec = WeightSpec(expert="toy_card", filename="toy-card.pth", url="https://example.org/t.pth")
    card = ExpertCard("toy_card", "appearance", "a throwaway classifier", _toy_builder,
                      weights=(spec,), fetch="online", label_file="imagenet_classes.txt",
                      classes=1000, space=ConseFeed(prompt="a photo of {label}", topk=3),
                      default=True)
    with registered(card):
        assert "toy_card" in EXPERTS.names() and "toy_card" in default_experts()
        assert "toy_card" in space_names()
        space = build_space("toy_card", SpaceContext(root=tmp_path, encoder=HashedWords("toy", 16)))
        assert isinstance(space, ConseSpace) and (space.prompt, space.topk) == ("a photo of {label}", 3)
        assert len(load_labels("toy_card", 1000)) == 1000
        rows = [r for r in list_weights(all_cards(), with_sha256=False) if r["expert"] == "toy_card"]
        assert len(rows) == 1 and rows[0]["filename"] == "toy-card.pth" and rows[0]["default"]
        assert weights_of("toy_card") is spec
    assert "toy_card" not in space_names() and "toy_card" not in default_experts()
    with pytest.raises(UnknownNameError, match="known: .*effnet_lite0"):
        weights_of("toy_card")


def test_text_lines_feed_needs_no_classifier() -> None:
    card = ExpertCard("toy_lines", "speech", "lines", _toy_builder, space=TextLinesFeed(2.0))
    with registered(card):
        assert "toy_lines" in space_names()
    assert np.isclose(card.space.merge_seconds, 2.0)  # type: ignore[union-attr]


def test_importing_the_zoo_is_cheap() -> None:
    code = ("import sys, vidseek.extract.experts, vidseek.search.spaces; "
            "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers', 'faiss',"
            " 'open_clip', 'onnxruntime') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
