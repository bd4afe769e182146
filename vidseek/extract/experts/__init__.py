"""The expert zoo. Importing this package registers every expert and text encoder.

Each module registers its experts (and their tiny random-init twins) in EXPERTS / TEXT_ENCODERS;
vidseek.plugins lists the modules.
Heavy libraries are imported inside builders, so importing the zoo stays cheap.
"""

from __future__ import annotations

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
from vidseek.plugins import load_experts

load_experts()


def create_expert(name: str, options: ExpertOptions | None = None) -> Expert:
    return EXPERTS.get(name)(options or ExpertOptions())


def create_text_encoder(name: str, options: ExpertOptions | None = None) -> TextEncoder:
    return TEXT_ENCODERS.get(name)(options or ExpertOptions())


__all__ = [
    "EXPERTS", "TEXT_ENCODERS", "Expert", "ExpertOptions", "ExpertSession", "ExpertSpec",
    "TextEncoder", "WeightsInfo", "create_expert", "create_text_encoder",
]
