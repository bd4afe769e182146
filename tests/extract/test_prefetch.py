"""Decoding ahead of the experts (vidseek.extract.prefetch): real PyAV / decord / ffmpeg on
synthetic lossless media. Oracle: the in-line (prefetch=0) path; every overlapped producer must
give the same Features, the same frames, and the same failure for a broken file, and leave no
thread or process behind however the consumer stops."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pipeline_experts  # noqa: F401  (registers the test experts)
import pytest
from media import corrupt_mp4, frames_with_index, tone, write_video

from vidseek.errors import DecodeError
from vidseek.extract import prefetch as ahead
from vidseek.extract.experts import ExpertOptions, create_expert
from vidseek.extract.probe import probe
from vidseek.extract.run import run_experts
from vidseek.pipelines.extract import ExtractConfig, extract_collection
from vidseek.store import FeatureStore
from vidseek.store.catalog import decode_note

EXPERTS = ["test_meancolor", "test_meancolor_fast", "test_rms"]
PRODUCERS = ["thread", "process"]


def _experts(names: list[str] = EXPERTS) -> list:
    return [create_expert(n, ExpertOptions()) for n in names]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 s at 10 fps, every frame distinct, a 440 Hz tone (16 kHz pcm in mkv)."""
    d = tmp_path_factory.mktemp("prefetch")
    return write_video(d / "clip.mkv", frames_with_index(30), 10, codec="ffv1",
                       audio=tone(440, 3.0))


def _child_pids() -> set[int]:
    pids: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        text = (task / "children").read_text().split() if (task / "children").exists() else []
        pids.update(int(p) for p in text)
    return {p for p in pids if Path(f"/proc/{p}").exists() and not _zombie(p)}


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _our_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("vidseek-") and t.is_alive()]


def _assert_clean(before: set[int]) -> None:
    assert _our_threads() == []

    def left() -> set[int]:
        # multiprocessing's resource tracker is one per interpreter, started by the first
        # process pool and kept for the interpreter's life: not a leftover of this run
        return {p for p in _child_pids() - before
                if "multiprocessing.resource_tracker" not in _cmdline(p)}

    deadline = time.monotonic() + 5
    while left() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert left() == set(), {p: _cmdline(p) for p in left()}


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:200]
    except OSError:
        return "?"


def _outcome(path: Path, info, **kw: object) -> tuple[str, object]:
    """('ok', {expert: (times, values)}) or ('raised', (type, message))."""
    try:
        feats, errors = run_experts(path, _experts(), info, frame_chunk=3, **kw)  # type: ignore[arg-type]
    except Exception as err:  # noqa: BLE001 - compared between the paths
        # decord stamps its log time into the message, and where a corrupt packet first fails
        # varies between its reader instances: compare the rest
        msg = re.sub(r"\[\d\d:\d\d:\d\d\]|at frame \d+", "", str(err))
        return "raised", (type(err), msg)
    return "ok", ({k: (f.times, f.values) for k, f in feats.items()}, errors)


# ---- same output as decoding in-line -----------------------------------------------------
@pytest.mark.parametrize("producer", PRODUCERS)
@pytest.mark.parametrize("backend", ["pyav", "decord"])
def test_overlapped_features_equal_inline_features(clip, producer, backend) -> None:
    info = probe(clip)
    want, errs = run_experts(clip, _experts(), info, backend, frame_chunk=3, prefetch=0)
    got, errs2 = run_experts(clip, _experts(), info, backend, frame_chunk=3, prefetch=2,
                             producer=producer)
    assert errs == errs2 == {}
    assert set(want) == set(got) == set(EXPERTS)
    for name in EXPERTS:
        np.testing.assert_array_equal(got[name].times, want[name].times)
        np.testing.assert_array_equal(got[name].values, want[name].values)
    assert len(want["test_meancolor_fast"]) == 90 and len(want["test_rms"]) == 6


@pytest.mark.parametrize("producer", PRODUCERS)
def test_prefetched_frames_are_byte_identical(clip, producer) -> None:
    info = probe(clip)
    times = np.linspace(0, 2.95, 40)
    want = list(ahead.frames(str(clip), times, "pyav", info, 4, depth=0))
    with ahead.prefetch(lambda: iter(()), 1) as _:
        pass
    got = list(ahead.frames(str(clip), times, "pyav", info, 4, depth=1, producer=producer))
    assert len(got) == len(want) == 10
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a.times, b.times)
        np.testing.assert_array_equal(a.frames, b.frames)


def test_audio_ahead_equals_audio_inline(clip) -> None:
    want = list(ahead.audio(str(clip), 8000, depth=0))
    got = list(ahead.audio(str(clip), 8000, depth=1))
    assert [c.start for c in got] == [c.start for c in want]
    np.testing.assert_array_equal(np.concatenate([c.pcm for c in got]),
                                  np.concatenate([c.pcm for c in want]))


def test_collections_with_and_without_prefetch_are_equal(clip, tmp_path) -> None:
    cols = {}
    for depth in (0, 2):
        col = tmp_path / f"col{depth}"
        cfg = ExtractConfig([str(clip)], str(col), experts=EXPERTS, progress=False, prefetch=depth)
        assert extract_collection(cfg) == 0
        cols[depth] = col
    with FeatureStore(cols[0]) as a, FeatureStore(cols[2]) as b:
        for name in EXPERTS:
            np.testing.assert_array_equal(a.get("clip", name).values, b.get("clip", name).values)


# ---- the same failure as decoding in-line ------------------------------------------------
@pytest.mark.parametrize("producer", PRODUCERS)
def test_truncated_and_corrupt_files_fail_the_same_way(clip, tmp_path, producer) -> None:
    before = _child_pids()
    cases = {}
    data = clip.read_bytes()
    cut = tmp_path / "cut.mkv"  # probed whole, then truncated under the decoder: a few frames
    cut.write_bytes(data)
    cases["cut"] = (cut, probe(cut), lambda: cut.write_bytes(data[: len(data) // 3]))
    head = tmp_path / "head.mkv"  # probed whole, then only 300 bytes left: nothing opens
    head.write_bytes(data)
    cases["head"] = (head, probe(head), lambda: head.write_bytes(data[:300]))
    # valid header and first frames, then random bytes: decord fails mid-stream (frame 16)
    bad = corrupt_mp4(tmp_path / "corrupt.mp4", keep=0.7)
    cases["corrupt"] = (bad, probe(bad), lambda: None)
    gone = tmp_path / "gone.mkv"  # deleted between probe and decode
    gone.write_bytes(data)
    cases["gone"] = (gone, probe(gone), gone.unlink)
    for name, (path, info, damage) in cases.items():
        damage()
        backend = "decord" if name == "corrupt" else None
        inline = _outcome(path, info, backend=backend, prefetch=0)
        overlapped = _outcome(path, info, backend=backend, prefetch=2, producer=producer)
        assert type(inline[1]) is type(overlapped[1]), name
        if inline[0] == "raised":
            assert overlapped == inline, name
            assert path.name in inline[1][1], name  # type: ignore[index]
        else:
            assert overlapped[0] == "ok", name
            for k, (t, v) in inline[1][0].items():  # type: ignore[index]
                np.testing.assert_array_equal(overlapped[1][0][k][0], t)  # type: ignore[index]
                np.testing.assert_array_equal(overlapped[1][0][k][1], v)  # type: ignore[index]
    assert _outcome(gone, cases["gone"][1], prefetch=2)[0] == "raised"
    assert _outcome(bad, cases["corrupt"][1], backend="decord", prefetch=2)[0] == "raised"
    _assert_clean(before)


def test_a_partly_corrupt_file_keeps_what_decoded_and_is_flagged(clip, tmp_path) -> None:
    bad = corrupt_mp4(tmp_path / "corrupt.mp4", keep=0.7)  # probes; decord fails at frame 16
    col = tmp_path / "col"
    rc = extract_collection(ExtractConfig([str(bad), str(clip)], str(col), experts=EXPERTS,
                                          progress=False, prefetch=2))
    assert rc == 0  # decord fails at frame 16, PyAV takes over and decodes up to the break
    with FeatureStore(col) as store:
        rows = {r["video_id"]: r for r in store.catalog.video_rows()}
        note = decode_note(store.catalog, "corrupt")
        ends = [f.times[-1, 1] for e in EXPERTS if len(f := store.get("corrupt", e))]
    assert rows["corrupt"]["status"] == "done" and rows["clip"]["status"] == "done"
    assert note is not None and note.decoded_end is not None
    assert note.backend in ("pyav", "decord+pyav")  # decord may fail before its first chunk
    assert note.decoded_end < note.duration and rows["corrupt"]["duration"] == note.decoded_end
    assert ends and max(ends) <= note.decoded_end + 1e-6  # no row past the break


# ---- producers: errors in order, bounded memory, nothing left behind ---------------------
def _three_then_fail() -> Iterator[int]:
    yield from range(3)
    raise DecodeError("fake.mp4: corrupt video stream (test)")


class _Unpicklable(Exception):
    def __init__(self, a: str, b: str) -> None:
        super().__init__(f"{a} {b}")


def _unpicklable() -> Iterator[int]:
    yield 1
    raise _Unpicklable("fake.mp4:", "bad\nframe")


def _dies() -> Iterator[int]:
    yield 1
    os._exit(3)


def _forever() -> Iterator[np.ndarray]:
    while True:
        yield np.zeros(1000, np.uint8)


@pytest.mark.parametrize("producer", PRODUCERS)
def test_an_error_arrives_after_the_items_before_it(producer) -> None:
    got: list[int] = []
    with pytest.raises(DecodeError, match="fake.mp4: corrupt video stream"):
        with ahead.prefetch(_three_then_fail, 2, producer) as items:
            for x in items:
                got.append(x)
    assert got == [0, 1, 2]


def test_an_unpicklable_error_becomes_a_one_line_decode_error() -> None:
    with pytest.raises(DecodeError, match="^fake.mp4: bad frame$"):
        with ahead.prefetch(_unpicklable, 2, "process") as items:
            list(items)


def test_a_dead_decoder_process_is_an_error_not_a_hang() -> None:
    with pytest.raises(DecodeError, match="decoder process died"):
        with ahead.prefetch(_dies, 2, "process") as items:
            list(items)


@pytest.mark.parametrize("producer", PRODUCERS)
def test_stopping_early_stops_the_producer(producer) -> None:
    before = _child_pids()
    t0 = time.monotonic()
    with ahead.prefetch(_forever, 3, producer) as items:
        for i, _ in enumerate(items):
            if i == 5:
                break
    assert time.monotonic() - t0 < 10
    _assert_clean(before)


def test_the_producer_runs_at_most_depth_ahead() -> None:
    made = []

    def counted() -> Iterator[int]:
        for i in range(50):
            made.append(i)
            yield i

    with ahead.prefetch(counted, 3) as items:
        for i in items:
            time.sleep(0.01)
            # queued (<= depth) + one the producer holds while it waits for room
            assert len(made) - (i + 1) <= 3 + 1
    assert len(made) == 50


def test_unknown_producer_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match="process, thread"):
        ahead.prefetch(_forever, 1, "gpu")


def test_an_interrupt_in_an_expert_leaves_no_decoder_or_ffmpeg(clip, monkeypatch) -> None:
    before = _child_pids()
    calls = []

    def interrupt(self, batch):  # type: ignore[no-untyped-def]
        calls.append(len(batch.times))
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline_experts._MeanColorSession, "add_frames", interrupt)
    for producer in PRODUCERS:
        with pytest.raises(KeyboardInterrupt):
            run_experts(clip, _experts(), probe(clip), frame_chunk=3, prefetch=2,
                        producer=producer)
        _assert_clean(before)  # the audio thread's ffmpeg and the decoder are gone
    assert calls
