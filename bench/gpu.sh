#!/usr/bin/env bash
# The GPU measurements CPU sessions could not take, in one command (< 8 minutes on one GPU):
#   1. per-expert network throughput, fp32 vs bf16 + channels_last, vs ARCHITECTURE.md's limits
#   2. one training run's speed-up: the same localizer trainings on the GPU (bf16) vs this CPU
#   3. FVMR's common space vs 2D-TAN per query in bf16 (bench/localization.py's timing section)
# Run from the repo root on the GPU machine: `bash bench/gpu.sh [OUT_DIR]`. It needs torch,
# torchvision, numpy, pyyaml, safetensors and tqdm (the GPU image has them); networks whose
# package is missing there (efficientnet-lite-pytorch, open_clip) are skipped with the reason.
# Through the device tool: run(command="bash bench/gpu.sh $OUT", timeout_s=540).
set -uo pipefail
OUT=${1:-out/gpu}
PY=${PYTHON:-python3}
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | tee "$OUT/gpu.txt"
echo "## 1. network throughput (random weights)"
timeout 200 "$PY" bench/gpu_models.py --device cuda --seconds 4 --json "$OUT/models.json" | tee "$OUT/models.md"
echo "## 2+3. localizers: training time and per-query time on cuda bf16"
timeout 200 "$PY" bench/localization.py --device cuda --dtype bf16 --seeds 1 --epochs 8 \
  --json "$OUT/localization_cuda.json" | tee "$OUT/localization_cuda.md"
echo "## 2. the same trainings on this machine's CPU (the speed-up's denominator)"
timeout 150 "$PY" bench/localization.py --device cpu --threads "$(nproc)" --seeds 1 --epochs 8 \
  --paper-queries 0 --json "$OUT/localization_cpu.json" | tee "$OUT/localization_cpu.md"
"$PY" - "$OUT" <<'PY'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
try:
    gpu = json.loads((out / "localization_cuda.json").read_text())["planted"]
    cpu = json.loads((out / "localization_cpu.json").read_text())["planted"]
except (OSError, KeyError, ValueError) as err:
    sys.exit(f"speed-up: {err}")
print("| model | cpu train s | cuda bf16 train s | speed-up |\n|---|---|---|---|")
for name, row in gpu.get("models", {}).items():
    c = cpu.get("models", {}).get(name, {}).get("train_s")
    g = row.get("train_s")
    if c and g:
        print(f"| {name} | {c:.1f} | {g:.1f} | {c / g:.1f}x |")
PY
