"""The expert zoo. Importing this package registers every expert and text encoder card.

Each module registers one card per expert (`register_expert`) or text encoder
(`register_text_encoder`) in EXPERTS / TEXT_ENCODERS (cards.py); vidseek.plugins lists the
modules. Heavy libraries are imported inside builders, so importing the zoo stays cheap.
"""

from __future__ import annotations

from vidseek.extract.experts.base import (
    Expert,
    ExpertOptions,
    ExpertSession,
    ExpertSpec,
    TextEncoder,
    WeightsInfo,
)
from vidseek.extract.experts.cards import (
    EXPERTS,
    TEXT_ENCODERS,
    ConseFeed,
    ExpertCard,
    TextEncoderCard,
    TextLinesFeed,
    all_cards,
    default_experts,
    default_text_encoder,
    expert_cards,
    register_expert,
    register_text_encoder,
    text_encoder_cards,
    weights_of,
)
from vidseek.plugins import load_experts

load_experts()


def create_expert(name: str, options: ExpertOptions | None = None) -> Expert:
    return EXPERTS.get(name).build(options)


def create_text_encoder(name: str, options: ExpertOptions | None = None) -> TextEncoder:
    return TEXT_ENCODERS.get(name).build(options)


__all__ = [
    "EXPERTS", "TEXT_ENCODERS", "ConseFeed", "Expert", "ExpertCard", "ExpertOptions",
    "ExpertSession", "ExpertSpec", "TextEncoder", "TextEncoderCard", "TextLinesFeed",
    "WeightsInfo", "all_cards", "create_expert", "create_text_encoder", "default_experts",
    "default_text_encoder", "expert_cards", "register_expert", "register_text_encoder",
    "text_encoder_cards", "weights_of",
]
