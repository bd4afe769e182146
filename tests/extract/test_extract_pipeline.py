"""The extraction batch job end to end with real decoding (PyAV / decord), real ffmpeg audio,
real Parquet + SQLite, and small weight-free experts: decode-once dispatch, resume, bad input,
a vanished file, kill -9 mid-run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pipeline_experts  # noqa: F401  (registers the test experts)
import pytest

from vidseek.extract.audio import ffmpeg_exe
from vidseek.pipelines.extract import ExtractConfig, extract_collection
from vidseek.store import FeatureStore


def make_clip(path: Path, seconds: float = 2.0, fps: float = 10, audio: bool = True) -> Path:
    cmd = [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi",
           "-i", f"testsrc=size=64x48:rate={fps}:duration={seconds}"]
    if audio:
        cmd += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=16000:duration={seconds}",
                "-c:a", "aac"]
    cmd += ["-c:v", "libx264", "-pix_fmt", "yuv420p", str(path)]
    subprocess.run(cmd, check=True)
    return path


def cfg(paths: list[Path], collection: Path, experts: list[str], **kw: object) -> ExtractConfig:
    return ExtractConfig([str(p) for p in paths], str(collection), experts=experts,
                         progress=False, **kw)  # type: ignore[arg-type]


@pytest.fixture
def clips(tmp_path: Path) -> dict[str, Path]:
    d = tmp_path / "videos"
    d.mkdir()
    return {
        "with_audio": make_clip(d / "with_audio.mp4", 2.0, 10, audio=True),
        "silent": make_clip(d / "silent.mp4", 1.5, 25, audio=False),
    }


def test_decode_once_feeds_every_expert_at_its_own_rate(clips, collection) -> None:
    rc = extract_collection(cfg([clips["with_audio"].parent], collection,
                                ["test_meancolor", "test_meancolor_fast", "test_rms"]))
    assert rc == 0
    with FeatureStore(collection) as store:
        slow = store.get("with_audio", "test_meancolor")
        fast = store.get("with_audio", "test_meancolor_fast")
        rms = store.get("with_audio", "test_rms")
        silent_rms = store.get("silent", "test_rms")
        info = store.catalog.video("with_audio")
    np.testing.assert_allclose(slow.times[:, 0], np.arange(4) / 2.0)  # 2 fps over 2 s
    assert len(fast) == int(np.ceil(2.0 * 29.97))  # 29.97 fps, never floored
    assert slow.times[-1, 1] <= 2.0 + 1e-6  # rows clipped to the duration
    # lavfi's sine has amplitude 1/8: RMS 0.125 / sqrt(2) in every window
    assert len(rms) == 4
    np.testing.assert_allclose(rms.values[1:, 0], 0.125 / np.sqrt(2), rtol=0.03)
    assert len(silent_rms) == 0  # no audio track: no rows, not an error
    assert info is not None and info.has_audio and abs(info.duration - 2.0) < 0.15


def test_rerun_skips_finished_work_and_force_redoes_it(clips, collection, capsys) -> None:
    c = cfg([clips["with_audio"]], collection, ["test_meancolor"])
    assert extract_collection(c) == 0
    with FeatureStore(collection) as store:
        shard = store.shard_path("with_audio", "test_meancolor")
    mtime = shard.stat().st_mtime_ns
    assert extract_collection(c) == 0
    assert "1 already done" in capsys.readouterr().err
    assert shard.stat().st_mtime_ns == mtime
    c.force = True
    assert extract_collection(c) == 0
    assert shard.stat().st_mtime_ns != mtime


def bad_inputs(tmp_path: Path, good: Path) -> dict[str, Path]:
    d = tmp_path / "bad"
    d.mkdir()
    (d / "empty.mp4").write_bytes(b"")
    (d / "notes.mp4").write_text("this is not a video\n" * 20)
    data = good.read_bytes()
    (d / "corrupt.mp4").write_bytes(data[:64] + bytes(len(data) - 64))
    audio_only = d / "audio_only.m4a"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i",
                    "sine=frequency=300:sample_rate=16000:duration=1", "-c:a", "aac",
                    str(audio_only)], check=True)
    return {"empty": d / "empty.mp4", "notes": d / "notes.mp4", "corrupt": d / "corrupt.mp4",
            "audio_only": audio_only, "missing": d / "does_not_exist.mp4"}


def test_bad_inputs_are_recorded_and_the_batch_goes_on(clips, collection, tmp_path, capsys) -> None:
    bad = bad_inputs(tmp_path, clips["with_audio"])
    paths = [*bad.values(), clips["with_audio"]]
    rc = extract_collection(cfg(paths, collection, ["test_meancolor"]))
    assert rc == 1  # the exit code says some videos failed
    err = capsys.readouterr().err
    with FeatureStore(collection) as store:
        rows = {r["video_id"]: r for r in store.catalog.video_rows()}
        assert store.has("with_audio", "test_meancolor")
    assert "does_not_exist" not in rows  # a missing path is reported, never recorded
    for name, path in bad.items():
        assert path.name in err
        if name == "missing":
            continue
        row = rows[path.stem]
        assert row["status"] == "failed", name
        assert path.name in row["error"], (name, row["error"])  # the error names the file
        assert path.name in err
    assert rows["with_audio"]["status"] == "done"


def test_a_failing_expert_is_recorded_and_the_others_are_kept(clips, collection) -> None:
    rc = extract_collection(cfg([clips["with_audio"]], collection, ["test_meancolor", "test_broken"]))
    assert rc == 1
    with FeatureStore(collection) as store:
        assert store.has("with_audio", "test_meancolor")
        rec = store.catalog.feature("with_audio", "test_broken")
    assert rec is not None and rec.status == "failed" and "always fails" in (rec.error or "")


def test_a_file_that_vanishes_mid_run_fails_alone(clips, collection, tmp_path) -> None:
    doomed = make_clip(tmp_path / "doomed.mp4", 1.0, 10, audio=False)

    class Remover:
        def __init__(self) -> None:
            self.done = False

    import pipeline_experts as pe

    original = pe._MeanColorSession.add_frames
    state = Remover()

    def add_frames(self, batch):  # type: ignore[no-untyped-def]
        if not state.done:
            doomed.unlink()
            state.done = True
        return original(self, batch)

    pe._MeanColorSession.add_frames = add_frames  # type: ignore[method-assign]
    try:
        rc = extract_collection(cfg([clips["with_audio"], doomed], collection, ["test_meancolor"]))
    finally:
        pe._MeanColorSession.add_frames = original  # type: ignore[method-assign]
    assert rc == 1
    with FeatureStore(collection) as store:
        rows = {r["video_id"]: r for r in store.catalog.video_rows()}
    assert rows["with_audio"]["status"] == "done"
    assert "doomed" not in rows  # gone when its turn came: reported failed, not recorded


def test_workers_give_the_same_features(clips, collection, tmp_path) -> None:
    other = tmp_path / "c2"
    assert extract_collection(cfg([clips["with_audio"].parent], collection, ["test_meancolor"])) == 0
    env_cfg = cfg([clips["with_audio"].parent], other, ["test_meancolor"], workers=2)
    # worker processes must be able to import the test experts
    sys.path.insert(0, str(Path(__file__).parents[1] / "support"))
    assert extract_collection(env_cfg) == 0
    with FeatureStore(collection) as a, FeatureStore(other) as b:
        for vid in ("with_audio", "silent"):
            np.testing.assert_array_equal(a.get(vid, "test_meancolor").values,
                                          b.get(vid, "test_meancolor").values)


KILL_SCRIPT = """
import sys
sys.path[:0] = [{tests!r}]
import pipeline_experts
from vidseek.cli import main
sys.exit(main(["extract", {videos!r}, "--collection", {col!r}, "--experts", "test_slow",
               "--no-progress"]))
"""


def test_kill_9_mid_extraction_loses_nothing_finished(tmp_path, collection) -> None:
    d = tmp_path / "many"
    d.mkdir()
    for i in range(6):
        make_clip(d / f"clip{i}.mp4", 1.0, 10, audio=False)
    script = KILL_SCRIPT.format(tests=str(Path(__file__).parents[1] / "support"), videos=str(d), col=str(collection))
    proc = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE)
    feats = collection / "features" / "test_slow"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(feats.glob("clip*.parquet")):
        time.sleep(0.05)
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with FeatureStore(collection) as store:  # opening sweeps stray temp files
        assert not list(feats.glob(".tmp-*"))
        done = [r for r in store.catalog.features(status="done")]
        assert 1 <= len(done) < 6, "kill landed too late to test anything"
        for rec in done:  # everything the catalog calls done is complete and readable
            assert len(store.get(rec.video_id, "test_slow")) == 4
        finished = {r.video_id for r in done}
    # the rerun resumes: finished videos are skipped, the rest are done now
    proc = subprocess.run([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True)
    assert proc.returncode == 0, proc.stderr
    assert f"{len(finished)} already done" in proc.stderr
    with FeatureStore(collection) as store:
        assert len(store.catalog.features(status="done")) == 6
