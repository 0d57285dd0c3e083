#!/usr/bin/env bash
# `make baseline` records a run as the baseline; `make compare` runs again and
# checks it against the baseline (exit 1 on a significant regression).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

MODE=${1:-baseline}
BASELINE=${BASELINE:-out/baseline}
RUN=${RUN:-out/run-$(date +%Y%m%d-%H%M%S)}
case $MODE in
    baseline) dir=$BASELINE ;;
    compare)
        dir=$RUN
        # Before any load: without a baseline there is nothing to compare with.
        if [ ! -f "$BASELINE/summary.ndjson" ]; then
            echo "compare: no baseline at $BASELINE/summary.ndjson; run \`make baseline\` first" >&2
            exit 2
        fi
        ;;
    *) echo "baseline.sh: MODE is baseline or compare, not \`$MODE\`" >&2; exit 2 ;;
esac
mkdir -p "$dir"
start_tasktracker "$dir/tasktracker.log" ${TASKTRACKER_FLAGS:-}
run_pipeline "$dir" "$MODE"
point_latest "$dir"
if [ "$MODE" = baseline ]; then
    echo "baseline: saved in $BASELINE/summary.ndjson (also out/latest)" >&2
else
    # compare's own exit status is this script's: 0 no regression, 1 a regression.
    status=0
    "$BIN/compare" "$BASELINE/summary.ndjson" "$dir/summary.ndjson" --format table \
        | tee "$dir/compare.txt" || status=$?
    echo "compare: exit $status; the run is in $dir/ (also out/latest), the verdict in $dir/compare.txt" >&2
    exit "$status"
fi
