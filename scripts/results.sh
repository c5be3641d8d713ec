#!/usr/bin/env bash
# Reproduces docs/results.md: baseline, AimKP and the two specialists on a data set, several seeds, then
# `aimkp eval` on the test split and `aimkp report`. Runs that already finished are kept (re-running resumes).
#
#   scripts/results.sh                        # the defaults below
#   MAX_TRAIN=800 DECODE=greedy scripts/results.sh
#
# Environment: DATA (data/clipart-kp), OUT (runs/results), SEEDS ("1 2 3"), PRESETS, MAX_TRAIN (empty = all),
# EPOCHS (empty = the preset's),
# DECODE (beam-sample = the paper's test setting: beam 5, temperature 0.5, 3 repeats; or greedy), LANES (parallel
# jobs, default 2: each wasm process uses one core).
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=${DATA:-data/clipart-kp}
OUT=${OUT:-runs/results}
SEEDS=${SEEDS:-1 2 3}
PRESETS=${PRESETS:-baseline aimkp text-specialist image-specialist}
MAX_TRAIN=${MAX_TRAIN:-}
EPOCHS=${EPOCHS:-}
DECODE=${DECODE:-beam-sample}
LANES=${LANES:-2}
AIMKP="node bin/aimkp.mjs"

mkdir -p "$OUT"
# One jobs file per invocation: two invocations may share OUT (say, one per preset group).
jobs_file="$OUT/jobs.$$.txt"
: > "$jobs_file"
for seed in $SEEDS; do
  for preset in $PRESETS; do echo "$preset $seed" >> "$jobs_file"; done
done

run_job() {
  local preset=$1 seed=$2
  local run="$OUT/$preset-s$seed" log="$OUT/$preset-s$seed.log"
  local extra=()
  [ -n "$MAX_TRAIN" ] && extra+=(--max-train "$MAX_TRAIN")
  [ -n "$EPOCHS" ] && extra+=(--epochs "$EPOCHS")
  if [ -f "$run/config.json" ]; then
    $AIMKP train --out "$run" --resume --quiet >> "$log" 2>&1
  else
    $AIMKP train --data "$DATA" --preset "$preset" --out "$run" --seed "$seed" --quiet "${extra[@]}" >> "$log" 2>&1
  fi
  local modes=multimodal,text,image
  case $preset in text-specialist) modes=text ;; image-specialist) modes=image ;; esac
  $AIMKP eval --run "$run" --data "$DATA" --split test --modes "$modes" --decode "$DECODE" >> "$log" 2>&1
  echo "done $preset seed $seed"
}

lane() {
  local lane_no=$1 i=0
  while read -r preset seed; do
    if [ $((i % LANES)) -eq "$lane_no" ]; then run_job "$preset" "$seed"; fi
    i=$((i + 1))
  done < "$jobs_file"
}

pids=()
for ((l = 0; l < LANES; l++)); do lane "$l" & pids+=($!); done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
[ $status -eq 0 ] || { echo "some runs failed: see $OUT/*.log" >&2; exit 1; }

$AIMKP report "$OUT"/*/ --split test --decode "$DECODE" --format md | tee "$OUT/report.md"
$AIMKP report "$OUT"/*/ --split test --decode "$DECODE" --format csv > "$OUT/report.csv"
$AIMKP report "$OUT"/*/ --split test --decode "$DECODE" --format latex > "$OUT/report.tex"
