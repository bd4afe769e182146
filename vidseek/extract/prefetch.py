"""Overlap decoding with inference: a producer runs a frame or audio iterator ahead of the
experts into a bounded queue, so the model does not wait for the decoder when the decoder is
faster, and memory stays at most `depth` chunks per stream.

Two producers in PRODUCERS: "thread" (the default: PyAV, decord and the ffmpeg pipe read
release the GIL while they decode, and a thread costs nothing to start, shares memory, and
cannot be leaked by a killed parent) and "process" (a spawned child that pickles each chunk
through a pipe: pays ~0.5 s start-up per video and a copy per chunk; kept for measuring, see
bench/overlap.py and docs/prefetch.md).

Whatever the producer raises is raised again by the consumer at the point in the stream where
it happened, so a corrupt video fails exactly as it does when decoded in-line. Closing the
stream early (an expert error, KeyboardInterrupt) stops the producer, which closes its own
iterator (the decoder, the ffmpeg child) in its own thread or process.
"""

from __future__ import annotations

import functools
import multiprocessing as mp
import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Generator, Iterator
from typing import Any, Generic, Protocol, TypeVar, cast

import numpy as np

from vidseek.errors import DecodeError
from vidseek.registry import Registry
from vidseek.types import AudioChunk, FrameBatch, VideoInfo

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
POLL_S = 0.05  # how often a blocked put / get looks at the stop flag and the other side
JOIN_S = 10.0  # how long close() waits for a producer before giving up on it (thread) / killing it


class Stream(Protocol[T_co]):
    """An iterator that can be stopped early: a generator, or a prefetcher (stops its producer)."""

    def __iter__(self) -> Iterator[T_co]: ...

    def __next__(self) -> T_co: ...

    def close(self) -> None: ...


class _End:
    """Sentinel: the source is exhausted."""


class _Raised:
    """The source raised: carries the exception to the consumer."""

    def __init__(self, err: BaseException) -> None:
        self.err = err


def _put(q: Any, item: object, stop: Any) -> bool:
    """Put, waiting for room while nobody asked us to stop. False when stopped."""
    while not stop.is_set():
        try:
            q.put(item, timeout=POLL_S)
            return True
        except queue.Full:
            continue
    return False


def _pump(source: Callable[[], Iterator[Any]], q: Any, stop: Any) -> None:
    """The producer loop (thread or child process): run the source into q until it ends,
    raises, or stop is set; always closes the source here, where it runs."""
    it: Iterator[Any] | None = None
    try:
        it = source()
        for item in it:
            if not _put(q, item, stop):
                return
        _put(q, _End(), stop)
    except BaseException as err:  # noqa: BLE001 - handed to the consumer
        _put(q, _Raised(err), stop)
    finally:
        close = getattr(it, "close", None)
        if close is not None:
            close()


class _Prefetch(Generic[T]):
    """Iterator over a source run ahead by a producer; a context manager that stops it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._done = False
        self._closed = False

    def __iter__(self) -> _Prefetch[T]:
        return self

    def __enter__(self) -> _Prefetch[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    _q: Any  # queue.Queue (thread) or a multiprocessing queue (process)

    def _alive(self) -> bool:
        raise NotImplementedError

    def _death(self) -> str:
        """Why the producer ended without a result (it died, or its thread ended)."""
        raise NotImplementedError

    def _get(self) -> object:
        while True:
            try:
                return self._q.get(timeout=POLL_S)
            except queue.Empty:
                if not self._alive() and self._q.empty():
                    return _Raised(DecodeError(f"{self.name}: {self._death()}"))

    def __next__(self) -> T:
        if self._done:
            raise StopIteration
        item = self._get()
        if isinstance(item, _End):
            self._done = True
            self.close()
            raise StopIteration
        if isinstance(item, _Raised):
            self._done = True
            self.close()
            raise item.err
        return item  # type: ignore[return-value]

    _stop: Any  # threading.Event or a multiprocessing Event

    def close(self) -> None:
        """Stop the producer (idempotent): set the flag, then let the subclass join it."""
        self._done = True
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        self._shutdown()

    def _shutdown(self) -> None:
        raise NotImplementedError


class ThreadPrefetch(_Prefetch[T]):
    """The source runs in a daemon thread; items pass by reference (no copy)."""

    def __init__(self, source: Callable[[], Iterator[T]], depth: int, name: str = "prefetch") -> None:
        super().__init__(name)
        self._q: queue.Queue[object] = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=_pump, args=(source, self._q, self._stop),
                                        name=f"vidseek-{name}", daemon=True)
        self._thread.start()

    def _alive(self) -> bool:
        return self._thread.is_alive()

    def _death(self) -> str:
        return "producer thread ended without a result"

    def _shutdown(self) -> None:
        while self._thread.is_alive():  # drain so a producer blocked on put sees the flag
            _drain(self._q)
            self._thread.join(POLL_S)
        _drain(self._q)


def _child(source: Callable[[], Iterator[Any]], q: Any, stop: Any, parent: int) -> None:
    """Child process entry: Ctrl-C is the parent's to handle (it stops us); die with it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    watch = threading.Thread(target=_watch_parent, args=(parent, stop), daemon=True)
    watch.start()

    try:
        _pump(source, _PicklingQueue(q), stop)
    finally:
        q.close()
        q.join_thread()


def _watch_parent(parent: int, stop: Any) -> None:
    """Polls (never stop.wait(): a child that exits while waiting on an mp.Event leaves its
    condition expecting a waiter to wake, and the parent's stop.set() then hangs)."""
    while not stop.is_set():
        if os.getppid() != parent:  # the parent died (kill -9): nobody will read
            stop.set()
        time.sleep(0.5)


class _PicklingQueue:
    """Puts exceptions as something the parent can unpickle: the exception itself when it
    pickles, else a DecodeError with its one-line message."""

    def __init__(self, q: Any) -> None:
        self.q = q

    def put(self, item: object, timeout: float) -> None:
        if isinstance(item, _Raised):
            import pickle

            try:
                pickle.loads(pickle.dumps(item.err))
            except Exception:  # noqa: BLE001 - replace with a plain one-line error
                item = _Raised(DecodeError(" ".join(str(item.err).split()) or type(item.err).__name__))
        self.q.put(item, timeout=timeout)


class ProcessPrefetch(_Prefetch[T]):
    """The source runs in a spawned child process (fresh interpreter: no fork of a process
    holding torch's thread pools); items are pickled through a pipe. `source` must pickle."""

    def __init__(self, source: Callable[[], Iterator[T]], depth: int, name: str = "prefetch") -> None:
        super().__init__(name)
        ctx = mp.get_context("spawn")
        self._q = ctx.Queue(maxsize=max(1, depth))
        self._stop = ctx.Event()
        self._proc = ctx.Process(target=_child, args=(source, self._q, self._stop, os.getpid()),
                                 name=f"vidseek-{name}",
                                 daemon=not mp.current_process().daemon)
        self._proc.start()

    def _alive(self) -> bool:
        return self._proc.is_alive()

    def _death(self) -> str:
        return f"decoder process died (exit code {self._proc.exitcode})"

    def _shutdown(self) -> None:
        waited = 0.0
        while self._proc.is_alive() and waited < JOIN_S:
            _drain(self._q)
            self._proc.join(POLL_S)
            waited += POLL_S
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join()
        _drain(self._q)
        self._q.close()
        self._q.join_thread()
        self._proc.close()


def _drain(q: Any) -> None:
    try:
        while True:
            q.get_nowait()
    except (queue.Empty, OSError, ValueError):
        pass


PRODUCERS: Registry[Callable[..., _Prefetch[Any]]] = Registry("prefetch producer")
PRODUCERS.add("thread", ThreadPrefetch)
PRODUCERS.add("process", ProcessPrefetch)


def prefetch(
    source: Callable[[], Iterator[T]], depth: int, producer: str = "thread", name: str = "prefetch"
) -> _Prefetch[T]:
    """Run `source()` ahead of the consumer, at most `depth` items queued. Use as a context
    manager (or call close()) so the producer is stopped when the consumer stops early."""
    return PRODUCERS.get(producer)(source, depth, name)


# ---- the sources run_experts prefetches (top-level functions: the process producer pickles them)
def decoded_frames(
    path: str, times: np.ndarray, backend: str | None, info: VideoInfo, chunk: int,
    min_side: int | None = None, native_at: np.ndarray | None = None,
) -> Generator[FrameBatch, None, None]:
    """Open the decoder, stream the frames at `times` (scaled to min_side, the flagged times
    also at full size: Decoder.frames_at), close it: all on the producer's side."""
    from vidseek.extract.decode import open_decoder

    decoder = open_decoder(path, backend=backend, info=info)
    try:
        yield from decoder.frames_at(times, chunk=chunk, min_side=min_side, native_at=native_at)
    finally:
        decoder.close()


def frames(
    path: str, times: np.ndarray, backend: str | None, info: VideoInfo, chunk: int,
    depth: int, producer: str = "thread", min_side: int | None = None,
    native_at: np.ndarray | None = None,
) -> Stream[FrameBatch]:
    """The frames at `times`: in-line when depth <= 0, else prefetched `depth` chunks ahead."""
    source = functools.partial(decoded_frames, path, times, backend, info, chunk, min_side,
                               native_at)
    if depth <= 0:
        return source()
    return prefetch(source, depth, producer, name=f"{path}: frames")


def audio(path: str, sample_rate: int, depth: int) -> Stream[AudioChunk]:
    """Audio chunks at `sample_rate`: in-line when depth <= 0, else read ahead by a thread (ffmpeg
    already decodes in its own process; the thread only keeps its pipe drained)."""
    from vidseek.extract.audio import audio_chunks

    source = functools.partial(audio_chunks, path, sample_rate)
    if depth <= 0:
        return cast(Stream[AudioChunk], source())  # a generator: it has close()
    return prefetch(source, depth, "thread", name=f"{path}: audio {sample_rate} Hz")
