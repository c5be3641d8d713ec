#!/usr/bin/env bash
# Reproduces docs/results.md: baseline, AimKP and the two specialists on a data set, several seeds, then
# `aimkp eval` on the test split and `aimkp report`. Runs that already finished are kept (re-running resumes).
#
#   scripts/results.sh                        # the defaults below
#   MAX_TRAIN=800 DECODE=greedy scripts/results.sh
#
# Environment: DATA (data/clipart-kp), OUT (runs/results), SEEDS ("1 2 3"), PRESETS, MAX_TRAIN (empty = all),
# EPOCHS (empty = the preset's), CONFIG (a --config JSON for every fine-tuning run, e.g. {"maxValid": 100}),
# PAPER_SETTING=1 (the paper's setting, docs/training.md: first `aimkp pretrain` → OUT/base-pretrain and `aimkp
# align` → OUT/base-align, once; then PRESETS default to "paper-baseline paper-aimkp", each started with
# --init-from OUT/base-align; PRETRAIN_ARGS / ALIGN_ARGS add flags to those two stages, e.g.
# PRETRAIN_ARGS="--max-wordnet 9000 --config cfg.json"),
# DECODE (beam-sample = the paper's test setting: beam 5, temperature 0.5, 3 repeats; or greedy), LANES (parallel
# jobs, default 2), AIMKP_WORKERS (data-parallel threads per job; default the cores / LANES).
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=${DATA:-data/clipart-kp}
OUT=${OUT:-runs/results}
SEEDS=${SEEDS:-1 2 3}
PAPER_SETTING=${PAPER_SETTING:-}
if [ -n "$PAPER_SETTING" ]; then PRESETS=${PRESETS:-paper-baseline paper-aimkp}; fi
PRESETS=${PRESETS:-baseline aimkp text-specialist image-specialist}
MAX_TRAIN=${MAX_TRAIN:-}
EPOCHS=${EPOCHS:-}
DECODE=${DECODE:-beam-sample}
LANES=${LANES:-2}
# Data-parallel threads per process (docs/training.md): the cores shared by the lanes (1 each on 2 cores, as before).
AIMKP_WORKERS=${AIMKP_WORKERS:-$(( $(nproc) / LANES > 1 ? $(nproc) / LANES : 1 ))}
export AIMKP_WORKERS
AIMKP="node bin/aimkp.mjs"

mkdir -p "$OUT"
BASE_ARGS=()
if [ -n "$PAPER_SETTING" ]; then
  # Stages 1 and 2 (each resumable; a finished stage is skipped; alone, so on every core). Wall times go to
  # OUT/base-*.log.
  if ! grep -q '"run-end".*"completed"' "$OUT/base-pretrain/events.jsonl" 2>/dev/null; then
    start=$(date +%s)
    # shellcheck disable=SC2086
    $AIMKP pretrain --data "$DATA" --out "$OUT/base-pretrain" --resume --quiet --workers "$(nproc)" ${PRETRAIN_ARGS:-} >> "$OUT/base-pretrain.log" 2>&1
    echo "pretrain wall time: $(( $(date +%s) - start )) s" | tee -a "$OUT/base-pretrain.log"
  fi
  if ! grep -q '"run-end".*"completed"' "$OUT/base-align/events.jsonl" 2>/dev/null; then
    start=$(date +%s)
    # shellcheck disable=SC2086
    $AIMKP align --base "$OUT/base-pretrain" --data "$DATA" --out "$OUT/base-align" --resume --quiet --workers "$(nproc)" ${ALIGN_ARGS:-} >> "$OUT/base-align.log" 2>&1
    echo "align wall time: $(( $(date +%s) - start )) s" | tee -a "$OUT/base-align.log"
  fi
  BASE_ARGS=(--init-from "$OUT/base-align")
fi
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
  [ -n "${CONFIG:-}" ] && extra+=(--config "$CONFIG")
  if [ -f "$run/config.json" ]; then
    $AIMKP train --out "$run" --resume --quiet >> "$log" 2>&1
  else
    $AIMKP train --data "$DATA" --preset "$preset" --out "$run" --seed "$seed" --quiet "${extra[@]}" "${BASE_ARGS[@]}" >> "$log" 2>&1
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

# The base stages are not fine-tuned runs: keep them out of the report.
RUNS=()
for d in "$OUT"/*/; do case $d in */base-pretrain/ | */base-align/) ;; *) RUNS+=("$d") ;; esac; done
$AIMKP report "${RUNS[@]}" --split test --decode "$DECODE" --format md | tee "$OUT/report.md"
$AIMKP report "${RUNS[@]}" --split test --decode "$DECODE" --format csv > "$OUT/report.csv"
$AIMKP report "${RUNS[@]}" --split test --decode "$DECODE" --format latex > "$OUT/report.tex"
