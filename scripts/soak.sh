#!/usr/bin/env bash
# Soak test (not in CI): seed | hammer --rate R --duration D | aggregate against
# a release tasktracker on loopback, sampling hammer's and aggregate's RSS
# every INTERVAL seconds from /proc/PID/status into a CSV. At the end it
# prints the RSS series, the error counts and any stderr lines that are
# neither progress nor the final summary.
#
#   cargo build --release --workspace --bins
#   scripts/soak.sh                      # 10 minutes at 200 req/s
#   RATE=100 DURATION=2m scripts/soak.sh
#
# Flat RSS means: no growth with the number of events (aggregate keeps
# histograms, ~6 KB per 1 s interval; hammer keeps nothing per request).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

RATE=${RATE:-200}
DURATION=${DURATION:-10m}
USERS=${USERS:-50}
INTERVAL=${INTERVAL:-10}
OUT=${OUT:-out/soak}

mkdir -p "$OUT"
rm -f "$OUT/events.fifo"
mkfifo "$OUT/events.fifo"

start_tasktracker "$OUT/tasktracker.log"
echo "soak: target $URL, $USERS users, $RATE req/s for $DURATION" >&2

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo ""; }

# users.ndjson holds secrets: seed creates it with mode 0600.
"$BIN/seed" -s "$SCENARIO" --target "$URL" --users "$USERS" -q -o "$OUT/users.ndjson"

"$BIN/aggregate" --format ndjson --label soak <"$OUT/events.fifo" \
    >"$OUT/summary.ndjson" 2>"$OUT/aggregate.err" &
agg=$!
"$BIN/hammer" -s "$SCENARIO" --target "$URL" --users "$OUT/users.ndjson" \
    --rate "$RATE" --duration "$DURATION" -q \
    >"$OUT/events.fifo" 2>"$OUT/hammer.err" &
ham=$!
SERVERS+=("$ham" "$agg")

echo "elapsed_s,hammer_rss_kb,aggregate_rss_kb" >"$OUT/rss.csv"
start=$(date +%s)
while kill -0 "$ham" 2>/dev/null; do
    h=$(rss_kb "$ham")
    a=$(rss_kb "$agg")
    [ -n "$h" ] && echo "$(($(date +%s) - start)),$h,$a" >>"$OUT/rss.csv"
    # Sleep in short steps so the loop notices hammer's end promptly.
    for _ in $(seq 1 "$((INTERVAL * 10))"); do
        kill -0 "$ham" 2>/dev/null || break
        sleep 0.1
    done
done
hs=0
wait "$ham" || hs=$?
as=0
wait "$agg" || as=$?
rm -f "$OUT/events.fifo"

echo "== RSS (kB) every ${INTERVAL}s: $OUT/rss.csv"
column -t -s, "$OUT/rss.csv"
echo "== exit: hammer $hs, aggregate $as"
echo "== totals (all endpoints)"
jq -c 'select(.kind=="total") | {count, errors, error_kinds, status, rps, p50_ns, p99_ns, max_ns}' "$OUT/summary.ndjson"
echo "== dropped arrivals / hammer's stderr"
cat "$OUT/hammer.err"
echo "== aggregate's stderr"
cat "$OUT/aggregate.err"
echo "== tasktracker's stderr (other than its start line)"
grep -v 'listening on' "$OUT/tasktracker.log" || true
[ "$hs" -eq 0 ] && [ "$as" -eq 0 ]
