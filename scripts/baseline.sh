#!/usr/bin/env bash
# `make baseline` records a run as the baseline; `make compare` runs again and
# checks it against the baseline (exit 1 on a significant regression).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

MODE=${1:-baseline}
BASELINE=${BASELINE:-out/baseline}
RUN=${RUN:-out/run-$(date +%Y%m%d-%H%M%S)}
dir=$([ "$MODE" = baseline ] && echo "$BASELINE" || echo "$RUN")
mkdir -p "$dir"
start_tasktracker "$dir/tasktracker.log" ${TASKTRACKER_FLAGS:-}
run_pipeline "$dir" "$MODE"
if [ "$MODE" = baseline ]; then
    echo "baseline: saved in $BASELINE/summary.ndjson" >&2
else
    [ -f "$BASELINE/summary.ndjson" ] || { echo "compare: no baseline; run make baseline first" >&2; exit 2; }
    "$BIN/compare" "$BASELINE/summary.ndjson" "$dir/summary.ndjson" --format table
fi
