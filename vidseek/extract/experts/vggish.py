"""`vggish`: AudioSet VGGish embeddings (128-d per 0.96 s), the online audio option.

Weights: the torchvggish port (harritaylor/torchvggish release v0.1, `vggish-10086976.pth`),
resolved through vidseek.weights (weights dir, torch hub cache, download when online). The
front end follows the reference vggish_input.py, computed with librosa: 16 kHz mono, 25 ms
periodic-Hann frames every 10 ms (FFT 512), magnitude spectrum, 64 HTK mel bands 125-7500 Hz,
log(mel + 0.01), non-overlapping 96 x 64 patches (0.96 s). The PCA/quantisation post-processing
of the TF release is not applied (raw 128-d embeddings, after the final ReLU as in torchvggish).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vidseek.extract.experts._common import WholeAudioSession, option, torch_device, weights_for
from vidseek.extract.experts.base import Expert, ExpertOptions, ExpertSpec
from vidseek.extract.experts.cards import ExpertCard, register_expert
from vidseek.types import Features, VideoInfo
from vidseek.weights import WeightSpec

SAMPLE_RATE = 16000
PATCH_FRAMES, N_MELS, HOP, WIN, N_FFT = 96, 64, 160, 400, 512
WINDOW_S = PATCH_FRAMES * HOP / SAMPLE_RATE  # 0.96

VGGISH_SPEC = WeightSpec(
    expert="vggish",
    filename="vggish-10086976.pth",
    url="https://github.com/harritaylor/torchvggish/releases/download/v0.1/vggish-10086976.pth",
    sha256="10086976",
    license="Apache-2.0 (Google AudioSet VGGish; torchvggish port)",
)


def log_mel(pcm: np.ndarray) -> np.ndarray:
    """(frames, 64) log-mel of 16 kHz PCM, as VGGish's reference front end."""
    import librosa

    window = np.hanning(WIN + 1)[:-1]  # periodic Hann, as the reference
    n = 1 + (len(pcm) - WIN) // HOP if len(pcm) >= WIN else 0
    if n <= 0:
        return np.zeros((0, N_MELS), np.float32)
    idx = np.arange(WIN)[None, :] + HOP * np.arange(n)[:, None]
    spec = np.abs(np.fft.rfft(pcm[idx] * window, n=N_FFT))  # (n, 257)
    mel = librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS, fmin=125.0,
                              fmax=7500.0, htk=True, norm=None)
    return np.log(spec @ mel.T + 0.01).astype(np.float32)


def patches(logmel: np.ndarray) -> np.ndarray:
    """Non-overlapping (N, 96, 64) patches; a partial tail is dropped as in the reference."""
    n = len(logmel) // PATCH_FRAMES
    return logmel[: n * PATCH_FRAMES].reshape(n, PATCH_FRAMES, N_MELS)


def build_vggish_net(width: int = 1) -> Any:
    """torchvggish's VGG (state-dict compatible at width 1): features + 3 fc layers -> 128."""
    from torch import nn

    layers: list[nn.Module] = []
    cin = 1
    for v in (64, "M", 128, "M", 256, 256, "M", 512, 512, "M"):
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            c = int(v) // width
            layers += [nn.Conv2d(cin, c, 3, padding=1), nn.ReLU(inplace=True)]
            cin = c
    fc = 4096 // width

    class VGG(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = nn.Sequential(*layers)
            self.embeddings = nn.Sequential(
                nn.Linear(cin * 4 * 6, fc), nn.ReLU(True), nn.Linear(fc, fc), nn.ReLU(True),
                nn.Linear(fc, 128), nn.ReLU(True))

        def forward(self, x: Any) -> Any:  # x: (B, 1, 96, 64)
            x = self.features(x)
            x = x.transpose(1, 3).transpose(1, 2).contiguous()  # NHWC flatten as the TF model
            return self.embeddings(x.view(x.size(0), -1))

    return VGG()


class VggishSession(WholeAudioSession):
    def __init__(self, expert: VggishExpert) -> None:
        super().__init__()
        self.e = expert

    def finish(self) -> Features:
        audio = self.audio()
        x = patches(log_mel(audio))
        if len(x) == 0:
            return Features.empty(self.e.spec.name, self.e.spec.dim)
        values = np.concatenate([self.e.embed(x[i:i + 64]) for i in range(0, len(x), 64)])
        t0 = (self.start or 0.0) + np.arange(len(x)) * WINDOW_S
        return Features(self.e.spec.name, np.stack([t0, t0 + WINDOW_S], 1), values)


class VggishExpert(Expert):
    def __init__(self, name: str, options: ExpertOptions) -> None:
        import torch

        path, self.weights = weights_for(VGGISH_SPEC, options)
        self.net = build_vggish_net(width=16 if options.tiny else 1)
        if path is not None:
            self.net.load_state_dict(torch.load(str(path), map_location="cpu", weights_only=True))
        self.device = torch_device(options.device)
        self.net.eval().to(self.device)
        self.batch = int(option(options, "batch", 64))
        self.spec = ExpertSpec(name, "audio", 128, sample_rate=SAMPLE_RATE, window=WINDOW_S,
                               stride=WINDOW_S)

    def embed(self, x: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            out = self.net(torch.from_numpy(x[:, None]).to(self.device))
        return out.float().cpu().numpy()

    def session(self, info: VideoInfo) -> VggishSession:
        return VggishSession(self)


def build_vggish(options: ExpertOptions) -> Expert:
    """VGGish (AudioSet) 128-d per 0.96 s; needs the torchvggish file (online or imported)."""
    return VggishExpert("vggish", options)


register_expert(ExpertCard(
    name="vggish", modality="audio", builder=build_vggish, fetch="online",
    summary="AudioSet VGGish (torchvggish port): 128-d per 0.96 s of 16 kHz audio",
    weights=(VGGISH_SPEC,),
))
