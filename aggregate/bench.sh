#!/usr/bin/env bash
# aggregate's speed and memory benchmark (make bench): generated Events over
# 50 endpoints, 1M and 10M of them spread over the same 10-minute run, read
# from a file by the release binary. Prints events/s, MB/s (wall and CPU
# time) and peak RSS, next to `jq -c . >/dev/null` on the same file.
# Then a 24-hour run: DAY_EVENTS events (default 8.64M, 100/s) spread over
# 86,400 s, streamed from the generator through a pipe (no file), so one
# time-series bucket a second for a day; prints its events/s and peak RSS.
#
#   aggregate/bench.sh            # 1M and 10M events, then the day
#   SIZES="1000000" aggregate/bench.sh
#   SIZES= DAY_EVENTS=86400000 aggregate/bench.sh   # only a day at 1,000/s
#   DAY_EVENTS=0 aggregate/bench.sh                 # no day
#   BENCH_DIR=/tmp/aggbench aggregate/bench.sh
# Goals (issue 4): >= 2M events/s on one core, >= 300 MB/s, peak RSS <= 64 MB,
# flat from 1M to 10M events. Issue 15: a day's run within 64 MB too.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=${SIZES:-"1000000 10000000"}
ENDPOINTS=${ENDPOINTS:-50}
SECONDS_SPAN=${SECONDS_SPAN:-600}
DAY_EVENTS=${DAY_EVENTS:-8640000}
BENCH_DIR=${BENCH_DIR:-target/bench-aggregate}
JQ=${JQ:-1}
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "bench.sh needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 2; }

cargo build --release -q -p aggregate --bins --examples
BIN=${CARGO_TARGET_DIR:-target}/release/aggregate
GEN=${CARGO_TARGET_DIR:-target}/release/examples/gen_events
mkdir -p "$BENCH_DIR"

# measure LABEL CMD... -> "wall_s cpu_s rss_kb"
measure() {
    local log="$BENCH_DIR/time.log"
    "$TIME" -f "%e %U %S %M" -o "$log" "$@" >/dev/null
    awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }' "$log"
}

printf '%-10s %-9s %10s %8s %8s %12s %12s %9s %9s %9s\n' \
    events tool file_MB wall_s cpu_s events/s_wall events/s_cpu MB/s_wall MB/s_cpu rss_MB
for n in $SIZES; do
    file="$BENCH_DIR/events-$n.ndjson"
    [ -s "$file" ] || "$GEN" "$n" "$ENDPOINTS" "$SECONDS_SPAN" 1 >"$file"
    bytes=$(stat -c %s "$file")
    cat "$file" >/dev/null # warm the page cache: measure parsing, not the disk
    tools=(aggregate)
    [ "$JQ" = 1 ] && command -v jq >/dev/null && tools+=(jq)
    for tool in "${tools[@]}"; do
        if [ "$tool" = aggregate ]; then
            read -r wall cpu rss < <(measure "$BIN" --format ndjson "$file")
        else
            read -r wall cpu rss < <(measure jq -c . "$file")
        fi
        awk -v n="$n" -v t="$tool" -v b="$bytes" -v w="$wall" -v c="$cpu" -v r="$rss" 'BEGIN {
            w = (w > 0 ? w : 0.01); c = (c > 0 ? c : 0.01);
            printf "%-10d %-9s %10.0f %8.2f %8.2f %12.0f %12.0f %9.0f %9.0f %9.1f\n",
                n, t, b / 1e6, w, c, n / w, n / c, b / 1e6 / w, b / 1e6 / c, r / 1024 }'
    done
done

if [ "$DAY_EVENTS" -gt 0 ]; then
    # The generator's time is in the wall figure; the CPU and RSS are aggregate's.
    echo
    printf '%-10s %-9s %8s %8s %8s %12s %9s\n' events span_s buckets wall_s cpu_s events/s_cpu rss_MB
    read -r wall cpu rss < <("$GEN" "$DAY_EVENTS" "$ENDPOINTS" 86400 1 | measure "$BIN" --format ndjson -)
    awk -v n="$DAY_EVENTS" -v w="$wall" -v c="$cpu" -v r="$rss" 'BEGIN {
        c = (c > 0 ? c : 0.01);
        printf "%-10d %-9d %8d %8.2f %8.2f %12.0f %9.1f\n", n, 86400, 86400, w, c, n / c, r / 1024 }'
fi
