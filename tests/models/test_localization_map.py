"""2D temporal map: sparse mask, map builders, cell <-> span indexing, IoU labels, NMS; and
hand cases for the shared moment metrics (temporal_iou, moment_recall)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidseek.metrics.moments import moment_recall, temporal_iou
from vidseek.models.localization.common import (
    MapBuilder,
    cell_to_span,
    default_pooling_counts,
    iou_map,
    proposal_mask,
    resample_clips,
    scaled_iou_labels,
    span_to_cell,
)
from vidseek.models.localization.nms import nms


def test_pooling_counts() -> None:
    assert default_pooling_counts(16) == [15]
    assert default_pooling_counts(64) == [15, 8, 8]
    assert default_pooling_counts(128) == [15, 8, 8, 8]


def test_dense_mask_for_short_maps() -> None:
    m = proposal_mask(4)
    assert (m == np.triu(np.ones((4, 4), bool))).all()


def test_sparse_mask_hand_case() -> None:
    # N=8 with one dense diagonal then stride 2: offsets 0, 1, then 3 and 5 at even starts
    m = proposal_mask(8, [1, 2])
    want = np.zeros((8, 8), bool)
    for i in range(8):
        want[i, i] = True
    for i in range(7):
        want[i, i + 1] = True
    for off in (3, 5):
        for i in range(0, 8 - off, 2):
            want[i, i + off] = True
    assert (m == want).all()
    # N=64: all spans up to 16 clips, then starts on multiples of 2 / 4 / 8
    m = proposal_mask(64)
    assert m[3, 18] and not m[3, 19] and m[2, 19] and not m[2, 20]
    assert m[0, 63] and m[4, 63] and not m[2, 63] and not m[6, 63]  # last group: stride 4
    assert not np.tril(m, -1).any()


@pytest.mark.parametrize("n,counts", [(8, [1, 2]), (16, None), (64, None), (40, [7, 4, 4])])
def test_pool_builder_is_exact_max_on_the_mask(n: int, counts: list[int] | None) -> None:
    torch.manual_seed(0)
    x = torch.randn(2, 3, n)
    b = MapBuilder(n, 3, "pool", counts)
    out = b(x)
    mask = proposal_mask(n, counts)
    ref = np.zeros((2, 3, n, n), np.float32)
    run = x.numpy()
    for off in range(n):  # run[..., i] = max(x[..., i : i + off + 1])
        if off:
            run = np.maximum(run[..., :-1], x.numpy()[..., off:])
        ref[:, :, np.arange(n - off), np.arange(off, n)] = run
    np.testing.assert_allclose(out.numpy()[:, :, mask], ref[:, :, mask])
    assert (out[:, :, ~torch.from_numpy(mask)] == 0).all()


def test_conv_builder_fills_exactly_the_mask() -> None:
    n = 64
    b = MapBuilder(n, 4, "conv")
    out = b(torch.randn(1, 4, n).abs() + 1)
    filled = (out.abs().sum((0, 1)) > 0).numpy()
    assert not (filled & ~proposal_mask(n)).any()
    assert filled.sum() > 0.9 * proposal_mask(n).sum()  # ReLU may zero a few cells


def test_cell_span_indexing() -> None:
    assert cell_to_span(0, 0, 16.0, 16) == (0.0, 1.0)
    assert cell_to_span(2, 5, 32.0, 16) == (4.0, 12.0)
    assert span_to_cell(4.0, 12.0, 32.0, 16) == (2, 5)
    assert span_to_cell(4.5, 11.2, 32.0, 16) == (2, 5)
    assert span_to_cell(-1.0, 99.0, 32.0, 16) == (0, 15)


def test_iou_labels_hand_case() -> None:
    ious = iou_map(0.0, 2.0, 4.0, 4)  # cells are 1 s clips
    assert ious[0, 1] == pytest.approx(1.0)
    assert ious[0, 0] == pytest.approx(0.5)
    assert ious[0, 2] == pytest.approx(2 / 3)
    assert ious[2, 3] == 0.0
    y = scaled_iou_labels(ious, proposal_mask(4), 0.5, 1.0)
    assert y[0, 1] == pytest.approx(1.0) and y[0, 0] == 0.0
    assert y[0, 2] == pytest.approx((2 / 3 - 0.5) / 0.5)
    assert y[1, 0] == 0.0  # below the diagonal is never a moment


def test_resample_clips_averages_and_interpolates() -> None:
    times = np.array([[0, 1], [1, 2], [2, 3], [3, 4]], float)
    vals = np.arange(4, dtype=np.float32)[:, None]
    assert resample_clips(vals, times, 4.0, 2).ravel().tolist() == [0.5, 2.5]
    up = resample_clips(vals[:2], times[:2], 2.0, 4).ravel()  # 2 rows -> 4 clips
    # row centres 0.5 s and 1.5 s fill clips 1 and 3; clips 0 and 2 are interpolated
    assert up.tolist() == pytest.approx([0.0, 0.0, 0.75, 1.0])


def test_nms_hand_case() -> None:
    spans = np.array([[0, 10], [1, 10], [20, 30], [0, 5]], float)
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    # [1,10] has IoU 0.9 with [0,10] -> dropped; [0,5] IoU 0.5 -> kept at thresh 0.5
    assert nms(spans, scores, 0.5).tolist() == [0, 2, 3]
    assert nms(spans, scores, 0.4).tolist() == [0, 2]
    assert nms(spans, scores, 0.5, top_k=2).tolist() == [0, 2]
    assert nms(spans, scores, 0.95).tolist() == [0, 1, 2, 3]


def test_temporal_iou_hand_cases() -> None:
    got = temporal_iou(np.array([[0, 10], [5, 15]]), np.array([[0, 10], [10, 20], [20, 30]]))
    assert got[0].tolist() == pytest.approx([1.0, 0.0, 0.0])
    assert got[1].tolist() == pytest.approx([5 / 15, 5 / 15, 0.0])
    assert temporal_iou(np.array([[3, 3]]), np.array([[3, 3]]))[0, 0] == 0.0


def test_moment_recall_hand_cases() -> None:
    gts = [np.array([[0.0, 10.0]]), np.array([[20.0, 30.0]])]
    preds = [np.array([[0, 8], [0, 10]]), np.array([[0, 5], [22, 30], [25, 30]])]
    r = moment_recall(preds, gts)
    # query 1: top-1 IoU 0.8; query 2: top-1 IoU 0, best of top-5 IoU 0.8
    assert r["R@1,IoU=0.7"] == 50.0 and r["R@1,IoU=0.3"] == 50.0
    assert r["R@5,IoU=0.7"] == 100.0
    assert r["mIoU"] == pytest.approx(40.0)
    assert moment_recall([np.zeros((0, 2))], [gts[0]])["R@1,IoU=0.3"] == 0.0
