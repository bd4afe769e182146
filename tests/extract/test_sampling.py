"""Time math: exact schedules (no drift at 29.97 fps), schedule union, time -> frame mapping."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from vidseek.extract.sampling import frame_index_at, merge_schedules, sample_times

NTSC = Fraction(30000, 1001)


@pytest.mark.parametrize("fps", [NTSC, 30000 / 1001])
def test_ntsc_schedule_has_no_drift_after_an_hour(fps: float | Fraction) -> None:
    t = sample_times(3600.0, fps)
    assert len(t) == 107893  # ceil(3600 * 30000 / 1001)
    assert t.dtype == np.float64
    for k in (0, 1, 1001, 53946, len(t) - 1):
        assert t[k] == float(Fraction(k * 1001, 30000))  # the exact rational, rounded once
    naive = np.cumsum(np.full(len(t) - 1, np.float32(1 / 29.97)))  # what drift looks like
    assert abs(naive[-1] - t[-1]) > 0.05
    assert np.all(t < 3600.0)


def test_fps_is_not_floored_and_end_is_exclusive() -> None:
    assert len(sample_times(1.0, 19.62)) == 20  # k / 19.62 < 1 for k = 0..19
    assert len(sample_times(1.0, 19.0)) == 19
    np.testing.assert_array_equal(sample_times(2.0, 2), [0, 0.5, 1.0, 1.5])
    np.testing.assert_allclose(sample_times(2.0, 2, start=0.25), [0.25, 0.75, 1.25, 1.75])
    assert len(sample_times(0.0, 30)) == 0
    with pytest.raises(ValueError):
        sample_times(1.0, 0)


def test_merge_schedules_decodes_the_union_once() -> None:
    a = sample_times(3.0, 1)           # 0 1 2
    b = sample_times(3.0, 2)           # 0 .5 1 1.5 2 2.5
    c = sample_times(3.0, 3)           # 0 1/3 2/3 1 ...: 1.0 computed as 3/3 must merge with 1
    union, pos = merge_schedules({"a": a, "b": b, "c": c})
    assert np.all(np.diff(union) > 1e-6)
    assert len(union) == len(np.unique(np.round(np.concatenate([a, b, c]), 9)))
    for name, sched in {"a": a, "b": b, "c": c}.items():
        np.testing.assert_allclose(union[pos[name]], sched, atol=1e-6)
    np.testing.assert_array_equal(pos["a"], np.searchsorted(union, a - 1e-9))
    empty, epos = merge_schedules({"x": np.zeros(0)})
    assert len(empty) == 0 and len(epos["x"]) == 0


def test_merge_schedules_tolerance() -> None:
    union, pos = merge_schedules({"a": np.array([1.0]), "b": np.array([1.0 + 1e-9, 2.0])})
    assert len(union) == 2 and pos["a"][0] == pos["b"][0] == 0 and pos["b"][1] == 1


def test_frame_index_at_picks_the_frame_on_screen() -> None:
    pts = np.arange(10) * 1001 / 30000
    times = np.array([-1.0, 0.0, 0.02, pts[3], pts[3] - 1e-4, pts[9], 100.0])
    np.testing.assert_array_equal(frame_index_at(times, pts, eps=1e-6), [0, 0, 0, 3, 2, 9, 9])
    # millisecond time bases (mkv, webm) round pts up by up to 0.5 ms: frame 2 is at 0.067 s
    mkv = np.array([0.0, 0.033, 0.067, 0.1])
    np.testing.assert_array_equal(frame_index_at(np.arange(4) * 1001 / 30000, mkv), [0, 1, 2, 3])
    with pytest.raises(ValueError):
        frame_index_at(times, np.zeros(0))
