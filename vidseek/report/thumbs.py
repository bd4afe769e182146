"""Thumbnails: the frame displayed at t, downscaled, as JPEG bytes (static page and /thumb).

vidseek's own decoder (decord or PyAV, the frame displayed at t by the same rule as extraction);
PyAV seeking directly where that fails. An LRU cache keeps recent thumbnails, since a results
page asks for the same few frames again on every reload.
"""

from __future__ import annotations

import base64
import io
import threading
from collections import OrderedDict

import numpy as np

from vidseek.errors import DecodeError

THUMB_SIDE = 160


def frame_at(path: str, t: float, max_side: int = THUMB_SIDE) -> np.ndarray:
    """RGB uint8 (h, w, 3): the frame displayed at t seconds (clamped into the video)."""
    errors = []
    try:
        from vidseek.extract.decode import open_decoder

        dec = open_decoder(path)
        try:
            for batch in dec.frames_at(np.array([max(0.0, t)]), max_side=max_side):
                if len(batch.frames):
                    return np.asarray(batch.frames[0])
        finally:
            dec.close()
    except Exception as err:  # noqa: BLE001 - PyAV direct seek below
        errors.append(str(err).splitlines()[0] if str(err) else type(err).__name__)
    try:
        import av

        with av.open(path) as c:
            stream = c.streams.video[0]
            if stream.time_base is not None:
                c.seek(int(max(0.0, t) / stream.time_base), stream=stream, backward=True)
            last = None
            for frame in c.decode(stream):
                last = frame
                if frame.time is None or frame.time >= t - 1e-3:
                    break
            if last is not None:
                img = last.to_image()
                img.thumbnail((max_side, max_side))
                return np.asarray(img.convert("RGB"))
    except Exception as err:  # noqa: BLE001 - reported below
        errors.append(str(err).splitlines()[0] if str(err) else type(err).__name__)
    raise DecodeError(f"{path}: no frame at {t:.2f} s ({'; '.join(errors) or 'empty stream'})")


def jpeg(frame: np.ndarray, side: int = THUMB_SIDE, quality: int = 80) -> bytes:
    from PIL import Image

    img = Image.fromarray(frame)
    img.thumbnail((side * 2, side))
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def data_uri(data: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(data).decode()


class ThumbCache:
    """(path, t rounded to 0.1 s) -> JPEG bytes, at most `size` entries, thread-safe."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, float], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: str, t: float) -> bytes:
        key = (path, round(float(t), 1))
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        data = jpeg(frame_at(path, key[1]))
        with self._lock:
            self._items[key] = data
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return data

    def __len__(self) -> int:
        return len(self._items)
