"""`ocr`: on-screen text with RapidOCR (PP-OCR det + rec ONNX models shipped in the
`rapidocr-onnxruntime` wheel), on frames sampled at 0.5 fps (`ExpertOptions.fps` changes it).

One row per distinct text line per time span: a line seen on consecutive samples (compared
after lower-casing and collapsing whitespace) is one row from its first sample to one sample
period after its last (clipped to the video's end). texts = the line as first read; meta has
box (4 [x, y] points in the frame, first sighting), confidence (max over the span) and
samples (how many frames read it). values have width 0. A sampled frame whose ~40 px blocks
all match the last frame read (no block's mean grey level moved by more than 6) is not read
again (up to 4 samples in a row, `extra["max_skips"]`): it gets that frame's lines
(`extra["change_threshold"]`, 0 reads every frame).
The default recogniser reads Chinese
and Latin script; other scripts come back as whatever it makes of them, never as a crash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vidseek.extract.experts._common import RANDOM_INIT, option
from vidseek.extract.experts.base import (
    Expert,
    ExpertOptions,
    ExpertSession,
    ExpertSpec,
    WeightsInfo,
)
from vidseek.extract.experts.cards import ExpertCard, TextLinesFeed, register_expert
from vidseek.types import Features, FrameBatch, VideoInfo
from vidseek.weights import WeightSpec, onnx_folder

FPS = 0.5
CHANGE_THRESHOLD = 6.0  # grey levels per ~1/1300 of the frame; see OcrSession
MAX_SKIPS = 4  # an unchanged frame is still read every 5th sample (10 s at 0.5 fps)
Line = tuple[list[list[float]], str, float]  # box, text, confidence


def rapidocr_models() -> Path:
    """The PP-OCR det / cls / rec ONNX models folder inside the rapidocr-onnxruntime wheel."""
    import rapidocr_onnxruntime as pkg

    return Path(pkg.__file__).parent / "models"


OCR_WEIGHTS = WeightSpec(
    expert="ocr", filename="rapidocr-models", package="rapidocr-onnxruntime",
    package_path=rapidocr_models, license="Apache-2.0 (PaddleOCR models, RapidOCR)",
    note="pip install rapidocr-onnxruntime (ships its PP-OCR ONNX models)",
    check=onnx_folder("ch_PP-OCRv4_det_infer.onnx", "ch_PP-OCRv4_rec_infer.onnx",
                      "ch_ppocr_mobile_v2.0_cls_infer.onnx"),
)


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


@dataclass
class _Span:
    text: str
    box: list[list[float]]
    start: float
    last: float
    confidence: float
    samples: int = 1
    extra: dict[str, Any] = field(default_factory=dict)


class LineTracker:
    """Merges per-sample line lists into timed rows (pure: tested without a model)."""

    def __init__(self, period: float, duration: float) -> None:
        self.period, self.duration = period, duration
        self.open: dict[str, _Span] = {}
        self.closed: list[_Span] = []
        self.prev_t: float | None = None

    def add(self, t: float, lines: list[Line]) -> None:
        seen: dict[str, Line] = {}
        for box, text, conf in lines:
            key = normalise(text)
            if key and (key not in seen or conf > seen[key][2]):
                seen[key] = (box, text, conf)
        for key in list(self.open):
            if key not in seen:
                self.closed.append(self.open.pop(key))
        for key, (box, text, conf) in seen.items():
            span = self.open.get(key)
            if span is not None:
                span.last, span.samples = t, span.samples + 1
                span.confidence = max(span.confidence, conf)
            else:
                self.open[key] = _Span(text, box, t, t, conf)
        self.prev_t = t

    def rows(self) -> list[_Span]:
        spans = self.closed + list(self.open.values())
        return sorted(spans, key=lambda s: (s.start, s.box[0][1] if s.box else 0.0))

    def end_of(self, span: _Span) -> float:
        end = span.last + self.period
        return min(end, self.duration) if self.duration > span.start else end


GRID = (27, 48)  # block means compared by the change gate: ~40x40 px blocks at 1080p


def block_means(frame: np.ndarray, grid: tuple[int, int] = GRID) -> np.ndarray:
    """(rows, cols) mean grey level of the frame's blocks (a frame smaller than the grid:
    one block per pixel)."""
    grey = frame.astype(np.float32).mean(axis=2) if frame.ndim == 3 else frame.astype(np.float32)
    gh, gw = min(grid[0], grey.shape[0]), min(grid[1], grey.shape[1])
    bh, bw = grey.shape[0] // gh, grey.shape[1] // gw
    return grey[:gh * bh, :gw * bw].reshape(gh, bh, gw, bw).mean(axis=(1, 3))


def frame_changed(prev: np.ndarray | None, cur: np.ndarray, threshold: float) -> bool:
    """True when some block's mean grey level moved by more than `threshold` (0-255): a new
    word on a slide moves its block by tens of levels, compression noise by one or two."""
    if prev is None or prev.shape != cur.shape or threshold <= 0:
        return True
    return bool(np.abs(cur - prev).max() > threshold)


class OcrSession(ExpertSession):
    """Reads each sampled frame, except that a frame whose blocks all match the last frame
    read (frame_changed) reuses that read: a slide talk changes a few times a minute."""

    def __init__(self, expert: OcrExpert, info: VideoInfo) -> None:
        self.e = expert
        self.tracker = LineTracker(1.0 / expert.spec.fps, info.duration)  # type: ignore[operator]
        self._last: tuple[np.ndarray, list[Line]] | None = None
        self.reads = 0  # frames the reader ran on (the rest reused the previous read)
        self._skipped = 0  # samples in a row that reused the last read

    def add_frames(self, batch: FrameBatch) -> None:
        for t, frame in zip(batch.times, batch.frames, strict=True):
            sig = block_means(frame)
            fresh = self._skipped < self.e.max_skips
            if (self._last is not None and fresh
                    and not frame_changed(self._last[0], sig, self.e.change)):
                lines = self._last[1]
                self._skipped += 1
            else:
                self._skipped = 0
                lines = self.e.read(frame)
                self.reads += 1
                self._last = (sig, lines)
            self.tracker.add(float(t), lines)

    def finish(self) -> Features:
        spans = self.tracker.rows()
        times = np.asarray([(s.start, self.tracker.end_of(s)) for s in spans]).reshape(-1, 2)
        meta = [{"box": [[round(float(v), 1) for v in p] for p in s.box],
                 "confidence": round(float(s.confidence), 4), "samples": s.samples}
                for s in spans]
        return Features(self.e.spec.name, times, np.zeros((len(spans), 0)),
                        texts=[s.text for s in spans], meta=meta)


class OcrExpert(Expert):
    def __init__(self, name: str, options: ExpertOptions) -> None:
        self.min_confidence = float(option(options, "min_confidence", 0.5))
        # a frame is read again only when a block moved by more than this (0: read every frame)
        self.change = float(option(options, "change_threshold", CHANGE_THRESHOLD))
        # ...and at least once every max_skips + 1 samples: a re-read of an unchanged slide
        # picks up small lines the first read missed
        self.max_skips = int(option(options, "max_skips", MAX_SKIPS))
        self.engine: Any = None
        if options.tiny or options.random_weights:
            self.weights = RANDOM_INIT
        else:
            from rapidocr_onnxruntime import RapidOCR

            from vidseek.weights import file_sha256

            self.engine = RapidOCR()
            models = rapidocr_models()
            version = _dist_version("rapidocr-onnxruntime")
            self.weights = WeightsInfo(file_sha256(models),
                                       f"package:rapidocr-onnxruntime=={version}:{models}")
        self.spec = ExpertSpec(name, "ocr", 0, fps=float(options.fps or FPS),
                               window=1.0 / float(options.fps or FPS),
                               stride=1.0 / float(options.fps or FPS))

    def read(self, frame: np.ndarray) -> list[Line]:
        """Text lines of one RGB uint8 frame: (box, text, confidence), confident ones only."""
        if self.engine is None:
            return _tiny_read(frame)
        result, _ = self.engine(np.ascontiguousarray(frame[:, :, ::-1]))  # RapidOCR wants BGR
        lines: list[Line] = []
        for box, text, conf in result or []:
            if float(conf) >= self.min_confidence and str(text).strip():
                lines.append(([[float(x), float(y)] for x, y in box], str(text), float(conf)))
        return lines

    def session(self, info: VideoInfo) -> OcrSession:
        return OcrSession(self, info)


def _dist_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def _tiny_read(frame: np.ndarray) -> list[Line]:
    """Tiny twin: 'reads' one line naming the frame's brightness level (0-7), whole-frame box."""
    h, w = frame.shape[:2]
    level = int(frame.mean() // 32)
    return [([[0.0, 0.0], [float(w), 0.0], [float(w), float(h)], [0.0, float(h)]],
             f"Level  {level}", 1.0)]


def build_ocr(options: ExpertOptions) -> Expert:
    """RapidOCR lines at 0.5 fps, merged over time; tiny=True: a brightness 'reader' twin."""
    return OcrExpert("ocr", options)


register_expert(ExpertCard(
    name="ocr", modality="ocr", builder=build_ocr, default=True,
    summary="RapidOCR (PP-OCR ONNX) text lines at 0.5 fps, merged over time",
    weights=(OCR_WEIGHTS,), space=TextLinesFeed(merge_seconds=0.0),
))
