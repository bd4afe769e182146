"""The fast extraction paths give what the slow ones give: frames scaled by the decoder
(swscale) vs full-size frames resized by each expert, full-size frames kept for the times that
need them, the fused I3D vs the reference layers, and OCR's change gate vs reading every frame.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch
from media import frames_with_index, write_video

from vidseek.extract.decode import DECODERS, open_decoder, scaled_size
from vidseek.extract.experts import ExpertOptions, create_expert
from vidseek.extract.experts.i3d_net import InceptionI3d
from vidseek.extract.experts.ocr import block_means, frame_changed
from vidseek.extract.probe import probe
from vidseek.extract.run import decode_and_run, frame_side
from vidseek.extract.sampling import sample_times
from vidseek.types import FrameBatch, VideoInfo

CLIPS = Path(__file__).resolve().parents[3] / "shared" / "data" / "clips"


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity."""
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1) + 1e-12)


def _smooth(t: int, h: int, w: int) -> np.ndarray:
    """Moving gradients and a bright square: content a resize keeps (noise it would not)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    out = np.empty((t, h, w, 3), np.uint8)
    for k in range(t):
        out[k, ..., 0] = (127 + 120 * np.sin((xx + 3 * k) / 17)).astype(np.uint8)
        out[k, ..., 1] = (127 + 120 * np.cos((yy - 2 * k) / 11)).astype(np.uint8)
        out[k, ..., 2] = ((xx + yy + 5 * k) % 256).astype(np.uint8)
        y0, x0 = (4 * k) % (h - 24), (6 * k) % (w - 24)
        out[k, y0:y0 + 24, x0:x0 + 24] = 250
    return out


def test_min_side_is_the_shorter_side() -> None:
    assert scaled_size(1920, 1080, None, 256) == (455, 256)
    assert scaled_size(576, 1024, None, 256) == (256, 455)
    assert scaled_size(320, 240, None, 256) == (320, 240)  # never upscaled
    assert scaled_size(1920, 1080, 640, 256) == (455, 256)  # min_side wins


@pytest.mark.parametrize("backend", DECODERS.names())
def test_scaled_frames_are_area_means_and_native_frames_exact(tmp_path: Path, backend: str) -> None:
    frames = frames_with_index(20, 96, 128)
    path = write_video(tmp_path / "v.mkv", frames, 10)
    times = sample_times(2.0, 10)
    flags = np.arange(len(times)) % 3 == 0
    dec = open_decoder(path, backend, probe(path))
    batches = list(dec.frames_at(times, chunk=7, min_side=24, native_at=flags))
    dec.close()
    small = np.concatenate([b.frames for b in batches])
    assert small.shape == (20, 24, 32, 3)
    # the right frame at each time: its planted index survives scaling (flat R / G planes)
    means = frames.reshape(20, 24, 4, 32, 4, 3).astype(np.float32).mean(axis=(2, 4))
    assert np.abs(small[..., :2].astype(np.float32) - means[..., :2]).max() <= 1.0
    if backend == "pyav":  # swscale BILINEAR downscale ~ torch's antialiased bilinear resize
        x = torch.from_numpy(frames).permute(0, 3, 1, 2).float()
        ref = torch.nn.functional.interpolate(x, size=(24, 32), mode="bilinear",
                                              align_corners=False, antialias=True)
        diff = np.abs(small.astype(np.float32) - ref.permute(0, 2, 3, 1).numpy())
        assert diff.mean() < 2.0, diff.mean()
    native = np.concatenate([b.native_frames(b.native_pos) for b in batches])  # type: ignore[attr-defined]
    np.testing.assert_array_equal(native, frames[flags])
    with pytest.raises(ValueError, match="not flagged"):
        batches[0].native_frames(np.array([1]))  # type: ignore[attr-defined]


def test_scaled_run_matches_full_size_run(tmp_path: Path) -> None:
    """decode_and_run with decoder scaling vs every frame at full size: the crops each frame
    expert feeds its network agree within a few grey levels (the tiny twins' features are too
    degenerate to compare; tests below compare the real EfficientNet's), the rows are the
    same, and OCR (which keeps full-size frames) is identical."""
    path = write_video(tmp_path / "s.mkv", _smooth(60, 360, 480), 25)
    info = probe(path)
    opts = ExpertOptions(tiny=True)
    experts = [create_expert(n, opts) for n in ("effnet_lite0", "i3d", "ocr")]
    assert [frame_side(e) for e in experts] == [32, 128, None]
    crops: dict[str, list[np.ndarray]] = {}
    for e in experts[:2]:
        def keep(frames: np.ndarray, _prep=e.prepare, _name=e.spec.name) -> np.ndarray:  # type: ignore[attr-defined]
            out = _prep(frames)
            crops.setdefault(_name, []).append(out)
            return out
        e.prepare = keep  # type: ignore[attr-defined]
    new = decode_and_run(path, experts, info, scaled=True)
    seen_new = {k: np.concatenate(v) for k, v in crops.items()}
    crops.clear()
    old = decode_and_run(path, experts, info, scaled=False)
    seen_old = {k: np.concatenate(v) for k, v in crops.items()}
    assert not new.errors and not old.errors
    for name in ("effnet_lite0", "i3d"):
        np.testing.assert_array_equal(new.features[name].times, old.features[name].times)
        diff = np.abs(seen_new[name].astype(np.float32) - seen_old[name].astype(np.float32))
        assert diff.shape[0] > 0 and diff.mean() < 2.0 and (diff > 16).mean() < 0.01, name
    assert new.features["ocr"].texts == old.features["ocr"].texts
    np.testing.assert_array_equal(new.features["ocr"].times, old.features["ocr"].times)


def test_fused_i3d_equals_reference_layers() -> None:
    torch.manual_seed(0)
    net = InceptionI3d(width=8).eval()
    with torch.no_grad():
        for m in net.modules():
            if hasattr(m, "var") and hasattr(m, "mean"):
                m.var.uniform_(0.5, 2.0)
                m.mean.normal_(0, 0.2)
                m.bias.normal_(0, 0.2)
    fused = copy.deepcopy(net).fuse()
    x = torch.rand(2, 3, 16, 64, 64) * 2 - 1
    with torch.inference_mode():
        (la, fa), (lb, fb) = net(x), fused(x)
    torch.testing.assert_close(lb, la, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(fb, fa, rtol=1e-4, atol=1e-5)


def _info(duration: float) -> VideoInfo:
    return VideoInfo("v", "v.mp4", 0, 0.0, "", duration, 25.0, 256, 144, False)


def test_ocr_gate_reads_changed_frames_only_and_rows_are_unchanged() -> None:
    rng = np.random.default_rng(0)
    slide = rng.integers(0, 60, (144, 256, 3), dtype=np.uint8)
    word = slide.copy()
    word[20:30, 40:60] = 255  # a word appears: ~1/180 of the frame
    bright = np.full_like(slide, 200)
    seq = [slide, slide, word, word, word, bright, bright, slide]
    batch = FrameBatch(np.arange(len(seq)) * 2.0, np.stack(seq))
    gated = create_expert("ocr", ExpertOptions(tiny=True)).session(_info(16.0))
    plain = create_expert("ocr", ExpertOptions(tiny=True, extra={"change_threshold": 0})).session(
        _info(16.0))
    for s in (gated, plain):
        s.add_frames(batch)
    assert gated.reads == 4 and plain.reads == len(seq)  # slide, word, bright, slide
    a, b = gated.finish(), plain.finish()
    assert a.texts == b.texts and a.meta == b.meta
    np.testing.assert_array_equal(a.times, b.times)
    still = create_expert("ocr", ExpertOptions(tiny=True, extra={"max_skips": 2})).session(
        _info(20.0))
    still.add_frames(FrameBatch(np.arange(10) * 2.0, np.stack([slide] * 10)))
    assert still.reads == 4  # samples 0, 3, 6, 9: an unchanged frame is re-read every 3rd


def test_frame_changed_ignores_noise_not_a_word() -> None:
    rng = np.random.default_rng(1)
    base = rng.integers(0, 200, (1080, 1920, 3)).astype(np.uint8)
    noisy = np.clip(base.astype(int) + rng.integers(-3, 4, base.shape), 0, 255).astype(np.uint8)
    word = base.copy()
    word[500:520, 900:960] = 255
    sig = block_means(base)
    assert sig.shape == (27, 48)
    assert not frame_changed(sig, block_means(noisy), 6.0)
    assert frame_changed(sig, block_means(word), 6.0)


@pytest.mark.real
@pytest.mark.parametrize("clip", ["v_ZNVhz7ctTq0.mp4", "big_buck_bunny_0_30.webm"])
def test_real_effnet_scaled_decode_keeps_features(clip: str) -> None:
    """The shipped EfficientNet-Lite0 on frames scaled by swscale vs resized from full size in
    float32: mean cosine >= 0.99 over the frames, >= 0.98 on every frame (seen: 0.985 on
    the darkest frames of the 720p clip), same top-1 class on nearly all."""
    if not (CLIPS / clip).exists():
        pytest.skip(f"real clip {CLIPS / clip} not found (../shared/data beside the repo)")
    try:
        e = create_expert("effnet_lite0", ExpertOptions())
    except Exception as err:  # noqa: BLE001 - the weights package is not installed
        pytest.skip(f"effnet_lite0 weights unavailable: {err}")
    i3d_side = create_expert("i3d", ExpertOptions(tiny=True))  # shares the decode at its side
    i3d_side.frame_side = 182  # type: ignore[attr-defined]
    info = probe(CLIPS / clip)
    new = decode_and_run(CLIPS / clip, [e, i3d_side], info, scaled=True).features["effnet_lite0"]
    old = decode_and_run(CLIPS / clip, [e], info, scaled=False).features["effnet_lite0"]
    cos = _cos(new.values, old.values)
    assert cos.mean() >= 0.99 and cos.min() >= 0.98
    assert new.probs is not None and old.probs is not None
    same = (new.probs.argmax(1) == old.probs.argmax(1)).mean()
    assert same >= 0.8


@pytest.mark.parametrize(("shape", "kernel", "stride"), [
    ((1, 4, 7, 9, 10), (3, 3, 3), (1, 1, 1)), ((2, 3, 8, 11, 12), (1, 3, 3), (1, 2, 2)),
    ((1, 5, 9, 7, 7), (3, 3, 3), (2, 2, 2)), ((1, 2, 5, 6, 5), (2, 2, 2), (2, 2, 2)),
])
def test_separable_max_pool_is_max_pool_same(shape: tuple[int, ...], kernel: tuple[int, int, int],
                                             stride: tuple[int, int, int]) -> None:
    from vidseek.extract.experts.i3d_net import max_pool_same, max_pool_separable

    x = torch.randn(shape)
    assert torch.equal(max_pool_separable(x, kernel, stride), max_pool_same(x, kernel, stride))


def test_i3d_frame_size_is_part_of_its_feature_identity() -> None:
    """Features made at 182/160 are not the reference 256/224 ones: the sha the store compares
    differs, so a collection extracted at the other size is redone, not mixed."""
    from vidseek.extract.experts import create_expert
    from vidseek.extract.experts.base import ExpertOptions

    ref = create_expert("i3d", ExpertOptions(tiny=True, extra={"resize": 256, "crop": 224}))
    small = create_expert("i3d", ExpertOptions(tiny=True))
    again = create_expert("i3d", ExpertOptions(tiny=True))
    assert small.weights.sha256 != ref.weights.sha256
    assert small.weights.sha256 == again.weights.sha256 and "frames 128/112" in small.weights.source
