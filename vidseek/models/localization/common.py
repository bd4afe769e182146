"""The 2D temporal map shared by 2D-TAN and FVMR: which (start, end) clip pairs are candidate
moments, how their features are built from N clip features, and how cells map to seconds.

Cell (i, j) of an N x N map is the moment from the start of clip i to the end of clip j (j >= i),
i.e. seconds [i / N * duration, (j + 1) / N * duration]. Long videos keep only a sparse subset of
cells (2D-TAN's rule): every span up to 16 clips, then spans whose start and length are multiples
of 2, 4, 8 ... as the length grows, so the map stays O(N) cells per diagonal group.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn


def default_pooling_counts(n: int) -> list[int]:
    """Diagonals per stride group: all of them up to N = 16; else 15 dense then 8 per doubling
    stride until the longest span is reached (N=64 -> [15, 8, 8], N=128 -> [15, 8, 8, 8])."""
    if n <= 16:
        return [max(n - 1, 0)]
    counts, offset, stride = [15], 15, 1
    while offset < n - 1:
        stride *= 2
        counts.append(8)
        offset += 8 * stride
    return counts


def proposal_mask(n: int, counts: Sequence[int] | None = None) -> np.ndarray:
    """(N, N) bool: True where (i, j) is a candidate moment. Offset o = j - i grows by `stride`
    for each diagonal of a group; starts are multiples of the group's stride."""
    counts = default_pooling_counts(n) if counts is None else list(counts)
    mask = np.zeros((n, n), dtype=bool)
    mask[np.arange(n), np.arange(n)] = True
    offset, stride = 0, 1
    for c in counts:
        for _ in range(c):
            offset += stride
            starts = np.arange(0, max(n - offset, 0), stride)
            mask[starts, starts + offset] = True
        stride *= 2
    return mask


def cell_spans(n: int) -> np.ndarray:
    """(N, N, 2) normalised [start, end) in [0, 1] of every cell (lower triangle is meaningless)."""
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    return np.stack([i / n, (j + 1) / n], axis=-1).astype(np.float64)


def span_to_cell(start: float, end: float, duration: float, n: int) -> tuple[int, int]:
    """The cell whose clips contain the span's first and last instants (clamped to the map)."""
    i = int(np.clip(np.floor(start / duration * n), 0, n - 1))
    j = int(np.clip(np.ceil(end / duration * n) - 1, i, n - 1))
    return i, j


def cell_to_span(i: int, j: int, duration: float, n: int) -> tuple[float, float]:
    return i / n * duration, (j + 1) / n * duration


def iou_map(start: float, end: float, duration: float, n: int) -> np.ndarray:
    """(N, N) IoU of every cell's span with the ground-truth span (seconds)."""
    spans = cell_spans(n) * duration
    s, e = spans[..., 0], spans[..., 1]
    inter = np.clip(np.minimum(e, end) - np.maximum(s, start), 0, None)
    union = np.maximum(e, end) - np.minimum(s, start)
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def scaled_iou_labels(ious: np.ndarray, mask: np.ndarray, min_iou: float, max_iou: float) -> np.ndarray:
    """2D-TAN's soft labels: IoU rescaled so min_iou -> 0 and max_iou -> 1, clipped, masked."""
    y = np.clip((ious - min_iou) / max(max_iou - min_iou, 1e-6), 0.0, 1.0)
    return (y * mask).astype(np.float32)


def resample_clips(values: np.ndarray, times: np.ndarray, duration: float, n: int) -> np.ndarray:
    """(N, d) clip features over [0, duration]: the mean of the rows whose centres fall in each of
    N equal bins; bins with no row (videos with fewer rows than N) are linearly interpolated
    between row centres (edge rows repeated), so short videos still fill the map."""
    values = np.asarray(values, np.float32).reshape(len(times), -1)
    times = np.asarray(times, np.float64).reshape(-1, 2)
    if len(values) == 0:
        raise ValueError("no feature rows to resample")
    centres = times.mean(1)
    edges = np.linspace(0.0, duration, n + 1)
    bins = np.clip(np.searchsorted(edges, centres, side="right") - 1, 0, n - 1)
    out = np.zeros((n, values.shape[1]), np.float32)
    counts = np.bincount(bins, minlength=n)
    np.add.at(out, bins, values)
    filled = counts > 0
    out[filled] /= counts[filled, None]
    if not filled.all():
        mids = (edges[:-1] + edges[1:]) / 2
        order = np.argsort(centres)
        for k in range(values.shape[1]):
            out[~filled, k] = np.interp(mids[~filled], centres[order], values[order, k])
    return out


class MapBuilder(nn.Module):
    """(B, d, N) clip features -> (B, d, N, N) moment features on the sparse mask.

    kind "pool": a cell is the max over its clips (exactly, via stacked max-pools).
    kind "conv": the same recursion with learned 1D convs (2D-TAN's stacked-conv variant).
    Group 0 grows the span one clip per layer (kernel 2, stride 1); each later group starts with a
    kernel-3 stride-2 layer (doubling the start stride) then kernel-2 layers at that stride.
    """

    mask: Tensor  # buffer, registered in __init__

    def __init__(self, n: int, dim: int, kind: str = "pool", counts: Sequence[int] | None = None) -> None:
        super().__init__()
        if kind not in ("pool", "conv"):
            raise ValueError(f"unknown map builder {kind!r}; known: conv, pool")
        self.n, self.kind = n, kind
        self.counts = default_pooling_counts(n) if counts is None else list(counts)
        self.register_buffer("mask", torch.from_numpy(proposal_mask(n, self.counts)), persistent=False)
        layers: list[nn.Module] = []
        for g, c in enumerate(self.counts):
            for k in range(c):
                size, step = (3, 2) if (g > 0 and k == 0) else (2, 1)
                if kind == "pool":
                    layers.append(nn.MaxPool1d(size, step))
                else:
                    layers.append(nn.Sequential(nn.Conv1d(dim, dim, size, step), nn.ReLU()))
        self.layers = nn.ModuleList(layers)

    def forward(self, x: Tensor) -> Tensor:
        b, d, n = x.shape
        out = x.new_zeros(b, d, n, n)
        idx = torch.arange(n, device=x.device)
        out[:, :, idx, idx] = x
        h, offset, stride, li = x, 0, 1, 0
        for g, c in enumerate(self.counts):
            for k in range(c):
                h = self.layers[li](h)
                li += 1
                if g > 0 and k == 0:
                    stride *= 2
                offset += stride
                starts = torch.arange(h.shape[-1], device=x.device) * stride
                keep = starts + offset < n
                out[:, :, starts[keep], starts[keep] + offset] = h[..., keep]
        return out * self.mask.to(out.dtype)


class MaskedConv2d(nn.Conv2d):
    """Same-padded 2D conv over the valid cells of a map only: the weight term is the mean over
    the valid cells under the kernel (times k*k), so edge and diagonal cells are not dimmer than
    interior ones; output is zero outside the mask."""

    def forward_masked(self, x: Tensor, mask: Tensor) -> Tensor:
        """x (B, C, N, N) zero outside `mask` (N, N) float -> (B, C', N, N)."""
        m = mask[None, None]
        ones = torch.ones(1, 1, *self.kernel_size, dtype=m.dtype, device=m.device)
        count = F.conv2d(m, ones, padding=self.padding)
        scale = (self.kernel_size[0] * self.kernel_size[1]) / count.clamp(min=1.0)
        y = F.conv2d(x, self.weight, None, self.stride, self.padding, self.dilation, self.groups)
        if self.bias is not None:
            y = y * scale + self.bias[None, :, None, None]
        else:
            y = y * scale
        return y * m
