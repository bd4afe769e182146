"""The expert zoo. Importing this package registers every expert and text encoder.

Each module registers its experts (and their tiny random-init twins) in EXPERTS / TEXT_ENCODERS.
Heavy libraries are imported inside builders, so importing the zoo stays cheap.
"""

from __future__ import annotations

import importlib

from vidseek.extract.experts.base import (
    EXPERTS,
    TEXT_ENCODERS,
    Expert,
    ExpertOptions,
    ExpertSession,
    ExpertSpec,
    TextEncoder,
    WeightsInfo,
)

_MODULES = (
    "appearance", "video_torchvision", "slowfast", "text", "i3d",
    "whisper_audio", "asr", "ocr", "vggish",
)

for _name in _MODULES:
    try:
        importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as _err:  # a family not written yet; any other missing module is a bug
        if _err.name != f"{__name__}.{_name}":
            raise


def create_expert(name: str, options: ExpertOptions | None = None) -> Expert:
    return EXPERTS.get(name)(options or ExpertOptions())


def create_text_encoder(name: str, options: ExpertOptions | None = None) -> TextEncoder:
    return TEXT_ENCODERS.get(name)(options or ExpertOptions())


__all__ = [
    "EXPERTS", "TEXT_ENCODERS", "Expert", "ExpertOptions", "ExpertSession", "ExpertSpec",
    "TextEncoder", "WeightsInfo", "create_expert", "create_text_encoder",
]
