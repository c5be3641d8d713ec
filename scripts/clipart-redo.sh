#!/usr/bin/env bash
# Issue 19's ClipArt-KP redo: the paper setting with the 16×16 image grid, the large base and the study's protocol
# (docs/results.md §9). On a 2-core machine it is days of CPU, so every stage skips what is done, resumes what is
# not, and the whole chain is meant to run in sittings with a deadline:
#
#   STOP_AT=17:30 scripts/clipart-redo.sh     # go on from where the last sitting stopped; exit 3 = stopped at STOP_AT
#   scripts/clipart-redo.sh status            # what is done and what is left, with the base's held-out perplexity
#   DRY_RUN=1 scripts/clipart-redo.sh         # the commands it would run
#
# Stages, in order (a stage starts only when the one before it has completed):
#   1. pretrain  the large base LM (d 256, 4 layers, 16k vocabulary) on WordNet (every synset) + GCIDE, 4 epochs,
#                every core (aimkp pretrain --size large --sources wordnet-all,gcide)
#   2. align     the adapter on the training images (16×16 mobilenet-v2-s16@256 grid, the base's encoder), every core
#   3. study     SEEDS × paper-baseline 6 epochs, paper-aimkp 4 epochs (the paper's protocol) and 6 epochs (equal
#                epochs), greedy test scores in three modes, then the per-seed CSVs and Δ tables (scripts/study.sh)
#   4. tau       the 3 × 3 tau_t × tau_v grid of paper-aimkp at seed 1 (paper protocol), against the study's
#                paper-baseline seed 1
#
# Environment: DATA (data/clipart-kp), OUT (runs/clipart-redo), BASE (the stage-1 run; default OUT/base-pretrain),
# SEEDS ("1 2 3 4 5"), LANES (2: study runs side by side, one core each), TAU_T ("0.05 0.1 0.2"), TAU_V ("0.2 0.4
# 0.6"), PRETRAIN_EPOCHS (4), STOP_AT (scripts/lib/deadline.sh), DECODE (greedy), DRY_RUN.
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=${DATA:-data/clipart-kp}
OUT=${OUT:-runs/clipart-redo}
BASE=${BASE:-$OUT/base-pretrain}
ALIGN=$OUT/base-align
SEEDS=${SEEDS:-1 2 3 4 5}
LANES=${LANES:-2}
TAU_T=${TAU_T:-0.05 0.1 0.2}
TAU_V=${TAU_V:-0.2 0.4 0.6}
PRETRAIN_EPOCHS=${PRETRAIN_EPOCHS:-4}
DECODE=${DECODE:-greedy}
AIMKP="node bin/aimkp.mjs"
# shellcheck source=scripts/lib/deadline.sh
. scripts/lib/deadline.sh

# One study invocation: the arms of the paper setting (both protocols, equal epochs = 6, so the 6-epoch baseline
# is shared), one core per run.
study() {
  env DATA="$DATA" INIT_FROM="$ALIGN" BASELINE=paper-baseline METHOD=paper-aimkp EPOCHS_EQUAL=6 DECODE="$DECODE" \
    LANES="$LANES" AIMKP_WORKERS=1 STOP_AT="$STOP_AT" "$@" scripts/study.sh
}

status() {
  node - "$BASE" "$ALIGN" "$OUT" "$SEEDS" "$TAU_T" "$TAU_V" "$PRETRAIN_EPOCHS" <<'EOF'
const fs = require('node:fs');
const [base, align, out, seeds, tauT, tauV, ptEpochs] = process.argv.slice(2);
const events = (dir) => {
  try {
    return fs.readFileSync(`${dir}/events.jsonl`, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  } catch {
    return null;
  }
};
const stage = (name, dir, epochs) => {
  const ev = events(dir);
  if (!ev) return console.log(`${name.padEnd(9)} not started (${dir})`);
  const done = ev.some((e) => e.type === 'run-end' && e.status === 'completed');
  const steps = ev.filter((e) => e.type === 'step');
  const last = steps.at(-1);
  const total = last ? last.stepsPerEpoch * epochs : 0;
  let line = `${name.padEnd(9)} ${done ? 'completed' : 'in progress'}: step ${last ? last.step : 0} of ${total || '?'}`;
  if (last && !done) {
    // The median of the last 50 steps: a few steps slowed by a neighbour do not swing the estimate.
    const recent = steps.slice(-50).map((e) => e.ms).sort((a, b) => a - b);
    const msPerStep = recent[Math.floor(recent.length / 2)];
    line += `, ${(msPerStep / 1000).toFixed(1)} s per step, ≈ ${(((total - last.step) * msPerStep) / 3.6e6).toFixed(1)} h left`;
  }
  console.log(line);
  // Pretraining's score is −(held-out loss); an epoch-end carries it when it improved on the best.
  for (const e of ev.filter((x) => x.type === 'epoch-end' && x.best && x.best.score < 0))
    console.log(
      e.improved
        ? `          epoch ${e.epoch + 1}: held-out loss ${(-e.best.score).toFixed(3)}, perplexity ${Math.exp(-e.best.score).toFixed(1)}`
        : `          epoch ${e.epoch + 1}: held-out loss not below epoch ${e.best.epoch + 1}'s (a plateau)`,
    );
};
stage('pretrain', base, Number(ptEpochs));
stage('align', align, 3);
const runs = (dir, names) => {
  const done = names.filter((n) => (events(`${dir}/${n}`) ?? []).some((e) => e.type === 'run-end' && e.status === 'completed'));
  const scored = done.filter((n) => ['multimodal', 'text', 'image'].every((m) => fs.existsSync(`${dir}/${n}/metrics/test.${m}.greedy.json`)));
  return `${done.length} of ${names.length} trained, ${scored.length} scored`;
};
const s = seeds.split(/\s+/).filter(Boolean);
const studyRuns = s.flatMap((x) => [`paper-baseline-e6-s${x}`, `paper-aimkp-e4-s${x}`, `paper-aimkp-e6-s${x}`]);
console.log(`study     ${runs(`${out}/study`, studyRuns)} (${out}/study)`);
const tau = tauT.split(/\s+/).filter(Boolean).flatMap((t) => tauV.split(/\s+/).filter(Boolean).map((v) => `paper-aimkp-e4-tt${t}-tv${v}-s1`));
console.log(`tau       ${runs(`${out}/tau`, tau)} (${out}/tau)`);
EOF
}

if [ "${1:-}" = status ]; then
  status
  exit 0
fi
[ $# -eq 0 ] || { echo "usage: scripts/clipart-redo.sh [status]" >&2; exit 2; }

stopped() {
  if past_deadline; then
    echo "clipart-redo: stopped at STOP_AT ($STOP_AT); run the same command again to go on" >&2
  else
    echo "clipart-redo: a stage stopped before it completed (interrupted?); run the same command again to go on" >&2
  fi
  status
  exit 3
}
# A stage's status: 124 (the deadline) or a run left unfinished → stopped; other failures stop the chain.
stage() {
  local name=$1 dir=$2
  shift 2
  run_completed "$dir" && return 0
  if [ -n "${DRY_RUN:-}" ]; then
    echo "$name: $*"
    return 0
  fi
  past_deadline && stopped
  mkdir -p "$OUT"
  local rc=0 start
  start=$(date +%s)
  echo "clipart-redo: $name ($dir), log $OUT/$name.log" >&2
  until_deadline "$@" >> "$OUT/$name.log" 2>&1 || rc=$?
  echo "$name: $(($(date +%s) - start)) s this sitting (exit $rc)" >> "$OUT/$name.log"
  if [ $rc -ne 0 ] && [ $rc -ne 124 ]; then
    echo "clipart-redo: $name failed (exit $rc): see $OUT/$name.log" >&2
    exit 1
  fi
  run_completed "$dir" || stopped
}

if [ -f "$BASE/config.json" ]; then
  stage pretrain "$BASE" $AIMKP pretrain --out "$BASE" --resume --workers "$(nproc)"
else
  stage pretrain "$BASE" $AIMKP pretrain --data "$DATA" --out "$BASE" --size large --sources wordnet-all,gcide \
    --epochs "$PRETRAIN_EPOCHS" --workers "$(nproc)"
fi
if [ -f "$ALIGN/config.json" ]; then
  stage align "$ALIGN" $AIMKP align --out "$ALIGN" --resume --workers "$(nproc)"
else
  stage align "$ALIGN" $AIMKP align --base "$BASE" --data "$DATA" --out "$ALIGN" --workers "$(nproc)"
fi

# Stages 3 and 4; study.sh exits 3 when the deadline stopped it.
rc=0
study OUT="$OUT/study" SEEDS="$SEEDS" PROTOCOL=both ${DRY_RUN:+DRY_RUN=1} || rc=$?
[ $rc -eq 3 ] && stopped
[ $rc -eq 0 ] || exit $rc
# The grid's baseline and its (0.1, 0.4) cell are the study's seed-1 runs: the same configuration (the preset's
# thresholds), so they are linked rather than trained twice.
if [ -z "${DRY_RUN:-}" ]; then
  mkdir -p "$OUT/tau"
  [ -e "$OUT/tau/paper-baseline-e6-s1" ] || ln -s ../study/paper-baseline-e6-s1 "$OUT/tau/paper-baseline-e6-s1"
  if [[ " $TAU_T " == *" 0.1 "* && " $TAU_V " == *" 0.4 "* ]] && [ ! -e "$OUT/tau/paper-aimkp-e4-tt0.1-tv0.4-s1" ]; then
    ln -s ../study/paper-aimkp-e4-s1 "$OUT/tau/paper-aimkp-e4-tt0.1-tv0.4-s1"
  fi
fi
study OUT="$OUT/tau" SEEDS=1 PROTOCOL=paper TAU_T="$TAU_T" TAU_V="$TAU_V" ${DRY_RUN:+DRY_RUN=1} || rc=$?
[ $rc -eq 3 ] && stopped
[ $rc -eq 0 ] || exit $rc
[ -n "${DRY_RUN:-}" ] && exit 0
echo "clipart-redo: every stage completed; tables in $OUT/study/tables and $OUT/tau/tables" >&2
status
