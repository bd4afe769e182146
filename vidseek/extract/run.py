"""Decode once, feed every expert: one pass over a video's frames and audio, many sessions."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vidseek.errors import VidseekError
from vidseek.extract import prefetch as ahead
from vidseek.extract.experts.base import Expert, ExpertSession
from vidseek.extract.sampling import merge_schedules, sample_times
from vidseek.types import AudioChunk, Features, FrameBatch, VideoInfo


@dataclass
class RunOutcome:
    """What one decode pass made: features and errors per expert, which backends decoded the
    frames (in order; two where one failed mid-stream), and where a truncated stream ended."""

    features: dict[str, Features] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    backends: list[str] = field(default_factory=list)
    decoded_end: float | None = None  # set when the video stream ended before its duration
    gaps: list[tuple[float, float]] = field(default_factory=list)  # corrupt spans: no frames


def run_experts(
    path: str | Path,
    experts: Sequence[Expert],
    info: VideoInfo,
    backend: str | None = None,
    frame_chunk: int = 16,
    prefetch: int = 2,
    producer: str = "thread",
    scaled: bool = True,
) -> tuple[dict[str, Features], dict[str, str]]:
    """Decode `path` once and feed each expert's session. Returns (features, errors) per expert;
    an expert that raises is dropped with its error and the others go on. prefetch > 0: frames
    and audio are decoded that many chunks ahead by a `producer` (vidseek.extract.prefetch)
    while the experts run; the features are the same as prefetch=0 (decode in-line)."""
    out = decode_and_run(path, experts, info, backend, frame_chunk, prefetch, producer, scaled)
    return out.features, out.errors


def decode_and_run(
    path: str | Path,
    experts: Sequence[Expert],
    info: VideoInfo,
    backend: str | None = None,
    frame_chunk: int = 16,
    prefetch: int = 2,
    producer: str = "thread",
    scaled: bool = True,
) -> RunOutcome:
    """run_experts, also saying which backend decoded and where a truncated stream ended: the
    experts keep the rows of the frames that decoded, none for times past the break.

    scaled (default): frames are scaled by the decoder (swscale) to the largest shorter side
    the frame experts ask for (`frame_side`), and only the times of experts that want the
    video's own size (OCR) are also converted at full size; False: every frame at full size,
    each expert resizing it (the old path, kept for bench/realtime.py)."""
    from vidseek.extract.decode import DecodedBatch, TruncatedVideo
    from vidseek.extract.memory import release_free_memory

    outcome = RunOutcome()
    sessions: dict[str, ExpertSession] = {}
    errors: dict[str, str] = {}
    specs = {e.spec.name: e.spec for e in experts}
    by_name = {e.spec.name: e for e in experts}
    for expert in experts:
        try:
            sessions[expert.spec.name] = expert.session(info)
        except Exception as err:  # noqa: BLE001 - recorded per expert
            errors[expert.spec.name] = one_line(err)

    def feed(name: str, fn: str, arg: FrameBatch | AudioChunk) -> None:
        try:
            getattr(sessions[name], fn)(arg)
        except Exception as err:  # noqa: BLE001 - recorded per expert
            errors[name] = one_line(err)
            del sessions[name]

    with ExitStack() as streams:  # stops every producer however this block is left
        audio: list[tuple[list[str], ahead.Stream[AudioChunk]]] = []
        if info.has_audio:  # started first so the soundtrack is read while the frames run
            rates = sorted({r for n in sessions if (r := specs[n].sample_rate)})
            for rate in rates:
                listeners = [n for n in sessions if specs[n].sample_rate == rate]
                chunks = ahead.audio(str(path), int(rate or 0), prefetch)
                audio.append((listeners, streams.enter_context(closing(chunks))))
        frame_experts = [n for n in sessions if specs[n].fps]
        if frame_experts:
            schedules = {n: sample_times(info.duration, float(specs[n].fps or 0))
                         for n in frame_experts}
            union, positions = merge_schedules(schedules)
            owners = np.zeros((len(frame_experts), len(union)), dtype=bool)
            for i, n in enumerate(frame_experts):
                owners[i, positions[n]] = True
            sides = {n: frame_side(by_name[n]) for n in frame_experts} if scaled else {}
            wants_native = [i for i, n in enumerate(frame_experts) if sides.get(n) is None]
            small = [v for v in sides.values() if v is not None]
            min_side = max(small) if small else None
            native_at = (np.asarray(owners[wants_native].any(axis=0))
                         if min_side is not None and wants_native else None)
            batches = ahead.frames(str(path), union, backend, info, frame_chunk, prefetch, producer,
                                   min_side, native_at)
            offset = 0
            try:
                for batch in streams.enter_context(closing(batches)):
                    made_by = getattr(batch, "backend", "") or str(backend or "")
                    outcome.gaps.extend(getattr(batch, "gaps", ()))
                    if made_by and made_by not in outcome.backends:
                        outcome.backends.append(made_by)
                    width = len(batch.times)
                    for i, n in enumerate(frame_experts):
                        sel = owners[i, offset:offset + width]
                        if n in sessions and sel.any():
                            if native_at is not None and i in wants_native:
                                assert isinstance(batch, DecodedBatch)  # made by our decoders
                                frames = batch.native_frames(np.flatnonzero(sel))
                            else:
                                frames = batch.frames[sel]
                            feed(n, "add_frames", FrameBatch(batch.times[sel], frames))
                    offset += width
                    release_free_memory()  # the chunk's frames are freed: hand the pages back
            except TruncatedVideo as err:  # keep what decoded; the worker flags the video
                outcome.decoded_end = err.decoded_end
        for listeners, chunks in audio:
            for chunk in chunks:
                for n in listeners:
                    if n in sessions:
                        feed(n, "add_audio", chunk)
                release_free_memory()

    for name, session in sessions.items():
        try:
            outcome.features[name] = session.finish()
        except Exception as err:  # noqa: BLE001 - recorded per expert
            errors[name] = one_line(err)
    outcome.errors = errors
    return outcome


def extract_video(
    path: str,
    experts: list[Expert],
    info: VideoInfo | None = None,
    backend: str | None = None,
) -> dict[str, Features]:
    """Decode once and return every expert's Features; raises on the first expert error."""
    from vidseek.extract.probe import probe

    info = info or probe(path)
    feats, errors = run_experts(path, experts, info, backend=backend)
    if errors:
        name, msg = next(iter(errors.items()))
        raise VidseekError(f"{path}: expert {name} failed: {msg}")
    return feats




def frame_side(expert: Expert) -> int | None:
    """The shorter side (pixels) an expert's frames may be scaled to before it sees them (its
    own resize target), or None for the video's own size (OCR, experts that do not say)."""
    side = getattr(expert, "frame_side", None)
    return int(side) if side else None


def one_line(err: BaseException, path: str | Path | None = None) -> str:
    """An error as one line, naming the file when the message does not already."""
    text = " ".join(str(err).split()) or type(err).__name__
    if path is not None and str(path) not in text:
        text = f"{path}: {text}"
    return text
