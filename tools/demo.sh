#!/usr/bin/env bash
# `make demo`: extract the built-in clips, index them, run a few queries, write an HTML page.
set -euo pipefail
OUT=${DEMO_OUT:-out/demo}
COL="$OUT/collection"
mkdir -p "$OUT"
echo "== extract (decode once, every default expert) -> $COL"
vidseek extract data/clips --collection "$COL" || echo "(some videos failed: see vidseek status)"
echo "== index"
vidseek index --collection "$COL"
vidseek status --collection "$COL"
for q in "a rabbit in a meadow" "a bird sitting on a tree branch" "the Webb telescope mirror in a clean room"; do
  echo
  echo "== search: $q"
  vidseek search "$q" --collection "$COL" --top 3
done
vidseek search "a rabbit in a meadow" --collection "$COL" --top 5 --html "$OUT/search.html" >/dev/null
echo
echo "HTML page of the hits: $(cd "$OUT" && pwd)/search.html"
echo
echo "Search it in the browser (loads once, plays the moments):"
echo "  vidseek serve --collection $COL      # or: make serve COLLECTION=$COL"
echo "  then open http://127.0.0.1:8765/?q=a+rabbit+in+a+meadow"
