#!/usr/bin/env bash
# `make charts`: redraw the charts of the latest run (out/latest) with what
# that run recorded: --pg when it has pgwatch samples, --host when it has
# hostwatch's, both architectures for a compare-arch run. The old PNGs go
# first, so none is left from an earlier drawing.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release}
LATEST=${LATEST:-out/latest}

if [ -f "$LATEST/summary.ndjson" ]; then
    runs=("$LATEST/summary.ndjson")
elif [ -f "$LATEST/mono/summary.ndjson" ] && [ -f "$LATEST/micro/summary.ndjson" ]; then
    runs=("$LATEST/mono/summary.ndjson" "$LATEST/micro/summary.ndjson")
else
    echo "charts: no run in $LATEST (no summary.ndjson); run make demo first" >&2
    exit 2
fi
overlays=()
[ -f "$LATEST/pg.ndjson" ] && overlays+=(--pg "$LATEST/pg.ndjson")
[ -f "$LATEST/host.ndjson" ] && overlays+=(--host "$LATEST/host.ndjson")
rm -f "$LATEST"/charts/*.png
"$BIN/chart" "${runs[@]}" "${overlays[@]}" --out-dir "$LATEST/charts"
