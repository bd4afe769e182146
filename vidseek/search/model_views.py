"""The search side's views of the model cards: nothing here is registered by hand.

A card with `space` ("video": TrainedSpace, one vector per video; "moments": MomentSpace, one row
per candidate moment) becomes a SPACES entry, a card with `rerank` a RERANKERS entry, both under
the model's name. vidseek.plugins.load_models imports this module after every model module, so
the loop runs once per process (Python caches modules) and the registries' duplicate checks hold:
a model named like a zero-shot space, or two cards of one name, raise.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from vidseek.models.cards import model_cards
from vidseek.search.engine import RERANKERS
from vidseek.search.moment_space import MomentSpace
from vidseek.search.rerank import reranker_builder
from vidseek.search.spaces import SPACES, Space
from vidseek.search.trained_space import TrainedSpace

SPACE_OF_KIND: dict[str, Callable[..., Space]] = {"video": TrainedSpace, "moments": MomentSpace}

for _card in model_cards():
    if _card.space is not None:
        SPACES.add(_card.name, partial(SPACE_OF_KIND[_card.space], name=_card.name))
    if _card.rerank:
        RERANKERS.add(_card.name, reranker_builder(_card.name))
