"""`vidseek <verb>`: one table from verb to (flags, pipelines function, config dataclass).

No logic lives here beyond turning flags into the verb's config and outcomes into exit codes:

    0 success · 1 some videos failed (the rest are done) · 2 could not run · 130 interrupted

Pipelines raise typed errors (vidseek.errors) and return an `Outcome`; `main` alone maps them.
A verb's flags are added only when that verb is parsed (`_VerbParser`), and its pipelines
module is imported only then, so `vidseek --help` never loads torch, FAISS or the registries.
The flags themselves are in vidseek.cli.flags.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from vidseek import __version__
from vidseek.cli import flags
from vidseek.errors import Outcome, failure_message

EXIT_OK, EXIT_SOME_FAILED, EXIT_CANNOT_RUN, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 0, 1, 2, 130, 141
EXIT_OF = {Outcome.OK: EXIT_OK, Outcome.SOME_FAILED: EXIT_SOME_FAILED}

# Config fields that no flag sets, and why: the one documented list. tests/cli/test_flags.py
# checks that every other field of every verb's config has a flag and every flag a field.
NOT_ON_COMMAND_LINE: dict[str, str] = {
    "ExtractConfig.tiny": "tests only: the experts' tiny random-init twins",
    "DescribeConfig.tiny": "tests only: the experts' tiny random-init twins",
    "SynthConfig.render": "tests only: captions without rendering the videos",
}
GLOBAL_DESTS = frozenset({"quiet", "verbose", "verb", "subverb", "_verb"})  # not config fields


# --- parsers ------------------------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error (the usage block is one `--help` away)."""

    def error(self, message: str) -> Any:  # argparse's signature says NoReturn
        self.exit(EXIT_CANNOT_RUN, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


class _VerbParser(_Parser):
    """A verb's parser whose flags are added the first time it parses or prints help."""

    fill: Callable[[argparse.ArgumentParser], None] | None = None

    def ensure_filled(self) -> None:
        if self.fill is not None:
            fill, self.fill = self.fill, None
            fill(self)

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        self.ensure_filled()
        return super().parse_known_args(args, namespace)

    def format_help(self) -> str:
        self.ensure_filled()
        return super().format_help()


# --- the table: verb -> (help, flags, the pipelines function and its config) -------------------
@dataclass(frozen=True)
class Target:
    run: Callable[[Any], int]
    config: type


def _extract() -> Target:
    from vidseek.pipelines.extract import ExtractConfig, extract_collection

    return Target(extract_collection, ExtractConfig)


def _index() -> Target:
    from vidseek.pipelines.index import IndexConfig, build_index

    return Target(build_index, IndexConfig)


def _search() -> Target:
    from vidseek.pipelines.search import SearchConfig, search

    return Target(search, SearchConfig)


def _status() -> Target:
    from vidseek.pipelines.status import StatusConfig, status

    return Target(status, StatusConfig)


def _doctor() -> Target:
    from vidseek.pipelines.doctor import DoctorConfig, doctor

    return Target(doctor, DoctorConfig)


def _serve() -> Target:
    from vidseek.pipelines.serve import ServeConfig, serve

    return Target(serve, ServeConfig)


def _export() -> Target:
    from vidseek.pipelines.export import ExportConfig, export

    return Target(export, ExportConfig)


def _describe() -> Target:
    from vidseek.pipelines.describe import DescribeConfig, describe

    return Target(describe, DescribeConfig)


def _eval_queries() -> Target:
    from vidseek.pipelines.evaluate import EvalConfig, evaluate

    return Target(evaluate, EvalConfig)


def _eval_predictions() -> Target:
    from vidseek.pipelines.eval_moments import EvalMomentsConfig, eval_moments

    return Target(eval_moments, EvalMomentsConfig)


def _train() -> Target:
    from vidseek.pipelines.train import TrainCommand, train

    return Target(train, TrainCommand)


def _synth() -> Target:
    from vidseek.pipelines.synth import SynthConfig, synth

    return Target(synth, SynthConfig)


def _weights_list() -> Target:
    from vidseek.pipelines.weights import WeightsListConfig, weights_list

    return Target(weights_list, WeightsListConfig)


def _weights_import() -> Target:
    from vidseek.pipelines.weights import WeightsImportConfig, weights_import

    return Target(weights_import, WeightsImportConfig)


@dataclass(frozen=True)
class Verb:
    help: str
    add_args: Callable[[argparse.ArgumentParser], None]
    target: Callable[[], Target]  # imports the verb's pipelines module when it runs


VERBS: dict[str, Verb] = {
    "extract": Verb("decode videos once and run the experts into the collection", flags.extract_args, _extract),
    "index": Verb("build or extend the FAISS indexes of a collection", flags.index_args, _index),
    "search": Verb("find moments by text", flags.search_args, _search),
    "status": Verb("what is done, failed and pending", flags.status_args, _status),
    "doctor": Verb("check a collection and say what to run to repair it", flags.status_args, _doctor),
    "describe": Verb("what the experts see in one video, window by window", flags.describe_args, _describe),
    "eval queries": Verb("search quality on annotated queries over a collection",
                         flags.eval_queries_args, _eval_queries),
    "eval predictions": Verb("QVHighlights-format moment predictions against ground truth",
                             flags.eval_predictions_args, _eval_predictions),
    "train": Verb("train a joint-embedding or moment-localization model", flags.train_args, _train),
    "synth": Verb("render the synthetic benchmark", flags.synth_args, _synth),
    "serve": Verb("a local search app: load once, search over HTTP, play the moments",
                  flags.serve_args, _serve),
    "export": Verb("features as per-video .npy files, one Parquet dataset, or a HF dataset",
                   flags.export_args, _export),
    "weights list": Verb("every expert's weights: which set, found / missing, where, sha256",
                         flags.weights_list_args, _weights_list),
    "weights import": Verb("put a downloaded weights file where vidseek finds it",
                           flags.weights_import_args, _weights_import),
}
GROUP_HELP = {"eval": "evaluate: `eval queries` (search) or `eval predictions` (a predictions file)",
              "weights": "list or import the experts' weights"}


def _global_flags(p: argparse.ArgumentParser, default: Any) -> None:
    p.add_argument("-q", "--quiet", action="store_true", default=default,
                   help="only results and errors: no progress bars, no status lines")
    p.add_argument("-v", "--verbose", action="store_true", default=default,
                   help="everything, including other libraries' logs and warnings, and tracebacks")


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return str(value).replace("%", "%%")


def _fill(p: argparse.ArgumentParser, verb: Verb) -> None:
    """Add the verb's flags, then append each one's default (the config field's) to its help."""
    verb.add_args(p)
    defaults = {f.name: f.default for f in dataclasses.fields(verb.target().config)
                if f.default is not dataclasses.MISSING}
    for a in p._actions:
        if not a.option_strings or a.dest in GLOBAL_DESTS | {"help"} or "default" in (a.help or ""):
            continue
        shown = a.default if a.default is not None else defaults.get(a.dest)
        if shown is not None:
            a.help = f"{a.help or ''} (default: {_show(shown)})".lstrip()


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="vidseek", description="Find moments in a video collection by natural language.",
                     epilog="exit codes: 0 success, 1 some videos failed (the rest are done), "
                            "2 could not run, 130 interrupted")
    parser.add_argument("--version", action="version", version=f"vidseek {__version__}")
    _global_flags(parser, False)
    sub = parser.add_subparsers(dest="verb", required=True, metavar="VERB", parser_class=_VerbParser)
    groups: dict[str, Any] = {}
    for name, verb in VERBS.items():
        head, _, tail = name.partition(" ")
        if tail:
            if head not in groups:
                gp = sub.add_parser(head, help=GROUP_HELP[head], description=GROUP_HELP[head])
                groups[head] = gp.add_subparsers(dest="subverb", required=True, metavar="SUBVERB",
                                                 parser_class=_VerbParser)
            p = groups[head].add_parser(tail, help=verb.help, description=verb.help)
        else:
            p = sub.add_parser(name, help=verb.help, description=verb.help)
        _global_flags(p, argparse.SUPPRESS)
        p.set_defaults(_verb=name)
        p.fill = lambda q, v=verb: _fill(q, v)  # type: ignore[attr-defined]
    return parser


def verb_parsers(parser: argparse.ArgumentParser) -> dict[str, _VerbParser]:
    """Every verb's parser, filled (for tests and docs)."""
    out: dict[str, _VerbParser] = {}

    def walk(p: argparse.ArgumentParser, prefix: str) -> None:
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    full = f"{prefix} {name}".strip()
                    if full in VERBS:
                        child.ensure_filled()
                        out[full] = child
                    else:
                        walk(child, full)

    walk(parser, "")
    return out


def config_of(args: argparse.Namespace) -> tuple[Target, Any]:
    """The verb's target and its config from the parsed flags; a flag without a field is a bug."""
    target = VERBS[args._verb].target()
    names = {f.name for f in dataclasses.fields(target.config)}
    given = {k: v for k, v in vars(args).items() if k not in GLOBAL_DESTS and v is not None}
    stray = sorted(set(given) - names)
    if stray:
        raise AssertionError(f"flags {stray} of `{args._verb}` have no field in {target.config.__name__}")
    return target, target.config(**given)


def _quiet_stdout() -> None:
    """After a closed pipe (`vidseek ... | head`): point stdout at devnull so the interpreter's
    final flush does not fail again (the recipe in Python's signal docs)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout without a file descriptor (tests)
        pass


def _verbose() -> bool:
    console = sys.modules.get("vidseek.console")
    return bool(console is not None and console.verbose())


def _prog(verb: str) -> str:
    return f"vidseek {verb}".strip()


def _flush_stdout() -> None:
    """Flush here, so a full disk or a closed pipe behind stdout is handled like any failure."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as err:
        raise OSError(err.errno, err.strerror, "standard output") from err


def main(argv: Sequence[str] | None = None) -> int:
    verb, cfg = "", None
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as stop:  # --help, --version (0) and usage errors (2, one line printed)
            return stop.code if isinstance(stop.code, int) else EXIT_CANNOT_RUN
        from vidseek import console  # after parsing: `--help` needs no logging setup

        console.setup(quiet=args.quiet, verbose=args.verbose)
        verb = args._verb
        target, cfg = config_of(args)
        outcome = Outcome(int(target.run(cfg)))
        _flush_stdout()
        return EXIT_OF[outcome]
    except KeyboardInterrupt:
        print(f"{_prog(verb)}: interrupted; finished work is kept, rerun to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_BROKEN_PIPE
    except Exception as err:  # noqa: BLE001 - every failure becomes an exit code here
        where = getattr(cfg, "collection", None) or getattr(cfg, "out", None)
        message = failure_message(err, where)
        if message is None or _verbose():
            traceback.print_exc()
        if message is None:
            print(f"{_prog(verb)}: this is a bug in vidseek {__version__}; please report it with the "
                  "command line and the traceback above", file=sys.stderr)
            return EXIT_CANNOT_RUN
        print(f"{_prog(verb)}: {message}", file=sys.stderr)
        return EXIT_CANNOT_RUN
