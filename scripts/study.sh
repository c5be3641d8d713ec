#!/usr/bin/env bash
# Issue 19's study protocol: baseline vs AimKP over several seeds, under the paper's protocol (AimKP 4 epochs vs the
# baseline's 6) and/or equal epochs, optionally over a tau_t × tau_v grid, evaluated greedily in three modes (and on
# the premise benchmark's six conditions), then every table as per-seed CSV plus Δ against the pinned baseline with
# Welch's t and the 95 % CI. Finished runs are kept (re-running resumes: a finished run is not trained or evaluated
# again); TABLES_ONLY=1 only rebuilds the tables. STOP_AT stops it resumably at a deadline (long studies over
# several sittings): every running training checkpoints after its step and exits, no new job starts, exit status 3.
#
#   SEEDS="1 2 3 4 5" scripts/study.sh                                     # ClipArt-KP, both protocols
#   PREMISE=data/premise OUT=runs/study-premise scripts/study.sh           # the premise benchmark
#   TAU_T="0.05 0.1 0.2" TAU_V="0.2 0.4 0.6" SEEDS=1 PROTOCOL=paper scripts/study.sh   # the 3 × 3 tau grid
#   DRY_RUN=1 scripts/study.sh                                             # print the jobs, run nothing
#
# Environment: DATA (data/clipart-kp), PREMISE (a folder of `aimkp data premise`: trains on PREMISE/clean and scores
# the six conditions with scripts/premise-eval.sh), OUT (runs/study), SEEDS ("1 2 3 4 5"), PROTOCOL (paper | equal |
# both; default both), EPOCHS_EQUAL (4: both arms' epochs under "equal"), BASELINE (baseline), METHOD (aimkp), TAU_T /
# TAU_V (lists; empty = the preset's 0.1 / 0.4), INIT_FROM (a base run for the paper setting, e.g.
# runs/paper/base-align), CONFIG (a JSON file merged into every run's config, e.g. {"maxValid": 100}), MAX_TRAIN,
# ENCODER (e.g. mobilenet-v2-s16@256), DECODE (greedy), LANES (1: parallel jobs, one core each), STOP_AT (a time
# `date -d` reads, e.g. 08:45 or "2026-12-06 17:00"; default none), TABLES_ONLY, DRY_RUN.
#
# Run names: <preset>-e<epochs>[-tt<tau_t>-tv<tau_v>]-s<seed>; tables group by name without -s<seed>
# (aimkp report --group-by folder). Tables go to OUT/tables/: <protocol>.seeds.csv, <protocol>.delta.{md,csv}, and
# with PREMISE also premise.seeds.csv / premise.delta.md (per-role recall per condition).
set -euo pipefail
cd "$(dirname "$0")/.."

PREMISE=${PREMISE:-}
DATA=${DATA:-${PREMISE:+$PREMISE/clean}}
DATA=${DATA:-data/clipart-kp}
OUT=${OUT:-runs/study}
SEEDS=${SEEDS:-1 2 3 4 5}
PROTOCOL=${PROTOCOL:-both}
EPOCHS_EQUAL=${EPOCHS_EQUAL:-4}
BASELINE=${BASELINE:-baseline}
METHOD=${METHOD:-aimkp}
TAU_T=${TAU_T:-}
TAU_V=${TAU_V:-}
DECODE=${DECODE:-greedy}
LANES=${LANES:-1}
AIMKP="node bin/aimkp.mjs"
# shellcheck source=scripts/lib/deadline.sh
. scripts/lib/deadline.sh
case $PROTOCOL in paper | equal | both) ;; *) echo "study: PROTOCOL must be paper, equal or both, got $PROTOCOL" >&2; exit 2 ;; esac
if { [ -n "$TAU_T" ] && [ -z "$TAU_V" ]; } || { [ -z "$TAU_T" ] && [ -n "$TAU_V" ]; }; then
  echo "study: give both TAU_T and TAU_V (the grid is their product), or neither" >&2
  exit 2
fi

# The arms: "name preset epochs tau_t tau_v" per line (tau "-" = the preset's).
arms() {
  local protos=()
  case $PROTOCOL in paper) protos=(paper) ;; equal) protos=(equal) ;; both) protos=(paper equal) ;; esac
  for p in "${protos[@]}"; do
    local eb=6 em=4
    [ "$p" = equal ] && eb=$EPOCHS_EQUAL && em=$EPOCHS_EQUAL
    echo "$p $BASELINE-e$eb $BASELINE $eb - -"
    if [ -z "$TAU_T" ]; then
      echo "$p $METHOD-e$em $METHOD $em - -"
    else
      for tt in $TAU_T; do for tv in $TAU_V; do echo "$p $METHOD-e$em-tt$tt-tv$tv $METHOD $em $tt $tv"; done; done
    fi
  done
}

# One job per (run name, seed): both protocols may name the same run (EPOCHS_EQUAL=6: the baseline arm).
jobs_file=$(mktemp)
trap 'rm -f "$jobs_file"' EXIT
for seed in $SEEDS; do
  arms | while read -r proto name preset epochs tt tv; do
    grep -qx "$name $preset $epochs $tt $tv $seed" "$jobs_file" || echo "$name $preset $epochs $tt $tv $seed" >> "$jobs_file"
  done
done

# A run's --config: CONFIG merged with the cell's thresholds (written beside the run, so a resume finds it).
cell_config() {
  local file=$1 tt=$2 tv=$3
  node -e '
    const fs = require("node:fs");
    const [file, base, tt, tv] = process.argv.slice(1);
    const c = base ? JSON.parse(fs.readFileSync(base, "utf8")) : {};
    if (tt !== "-") c.aimkp = { ...(c.aimkp || {}), tauText: Number(tt), tauImage: Number(tv) };
    fs.writeFileSync(file, JSON.stringify(c) + "\n");
  ' "$file" "${CONFIG:-}" "$tt" "$tv"
}

# Exit status of run_job: 0 done, 3 stopped (at STOP_AT, or interrupted; resumable), anything else failed.
run_job() {
  local name=$1 preset=$2 epochs=$3 tt=$4 tv=$5 seed=$6
  local run="$OUT/$name-s$seed" log="$OUT/$name-s$seed.log"
  if [ -n "${DRY_RUN:-}" ]; then
    echo "job $run preset=$preset epochs=$epochs tau_t=$tt tau_v=$tv seed=$seed"
    return
  fi
  past_deadline && return 3
  local rc=0
  if run_completed "$run"; then
    :
  elif [ -f "$run/config.json" ]; then
    until_deadline $AIMKP train --out "$run" --resume --quiet >> "$log" 2>&1 || rc=$?
  else
    local extra=()
    [ -n "${MAX_TRAIN:-}" ] && extra+=(--max-train "$MAX_TRAIN")
    [ -n "${INIT_FROM:-}" ] && extra+=(--init-from "$INIT_FROM")
    [ -n "${ENCODER:-}" ] && extra+=(--encoder "$ENCODER")
    mkdir -p "$OUT"
    cell_config "$OUT/$name-s$seed.config.json" "$tt" "$tv"
    until_deadline $AIMKP train --data "$DATA" --preset "$preset" --epochs "$epochs" --seed "$seed" --out "$run" --quiet \
      --config "$OUT/$name-s$seed.config.json" "${extra[@]}" >> "$log" 2>&1 || rc=$?
  fi
  # A training stopped at the deadline exits 0 (checkpointed) or is reported by timeout as 124.
  if [ $rc -ne 0 ] && [ $rc -ne 124 ]; then return $rc; fi
  if ! run_completed "$run"; then
    echo "stopped $name seed $seed (resumable)"
    return 3
  fi
  if ! has_metrics "$run" "$DECODE"; then
    rc=0
    until_deadline $AIMKP eval --run "$run" --data "$DATA" --split test --modes multimodal,text,image --decode "$DECODE" >> "$log" 2>&1 || rc=$?
    [ $rc -eq 124 ] && return 3
    [ $rc -eq 0 ] || return $rc
  fi
  if [ -n "$PREMISE" ] && [ ! -f "$run/premise/roles.json" ]; then
    rc=0
    until_deadline scripts/premise-eval.sh "$run" "$PREMISE" >> "$log" 2>&1 || rc=$?
    [ $rc -eq 124 ] && return 3
    [ $rc -eq 0 ] || return $rc
  fi
  echo "done $name seed $seed"
}

if [ -z "${TABLES_ONLY:-}" ]; then
  # A lane stops at its first stopped or failed job: past the deadline nothing new may start, and a failure is
  # reported rather than buried under the next runs' logs.
  lane() {
    local lane_no=$1 i=0 rc=0
    while read -r name preset epochs tt tv seed; do
      if [ $((i % LANES)) -eq "$lane_no" ]; then
        run_job "$name" "$preset" "$epochs" "$tt" "$tv" "$seed" || { rc=$?; break; }
      fi
      i=$((i + 1))
    done < "$jobs_file"
    return $rc
  }
  pids=()
  for ((l = 0; l < LANES; l++)); do lane "$l" & pids+=($!); done
  failed=0 stopped=0
  for p in "${pids[@]}"; do
    rc=0
    wait "$p" || rc=$?
    case $rc in 0) ;; 3) stopped=1 ;; *) failed=1 ;; esac
  done
  [ $failed -eq 0 ] || { echo "study: some runs failed: see $OUT/*.log" >&2; exit 1; }
  if [ $stopped -ne 0 ]; then
    if past_deadline; then
      echo "study: stopped at STOP_AT ($STOP_AT); run the same command again to go on" >&2
    else
      echo "study: a run stopped before it completed (interrupted?); run the same command again to go on" >&2
    fi
    exit 3
  fi
fi
[ -n "${DRY_RUN:-}" ] && exit 0

# Tables, one set per protocol: the protocol's runs only, Δ against its baseline arm.
mkdir -p "$OUT/tables"
for proto in paper equal; do
  runs=()
  base=""
  while read -r p name preset epochs tt tv; do
    [ "$p" = "$proto" ] || continue
    if [ "$preset" = "$BASELINE" ]; then base=$name; fi
    for seed in $SEEDS; do
      if [ -d "$OUT/$name-s$seed" ]; then runs+=("$OUT/$name-s$seed"); fi
    done
  done < <(arms)
  [ ${#runs[@]} -gt 0 ] || continue
  echo "== $proto protocol: delta against $base"
  R="$AIMKP report ${runs[*]} --split test --decode $DECODE --group-by folder"
  $R --format seeds-csv --out "$OUT/tables/$proto.seeds.csv" > /dev/null
  $R --format delta-csv --baseline "$base" --out "$OUT/tables/$proto.delta.csv" > /dev/null
  $R --format delta-md --baseline "$base" --out "$OUT/tables/$proto.delta.md"
  if [ -n "$PREMISE" ]; then
    node --import tsx scripts/premise-table.ts --baseline "$base" --seeds "$OUT/tables/$proto.premise.seeds.csv" \
      "${runs[@]}" | tee "$OUT/tables/$proto.premise.delta.md"
  fi
done
