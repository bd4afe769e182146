"""`slowfast_r50`: pytorchvideo's hub SlowFast R50 8x8 (Kinetics-400) as a motion expert.

One row per clip of 32 frames sampled at 15 fps (the hub recipe: 32 frames, sampling rate 2 at
30 fps, ~2.13 s; stride = one clip unless `extra["stride_frames"]`): the fast pathway sees all
32 frames, the slow one 8 evenly spaced. Features: the 2304-d (2048 slow + 256 fast) pooled
map; probs: the 400 Kinetics classes. Frames: shorter side 256, center crop 256, mean 0.45 /
std 0.225.

pytorchvideo 0.1.5 imports `torchvision.transforms.functional_tensor`, which torchvision 0.17+
removed; `_install_functional_tensor_shim` aliases it to `torchvision.transforms.functional`
before pytorchvideo is imported (no fork).
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from vidseek.extract.experts._common import (
    ClipSession,
    crops_uint8,
    inference,
    load_labels,
    option,
    to_tensor,
    torch_device,
    weights_for,
)
from vidseek.extract.experts.base import Expert, ExpertOptions, ExpertSession, ExpertSpec
from vidseek.extract.experts.cards import ConseFeed, ExpertCard, Preprocess, register_expert
from vidseek.types import VideoInfo
from vidseek.weights import WeightSpec

SLOWFAST_WEIGHTS = WeightSpec(
    expert="slowfast_r50", filename="SLOWFAST_8x8_R50.pyth",
    url="https://dl.fbaipublicfiles.com/pytorchvideo/model_zoo/kinetics/SLOWFAST_8x8_R50.pyth",
    license="Apache-2.0 (pytorchvideo model zoo)",
)
FPS, CLIP_FRAMES, ALPHA, SIDE, CROP = 15.0, 32, 4, 256, 256
MEAN, STD = (0.45, 0.45, 0.45), (0.225, 0.225, 0.225)
PREPROCESS = Preprocess(SIDE, CROP, MEAN, STD, 1 / 255)
LABEL_FILE = "kinetics400_classes.txt"


def _install_functional_tensor_shim() -> None:
    name = "torchvision.transforms.functional_tensor"
    if name not in sys.modules:
        try:
            __import__(name)
        except ImportError:
            import torchvision.transforms.functional as F

            sys.modules[name] = F


def build_slowfast(tiny: bool) -> Any:
    """SlowFast R50 (hub config) or a toy SlowFast of the same class (R18 stages, 8/1 stem
    channels, 32x32 input, 8 fast frames)."""
    _install_functional_tensor_shim()
    from pytorchvideo.models.slowfast import create_slowfast

    if tiny:
        return create_slowfast(model_depth=18, stem_dim_outs=(8, 1), model_num_class=10,
                               slowfast_fusion_conv_kernel_size=(7, 1, 1),
                               head_pool_kernel_sizes=((2, 1, 1), (8, 1, 1)))
    return create_slowfast(model_depth=50, slowfast_fusion_conv_kernel_size=(7, 1, 1))


class SlowFastExpert(Expert):
    def __init__(self, options: ExpertOptions) -> None:
        import torch

        path, self.weights = weights_for(SLOWFAST_WEIGHTS, options)
        tiny = options.tiny
        self.device = torch_device(options.device)
        net = build_slowfast(tiny)
        if path is not None:
            ckpt = torch.load(path, map_location="cpu", weights_only=True)
            net.load_state_dict(ckpt.get("model_state", ckpt), strict=True)
        self.net = net.to(self.device).eval()
        self.labels = ([f"random class {i}" for i in range(10)] if tiny
                       else load_labels(LABEL_FILE, 400))
        self.side, self.crop = (32, 32) if tiny else (SIDE, CROP)
        fps = float(options.fps or FPS)
        self.clip_frames = 8 if tiny else CLIP_FRAMES
        self.stride_frames = int(option(options, "stride_frames", self.clip_frames))
        self.batch_size = int(options.batch_size or 4)
        self.amp = bool(option(options, "amp", False))
        self.spec = ExpertSpec(name="slowfast_r50", modality="motion", dim=int(self.net.blocks[-1].proj.in_features),
                               fps=fps, window=self.clip_frames / fps,
                               stride=self.stride_frames / fps)

    def prepare(self, frames: np.ndarray) -> np.ndarray:
        return crops_uint8(frames, self.side, self.crop)

    def run(self, clips: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """uint8 (B, T, S, S, 3) -> pooled features (B, dim), probs (B, C)."""
        import torch

        with inference(self.device, self.amp):
            fast = to_tensor(clips, self.device, MEAN, STD, 1 / 255).transpose(1, 2)  # B,3,T,S,S
            t = fast.shape[2]
            idx = torch.linspace(0, t - 1, max(1, t // ALPHA), device=self.device).long()
            x: Any = [fast.index_select(2, idx), fast]
            for block in self.net.blocks[:-1]:  # stem, res stages, PoolConcatPathway
                x = block(x)
            feats = x.float().mean(dim=(2, 3, 4))
            logits = self.net.blocks[-1](x)  # ResNetBasicHead: proj + output pool
            probs = torch.softmax(logits.float().flatten(1), dim=-1)
        return feats.cpu().numpy(), probs.cpu().numpy()

    def session(self, info: VideoInfo) -> ExpertSession:
        return ClipSession(self.spec, info, self.prepare, self.run, self.clip_frames,
                           self.stride_frames, self.batch_size)


def slowfast_r50(options: ExpertOptions) -> Expert:
    return SlowFastExpert(options)


register_expert(ExpertCard(
    name="slowfast_r50", modality="motion", builder=slowfast_r50, fetch="online",
    summary="pytorchvideo SlowFast R50 8x8 per 32-frame clip at 15 fps: 2304-d + 400 probs",
    weights=(SLOWFAST_WEIGHTS,), preprocess=PREPROCESS,
    label_file=LABEL_FILE, classes=400, space=ConseFeed(),
))


__all__ = ["SLOWFAST_WEIGHTS", "SlowFastExpert", "build_slowfast", "slowfast_r50"]
