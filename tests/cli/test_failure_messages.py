"""Other libraries' failures that are not bugs become one line naming the file: real exceptions
from safetensors, torch and pyarrow reading a broken file, a full disk, a missing cluster."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from vidseek.errors import CollectionError, failure_message
from vidseek.registry import Registry


def _raised(fn, *args):  # type: ignore[no-untyped-def]
    try:
        fn(*args)
    except Exception as err:  # noqa: BLE001
        return err
    raise AssertionError("did not raise")


@pytest.fixture
def garbage(tmp_path: Path) -> Path:
    p = tmp_path / "broken.bin"
    p.write_bytes(b"\x00not weights, not parquet\xff" * 8)
    return p


def _one_line(msg: str | None) -> str:
    assert msg is not None and "\n" not in msg
    return msg


def test_vidseek_and_registry_errors_are_their_message() -> None:
    assert failure_message(CollectionError("collection /x does not exist")) == "collection /x does not exist"
    reg: Registry[int] = Registry("expert")
    reg.add("a", 1)
    msg = _one_line(failure_message(_raised(reg.get, "b")))
    assert msg == "unknown expert 'b'; known: a"


def test_bad_safetensors_file_names_the_file(garbage: Path) -> None:
    from safetensors.torch import load_file

    def load(path: Path) -> object:
        return load_file(str(path))

    msg = _one_line(failure_message(_raised(load, garbage)))
    assert str(garbage) in msg and "not a usable weights file" in msg


def test_bad_torch_file_names_the_file(garbage: Path) -> None:
    import torch

    def load(path: Path) -> object:
        return torch.load(path, map_location="cpu", weights_only=True)

    msg = _one_line(failure_message(_raised(load, garbage)))
    assert str(garbage) in msg and "weights file" in msg


def test_corrupt_parquet_names_the_file(garbage: Path) -> None:
    import pyarrow.parquet as pq

    def read(path: Path) -> object:
        return pq.read_table(str(path))

    msg = _one_line(failure_message(_raised(read, garbage), "/my/collection"))
    assert "corrupt or unreadable" in msg and (str(garbage) in msg or "/my/collection" in msg)


def test_full_disk_and_closed_cluster() -> None:
    full = OSError(errno.ENOSPC, "No space left on device")
    assert "no space left on device writing into /c" in _one_line(failure_message(full, "/c"))
    named = OSError(errno.ENOSPC, "No space left on device", "/c/features/x.parquet")
    assert "/c/features/x.parquet" in _one_line(failure_message(named, "/c"))
    ray = ConnectionError("Could not find any running Ray instance.\nPlease specify ...")
    assert _one_line(failure_message(ray)).startswith("could not connect: Could not find any running Ray")


def test_a_bug_is_none() -> None:
    assert failure_message(ValueError("x")) is None
    assert failure_message(KeyError("x")) is None
