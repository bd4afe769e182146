"""Weights resolution order, the offline error, sha256 caching, import and listing."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from vidseek.errors import WeightsFileError, WeightsMismatchError, WeightsNotFoundError
from vidseek.extract.experts import all_cards, weights_of
from vidseek.pipelines.weights import (
    WeightsImportConfig,
    WeightsListConfig,
    weights_import,
    weights_list,
)
from vidseek.registry import UnknownNameError
from vidseek.weights import (
    WeightSpec,
    file_sha256,
    import_weights,
    list_weights,
    locate,
    resolve,
    weights_dir,
)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Empty weights dir, torch hub and HF caches; offline."""
    wd = tmp_path / "weights"
    monkeypatch.setenv("VIDSEEK_WEIGHTS_DIR", str(wd))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.delenv("VIDSEEK_ONLINE", raising=False)
    return wd


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _spec(tmp_path: Path, pkg: Path | None = None, **kw: object) -> WeightSpec:
    return WeightSpec(expert="toy", filename="toy.pth", package="toy-pkg" if pkg else None,
                      package_path=(lambda: pkg) if pkg else None,
                      url="https://example.org/toy.pth", **kw)  # type: ignore[arg-type]


def test_weights_dir_from_env(isolated: Path) -> None:
    assert weights_dir() == isolated


def test_resolution_order(tmp_path: Path, isolated: Path) -> None:
    pkg = _write(tmp_path / "pkg" / "toy.pth", b"package")
    spec = _spec(tmp_path, pkg)
    hub = _write(tmp_path / "torch" / "hub" / "checkpoints" / "toy.pth", b"hub")
    assert locate(spec) == (pkg, "package:toy-pkg")  # package before the torch hub cache
    local = _write(isolated / "toy.pth", b"local")
    assert locate(spec) == (local, "weights_dir")  # the weights dir before the package
    explicit = _write(tmp_path / "mine.pth", b"explicit")
    assert resolve(spec, explicit=str(explicit)) == explicit  # explicit before everything
    local.unlink()
    pkg.unlink()
    assert resolve(spec) == hub


def test_missing_message_says_what_to_put_where(tmp_path: Path, isolated: Path) -> None:
    spec = _spec(tmp_path)
    with pytest.raises(WeightsNotFoundError) as info:
        resolve(spec)  # offline: no download attempt
    msg = str(info.value)
    assert "\n" not in msg
    for part in ("toy.pth", str(isolated / "toy.pth"), "https://example.org/toy.pth",
                 "vidseek weights import FILE --expert toy"):
        assert part in msg
    with pytest.raises(WeightsNotFoundError, match="nope.pth"):
        resolve(spec, explicit=str(tmp_path / "nope.pth"))


def test_sha256_checked_full_or_prefix(tmp_path: Path, isolated: Path) -> None:
    digest = hashlib.sha256(b"local").hexdigest()
    _write(isolated / "toy.pth", b"local")
    assert resolve(_spec(tmp_path, sha256=digest[:8])).name == "toy.pth"
    assert resolve(_spec(tmp_path, sha256=digest)).name == "toy.pth"
    with pytest.raises(WeightsMismatchError, match="toy"):
        resolve(_spec(tmp_path, sha256="00000000"))


def test_file_sha256_cached_by_size_and_mtime(tmp_path: Path, isolated: Path) -> None:
    f = _write(tmp_path / "w.bin", b"abcdef")
    assert file_sha256(f) == hashlib.sha256(b"abcdef").hexdigest()
    cache = json.loads((isolated / ".sha256.json").read_text())
    assert cache[str(f.resolve())]["size"] == 6
    st = f.stat()
    f.write_bytes(b"ABCDEF")  # same size; restore mtime: the cache answers (proves it is used)
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert file_sha256(f) == hashlib.sha256(b"abcdef").hexdigest()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # touched: hashed again
    assert file_sha256(f) == hashlib.sha256(b"ABCDEF").hexdigest()


def test_folder_sha256_covers_every_file(tmp_path: Path) -> None:
    d = tmp_path / "model"
    _write(d / "a.json", b"{}")
    _write(d / "sub" / "b.bin", b"xx")
    _write(d / ".hidden", b"ignored")
    lines = (f"a.json {hashlib.sha256(b'{}').hexdigest()}\n"
             f"sub/b.bin {hashlib.sha256(b'xx').hexdigest()}\n")
    assert file_sha256(d) == hashlib.sha256(lines.encode()).hexdigest()
    _write(d / "sub" / "b.bin", b"xy")
    assert file_sha256(d) != hashlib.sha256(lines.encode()).hexdigest()


def test_import_copies_under_the_spec_filename(tmp_path: Path, isolated: Path) -> None:
    src = _write(tmp_path / "downloaded.bin", b"clip weights")
    dst = import_weights(src, weights_of("clip_b32"))
    assert dst == isolated / weights_of("clip_b32").filename
    assert dst.read_bytes() == b"clip weights"
    assert not list(isolated.glob(".tmp-*"))
    rows = {r["expert"]: r for r in list_weights(all_cards())}
    assert rows["clip_b32"]["status"] == "found" and rows["clip_b32"]["where"] == "weights_dir"
    assert rows["clip_b32"]["sha256"] == hashlib.sha256(b"clip weights").hexdigest()


def test_import_refuses_a_file_with_the_wrong_hash(tmp_path: Path, isolated: Path) -> None:
    src = _write(tmp_path / "resnet.pth", b"not resnet")  # resnet152's spec pins f82ba261
    with pytest.raises(WeightsMismatchError):
        import_weights(src, weights_of("resnet152"))
    assert not (isolated / weights_of("resnet152").filename).exists()


def test_list_weights_finds_packaged_defaults() -> None:
    listed = list_weights(all_cards(), with_sha256=False)
    rows = {r["expert"]: r for r in listed}
    for name in ("effnet_lite0", "minilm", "glove50", "whisper_audio", "asr", "ocr"):
        assert rows[name]["status"] == "found", rows[name]
        assert str(rows[name]["where"]).startswith("package:")
    assert rows["ocr"]["where"] == "package:rapidocr-onnxruntime"
    assert rows["resnet152"]["status"] == "missing"
    assert rows["resnet152"]["optional"] and not rows["resnet152"]["default"]
    assert rows["effnet_lite0"]["default"] and not rows["effnet_lite0"]["optional"]
    assert rows["effnet_lite0"]["extra"] is None
    assert [r["expert"] for r in listed].count("clip_b32") == 1  # image + text towers: one file


def test_pipeline_verbs(tmp_path: Path, isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert weights_list(WeightsListConfig(json=True, sha256=False)) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["weights_dir"] == str(isolated)
    assert {"effnet_lite0", "resnet152", "minilm"} <= {r["expert"] for r in out["weights"]}
    assert weights_list(WeightsListConfig(sha256=False)) == 0
    assert "effnet_lite0" in capsys.readouterr().out
    src = _write(tmp_path / "s.bin", b"s")  # not a checkpoint: refused, nothing installed
    with pytest.raises(WeightsFileError, match=r"s\.bin: not usable as clip_b32 weights"):
        weights_import(WeightsImportConfig(file=str(src), expert="clip_b32"))
    assert not (isolated / weights_of("clip_b32").filename).exists()
    with pytest.raises(UnknownNameError, match="known:"):
        weights_import(WeightsImportConfig(file=str(src), expert="no_such_expert"))
