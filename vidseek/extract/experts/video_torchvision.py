"""`s3d`: torchvision S3D Kinetics-400 (KINETICS400_V1) as a motion expert.

One row per clip of 16 consecutive frames sampled at 15 fps (the frame rate of torchvision's
recipe; ~1.07 s per row, stride = one clip; `extra["clip_frames"]` / `extra["stride_frames"]`
change it): the 1024-d mean of the last feature map and the 400 Kinetics probabilities.
Frames follow the weights' own transforms: resize to 256x256, center crop 224, Kinetics
mean/std. A video shorter than a clip is padded by repeating its last frame (meta says so).
"""

from __future__ import annotations

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

S3D_WEIGHTS = WeightSpec(
    expert="s3d", filename="s3d-d76dad2f.pth",
    url="https://download.pytorch.org/models/s3d-d76dad2f.pth", sha256="d76dad2f",
    license="BSD-3-Clause (torchvision)",
)
KINETICS_MEAN = (0.43216, 0.394666, 0.37645)
KINETICS_STD = (0.22803, 0.22145, 0.216989)
FPS, CLIP_FRAMES, RESIZE, CROP = 15.0, 16, (256, 256), 224
PREPROCESS = Preprocess(RESIZE, CROP, KINETICS_MEAN, KINETICS_STD, 1 / 255)
LABEL_FILE = "kinetics400_classes.txt"


class S3DExpert(Expert):
    """Clips of consecutive frames through S3D; clips are batched across decoder chunks."""

    def __init__(self, options: ExpertOptions) -> None:
        import torch
        from torchvision.models.video.s3d import S3D

        path, self.weights = weights_for(S3D_WEIGHTS, options)
        tiny = options.tiny
        self.device = torch_device(options.device)
        n_classes = 10 if tiny else 400
        self.net = S3D(num_classes=n_classes)
        if path is not None:
            self.net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        self.net = self.net.to(self.device).eval()
        self.labels = ([f"random class {i}" for i in range(10)] if tiny
                       else load_labels(LABEL_FILE, 400))
        self.resize, self.crop = ((36, 36), 32) if tiny else (RESIZE, CROP)
        fps = float(options.fps or FPS)
        self.clip_frames = int(option(options, "clip_frames", 8 if tiny else CLIP_FRAMES))
        self.stride_frames = int(option(options, "stride_frames", self.clip_frames))
        self.batch_size = int(options.batch_size or 8)
        self.amp = bool(option(options, "amp", False))
        self.spec = ExpertSpec(name="s3d", modality="motion", dim=1024, fps=fps,
                               window=self.clip_frames / fps, stride=self.stride_frames / fps)

    def prepare(self, frames: np.ndarray) -> np.ndarray:
        return crops_uint8(frames, self.resize, self.crop)

    def run(self, clips: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """uint8 (B, T, S, S, 3) -> (B, 1024) features, (B, C) probs."""
        import torch

        with inference(self.device, self.amp):
            x = to_tensor(clips, self.device, KINETICS_MEAN, KINETICS_STD, 1 / 255)  # B,T,3,S,S
            x = x.transpose(1, 2)  # B,3,T,S,S
            fmap = self.net.features(x)
            # The global mean equals torchvision's avgpool (2,7,7) for a 16-frame 224 clip and
            # still works for other clip lengths and the tiny twin.
            pooled = fmap.float().mean(dim=(2, 3, 4), keepdim=True)
            logits = self.net.classifier(pooled).flatten(1)
            probs = torch.softmax(logits.float(), dim=-1)
        return pooled.flatten(1).cpu().numpy(), probs.cpu().numpy()

    def session(self, info: VideoInfo) -> ExpertSession:
        return ClipSession(self.spec, info, self.prepare, self.run, self.clip_frames,
                           self.stride_frames, self.batch_size)


def s3d(options: ExpertOptions) -> Expert:
    return S3DExpert(options)


register_expert(ExpertCard(
    name="s3d", modality="motion", builder=s3d, fetch="online",
    summary="torchvision S3D KINETICS400_V1 per 16-frame clip at 15 fps: 1024-d + 400 probs",
    weights=(S3D_WEIGHTS,), preprocess=PREPROCESS,
    label_file=LABEL_FILE, classes=400, space=ConseFeed(),
))


__all__ = ["S3DExpert", "S3D_WEIGHTS", "s3d"]
