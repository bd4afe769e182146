#!/usr/bin/env bash
# `make eval-real`: extract the real clips in ../shared/data/clips, index them and evaluate the
# committed queries built from their human annotations (data/queries/real_clips.jsonl).
set -euo pipefail
SHARED=${SHARED:-../shared/data}
OUT=${EVAL_OUT:-out/eval-real}
COL="$OUT/collection"
if [ ! -d "$SHARED/clips" ]; then
  echo "eval-real: $SHARED/clips not found (the shared data folder must sit beside the repo)" >&2
  exit 2
fi
mkdir -p "$OUT"
vidseek extract "$SHARED/clips" --collection "$COL" || echo "(some videos failed: see vidseek status)"
vidseek index --collection "$COL"
vidseek eval queries data/queries/real_clips.jsonl --collection "$COL" --html "$OUT/eval.html"
vidseek eval queries data/queries/real_clips.jsonl --collection "$COL" --json > "$OUT/eval.json"
echo "per-query results: $OUT/eval.json; page: $OUT/eval.html"
