#!/usr/bin/env bash
# Soak test (not in CI): seed | hammer --rate R --duration D | aggregate against
# a release tasktracker on loopback, with hostwatch sampling hammer's and
# aggregate's RSS (and the machine) every INTERVAL seconds into host.ndjson,
# also written as a CSV. At the end it prints the RSS series, hostwatch's
# summary with each one's RSS slope (its leak checks: LEAK_HAMMER,
# LEAK_AGGREGATE), the error counts and any stderr lines that are neither
# progress nor the final summary.
#
#   cargo build --release --workspace --bins
#   scripts/soak.sh                      # 10 minutes at 200 req/s
#   RATE=100 DURATION=2m scripts/soak.sh
#
# Flat RSS means: no growth with the number of events (aggregate keeps
# histograms, ~6 KB per 1 s interval, ~22 MB/h; hammer keeps nothing per
# request).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

RATE=${RATE:-200}
DURATION=${DURATION:-10m}
USERS=${USERS:-50}
INTERVAL=${INTERVAL:-10}
OUT=${OUT:-out/soak}
LEAK_HAMMER=${LEAK_HAMMER:-10MB/h}
LEAK_AGGREGATE=${LEAK_AGGREGATE:-30MB/h}

mkdir -p "$OUT"
rm -f "$OUT/events.fifo"
mkfifo "$OUT/events.fifo"

start_tasktracker "$OUT/tasktracker.log"
echo "soak: target $URL, $USERS users, $RATE req/s for $DURATION" >&2

# users.ndjson holds secrets: seed creates it with mode 0600.
"$BIN/seed" -s "$SCENARIO" --target "$URL" --users "$USERS" -q -o "$OUT/users.ndjson"

"$BIN/aggregate" --format ndjson --label soak <"$OUT/events.fifo" \
    >"$OUT/summary.ndjson" 2>"$OUT/aggregate.err" &
agg=$!
"$BIN/hammer" -s "$SCENARIO" --target "$URL" --users-file "$OUT/users.ndjson" \
    --rate "$RATE" --duration "$DURATION" -q \
    >"$OUT/events.fifo" 2>"$OUT/hammer.err" &
ham=$!
SERVERS+=("$ham" "$agg")

# The slopes leave out hostwatch's default warm-up, the first tenth of the run.
start_hostwatch "$OUT/host.ndjson" --pid "$ham" --pid "$agg" --interval "${INTERVAL}s" \
    --threshold "process:$ham:rss_growth<$LEAK_HAMMER" \
    --threshold "process:$agg:rss_growth<$LEAK_AGGREGATE"
hs=0
wait "$ham" || hs=$?
as=0
wait "$agg" || as=$?
ws=0
stop_hostwatch "$OUT/host.ndjson" 2>/dev/null || ws=$?
rm -f "$OUT/events.fifo"

# The RSS series as a CSV, one row per sample (0 once a process has ended).
jq -rs --argjson h "$ham" --argjson a "$agg" '
    [.[] | select(.kind == "process")] | group_by(.ts) | (.[0][0].ts) as $t0 | .[]
    | [((.[0].ts - $t0) / 1e9 | floor),
       ((map(select(.pid == $h))[0].rss_bytes // 0) / 1024 | floor),
       ((map(select(.pid == $a))[0].rss_bytes // 0) / 1024 | floor)] | @csv' \
    "$OUT/host.ndjson" | { echo "elapsed_s,hammer_rss_kb,aggregate_rss_kb"; cat; } >"$OUT/rss.csv"
echo "== RSS (kB) every ${INTERVAL}s: $OUT/rss.csv (every sample: $OUT/host.ndjson)"
column -t -s, "$OUT/rss.csv"
echo "== hostwatch (hammer is pid $ham, aggregate $agg)"
cat "$OUT/host.ndjson.err"
echo "== exit: hammer $hs, aggregate $as, hostwatch $ws (1: an RSS slope broke its limit)"
echo "== totals (all endpoints)"
jq -c 'select(.kind=="total") | {count, errors, error_kinds, status, rps, p50_ns, p99_ns, max_ns}' "$OUT/summary.ndjson"
echo "== dropped arrivals / hammer's stderr"
cat "$OUT/hammer.err"
echo "== aggregate's stderr"
cat "$OUT/aggregate.err"
echo "== tasktracker's stderr (other than its start line)"
grep -v 'listening on' "$OUT/tasktracker.log" || true
[ "$hs" -eq 0 ] && [ "$as" -eq 0 ] && [ "$ws" -eq 0 ]
