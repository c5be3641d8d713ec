#!/usr/bin/env bash
# Extras for docs/results.md, run after (or alongside) scripts/results.sh on the same OUT: for the baseline and
# AimKP runs, the paper's test decoding (beam 5 with sampling, temperature 0.5, 3 repeats) in the multimodal mode,
# and the test-time robustness suite. Waits for each run's greedy evaluation to exist, so it can start while
# results.sh is still training. Finished pieces are skipped on a re-run.
#
# Environment: DATA (data/clipart-kp), OUT (runs/results), SEEDS ("1 2 3"), PRESETS ("baseline aimkp"; for the paper
# setting: PRESETS="paper-baseline paper-aimkp"), MODES (multimodal; "multimodal,text,image" for all three),
# LIMIT (empty = every test item; N = the first N, for beam-sample and robustness).
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=${DATA:-data/clipart-kp}
OUT=${OUT:-runs/results}
SEEDS=${SEEDS:-1 2 3}
PRESETS=${PRESETS:-baseline aimkp}
MODES=${MODES:-multimodal}
LIMIT_ARGS=()
[ -n "${LIMIT:-}" ] && LIMIT_ARGS=(--limit "$LIMIT")
AIMKP="node bin/aimkp.mjs"

for seed in $SEEDS; do
  for preset in $PRESETS; do
    run="$OUT/$preset-s$seed" log="$OUT/$preset-s$seed.extras.log"
    until [ -f "$run/metrics/test.multimodal.greedy.json" ]; do sleep 30; done
    if [ ! -f "$run/robustness/test.json" ]; then
      $AIMKP robustness --run "$run" --data "$DATA" --split test "${LIMIT_ARGS[@]}" >> "$log" 2>&1
    fi
    if [ ! -f "$run/metrics/test.multimodal.beam-sample.json" ]; then
      $AIMKP eval --run "$run" --data "$DATA" --split test --modes "$MODES" --decode beam-sample "${LIMIT_ARGS[@]}" >> "$log" 2>&1
    fi
    echo "extras done: $preset seed $seed"
  done
done

RUNS=()
for preset in $PRESETS; do for seed in $SEEDS; do RUNS+=("$OUT/$preset-s$seed/"); done; done
$AIMKP report "${RUNS[@]}" --split test --decode beam-sample --format md | tee "$OUT/report-beam-sample.md"
$AIMKP report "${RUNS[@]}" --split test --decode beam-sample --format csv > "$OUT/report-beam-sample.csv"
$AIMKP robustness --table "$OUT"/*/robustness/test.json --group preset --metric f1@1 | tee "$OUT/robustness-f1@1.md"
$AIMKP robustness --table "$OUT"/*/robustness/test.json --group preset --metric f1@1 --format csv > "$OUT/robustness-f1@1.csv"
