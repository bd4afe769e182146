"""Moment localizers: 2D-TAN, 2D-TAN + ProxyNCA++ proxies, FVMR, CI-MHA.

Importing this package registers them in `vidseek.models.base.MODELS` (names `tan2d`,
`tan2d_proxies`, `fvmr`, `cimha`) and the moment datasets in `DATASETS`. Every model shares the
`Localizer` interface: `localize(values, times, query, top_k) -> [(start, end, score)]`.
"""

from __future__ import annotations

from vidseek.models.base import MODELS
from vidseek.models.localization.cimha import CIMHA, build_cimha
from vidseek.models.localization.fvmr import FVMR, build_fvmr
from vidseek.models.localization.localizer import Localizer
from vidseek.models.localization.proxies import TAN2DProxies, build_tan2d_proxies
from vidseek.models.localization.tan2d import TAN2D, build_tan2d

LOCALIZERS = {"tan2d": build_tan2d, "tan2d_proxies": build_tan2d_proxies, "fvmr": build_fvmr, "cimha": build_cimha}
for _name, _builder in LOCALIZERS.items():
    if _name not in MODELS:
        MODELS.add(_name, _builder)

import vidseek.models.datasets.moments  # noqa: E402,F401  (registers the moment datasets)

__all__ = ["CIMHA", "FVMR", "LOCALIZERS", "Localizer", "TAN2D", "TAN2DProxies"]
