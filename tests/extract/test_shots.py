"""Shot-cut detection: exact cut frames on synthetic shots, none on a static or panning clip,
and the `shots` expert through the real extraction pipeline (PyAV decode, Parquet, SQLite)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from media import write_video
from paths import CLIPS

from vidseek.extract.experts import create_expert
from vidseek.extract.experts.base import ExpertOptions
from vidseek.extract.shots import (
    CutParams,
    cut_scores,
    descriptors,
    find_cuts,
    rgb_to_hsv,
    shots_from_cuts,
)
from vidseek.pipelines.extract import ExtractConfig, extract_collection
from vidseek.store import FeatureStore
from vidseek.types import FrameBatch, VideoInfo

BASES = [(200, 60, 50), (40, 170, 60), (50, 70, 200), (210, 200, 40), (120, 40, 160)]


def scene(base: tuple[int, int, int], seed: int, h: int = 48, w: int = 128) -> np.ndarray:
    """A smooth colour field around `base` (upsampled low-res noise), twice as wide as a frame
    so a shot can pan across it."""
    rng = np.random.default_rng(seed)
    low = rng.normal(0, 30, size=(h // 8, w // 8, 3))
    field = np.kron(low, np.ones((8, 8, 1)))
    return np.clip(np.asarray(base, np.float64) + field, 0, 255).astype(np.uint8)


def shots_clip(lengths: list[int], pan: int = 1, w: int = 64) -> np.ndarray:
    """Frames of consecutive shots (each its own colour, panning `pan` px per frame)."""
    out = []
    for s, n in enumerate(lengths):
        big = scene(BASES[s % len(BASES)], seed=s)
        out += [big[:, k * pan:k * pan + w] for k in range(n)]
    return np.stack(out)


def test_hsv_matches_colorsys() -> None:
    import colorsys

    rgb = np.random.default_rng(0).integers(0, 256, size=(50, 3), dtype=np.uint8)
    got = rgb_to_hsv(rgb)
    want = np.array([colorsys.rgb_to_hsv(*(c / 255.0)) for c in rgb.astype(np.float64)])
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_exact_cut_frames() -> None:
    fps = 12.0
    frames = shots_clip([17, 25, 9, 30])  # cuts at frames 17, 42, 51
    times = np.arange(len(frames)) / fps
    cuts = find_cuts(frames, times)
    np.testing.assert_array_equal(cuts, times[[17, 42, 51]])


def test_no_cut_on_static_or_slowly_panning_clip() -> None:
    big = scene(BASES[0], seed=3, w=256)
    panning = np.stack([big[:, k:k + 64] for k in range(150)])  # 1 px per frame for 150 frames
    static = np.repeat(big[None, :, :64], 40, axis=0)
    for frames in (panning, static):
        times = np.arange(len(frames)) / 25.0
        assert find_cuts(frames, times).tolist() == []
    assert cut_scores(descriptors(static)).max() == 0.0


def test_min_shot_length_drops_flashes() -> None:
    frames = shots_clip([20, 4, 20])  # a 4-frame insert: two cuts 1/3 s apart
    times = np.arange(len(frames)) / 12.0
    assert find_cuts(frames, times).tolist() == [times[20]]  # its end comes too soon (0.5 s)
    assert find_cuts(frames, times, CutParams(min_shot_s=0.25)).tolist() == [times[20], times[24]]


def test_shots_from_cuts_cover_the_video() -> None:
    np.testing.assert_array_equal(shots_from_cuts(np.array([2.5, 5.75]), 10.0),
                                  [[0, 2.5], [2.5, 5.75], [5.75, 10.0]])
    np.testing.assert_array_equal(shots_from_cuts(np.array([]), 4.0), [[0, 4.0]])


def _info(duration: float) -> VideoInfo:
    return VideoInfo("v", "v.mkv", 0, 0.0, "", duration, 12.0, 64, 48, False)


def test_expert_session_over_chunks_is_the_same_as_one_batch() -> None:
    e = create_expert("shots", ExpertOptions(tiny=True))
    assert e.spec.fps == 4.0 and e.spec.dim == 1
    frames = shots_clip([10, 13, 8, 9])  # at 4 fps: cuts at 2.5, 5.75, 7.75 s
    times = np.arange(len(frames)) / 4.0
    one, many = e.session(_info(10.0)), e.session(_info(10.0))
    one.add_frames(FrameBatch(times, frames))
    for i in range(0, len(frames), 7):
        many.add_frames(FrameBatch(times[i:i + 7], frames[i:i + 7]))
    a, b = one.finish(), many.finish()
    np.testing.assert_array_equal(a.times, b.times)
    np.testing.assert_array_equal(a.times, [[0, 2.5], [2.5, 5.75], [5.75, 7.75], [7.75, 10.0]])
    assert a.values[0, 0] == 0.0 and (a.values[1:, 0] > 0.25).all()


@pytest.fixture
def shot_video(tmp_path: Path) -> Path:
    d = tmp_path / "videos"
    d.mkdir()
    # 12 fps; cuts at frames 30, 69, 93 = 2.5, 5.75, 7.75 s (on the expert's 4 fps grid)
    return write_video(d / "shots.mkv", shots_clip([30, 39, 24, 27], pan=1), 12, codec="ffv1")


def test_shots_expert_through_the_extraction_pipeline(shot_video: Path, collection: Path) -> None:
    cfg = ExtractConfig([str(shot_video)], str(collection), experts=["shots"], progress=False)
    assert extract_collection(cfg) == 0
    with FeatureStore(collection) as store:
        feats = store.get("shots", "shots")
    np.testing.assert_allclose(feats.times, [[0, 2.5], [2.5, 5.75], [5.75, 7.75], [7.75, 10.0]],
                               atol=1e-6)
    assert feats.meta is not None and feats.meta[0] == {"cut_score": 0.0}


# ffmpeg's scene-score cuts of the real clips (data/queries/SOURCES.md), an independent oracle
REAL_CUTS = {"big_buck_bunny_0_30.webm": [11.795, 15.670, 22.961],
             "women_long_jump.mp4": [5.034, 8.498, 22.272, 34.838]}


@pytest.mark.real
@pytest.mark.skipif(not CLIPS.is_dir(), reason=f"real clips not found at {CLIPS}")
def test_shots_expert_finds_ffmpeg_cuts_on_real_clips(tmp_path: Path, collection: Path) -> None:
    """The first 4 fps sample showing the new shot (a sample shows the last frame at or before
    its time) is ceil(4 t) / 4 for an ffmpeg cut at t."""
    d = tmp_path / "clips"
    d.mkdir()
    for name in REAL_CUTS:
        (d / name).symlink_to(CLIPS / name)
    cfg = ExtractConfig([str(d)], str(collection), experts=["shots"], progress=False)
    assert extract_collection(cfg) == 0
    with FeatureStore(collection) as store:
        for name, cuts in REAL_CUTS.items():
            got = store.get(Path(name).stem, "shots").times[1:, 0]
            assert got.tolist() == [np.ceil(4 * t) / 4 for t in cuts], name
