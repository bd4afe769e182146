"""Pixels and sound for synthetic scenes, written as H.264 + AAC mp4 with PyAV.

Drawing is plain PIL polygons on a flat background (bit-exact for a given scene); sounds are
sines, sweeps and seeded noise with short ramps. x264 runs single-threaded so the same scene
always gives the same bytes.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from vidseek.models.datasets.synth import BACKGROUNDS, COLORS, SOUNDS, Scene, VisualEvent

WIDTH, HEIGHT, FPS, SAMPLE_RATE = 128, 96, 10, 16000
RADIUS = 11.0


def _progress(ev: VisualEvent, t: float) -> float:
    return min(1.0, max(0.0, (t - ev.start) / max(ev.end - ev.start, 1e-6)))


def object_state(ev: VisualEvent, pos: tuple[float, float], t: float) -> tuple[float, float, float, float, float]:
    """(x, y, radius, angle degrees, opacity) of the object that does `ev`, at time t."""
    x, y = pos[0] * WIDTH, pos[1] * HEIGHT
    r, ang, alpha = RADIUS, 0.0, 1.0
    p = _progress(ev, t)
    act = ev.action
    if act == "moves left":
        x -= 0.3 * WIDTH * p
    elif act == "moves right":
        x += 0.3 * WIDTH * p
    elif act == "moves up":
        y -= 0.3 * HEIGHT * p
    elif act == "moves down":
        y += 0.3 * HEIGHT * p
    elif act == "bounces":
        y -= 22.0 * abs(math.sin(3 * math.pi * p)) if 0 < p < 1 else 0.0
    elif act == "spins":
        ang = 720.0 * p
    elif act == "grows":
        r *= 1.0 + 0.9 * p
    elif act == "appears":
        alpha = p
    elif act == "disappears":
        alpha = 1.0 - p
    return x, y, r, ang, alpha


def _polygon(shape: str, x: float, y: float, r: float, ang: float) -> list[tuple[float, float]]:
    if shape == "square":
        pts = [(math.cos(math.radians(a)) * r * 1.1, math.sin(math.radians(a)) * r * 1.1)
               for a in (45, 135, 225, 315)]
    elif shape == "triangle":
        pts = [(math.cos(math.radians(a)) * r * 1.2, math.sin(math.radians(a)) * r * 1.2)
               for a in (-90, 30, 150)]
    elif shape == "star":
        pts = []
        for i in range(10):
            rr = r * 1.25 if i % 2 == 0 else r * 0.5
            a = math.radians(-90 + 36 * i)
            pts.append((math.cos(a) * rr, math.sin(a) * rr))
    else:
        raise ValueError(f"no polygon for {shape!r}")
    c, s = math.cos(math.radians(ang)), math.sin(math.radians(ang))
    return [(x + px * c - py * s, y + px * s + py * c) for px, py in pts]


def render_frame(scene: Scene, t: float) -> np.ndarray:
    """(HEIGHT, WIDTH, 3) uint8 RGB frame of the scene at time t."""
    bg = BACKGROUNDS[scene.background]
    img = Image.new("RGB", (WIDTH, HEIGHT), bg)
    draw = ImageDraw.Draw(img)
    for ev, pos in zip(scene.events, scene.positions, strict=True):
        x, y, r, ang, alpha = object_state(ev, pos, t)
        if alpha <= 0.02:
            continue
        col = tuple(int(round(b + alpha * (c - b))) for c, b in zip(COLORS[ev.color], bg, strict=True))
        if ev.shape == "circle":
            draw.ellipse([x - r, y - r, x + r, y + r], fill=col)
        else:
            draw.polygon(_polygon(ev.shape, x, y, r, ang), fill=col)
    return np.asarray(img, dtype=np.uint8)


def render_audio(scene: Scene, seed: int) -> np.ndarray:
    """Mono float32 PCM at SAMPLE_RATE for the whole scene."""
    n = int(round(scene.duration * SAMPLE_RATE))
    rng = np.random.default_rng(seed)
    pcm = (0.004 * rng.standard_normal(n)).astype(np.float64)
    s = scene.sound
    i0, i1 = int(s.start * SAMPLE_RATE), min(n, int(s.end * SAMPLE_RATE))
    t = np.arange(i1 - i0) / SAMPLE_RATE
    kind = SOUNDS[s.phrase]
    j = 1.0 + scene.pitch_jitter
    if kind == "high_beep":
        sig = 0.5 * np.sin(2 * np.pi * 1500 * j * t)
    elif kind == "low_hum":
        sig = 0.35 * np.sin(2 * np.pi * 150 * j * t) + 0.2 * np.sin(2 * np.pi * 300 * j * t)
    elif kind == "chirp":  # repeated 0.5 s sweeps 400 -> 2400 Hz
        ph = (t % 0.5) / 0.5
        sig = 0.45 * np.sin(2 * np.pi * (400 * j + 1000 * ph) * (t % 0.5))
    else:
        sig = 0.35 * rng.standard_normal(len(t))
    ramp = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.01) if len(t) else t
    pcm[i0:i1] += sig * ramp
    return np.clip(pcm, -1, 1).astype(np.float32)


def write_mp4(scene: Scene, path: str | Path, seed: int) -> None:
    """Render the scene to an H.264 (yuv420p) + AAC (mono, 16 kHz) mp4 at FPS."""
    import av

    path = Path(path)
    tmp = path.with_name(".tmp-" + path.name)
    with av.open(str(tmp), "w", format="mp4") as out:
        vs = out.add_stream("libx264", rate=FPS)
        vs.width, vs.height, vs.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        vs.codec_context.options = {"threads": "1", "preset": "veryfast", "crf": "20"}
        vs.codec_context.thread_count = 1
        aus = out.add_stream("aac", rate=SAMPLE_RATE)
        aus.layout = "mono"
        n_frames = int(round(scene.duration * FPS))
        for i in range(n_frames):
            frame = av.VideoFrame.from_ndarray(render_frame(scene, i / FPS), format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, FPS)
            for pkt in vs.encode(frame):
                out.mux(pkt)
        for pkt in vs.encode():
            out.mux(pkt)
        pcm = render_audio(scene, seed)
        step = 1024
        for k in range(0, len(pcm), step):
            chunk = pcm[k:k + step]
            af = av.AudioFrame.from_ndarray(chunk[None, :], format="fltp", layout="mono")
            af.sample_rate = SAMPLE_RATE
            af.pts = k
            af.time_base = Fraction(1, SAMPLE_RATE)
            for pkt in aus.encode(af):
                out.mux(pkt)
        for pkt in aus.encode():
            out.mux(pkt)
    tmp.replace(path)
