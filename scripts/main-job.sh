#!/usr/bin/env bash
# The CLI main job (`npm run demo`): baseline vs AimKP on the bundled ClipArt-KP set, seed 1, side by side,
# each evaluated in the multimodal, text-only and image-only modes on the test split, then a report and a
# per-case comparison. Live progress and ETA of both trainings are on screen (each line prefixed with its
# preset) and in OUT/<preset>-s<seed>.log. Re-running continues unfinished runs (aimkp train --resume).
#
#   npm run demo                                  # the full job
#   MAX_TRAIN=600 DECODE=greedy npm run demo      # the quick look (times: README "Two commands")
#
# Environment: DATA (data/clipart-kp), OUT (runs/main), SEED (1), MAX_TRAIN (empty = all train items),
# EPOCHS (empty = each preset's), DECODE (beam-sample = the paper's test decoding, or greedy), AIMKP_WORKERS
# (data-parallel threads per lane; default half the cores).
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=${DATA:-data/clipart-kp}
OUT=${OUT:-runs/main}
SEED=${SEED:-${SEEDS:-1}}
SEED=${SEED%% *}
MAX_TRAIN=${MAX_TRAIN:-}
EPOCHS=${EPOCHS:-}
DECODE=${DECODE:-beam-sample}
AIMKP=(node bin/aimkp.mjs)
started=$(date +%s)

elapsed() {
  local s=$(($(date +%s) - started))
  printf '%dm%02ds' $((s / 60)) $((s % 60))
}

mkdir -p "$OUT"
"${AIMKP[@]}" data stats "$DATA"

# One preset: train (or resume), then evaluate. Output goes to the screen with a "[preset]" prefix and,
# unprefixed, to the run's log. Progress lines come every 10 steps (stderr is not a terminal here).
job() {
  local preset=$1
  local run="$OUT/$preset-s$SEED" log="$OUT/$preset-s$SEED.log"
  local args
  if [ -f "$run/config.json" ]; then
    args=(--out "$run" --resume)
  else
    args=(--data "$DATA" --preset "$preset" --out "$run" --seed "$SEED")
    [ -n "$MAX_TRAIN" ] && args+=(--max-train "$MAX_TRAIN")
    [ -n "$EPOCHS" ] && args+=(--epochs "$EPOCHS")
  fi
  echo "[$preset] $(elapsed) aimkp train ${args[*]}"
  "${AIMKP[@]}" train "${args[@]}" 2>&1 | tee -a "$log" | sed -u "s/^/[$preset] /"
  echo "[$preset] $(elapsed) trained; evaluating on the test split ($DECODE decoding, 3 modes)"
  "${AIMKP[@]}" eval --run "$run" --data "$DATA" --split test --decode "$DECODE" 2>&1 | tee -a "$log" | sed -u "s/^/[$preset eval] /"
  # CPU time of everything this lane ran (user, system): on an idle machine the job's wall time is about the
  # longer lane's CPU time, whatever else was running while it was measured.
  # (`times` must run in this shell, not in a $(…) subshell, to see the lane's children.)
  times > "$OUT/.cpu-$preset"
  echo "[$preset] $(elapsed) done; CPU time of this lane (user system): $(tail -1 "$OUT/.cpu-$preset")"
}

# The two trainings run side by side, each on half the cores (data-parallel workers, docs/training.md): one
# thread each on a 2-core machine, as before; AIMKP_WORKERS overrides.
AIMKP_WORKERS=${AIMKP_WORKERS:-$(( $(nproc) / 2 > 1 ? $(nproc) / 2 : 1 ))}
export AIMKP_WORKERS
job baseline &
baseline_pid=$!
job aimkp &
aimkp_pid=$!
status=0
wait "$baseline_pid" || status=1
wait "$aimkp_pid" || status=1
if [ $status -ne 0 ]; then
  echo "main job: a training or evaluation failed after $(elapsed); see $OUT/*.log (re-run to continue where it stopped)" >&2
  exit 1
fi

"${AIMKP[@]}" report "$OUT/baseline-s$SEED" "$OUT/aimkp-s$SEED" --split test --decode "$DECODE" --format md | tee "$OUT/report.md"
"${AIMKP[@]}" compare "$OUT/baseline-s$SEED" "$OUT/aimkp-s$SEED" --data "$DATA" --split test --decode "$DECODE" --limit 20 | tee "$OUT/compare.md"
echo "main job finished in $(elapsed). Report: $OUT/report.md   Per-case comparison: $OUT/compare.md   Runs: $OUT/"
