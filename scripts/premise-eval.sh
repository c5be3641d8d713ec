#!/usr/bin/env bash
# Scores a run on the premise benchmark's six test conditions (issue 19; docs/data-format.md "Premise benchmark"):
# greedy test predictions for clean / text removed / text masked (stride 8) / image removed / text swapped / image
# swapped, then per-role recall (topic, shape split by text leak, colour+place, and which modality the predicted shape follows).
#
#   scripts/premise-eval.sh RUN BENCH       # BENCH = the folder of `aimkp data premise --out BENCH`
#
# Writes RUN/premise/<condition>.jsonl and RUN/premise/roles.json; prints the table. Environment: LIMIT (first N
# test items), WHICH (best | last checkpoint, default best).
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=${1:?usage: scripts/premise-eval.sh RUN BENCH}
BENCH=${2:?usage: scripts/premise-eval.sh RUN BENCH}
[ -f "$BENCH/premise.json" ] || { echo "premise-eval: $BENCH/premise.json not found (build it with aimkp data premise --out $BENCH)" >&2; exit 2; }
mkdir -p "$RUN/premise"
extra=(--which "${WHICH:-best}")
[ -n "${LIMIT:-}" ] && extra+=(--limit "$LIMIT")
# One feature cache for the three folders: features are keyed by image content.
predict() {
  node bin/aimkp.mjs predict --run "$RUN" --data "$BENCH/$2" --mode "$3" --split test --decode greedy \
    --cache "$BENCH/clean/.cache" --out "$RUN/premise/$1.jsonl" "${extra[@]}" "${@:4}" 2>> "$RUN/premise/predict.log"
}
predict clean clean multimodal
predict text-removed clean image
predict text-masked clean multimodal --text-stride 8
predict image-removed clean text
predict text-swapped text-swapped multimodal
predict image-swapped image-swapped multimodal
node --import tsx scripts/premise-roles.ts "$RUN" "$BENCH"
