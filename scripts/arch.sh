#!/usr/bin/env bash
# `make compare-arch`: seed 000's monolith-vs-microservices comparison: the
# same pipeline against tasktracker --arch mono and --arch micro, then
# compare side by side and the comparison charts.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

RUN=${RUN:-out/arch-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$RUN"
for arch in mono micro; do
    start_tasktracker "$RUN/tasktracker-$arch.log" --arch "$arch"
    echo "arch: $arch at $URL" >&2
    run_pipeline "$RUN/$arch" "$arch"
done
"$BIN/compare" --label mono "$RUN/mono/summary.ndjson" --label micro "$RUN/micro/summary.ndjson" \
    --out-dir "$RUN" --format table
"$BIN/chart" "$RUN/mono/summary.ndjson" "$RUN/micro/summary.ndjson" --out-dir "$RUN/charts"
point_latest "$RUN"
echo "arch: results in $RUN/ (summary.txt from compare; charts/ with summary_table.txt; also out/latest)" >&2
echo "arch: open the report: $RUN/charts/report.html (both runs, compare's verdicts; works offline)" >&2
