"""The one place that imports every plugin module, so each registers its card once.

As timm's `models/__init__`: an explicit list, no import by naming rule. Three groups, because
they cost differently to import: experts and search spaces are light (heavy libraries load
inside builders), models import torch. Each loader is idempotent (Python caches modules).
"""

from __future__ import annotations


def load_experts() -> None:
    """Every expert and text encoder card (vidseek.extract.experts.cards.EXPERTS / TEXT_ENCODERS)."""
    import vidseek.extract.experts.appearance
    import vidseek.extract.experts.asr
    import vidseek.extract.experts.i3d
    import vidseek.extract.experts.ocr
    import vidseek.extract.experts.shots
    import vidseek.extract.experts.slowfast
    import vidseek.extract.experts.text
    import vidseek.extract.experts.vggish
    import vidseek.extract.experts.video_torchvision
    import vidseek.extract.experts.whisper_audio  # noqa: F401


def load_spaces() -> None:
    """The zero-shot space kinds; which experts get one is derived from the expert cards."""
    load_experts()
    import vidseek.search.conse
    import vidseek.search.textlines  # noqa: F401


def load_models() -> None:
    """Every trainable model and dataset card (vidseek.models.cards.MODELS / DATASETS), then the
    search spaces and rerankers derived from the model cards (after them: they loop over them)."""
    import vidseek.models.datasets
    import vidseek.models.datasets.features
    import vidseek.models.datasets.moments
    import vidseek.models.localization.cimha
    import vidseek.models.localization.fvmr
    import vidseek.models.localization.proxies
    import vidseek.models.localization.tan2d
    import vidseek.models.retrieval.jemc
    import vidseek.models.retrieval.mmt
    import vidseek.search.model_views  # noqa: F401


def load_all() -> None:
    load_experts()
    load_spaces()
    load_models()
