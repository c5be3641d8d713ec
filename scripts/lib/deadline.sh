# Shared by the long study scripts (sourced): a deadline for work spread over several sittings, and what counts as
# done. STOP_AT is any time `date -d` reads ("08:45", "2026-12-06 17:00"); empty means no deadline.
#
# At the deadline the job gets exactly one SIGINT: `aimkp train`, `align` and `pretrain` finish the step, checkpoint
# and exit resumable (a second SIGINT would kill them at once); an evaluation just stops and is redone next time.
# Nothing new starts after the deadline.

STOP_AT=${STOP_AT:-}
DEADLINE_EPOCH=""
if [ -n "$STOP_AT" ]; then
  DEADLINE_EPOCH=$(date -d "$STOP_AT" +%s) || { echo "STOP_AT: cannot read '$STOP_AT' as a time" >&2; exit 2; }
  if [ "$DEADLINE_EPOCH" -le "$(date +%s)" ]; then
    echo "STOP_AT: $STOP_AT ($(date -d "@$DEADLINE_EPOCH")) is already past" >&2
    exit 2
  fi
fi

# True once the deadline has passed (never without STOP_AT).
past_deadline() {
  [ -n "$DEADLINE_EPOCH" ] && [ "$(date +%s)" -ge "$DEADLINE_EPOCH" ]
}

# Runs a command until the deadline; status 124 if the deadline stopped it (even where it then exited cleanly).
# --foreground: without it GNU timeout signals the child and then its whole process group, so the child can get
# SIGINT twice (test/cli/deadline-script.test.ts caught it). The job's data-parallel workers are threads, so the
# child is all there is to stop. A job that ignores the SIGINT for 15 minutes is killed.
until_deadline() {
  if [ -z "$DEADLINE_EPOCH" ]; then
    "$@"
    return
  fi
  local left=$((DEADLINE_EPOCH - $(date +%s)))
  [ "$left" -gt 0 ] || return 124
  timeout --foreground -s INT -k 900 "$left" "$@"
}

# True when a run folder (train, align or pretrain) holds a completed run.
run_completed() {
  grep -q '"type":"run-end".*"status":"completed"' "$1/events.jsonl" 2>/dev/null
}

# True when a run has test metrics for all three modes with the given decoding.
has_metrics() {
  local run=$1 decode=$2 mode
  for mode in multimodal text image; do
    [ -f "$run/metrics/test.$mode.$decode.json" ] || return 1
  done
}
