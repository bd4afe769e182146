"""Every verb's flags, and the argument types that check them while parsing.

Registries are imported inside each verb's function, so only the verb being parsed pays for
them (vidseek.cli fills a verb's parser on first use). Defaults live in the config dataclasses;
vidseek.cli appends them to each flag's help.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

DEFAULT_COLLECTION = "./vidseek-collection"


# --- argument types -----------------------------------------------------------------------------
def csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def weights(text: str) -> dict[str, float]:
    out = {}
    for part in csv(text):
        name, eq, val = part.partition("=")
        try:
            out[name] = float(val)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{part!r} is not NAME=NUMBER") from None
        if not eq or not name:
            raise argparse.ArgumentTypeError(f"{part!r} is not NAME=NUMBER")
    return out


def at_least(low: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    parse.__name__ = f"int>={low}"
    return parse


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {value}")
    return value


def names_in(registry: Any, many: bool = True) -> Callable[[str], Any]:
    """Comma-separated names (or one name) that must be registered; the error lists the known."""
    def parse(text: str) -> Any:
        names = csv(text) if many else [text.strip()]
        unknown = [n for n in names if n not in registry]
        if unknown:
            raise argparse.ArgumentTypeError(
                f"unknown {registry.kind} {', '.join(unknown)}; known: {', '.join(registry.names())}")
        return names if many else names[0]

    parse.__name__ = registry.kind
    parse.registry = registry  # type: ignore[attr-defined]
    return parse


def listing(registry: Any) -> str:
    return ", ".join(registry.names())


# --- each verb's flags (defaults come from the config dataclass, shown in --help) ---------------
def collection(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--collection", default=os.environ.get("VIDSEEK_COLLECTION", DEFAULT_COLLECTION),
        help="collection folder (default: $VIDSEEK_COLLECTION, else ./vidseek-collection)")


def no_progress(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-progress", dest="progress", action="store_false", default=None,
                   help="no progress bar (default: a bar when stderr is a terminal, none with -q)")


def device(p: argparse.ArgumentParser, what: str = "where the experts run") -> None:
    p.add_argument("--device", choices=["cpu", "cuda"], help=what)


def extract_args(p: argparse.ArgumentParser) -> None:
    from vidseek.extract.decode import DECODERS
    from vidseek.extract.engines import ENGINES
    from vidseek.extract.experts import EXPERTS
    from vidseek.extract.worker import DEFAULT_EXPERTS

    p.add_argument("paths", nargs="*", metavar="PATH", help="video files or folders")
    p.add_argument("--from-list", metavar="FILE",
                   help="also the paths in FILE, one per line, # comments (default: none)")
    collection(p)
    p.add_argument("--experts", type=names_in(EXPERTS), metavar="A,B",
                   help=f"comma-separated experts, of: {listing(EXPERTS)} "
                        f"(default: {','.join(DEFAULT_EXPERTS)})")
    device(p)
    p.add_argument("--workers", type=at_least(1), help="worker processes or actors (each loads the experts)")
    p.add_argument("--engine", choices=ENGINES.names(),
                   help="local: in-process / process pool; ray: Ray Data actor pools (vidseek[cluster])")
    p.add_argument("--ray-address", metavar="ADDRESS",
                   help="ray engine: join this cluster, e.g. auto (default: start a local Ray)")
    p.add_argument("--prefetch", type=at_least(0), metavar="N",
                   help="decode N frame chunks ahead on a thread while the experts run; 0: in-line")
    p.add_argument("--frame-chunk", type=at_least(1), metavar="N", help="frames decoded per chunk")
    p.add_argument("--backend", choices=DECODERS.names(),
                   help="decoder (default: by frame size, decord below 720p, PyAV from 720p; "
                        "the other as fallback)")
    p.add_argument("--random-weights", action="store_true", default=None,
                   help="random init, for timing only (recorded in the store)")
    p.add_argument("--force", action="store_true", default=None, help="redo (video, expert) pairs already done")
    no_progress(p)


def index_args(p: argparse.ArgumentParser) -> None:
    from vidseek.extract.experts import TEXT_ENCODERS
    from vidseek.search.spaces import space_names

    collection(p)
    p.add_argument("--spaces", type=csv, metavar="A,B",
                   help=f"comma-separated search spaces, of: {', '.join(space_names())}, or a trained "
                        "space indexed before (default: every space whose expert is present)")
    p.add_argument("--model", metavar="RUN_DIR",
                   help="also index the collection with a trained run (jemc, mmt, fvmr) "
                        "(default: none; trained spaces indexed before are kept up to date)")
    p.add_argument("--encoder", type=names_in(TEXT_ENCODERS, many=False),
                   help=f"query text encoder of the zero-shot spaces, of: {listing(TEXT_ENCODERS)}")
    p.add_argument("--rebuild", action="store_true", default=None, help="drop and rebuild the indexes")
    no_progress(p)


def search_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("query", help="what to find, in words")
    collection(p)
    p.add_argument("--top", type=at_least(1), metavar="K", help="hits to show")
    p.add_argument("--json", action="store_true", default=None, help="print only a JSON list of hits")
    p.add_argument("--html", metavar="FILE", help="also write an HTML page of the hits (default: none)")
    p.add_argument("--videos", action="store_true", default=None,
                   help="one hit per video (its other moments as 'also' times)")
    p.add_argument("--all-moments", action="store_true", default=None,
                   help="every moment its own hit (default: moments nested in a better one of the "
                        "same video fold into it as 'also' times)")
    p.add_argument("--weights", type=weights, metavar="A=W,...",
                   help="per-space weights, e.g. effnet_lite0=1,asr=2 (default: 1 each)")
    p.add_argument("--rerank", metavar="RUN_DIR",
                   help="re-order the top videos' moments with a trained localizer run (tan2d, "
                        "fvmr, cimha) where it is confident; videos keep their zero-shot order "
                        "(default: none). Measured on the real clips: tan2d / fvmr runs trained on "
                        "the synthetic benchmark make the moments worse when forced (R@1 IoU 0.5 "
                        "18.8 -> 6.2 / 8.3); they know at most 41%% of a real query's words, so the "
                        "default gates (half the words in the run's vocabulary, best proposal "
                        "score >= 0.05) leave the zero-shot moments: not worse, not better "
                        "(docs/moment-search.md)")
    p.add_argument("--rerank-min-confidence", type=positive_float, metavar="P",
                   help="the localizer's best proposal score a video needs before its moments are "
                        "re-ordered; below it the zero-shot moments stay (default: 0.05)")


def status_args(p: argparse.ArgumentParser) -> None:
    collection(p)
    p.add_argument("--json", action="store_true", default=None, help="print JSON")


def describe_args(p: argparse.ArgumentParser) -> None:
    from vidseek.extract.experts import EXPERTS
    from vidseek.pipelines.describe import DEFAULT_EXPERTS

    p.add_argument("video", help="one video file")
    p.add_argument("--experts", type=names_in(EXPERTS), metavar="A,B",
                   help=f"comma-separated experts, of: {listing(EXPERTS)} "
                        f"(default: {','.join(DEFAULT_EXPERTS)})")
    p.add_argument("--json", action="store_true", default=None, help="print JSON")
    p.add_argument("--top", type=at_least(1), metavar="K", help="labels per window")
    device(p)
    p.add_argument("--random-weights", action="store_true", default=None,
                   help="random init (its labels mean nothing; for timing)")


def weights_list_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", default=None, help="print JSON")
    p.add_argument("--no-sha256", dest="sha256", action="store_false", default=None,
                   help="skip hashing (default: hash each found file once; the hash is cached)")


def weights_import_args(p: argparse.ArgumentParser) -> None:
    from vidseek.extract.experts import EXPERTS, TEXT_ENCODERS

    p.add_argument("file", help="the downloaded weights file (or folder)")
    p.add_argument("--expert", required=True, metavar="NAME",
                   help=f"whose weights these are, of the experts: {listing(EXPERTS)}; "
                        f"or the text encoders: {listing(TEXT_ENCODERS)}")


def eval_queries_args(p: argparse.ArgumentParser) -> None:
    from vidseek.models.datasets.queries import QUERY_FORMATS

    p.add_argument("queries", metavar="QUERIES",
                   help="annotated queries: vidseek JSONL, QVHighlights, Charades-STA or ActivityNet")
    collection(p)
    p.add_argument("--json", action="store_true", default=None, help="print JSON")
    p.add_argument("--html", metavar="FILE", help="also write an HTML report (default: none)")
    p.add_argument("--format", choices=QUERY_FORMATS.names(),
                   help="annotation format (default: from the file)")
    p.add_argument("--weights", type=weights, metavar="A=W,...",
                   help="per-space weights, as in search (default: 1 each)")


def eval_predictions_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--predictions", required=True, metavar="FILE",
                   help="moment predictions, QVHighlights submission JSONL")
    p.add_argument("--ground-truth", required=True, metavar="FILE", help="QVHighlights ground-truth JSONL")
    p.add_argument("--json", action="store_true", default=None,
                   help="print the reference evaluator's JSON layout")


def train_args(p: argparse.ArgumentParser) -> None:
    from vidseek import plugins
    from vidseek.models.cards import MODELS, TASKS, dataset_syntax, model_cards, train_default

    plugins.load_models()
    by_task = {t: sorted(c.name for c in model_cards() if c.task == t) for t in TASKS}
    p.add_argument("model", type=names_in(MODELS, many=False), metavar="MODEL",
                   help=" or ".join(f"a {t} model ({', '.join(n)})" for t, n in by_task.items() if n))
    p.add_argument("--dataset", metavar="NAME[:PATH]",
                   help=f"one of: {', '.join(dataset_syntax())}; PATH fills the dataset's path "
                        "(synth:DIR a `vidseek synth` folder, captions:FILE / moments:FILE an annotation "
                        "file; their collection comes from the config file's dataset_params) "
                        "(default: the config file's)")
    p.add_argument("--out", metavar="RUN_DIR", help="run folder to write (default: the config file's)")
    p.add_argument("--config", metavar="FILE", help="YAML train config; flags given override it (default: none)")
    p.add_argument("--epochs", type=at_least(1), metavar="N",
                   help=f"training epochs (default: the config file's, else the model's: {train_default('epochs')})")
    device(p, "where to train (default: the config file's, else cpu)")
    p.add_argument("--seed", type=int, help="random seed (default: the config file's, else 0)")
    p.add_argument("--batch-size", type=at_least(1), metavar="N",
                   help=f"training batch size (default: the config file's, else the model's: "
                        f"{train_default('batch_size')})")
    p.add_argument("--lr", type=positive_float,
                   help=f"learning rate (default: the config file's, else the model's: {train_default('lr')})")
    no_progress(p)


def synth_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write the benchmark into")
    p.add_argument("--videos", type=at_least(1), metavar="N", help="videos to render")
    p.add_argument("--seed", type=int, help="random seed")
    p.add_argument("--min-duration", type=positive_float, metavar="S", help="shortest video, seconds")
    p.add_argument("--max-duration", type=positive_float, metavar="S", help="longest video, seconds")
    no_progress(p)


def serve_args(p: argparse.ArgumentParser) -> None:
    collection(p)
    p.add_argument("--host", help="address to listen on; a non-loopback one is warned about")
    p.add_argument("--port", type=at_least(1), help="TCP port")
    p.add_argument("--log-level", choices=["critical", "error", "warning", "info", "debug"],
                   help="uvicorn's log level")


def export_args(p: argparse.ArgumentParser) -> None:
    collection(p)
    p.add_argument("--format", required=True, choices=["npy", "parquet", "hf"],
                   help="npy: values/times per video and expert; parquet: one dataset; hf: datasets.save_to_disk")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write")
    p.add_argument("--experts", type=csv, metavar="A,B", help="experts to export (default: every one)")
    p.add_argument("--videos", type=csv, metavar="X,Y", help="video ids to export (default: every one)")
