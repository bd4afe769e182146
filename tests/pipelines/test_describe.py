"""`vidseek describe`: one decode for all experts; human and --json output (tiny twins)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from media import tone, write_video  # noqa: E402
from paths import CLIPS  # noqa: E402

from vidseek.cli import main
from vidseek.errors import VidseekError
from vidseek.pipelines.describe import DescribeConfig, describe, rows_of
from vidseek.registry import UnknownNameError
from vidseek.types import Features


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 s at 25 fps: dark then bright frames, a 1 s tone in the middle (speech stand-in)."""
    frames = np.zeros((75, 48, 64, 3), np.uint8)
    frames[40:] = 220
    pcm = np.zeros(3 * 16000, np.float32)
    pcm[16000:32000] = tone(300.0, 1.0, amp=0.4)
    return write_video(tmp_path_factory.mktemp("describe") / "v.mkv", frames, 25, audio=pcm)


def test_rows_of_labels_text_and_bare() -> None:
    probs = np.array([[0.1, 0.7, 0.2], [0.5, 0.25, 0.25]], np.float32)
    f = Features("x", [[0, 1], [1, 2]], np.zeros((2, 4)), probs=probs)
    assert rows_of(f, ["a", "b", "c"], 2) == [
        {"start": 0.0, "end": 1.0, "labels": [["b", 0.7], ["c", 0.2]]},
        {"start": 1.0, "end": 2.0, "labels": [["a", 0.5], ["b", 0.25]]},
    ]
    t = Features("y", [[0.5, 1.5]], np.zeros((1, 0)), texts=["hello"])
    assert rows_of(t, None, 3) == [{"start": 0.5, "end": 1.5, "text": "hello"}]
    assert rows_of(Features("z", [[0, 1]], np.ones((1, 3))), None, 3) == [{"start": 0.0, "end": 1.0}]


def test_describe_json_is_the_only_stdout(video: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = DescribeConfig(str(video), ["i3d", "asr", "ocr"], json=True, top=2, tiny=True)
    assert describe(cfg) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"i3d", "asr", "ocr"}
    (win,) = out["i3d"]  # 75 frames < 64 + 32: one full window, the 11-frame tail dropped
    assert win["start"] == 0.0 and win["end"] == pytest.approx(2.56)
    assert len(win["labels"]) == 2 and all(isinstance(n, str) for n, _ in win["labels"])
    assert [r["text"] for r in out["asr"]] == ["w0 w1"]  # the tone, 1.0-2.0 s
    assert out["asr"][0]["start"] == pytest.approx(1.0, abs=0.05)
    texts = [r["text"] for r in out["ocr"]]  # samples at 0 s (dark) and 2 s (bright)
    assert texts == ["Level  0", "Level  6"]


def test_describe_human_output(video: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert describe(DescribeConfig(str(video), ["i3d", "ocr"], json=False, tiny=True)) == 0
    out = capsys.readouterr().out
    assert "== i3d (motion) — 1 rows" in out and "== ocr (ocr) — 2 rows" in out
    assert "RANDOM weights" in out and "Level  6" in out


def test_describe_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      video: Path) -> None:
    missing = str(tmp_path / "missing.mp4")
    with pytest.raises((VidseekError, OSError), match="missing.mp4"):
        describe(DescribeConfig(missing, ["ocr"], tiny=True))
    with pytest.raises(UnknownNameError, match="known:"):
        describe(DescribeConfig(str(video), ["nope"], tiny=True))
    assert main(["describe", missing, "--experts", "ocr", "--random-weights"]) == 2
    assert main(["describe", str(video), "--experts", "nope"]) == 2
    cap = capsys.readouterr()
    assert cap.out == "" and "known:" in cap.err and len(cap.err.strip().splitlines()) == 2
    assert "Traceback" not in cap.err and "missing.mp4" in cap.err


@pytest.mark.real
def test_describe_real_clip_reads_speech(capsys: pytest.CaptureFixture[str]) -> None:
    path = CLIPS / "nasa_13013.mp4"
    if not path.exists():
        pytest.skip(f"real clip {path} not found (../shared/data beside the repo)")
    from vidseek.errors import WeightsNotFoundError
    from vidseek.extract.experts import create_expert

    try:
        create_expert("asr")
    except WeightsNotFoundError as err:
        pytest.skip(str(err))
    assert describe(DescribeConfig(str(path), ["asr"], json=True)) == 0
    out = json.loads(capsys.readouterr().out)
    assert "webb" in " ".join(r["text"] for r in out["asr"]).lower()
