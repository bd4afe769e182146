"""`vidseek serve` / extras: loopback rule, one-line errors, the extra named when a package is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from vidseek.cli import main
from vidseek.extras import MissingExtraError, message, require
from vidseek.pipelines.serve import is_loopback


def test_loopback_rule() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.1.2.3", "::1", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "192.168.1.5", "::", "example.org"))


def test_serve_missing_collection_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--collection", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err.strip()
    assert "does not exist" in err and "\n" not in err


def test_missing_extra_is_named() -> None:
    assert message("ray.data", "vidseek extract") == \
        "vidseek extract needs the ray package: pip install 'vidseek[cluster]' (or `make setup`)"
    assert message("sklearn.cluster") is not None and "vidseek[train]" in str(message("sklearn.cluster"))
    assert message("numpy") is None
    with pytest.raises(MissingExtraError, match=r"vidseek\[hf\]"):
        require("no_such_package_vidseek_test", "hf", "export --format hf")


def test_non_loopback_host_warns(tmp_path: Path) -> None:
    """The real verb in a subprocess: the warning comes before uvicorn listens."""
    import os
    import socket
    import subprocess
    import sys

    from vidseek.store import FeatureStore

    with FeatureStore(tmp_path / "c"):
        pass
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen([sys.executable, "-m", "vidseek.cli", "serve", "--collection", str(tmp_path / "c"),
                             "--host", "0.0.0.0", "--port", str(port)], env=env, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()
        assert "WARNING: listening on 0.0.0.0" in first and "readable by anyone" in first
    finally:
        proc.terminate()
        proc.wait(30)
