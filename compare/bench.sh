#!/usr/bin/env bash
# Times `compare` on two summaries of N synthetic requests each (default 10⁶),
# made by the real `aggregate` from generated events: the work compare does is
# per histogram bucket, so its time should not grow with N.
# Usage: compare/bench.sh [N]     (needs a release build: make release)
set -euo pipefail
N=${1:-1000000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

events() { # $1 seed, $2 scale: log-normal latencies around 20 ms, 8 endpoints
  awk -v n="$N" -v seed="$1" -v scale="$2" 'BEGIN {
    srand(seed); pi = 3.141592653589793
    for (i = 0; i < n; i++) {
      z = sqrt(-2 * log(1 - rand())) * cos(2 * pi * rand())
      lat = int(20e6 * exp(0.6 * z) * scale)
      printf "{\"ts\":%d,\"name\":\"GET /e%d\",\"method\":\"GET\",\"status\":200,\"latency_ns\":%d,\"lag_ns\":0,\"bytes_in\":0,\"bytes_out\":0,\"vu\":1,\"error\":null}\n", 1764000000000000000 + i * 1000000, i % 8, lat
    }
  }'
}
events 1 1.00 | "$BIN/aggregate" --format ndjson > "$TMP/base.ndjson"
events 2 1.03 | "$BIN/aggregate" --format ndjson > "$TMP/cur.ndjson"
echo "summaries of $N requests each: $(du -h "$TMP/base.ndjson" | cut -f1) and $(du -h "$TMP/cur.ndjson" | cut -f1)"
if command -v hyperfine > /dev/null; then
  hyperfine --warmup 2 -N -i "$BIN/compare $TMP/base.ndjson $TMP/cur.ndjson --format ndjson"
else
  runs=20
  start=$(date +%s%N)
  for _ in $(seq $runs); do "$BIN/compare" "$TMP/base.ndjson" "$TMP/cur.ndjson" --format ndjson > /dev/null || true; done
  end=$(date +%s%N)
  echo "compare: $(( (end - start) / runs / 1000000 )) ms per run (mean of $runs)"
fi
