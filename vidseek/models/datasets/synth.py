"""The synthetic benchmark: scenes with known events, compositional captions and true spans.

Videos come in pairs whose captions use exactly the same words but describe different videos:
the colours bound to the shapes are swapped, the actions bound to the objects are swapped, the
order of the two visual events is swapped ("then"), or the sound overlaps the other event
("while"). A bag of words therefore cannot tell the two apart (see `bow_pair_accuracy`); a model
has to bind attributes and read order and timing. Everything here is pure and seeded; rendering
to pixels and PCM lives in synth_render.py.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

COLORS: dict[str, tuple[int, int, int]] = {
    "red": (230, 40, 40), "blue": (50, 90, 240), "green": (40, 200, 60),
    "yellow": (240, 220, 40), "purple": (160, 60, 210), "orange": (250, 140, 20),
    "white": (245, 245, 245),
}
SHAPES = ("circle", "square", "triangle", "star")
ACTIONS = ("moves left", "moves right", "moves up", "moves down", "bounces", "spins", "grows",
           "appears", "disappears")
SOUNDS: dict[str, str] = {  # caption phrase -> render kind
    "a high beep sounds": "high_beep", "a low hum sounds": "low_hum",
    "a rising chirp sounds": "chirp", "a burst of noise sounds": "noise",
}
BACKGROUNDS: dict[str, tuple[int, int, int]] = {
    "black": (10, 10, 12), "gray": (90, 90, 95), "navy": (15, 20, 70), "forest": (15, 55, 25),
    "maroon": (70, 15, 20),
}
VARIANTS = ("color_binding", "action_binding", "order", "timing")


@dataclass(frozen=True)
class VisualEvent:
    color: str
    shape: str
    action: str
    start: float
    end: float

    @property
    def text(self) -> str:
        return f"a {self.color} {self.shape} {self.action}"


@dataclass(frozen=True)
class SoundEvent:
    phrase: str
    start: float
    end: float


@dataclass(frozen=True)
class Scene:
    """One video: two objects, each doing one action in turn, and one sound during one of them."""

    video: str
    duration: float
    background: str
    events: tuple[VisualEvent, VisualEvent]  # in time order
    sound: SoundEvent
    sound_on: int  # index of the visual event the sound overlaps
    positions: tuple[tuple[float, float], tuple[float, float]]  # start centre of each object (0..1)
    pitch_jitter: float
    family: int
    variant: str

    @property
    def caption(self) -> str:
        e0, e1 = self.events
        parts = [e0.text, e1.text]
        parts[self.sound_on] += " while " + self.sound.phrase
        return f"{parts[0]}, then {parts[1]}"


def _ok_action(shape: str, action: str) -> bool:
    return not (shape == "circle" and action == "spins")  # a spinning circle looks still


def _spans(rng: random.Random, duration: float) -> tuple[tuple[float, float], tuple[float, float]]:
    a0 = round(rng.uniform(0.3, 1.5), 1)
    a1 = round(a0 + rng.uniform(2.0, 3.5), 1)
    b0 = round(a1 + rng.uniform(0.5, 1.5), 1)
    b1 = round(min(duration - 0.3, b0 + rng.uniform(2.0, 3.5)), 1)
    return (a0, a1), (b0, b1)


def _base_scene(rng: random.Random, video: str, family: int, min_dur: float, max_dur: float) -> Scene:
    duration = float(rng.choice([d for d in range(int(min_dur), int(max_dur) + 1)]))
    c0, c1 = rng.sample(sorted(COLORS), 2)
    while True:
        s0, s1 = rng.sample(SHAPES, 2)
        a0, a1 = rng.sample(ACTIONS, 2)
        # both bindings must be drawable, so the action-binding swap is drawable too
        if all(_ok_action(s, a) for s in (s0, s1) for a in (a0, a1)):
            break
    (t0, t1), (u0, u1) = _spans(rng, duration)
    phrase = rng.choice(sorted(SOUNDS))
    on = rng.randrange(2)
    span = (t0, t1) if on == 0 else (u0, u1)
    snd = SoundEvent(phrase, round(span[0] + 0.2, 1), round(span[1] - 0.2, 1))
    pos = ((rng.uniform(0.25, 0.4), rng.uniform(0.3, 0.7)), (rng.uniform(0.6, 0.75), rng.uniform(0.3, 0.7)))
    return Scene(
        video=video, duration=duration, background=rng.choice(sorted(BACKGROUNDS)),
        events=(VisualEvent(c0, s0, a0, t0, t1), VisualEvent(c1, s1, a1, u0, u1)),
        sound=snd, sound_on=on, positions=pos, pitch_jitter=rng.uniform(-0.05, 0.05),
        family=family, variant="base",
    )


def make_variant(base: Scene, variant: str, video: str) -> Scene:
    """The distractor of `base`: same words in its caption, different video."""
    e0, e1 = base.events
    if variant == "color_binding":
        events = (replace(e0, color=e1.color), replace(e1, color=e0.color))
        return replace(base, video=video, events=events, variant=variant)
    if variant == "action_binding":
        events = (replace(e0, action=e1.action), replace(e1, action=e0.action))
        return replace(base, video=video, events=events, variant=variant)
    if variant == "order":  # object 1 acts first now; the sound stays with its event
        events = (replace(e1, start=e0.start, end=e0.end), replace(e0, start=e1.start, end=e1.end))
        on = 1 - base.sound_on
        span = (events[on].start, events[on].end)
        snd = replace(base.sound, start=round(span[0] + 0.2, 1), end=round(span[1] - 0.2, 1))
        pos = (base.positions[1], base.positions[0])
        return replace(base, video=video, events=events, sound=snd, sound_on=on, positions=pos,
                       variant=variant)
    if variant == "timing":  # the sound moves to the other event
        on = 1 - base.sound_on
        ev = base.events[on]
        snd = replace(base.sound, start=round(ev.start + 0.2, 1), end=round(ev.end - 0.2, 1))
        return replace(base, video=video, sound=snd, sound_on=on, variant=variant)
    raise ValueError(f"unknown variant {variant!r}; known: {', '.join(VARIANTS)}")


def make_scenes(n_videos: int, seed: int, min_dur: float = 8, max_dur: float = 12) -> list[Scene]:
    """n_videos scenes in distractor pairs (an odd count ends with a lone base scene)."""
    rng = random.Random(seed)
    scenes: list[Scene] = []
    family = 0
    while len(scenes) < n_videos:
        base = _base_scene(rng, f"synth{len(scenes):05d}", family, min_dur, max_dur)
        scenes.append(base)
        if len(scenes) < n_videos:
            variant = VARIANTS[family % len(VARIANTS)]
            scenes.append(make_variant(base, variant, f"synth{len(scenes):05d}"))
        family += 1
    return scenes


def assign_splits(scenes: list[Scene], seed: int, frac: tuple[float, float] = (0.7, 0.1)) -> dict[int, str]:
    """Family -> split (both members of a pair land in the same split)."""
    fams = sorted({s.family for s in scenes})
    random.Random(seed + 1).shuffle(fams)
    n_train = round(frac[0] * len(fams))
    n_val = round(frac[1] * len(fams))
    out = {}
    for i, f in enumerate(fams):
        out[f] = "train" if i < n_train else "val" if i < n_train + n_val else "test"
    return out


def caption_rows(scene: Scene, split: str) -> list[dict[str, Any]]:
    """The whole-video caption (event_type "video") and one row per event with its true span."""
    rows = [{"video": scene.video, "caption": scene.caption, "start": 0.0, "end": scene.duration,
             "event_type": "video", "split": split}]
    for ev in scene.events:
        rows.append({"video": scene.video, "caption": ev.text, "start": ev.start, "end": ev.end,
                     "event_type": ev.action.replace(" ", "_"), "split": split})
    rows.append({"video": scene.video, "caption": scene.sound.phrase, "start": scene.sound.start,
                 "end": scene.sound.end, "event_type": "sound:" + SOUNDS[scene.sound.phrase],
                 "split": split})
    return rows


def moment_rows(scene: Scene, split: str, qid_start: int) -> list[dict[str, Any]]:
    """QVHighlights-style moment queries (qid, query, duration, vid, relevant_windows, split)."""
    out = []
    for i, r in enumerate(caption_rows(scene, split)[1:]):
        out.append({"qid": qid_start + i, "query": r["caption"], "duration": scene.duration,
                    "vid": scene.video, "relevant_windows": [[r["start"], r["end"]]],
                    "event_type": r["event_type"], "split": split})
    return out


# ---- the bag-of-words baseline --------------------------------------------------------------

def bag_of_words(text: str) -> Counter[str]:
    return Counter(re.findall(r"[a-z]+", text.lower()))


def bow_score(a: str, b: str) -> float:
    """Cosine of word-count vectors."""
    ca, cb = bag_of_words(a), bag_of_words(b)
    dot = sum(ca[w] * cb[w] for w in ca)
    na = sum(v * v for v in ca.values()) ** 0.5
    nb = sum(v * v for v in cb.values()) ** 0.5
    return dot / (na * nb) if na and nb else 0.0


def bow_pair_accuracy(scenes: list[Scene]) -> dict[str, float]:
    """Per variant: how often BoW scores a caption's own video's true description above its
    distractor's (ties count 1/2). 50% is chance; a model that binds and orders gets 100%."""
    by_fam: dict[int, list[Scene]] = {}
    for s in scenes:
        by_fam.setdefault(s.family, []).append(s)
    acc: dict[str, list[float]] = {}
    for pair in by_fam.values():
        if len(pair) != 2:
            continue
        for me, other in (pair, pair[::-1]):
            own, dis = bow_score(me.caption, me.caption), bow_score(me.caption, other.caption)
            acc.setdefault(pair[1].variant, []).append(1.0 if own > dis else 0.5 if own == dis else 0.0)
    out = {k: 100.0 * sum(v) / len(v) for k, v in sorted(acc.items())}
    allv = [x for v in acc.values() for x in v]
    out["all"] = 100.0 * sum(allv) / max(len(allv), 1)
    return out
