"""Exit codes as a user meets them (`python -m vidseek.cli ...` in a subprocess): 2 and one
line naming what is wrong, never a traceback, for every failure that is not a bug in vidseek."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from paths import ROOT

from vidseek.cli import main


def run(*argv: str, stdout: object = subprocess.PIPE) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vidseek.cli", *argv], cwd=ROOT, text=True,
                          stdout=stdout, stderr=subprocess.PIPE, timeout=300)  # type: ignore[call-overload]


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    err = proc.stderr.strip()
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    for w in words:
        assert w in err, err


@pytest.fixture
def bad_train_config(tmp_path: Path) -> Path:
    p = tmp_path / "train.yaml"
    p.write_text("epochs: 1\nlearning_rat: 0.001\n")  # a misspelt key
    return p


CASES = {
    "missing collection (search)": (["search", "a dog", "--collection", "{tmp}/nothing"], ["nothing", "does not exist"]),
    "missing collection (status)": (["status", "--collection", "{tmp}/nothing"], ["nothing"]),
    "missing collection (index)": (["index", "--collection", "{tmp}/nothing"], ["nothing"]),
    "missing collection (eval)": (["eval", "queries", "{tmp}/q.jsonl", "--collection", "{tmp}/nothing"], ["nothing"]),
    "empty query": (["search", "  ", "--collection", "{tmp}/nothing"], ["query is empty"]),
    "negative --top": (["search", "a dog", "--top", "-5"], ["--top", "-5"]),
    "unknown expert (extract)": (["extract", "{tmp}/a.mp4", "--experts", "effnet_lite0,nope"], ["nope", "known:"]),
    "unknown expert (describe)": (["describe", "{tmp}/a.mp4", "--experts", "nope"], ["nope", "known:"]),
    "unknown expert (weights import)": (["weights", "import", "{tmp}/f", "--expert", "nope"], ["nope", "known:"]),
    "unknown model": (["train", "nope", "--dataset", "synth:{tmp}", "--out", "{tmp}/run"], ["nope", "known:"]),
    "bad config value (file)": (["train", "jemc", "--config", "{cfg}", "--dataset", "synth:{tmp}",
                                 "--out", "{tmp}/run"], ["learning_rat"]),
    "bad config value (flag)": (["extract", "{tmp}", "--prefetch", "-1"], ["--prefetch"]),
    "bad --weights": (["search", "a dog", "--weights", "asr=lots"], ["asr=lots"]),
    "no verb": ([], ["VERB"]),
    "no eval subverb": (["eval"], ["SUBVERB"]),
    "no videos": (["extract", "{tmp}/empty_dir", "--collection", "{tmp}/c"], ["no videos"]),
    "missing predictions file": (["eval", "predictions", "--predictions", "{tmp}/p.jsonl",
                                  "--ground-truth", "{tmp}/g.jsonl"], ["p.jsonl"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_could_not_run_is_2_and_one_line(case: str, tmp_path: Path, bad_train_config: Path) -> None:
    argv, words = CASES[case]
    (tmp_path / "empty_dir").mkdir()
    proc = run(*[a.format(tmp=tmp_path, cfg=bad_train_config) for a in argv])
    assert_one_line_error(proc, *words)


def test_full_disk_is_one_line(tmp_path: Path) -> None:
    with open("/dev/full", "w") as full:  # every write: ENOSPC
        proc = run("weights", "list", "--json", "--no-sha256", stdout=full)
    assert_one_line_error(proc, "no space left on device")


def test_closed_pipe_exits_quietly() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "vidseek.cli", "weights", "list", "--json", "--no-sha256"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # `| head` that has read enough, before vidseek writes a byte
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 141 and err == ""


def test_interrupt_is_130_with_a_message(tmp_path: Path) -> None:
    out = tmp_path / "bench"
    proc = subprocess.Popen([sys.executable, "-m", "vidseek.cli", "synth", "--out", str(out), "--videos", "400"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list((out / "videos").glob("*.mp4")):
        time.sleep(0.05)  # rendering has begun: the verb is running
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err


def test_a_bug_prints_the_traceback_and_asks_for_a_report(monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    from vidseek import cli

    def broken(cfg: object) -> int:
        return {}["no such key"]  # type: ignore[no-any-return]

    real = cli.VERBS["status"]
    monkeypatch.setitem(cli.VERBS, "status", cli.Verb(real.help, real.add_args,
                                                      lambda: cli.Target(broken, real.target().config)))
    assert main(["status", "--collection", "x"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and "KeyError" in err and "please report it" in err


def test_verbose_shows_the_traceback_of_an_expected_failure(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-v", "status", "--collection", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and err.strip().splitlines()[-1].startswith("vidseek status: ")


def test_weights_list_shows_every_expert_and_the_default_set() -> None:
    proc = run("weights", "list", "--json", "--no-sha256")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    rows = {r["expert"]: r for r in out["weights"]}
    from vidseek.extract.experts import EXPERTS

    real = [n for n in EXPERTS.names() if not n.startswith("test_")]
    assert set(real) <= set(rows)
    assert rows["ocr"]["status"] == "found" and rows["ocr"]["where"] == "package:rapidocr-onnxruntime"
    assert os.path.isdir(rows["ocr"]["path"]) and "rapidocr_onnxruntime" in rows["ocr"]["path"]
    assert {r["set"] for r in rows.values()} <= {"default", "online-only", "optional"}
    assert rows["effnet_lite0"]["set"] == "default" and rows["resnet152"]["set"] == "online-only"
    assert out["summary"][0].startswith("default set:")
    text = run("weights", "list", "--no-sha256").stdout
    assert "missing:" not in text and "default set:" in text
