"""Synthetic benchmark: seeded determinism, compositional captions, the bag-of-words wall."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest

from vidseek.models.datasets.synth import (
    COLORS,
    bag_of_words,
    bow_pair_accuracy,
    make_scenes,
)
from vidseek.models.datasets.synth_render import FPS, object_state, render_frame
from vidseek.pipelines.synth import SynthConfig, synth


def _first_frame(path: Path) -> bytes:
    with av.open(str(path)) as c:
        return next(c.decode(video=0)).to_ndarray(format="rgb24").tobytes()


def test_same_seed_same_captions_and_frames(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        assert synth(SynthConfig(out=str(d), videos=2, seed=3, progress=False)) == 0
    assert (a / "captions.jsonl").read_text() == (b / "captions.jsonl").read_text()
    for name in ("synth00000.mp4", "synth00001.mp4"):
        assert _first_frame(a / "videos" / name) == _first_frame(b / "videos" / name)
    rows = [json.loads(x) for x in (a / "captions.jsonl").read_text().splitlines()]
    assert {r["event_type"] for r in rows} >= {"video"}
    assert (a / "README.md").exists() and (a / "moments.jsonl").exists()
    with av.open(str(a / "videos" / "synth00000.mp4")) as c:
        assert c.streams.video[0].codec_context.name == "h264"
        assert c.streams.audio[0].codec_context.name == "aac"
        n = sum(1 for _ in c.decode(video=0))
    assert n == round(rows[0]["end"] * FPS)
    other = make_scenes(2, seed=4)
    assert [s.caption for s in other] != [r["caption"] for r in rows if r["event_type"] == "video"]


def test_pairs_share_words_but_not_meaning() -> None:
    scenes = make_scenes(40, seed=0)
    variants = set()
    for base, var in zip(scenes[::2], scenes[1::2], strict=True):
        assert base.family == var.family
        assert bag_of_words(base.caption) == bag_of_words(var.caption)
        assert base.caption != var.caption
        assert ", then " in base.caption and " while " in base.caption
        variants.add(var.variant)
        for s in (base, var):
            e0, e1 = s.events
            assert 0 <= e0.start < e0.end <= e1.start < e1.end <= s.duration
            on = s.events[s.sound_on]
            assert on.start <= s.sound.start < s.sound.end <= on.end
    assert variants == {"color_binding", "action_binding", "order", "timing"}
    acc = bow_pair_accuracy(scenes)
    assert acc["all"] == pytest.approx(50.0)  # a bag of words is at chance on every pair


def test_rendered_object_has_its_colour() -> None:
    """Oracle: the pixel at a visible object's centre is that object's colour."""
    for s in make_scenes(6, seed=1):
        ev, pos = s.events[1], s.positions[1]
        if ev.action == "appears":
            continue
        t = 0.0
        x, y, _, _, alpha = object_state(ev, pos, t)
        frame = render_frame(s, t)
        assert alpha == 1.0
        assert np.array_equal(frame[int(y), int(x)], np.array(COLORS[ev.color], np.uint8))
