"""`vidseek <verb>`: one table from verb to (arguments, pipelines config, pipelines function).

No logic lives here: each verb's parsed arguments become its config dataclass, and the pipelines
function's return value is the exit code. Pipelines are imported only for the verb that runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from vidseek import __version__

DEFAULT_COLLECTION = "./vidseek-collection"


def _collection(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--collection", default=os.environ.get("VIDSEEK_COLLECTION", DEFAULT_COLLECTION),
        help="collection folder (default: $VIDSEEK_COLLECTION, else ./vidseek-collection)",
    )


def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _weights(text: str) -> dict[str, float]:
    out = {}
    for part in _csv(text):
        name, _, val = part.partition("=")
        out[name] = float(val)
    return out


def _extract_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", metavar="PATH", help="video files or folders")
    p.add_argument("--from-list", metavar="FILE", help="also the paths in FILE, one per line (# comments)")
    _collection(p)
    p.add_argument("--experts", type=_csv, help="comma-separated expert names (see `vidseek weights list`)")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--workers", type=int, default=1, help="worker processes (each loads the experts)")
    p.add_argument("--engine", default="local", choices=["local", "ray"],
                   help="local: in-process / process pool; ray: Ray Data actor pools (vidseek[cluster])")
    p.add_argument("--ray-address", help="ray engine: join this cluster (e.g. auto); default a local Ray")
    p.add_argument("--prefetch", type=int, default=2,
                   help="decode N frame chunks ahead on a thread while the experts run; 0: in-line")
    p.add_argument("--backend", choices=["decord", "pyav"], help="decoder (default: by frame size, decord below 720p, PyAV from 720p; the other as fallback)")
    p.add_argument("--random-weights", action="store_true", help="random init, for timing only (recorded in the store)")
    p.add_argument("--force", action="store_true", help="redo (video, expert) pairs already done")
    p.add_argument("--no-progress", dest="progress", action="store_false")


def _index_args(p: argparse.ArgumentParser) -> None:
    _collection(p)
    p.add_argument("--spaces", type=_csv, help="comma-separated search spaces (default: every expert present)")
    p.add_argument("--model", help="a trained run dir (jemc, mmt, fvmr) to index the collection with")
    p.add_argument("--rebuild", action="store_true", help="drop and rebuild the indexes")


def _search_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("query")
    _collection(p)
    p.add_argument("--top", type=int, default=10)
    p.add_argument("--json", action="store_true", help="print only a JSON list of hits")
    p.add_argument("--html", metavar="FILE", help="write an HTML page of the hits")
    p.add_argument("--videos", action="store_true", help="one hit per video")
    p.add_argument("--weights", type=_weights, help="expert weights, e.g. effnet_lite0=1,asr=2")
    p.add_argument("--rerank", metavar="RUN", help="re-score the top moments with a trained localizer")


def _status_args(p: argparse.ArgumentParser) -> None:
    _collection(p)
    p.add_argument("--json", action="store_true")


def _describe_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("video")
    p.add_argument("--experts", type=_csv)
    p.add_argument("--json", action="store_true")
    p.add_argument("--top", type=int, default=3)
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--random-weights", action="store_true")


def _weights_list_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true")


def _weights_import_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file")
    p.add_argument("--expert", required=True)


def _eval_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("queries", nargs="?", help="queries JSONL (or QVHighlights / Charades-STA / ActivityNet file)")
    _collection(p)
    p.add_argument("--json", action="store_true")
    p.add_argument("--html", metavar="FILE")
    p.add_argument("--format", help="annotation format (default: from the file)")
    p.add_argument("--predictions", help="moment predictions JSONL (QVHighlights format)")
    p.add_argument("--ground-truth", help="ground truth JSONL for --predictions")


def _train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("model")
    p.add_argument("--dataset", required=True)
    p.add_argument("--out", required=True, metavar="RUN_DIR")
    p.add_argument("--epochs", type=int)
    p.add_argument("--device", choices=["cpu", "cuda"])
    p.add_argument("--config", metavar="FILE")
    p.add_argument("--seed", type=int)
    p.add_argument("--batch-size", type=int)


def _synth_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True)
    p.add_argument("--videos", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)


def _serve_args(p: argparse.ArgumentParser) -> None:
    _collection(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default loopback only)")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"])


def _export_args(p: argparse.ArgumentParser) -> None:
    _collection(p)
    p.add_argument("--format", required=True, choices=["npy", "parquet", "hf"])
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--experts", type=_csv, help="comma-separated experts (default: every one)")
    p.add_argument("--videos", type=_csv, help="comma-separated video ids (default: every one)")


@dataclass(frozen=True)
class Verb:
    help: str
    add_args: Callable[[argparse.ArgumentParser], None]
    target: str  # "module:function:ConfigClass"


VERBS: dict[str, Verb] = {
    "extract": Verb("decode videos once and run the experts into the collection", _extract_args,
                    "vidseek.pipelines.extract:extract_collection:ExtractConfig"),
    "index": Verb("build or extend the FAISS indexes of a collection", _index_args,
                  "vidseek.pipelines.index:build_index:IndexConfig"),
    "search": Verb("find moments by text", _search_args,
                   "vidseek.pipelines.search:search:SearchConfig"),
    "status": Verb("what is done, failed and pending", _status_args,
                   "vidseek.pipelines.status:status:StatusConfig"),
    "describe": Verb("what the experts see in one video, window by window", _describe_args,
                     "vidseek.pipelines.describe:describe:DescribeConfig"),
    "eval": Verb("evaluate search on annotated queries, or moment predictions", _eval_args,
                 "vidseek.pipelines.evaluate:evaluate_any:EvalAnyConfig"),
    "train": Verb("train a joint-embedding or moment-localization model", _train_args,
                  "vidseek.pipelines.train:train:TrainCommand"),
    "synth": Verb("render the synthetic benchmark", _synth_args,
                  "vidseek.pipelines.synth:synth:SynthConfig"),
    "serve": Verb("a local search app: load once, search over HTTP, play the moments", _serve_args,
                  "vidseek.pipelines.serve:serve:ServeConfig"),
    "export": Verb("features as per-video .npy files, one Parquet dataset, or a HF dataset", _export_args,
                   "vidseek.pipelines.export:export:ExportConfig"),
    "weights list": Verb("every expert's weights: source, found / missing, path, sha256",
                         _weights_list_args, "vidseek.pipelines.weights:weights_list:WeightsListConfig"),
    "weights import": Verb("put a downloaded weights file where vidseek finds it",
                           _weights_import_args, "vidseek.pipelines.weights:weights_import:WeightsImportConfig"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vidseek", description="Find moments in a video collection by natural language."
    )
    parser.add_argument("--version", action="version", version=f"vidseek {__version__}")
    sub = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    groups: dict[str, argparse._SubParsersAction] = {}
    for name, verb in VERBS.items():
        head, _, tail = name.partition(" ")
        if tail:
            if head not in groups:
                gp = sub.add_parser(head, help=f"{head} commands")
                groups[head] = gp.add_subparsers(dest="subverb", required=True, metavar="SUBVERB")
            p = groups[head].add_parser(tail, help=verb.help, description=verb.help)
        else:
            p = sub.add_parser(name, help=verb.help, description=verb.help)
        verb.add_args(p)
        p.set_defaults(_verb=name)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    module, func, cls = VERBS[args._verb].target.split(":")
    mod = importlib.import_module(module)
    config_cls = getattr(mod, cls)
    names = {f.name for f in dataclasses.fields(config_cls)}
    values = {k: v for k, v in vars(args).items() if k in names and v is not None}
    try:
        return int(getattr(mod, func)(config_cls(**values)))
    except KeyboardInterrupt:
        print("vidseek: interrupted; finished work is kept, rerun to resume", file=sys.stderr)
        return 130
    except Exception as err:
        from vidseek.errors import VidseekError
        from vidseek.registry import UnknownNameError

        if isinstance(err, (VidseekError, UnknownNameError, FileNotFoundError)):
            print(f"vidseek {args._verb}: {err}", file=sys.stderr)
            return 2
        if isinstance(err, ModuleNotFoundError) and err.name:
            from vidseek.extras import message

            hint = message(err.name, f"vidseek {args._verb}")
            if hint:
                print(f"vidseek {args._verb}: {hint}", file=sys.stderr)
                return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
