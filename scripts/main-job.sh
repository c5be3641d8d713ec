#!/usr/bin/env bash
# The main job (`npm start`): baseline vs AimKP on the bundled ClipArt-KP set, seed 1, evaluated in the
# multimodal, text-only and image-only modes on the test split, then a report and a per-case comparison.
# Re-running continues unfinished runs. Same environment knobs as scripts/results.sh, e.g.
#   MAX_TRAIN=600 DECODE=greedy npm start      # a ~15-minute look on a 2-core CPU
set -euo pipefail
cd "$(dirname "$0")/.."
export OUT=${OUT:-runs/main}
export SEEDS=${SEEDS:-1}
export PRESETS=${PRESETS:-baseline aimkp}
export DATA=${DATA:-data/clipart-kp}
DECODE=${DECODE:-beam-sample}
export DECODE

node bin/aimkp.mjs data stats "$DATA"
scripts/results.sh
seed=${SEEDS%% *}
node bin/aimkp.mjs compare "$OUT/baseline-s$seed" "$OUT/aimkp-s$seed" --data "$DATA" --split test --decode "$DECODE" --limit 20 | tee "$OUT/compare.md"
echo "Report: $OUT/report.md   Per-case comparison: $OUT/compare.md   Runs: $OUT/"
