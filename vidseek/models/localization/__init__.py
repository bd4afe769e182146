"""Moment localizers: 2D-TAN, 2D-TAN + ProxyNCA++ proxies, FVMR, CI-MHA.

Each module registers its model card in `vidseek.models.cards.MODELS` (names `tan2d`,
`tan2d_proxies`, `fvmr`, `cimha`) (vidseek.plugins imports them). Every model shares the
`Localizer` interface: `localize(values, times, query, top_k) -> [(start, end, score)]`.
"""

from __future__ import annotations

from vidseek.models.localization.cimha import CIMHA
from vidseek.models.localization.fvmr import FVMR
from vidseek.models.localization.localizer import Localizer
from vidseek.models.localization.proxies import TAN2DProxies
from vidseek.models.localization.tan2d import TAN2D

__all__ = ["CIMHA", "FVMR", "Localizer", "TAN2D", "TAN2DProxies"]
