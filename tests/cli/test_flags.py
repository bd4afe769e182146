"""Flags and config fields agree for every verb: nothing parsed is dropped, nothing configurable
is unreachable, every flag's help shows its default, and choices come from the registries."""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
from typing import Any

import pytest
from paths import ROOT

from vidseek.cli import (
    GLOBAL_DESTS,
    NOT_ON_COMMAND_LINE,
    VERBS,
    build_parser,
    config_of,
    verb_parsers,
)
from vidseek.cli import flags as cli_flags


@pytest.fixture(scope="module")
def parsers() -> dict[str, argparse.ArgumentParser]:
    return dict(verb_parsers(build_parser()))


def _own_actions(p: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in p._actions if a.dest not in GLOBAL_DESTS | {"help"}]


def _sample(action: argparse.Action) -> list[str]:
    """A valid value for one flag, from its choices, its type, or its registry."""
    if action.nargs == 0:
        return []
    if action.choices:
        return [str(next(iter(action.choices)))]
    t: Any = action.type
    if t is None:
        value = "x"
    elif getattr(t, "registry", None) is not None:
        value = t.registry.names()[0]
    elif t is int or str(getattr(t, "__name__", "")).startswith("int>="):
        value = "3"
    elif t is cli_flags.positive_float:
        value = "0.5"
    elif t is cli_flags.csv:
        value = "a,b"
    elif t is cli_flags.weights:
        value = "a=1"
    else:
        raise AssertionError(f"no sample for {action.dest} of type {t}")
    return [value] * (2 if action.nargs == "+" else 1)


def test_every_verb_is_in_the_parser(parsers: dict[str, argparse.ArgumentParser]) -> None:
    assert set(parsers) == set(VERBS)


@pytest.mark.parametrize("verb", sorted(VERBS))
def test_every_field_has_a_flag_and_every_flag_a_field(
        verb: str, parsers: dict[str, argparse.ArgumentParser]) -> None:
    config = VERBS[verb].target().config
    fields = {f.name for f in dataclasses.fields(config)}
    dests = {a.dest for a in _own_actions(parsers[verb])}
    assert dests <= fields, f"{verb}: flags without a config field: {sorted(dests - fields)}"
    file_only = {k.split(".", 1)[1] for k in NOT_ON_COMMAND_LINE if k.split(".", 1)[0] == config.__name__}
    assert fields - dests == file_only, f"{verb}: fields no flag reaches: {sorted(fields - dests - file_only)}"


@pytest.mark.parametrize("verb", sorted(VERBS))
def test_every_flag_lands_in_the_config(verb: str, parsers: dict[str, argparse.ArgumentParser]) -> None:
    p = parsers[verb]
    argv: list[str] = verb.split()
    positional: list[str] = []
    for a in _own_actions(p):
        if a.option_strings:
            argv += [a.option_strings[-1], *_sample(a)]
        else:
            positional += _sample(a)
    args = build_parser().parse_args(argv + positional)
    _, cfg = config_of(args)
    for a in _own_actions(p):
        assert getattr(cfg, a.dest) is not None, f"{verb}: {a.dest} was given but not set"
        assert getattr(cfg, a.dest) == getattr(args, a.dest)


@pytest.mark.parametrize("verb", sorted(VERBS))
def test_every_flag_has_help_with_its_default(verb: str, parsers: dict[str, argparse.ArgumentParser]) -> None:
    for a in _own_actions(parsers[verb]):
        assert a.help, f"{verb} {a.dest}: no help"
        if a.option_strings and not a.required:
            assert "default" in a.help, f"{verb} {a.option_strings[0]}: help shows no default: {a.help}"


def test_choices_come_from_the_registries(parsers: dict[str, argparse.ArgumentParser]) -> None:
    from vidseek.extract.experts import EXPERTS, TEXT_ENCODERS
    from vidseek.models.cards import DATASETS, MODELS
    from vidseek.search.spaces import space_names

    text = {v: p.format_help().replace("\n", " ") for v, p in parsers.items()}
    flat = {v: " ".join(t.split()) for v, t in text.items()}
    for name in EXPERTS.names():
        assert name in flat["extract"] and name in flat["describe"]
    for name in TEXT_ENCODERS.names():
        assert name in flat["index"]
    assert {"asr", "effnet_lite0", "i3d", "ocr"} <= set(space_names())
    for name in space_names():
        assert name in flat["index"]
    for name in MODELS.names():
        assert name in flat["train"]
    for name in DATASETS.names():
        assert name in flat["train"]


def test_file_only_fields_are_documented_in_one_place() -> None:
    for key, why in NOT_ON_COMMAND_LINE.items():
        cls_name, _, field = key.partition(".")
        assert why and field
        classes = {VERBS[v].target().config.__name__ for v in VERBS}
        assert cls_name in classes, key


def test_train_lr_and_index_encoder_reach_their_configs() -> None:
    _, cfg = config_of(build_parser().parse_args(
        ["train", "jemc", "--dataset", "synth:/tmp/x", "--out", "/tmp/run", "--lr", "1e-3"]))
    assert cfg.lr == pytest.approx(0.001) and isinstance(cfg.lr, float)
    _, cfg = config_of(build_parser().parse_args(["index", "--collection", "c", "--encoder", "glove50"]))
    assert cfg.encoder == "glove50"
    _, cfg = config_of(build_parser().parse_args(["index", "--collection", "c"]))
    assert cfg.encoder == "minilm"  # not given: the config's default, not the parser's


def test_globals_before_or_after_the_verb() -> None:
    args = build_parser().parse_args(["-q", "status", "--collection", "c"])
    assert args.quiet and not args.verbose
    args = build_parser().parse_args(["status", "--collection", "c", "-v"])
    assert args.verbose and not args.quiet


def test_top_level_help_imports_no_heavy_library() -> None:
    code = ("import sys; from vidseek import cli; cli.build_parser().format_help(); "
            "print(json.dumps(sorted(m for m in ('torch', 'faiss', 'sentence_transformers', 'numpy', "
            "'transformers', 'vidseek.extract', 'vidseek.pipelines') if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", "import json; " + code], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    assert json.loads(out) == []


def test_the_verb_table_holds_callables() -> None:
    for name, verb in VERBS.items():
        assert callable(verb.add_args) and callable(verb.target), name
        target = verb.target()
        assert callable(target.run) and dataclasses.is_dataclass(target.config), name
