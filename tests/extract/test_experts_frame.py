"""Frame and clip experts: the output contract on tiny twins, batching, time math, transforms,
the offline error, and one real-weights check of EfficientNet-Lite0 on a real clip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vidseek.errors import WeightsNotFoundError
from vidseek.extract.experts import ExpertOptions, create_expert, expert_cards, weights_of
from vidseek.extract.experts._common import (
    ClipSession,
    crops_uint8,
    frame_rows,
    to_tensor,
)
from vidseek.extract.experts.appearance import FrameClassifier
from vidseek.extract.experts.base import ExpertSpec
from vidseek.types import FrameBatch, VideoInfo

ZOO = [c for c in expert_cards() if c.builder.__module__.startswith("vidseek.")]
FRAME_EXPERTS = [c.name for c in ZOO if c.modality == "appearance"]
CLIP_EXPERTS = [c.name for c in ZOO if c.modality == "motion" and c.name != "i3d"]  # i3d: test_i3d
ONLINE_EXPERTS = [c.name for c in ZOO if c.fetch == "online"]
from paths import CLIPS  # noqa: E402


def _info(duration: float) -> VideoInfo:
    return VideoInfo("v", "v.mp4", 0, 0.0, "h", duration, 25.0, 64, 48, False)


def _feed(expert, duration: float, chunk: int, seed: int = 0):  # type: ignore[no-untyped-def]
    """Feed frames at the expert's fps in chunks, like the decoder does; return Features."""
    times = np.arange(0.0, duration, 1.0 / float(expert.spec.fps))
    frames = np.random.default_rng(seed).integers(0, 256, (len(times), 48, 64, 3), dtype=np.uint8)
    session = expert.session(_info(duration))
    for i in range(0, len(times), chunk):
        session.add_frames(FrameBatch(times[i:i + chunk], frames[i:i + chunk]))
    return session.finish(), times


@pytest.fixture(scope="module")
def torch_threads() -> None:
    import torch

    torch.set_num_threads(1)


@pytest.mark.parametrize("name", FRAME_EXPERTS)
def test_frame_expert_contract(name: str, torch_threads: None) -> None:
    expert = create_expert(name, ExpertOptions(tiny=True, batch_size=3))
    assert expert.weights.random and expert.weights.sha256 == "random-init"
    feats, times = _feed(expert, 4.5, chunk=2)
    assert feats.expert == name and feats.values.shape == (5, expert.spec.dim)
    np.testing.assert_allclose(feats.times[:, 0], times)
    np.testing.assert_allclose(feats.times[:, 1], [1, 2, 3, 4, 4.5])  # [t, t+1/fps) clipped
    if expert.labels is not None:
        assert feats.probs is not None and feats.probs.shape == (5, len(expert.labels))
        np.testing.assert_allclose(feats.probs.sum(1), 1.0, atol=1e-5)
    else:  # an image tower: unit-norm embeddings
        np.testing.assert_allclose(np.linalg.norm(feats.values, axis=1), 1.0, atol=1e-5)
    empty = expert.session(_info(2.0)).finish()
    assert empty.values.shape == (0, expert.spec.dim)


def test_batching_across_chunks_changes_nothing(torch_threads: None) -> None:
    """One forward per batch_size frames across decoder chunks gives the per-frame answer."""
    a = create_expert("effnet_lite0", ExpertOptions(tiny=True, batch_size=1))
    b = create_expert("effnet_lite0", ExpertOptions(tiny=True, batch_size=4))
    assert isinstance(a, FrameClassifier) and isinstance(b, FrameClassifier)
    b.net.load_state_dict(a.net.state_dict())
    fa, _ = _feed(a, 7.0, chunk=7)
    fb, _ = _feed(b, 7.0, chunk=3)
    np.testing.assert_allclose(fa.values, fb.values, atol=1e-4)
    np.testing.assert_allclose(fa.probs, fb.probs, atol=1e-5)


def test_fps_option_overrides_default() -> None:
    expert = create_expert("effnet_lite0", ExpertOptions(tiny=True, fps=2.0))
    assert expert.spec.fps == 2.0 and expert.spec.window == 0.5
    assert create_expert("effnet_lite0", ExpertOptions(tiny=True)).spec.fps == 1.0


@pytest.mark.parametrize("name", CLIP_EXPERTS)
def test_clip_expert_contract(name: str, torch_threads: None) -> None:
    expert = create_expert(name, ExpertOptions(tiny=True, batch_size=2))
    assert expert.weights.random
    fps, n = float(expert.spec.fps or 0), 8  # tiny twins take 8-frame clips
    feats, times = _feed(expert, (2 * n + 2) / fps, chunk=5)  # two clips and a 2-frame tail
    assert len(times) == 2 * n + 2
    assert feats.values.shape == (2, expert.spec.dim)  # tail below half a clip: no row
    np.testing.assert_allclose(feats.times, [[0, n / fps], [n / fps, 2 * n / fps]], atol=1e-9)
    assert feats.probs is not None
    np.testing.assert_allclose(feats.probs.sum(1), 1.0, atol=1e-5)
    short, _ = _feed(expert, 3 / fps, chunk=5)  # shorter than a clip: one padded row
    assert len(short) == 1 and short.meta == [{"padded_frames": n - 3}]
    np.testing.assert_allclose(short.times, [[0, 3 / fps]], atol=1e-9)


def test_clip_session_windows_hand_computed() -> None:
    """Clips of 4 every 2 frames at 2 fps over 9 frames: starts 0,2,4 then a 3-frame tail."""
    spec = ExpertSpec("toy", "motion", 1, fps=2.0, window=2.0, stride=1.0)
    seen: list[list[int]] = []

    def run(clips: np.ndarray) -> tuple[np.ndarray, None]:
        ids = clips[:, :, 0, 0, 0].astype(int)
        seen.extend(ids.tolist())
        return ids[:, :1].astype(np.float32), None

    session = ClipSession(spec, _info(4.5), lambda f: f, run, clip_frames=4, stride_frames=2,
                          batch_size=2, min_tail=1)
    frames = np.zeros((9, 2, 2, 3), np.uint8)
    frames[:, 0, 0, 0] = np.arange(9)
    times = np.arange(9) / 2.0
    for i in range(0, 9, 4):
        session.add_frames(FrameBatch(times[i:i + 4], frames[i:i + 4]))
    feats = session.finish()
    assert seen == [[0, 1, 2, 3], [2, 3, 4, 5], [4, 5, 6, 7], [6, 7, 8, 8]]
    np.testing.assert_allclose(feats.times, np.array([[0, 2], [1, 3], [2, 4], [3, 4.5]]))
    assert feats.meta == [{}, {}, {}, {"padded_frames": 1}]


def test_frame_rows() -> None:
    np.testing.assert_allclose(frame_rows(np.array([0.0, 0.5, 1.0]), 2.0, 1.2),
                               [[0, 0.5], [0.5, 1.0], [1.0, 1.2]])
    assert frame_rows(np.array([]), 1.0, 3.0).shape == (0, 2)


def test_resize_shorter_side_then_center_crop() -> None:
    """A 100x200 frame, black left half / white right half: shorter side to 50 gives 50x100
    and the center 50 columns straddle the edge at column 25 of the crop."""
    img = np.zeros((1, 100, 200, 3), np.uint8)
    img[:, :, 100:] = 255
    crop = crops_uint8(img, 50, 50)
    assert crop.shape == (1, 50, 50, 3)
    assert (crop[0, :, :24] == 0).all() and (crop[0, :, 26:] == 255).all()
    exact = crops_uint8(np.full((1, 30, 90, 3), 7, np.uint8), (40, 40), 32)  # (h, w): no aspect
    assert exact.shape == (1, 32, 32, 3) and (exact == 7).all()


def test_effnet_normalisation_is_tflite_not_imagenet() -> None:
    import torch

    x = to_tensor(np.array([[[[127, 255, 0]]]], np.uint8), torch.device("cpu"), 127.0, 128.0)
    np.testing.assert_allclose(x.flatten().numpy(), [0.0, 1.0, -127 / 128])


@pytest.mark.parametrize("name", ONLINE_EXPERTS)
def test_missing_weights_offline_name_the_file(name: str, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIDSEEK_WEIGHTS_DIR", str(tmp_path / "w"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.delenv("VIDSEEK_ONLINE", raising=False)
    with pytest.raises(WeightsNotFoundError) as info:
        create_expert(name)
    msg = str(info.value)
    assert weights_of(name).filename in msg and str(tmp_path / "w") in msg


def test_effnet_random_weights_builds_the_full_model() -> None:
    expert = create_expert("effnet_lite0", ExpertOptions(random_weights=True))
    assert expert.weights.random and expert.spec.dim == 1280 and len(expert.labels or []) == 1000


# --- real weights, real clip ------------------------------------------------------------------------
def _frames_at(path: Path, times: list[float]) -> tuple[np.ndarray, np.ndarray]:
    import av

    out: list[np.ndarray] = []
    got: list[float] = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if len(got) < len(times) and float(frame.time) >= times[len(got)]:
                out.append(frame.to_ndarray(format="rgb24"))
                got.append(float(frame.time))
            if len(got) == len(times):
                break
    return np.array(got), np.stack(out)


@pytest.mark.real
def test_effnet_lite0_sees_the_dog(torch_threads: None) -> None:
    clip = CLIPS / "skateboarding_dog.mp4"
    if not clip.exists():
        pytest.skip(f"real clip not found at {clip} (../shared/data beside the repo)")
    expert = create_expert("effnet_lite0")
    assert not expert.weights.random and expert.weights.sha256.startswith("57934424")
    assert expert.labels is not None and expert.labels[207] == "golden retriever"
    times, frames = _frames_at(clip, [1.0, 4.0])
    session = expert.session(_info(14.1))
    session.add_frames(FrameBatch(times, frames))
    feats = session.finish()
    assert feats.values.shape == (2, 1280) and feats.probs is not None
    top5 = np.argsort(-feats.probs, axis=1)[:, :5]
    dog_classes = set(range(151, 269))  # ImageNet's dog breeds (there is no skateboard class)
    assert any(dog_classes & set(row.tolist()) for row in top5), [
        [expert.labels[i] for i in row] for row in top5]
