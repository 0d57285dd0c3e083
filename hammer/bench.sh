#!/usr/bin/env bash
# hammer's speed next to wrk (and ab, h2load, oha when installed): nginx with
# one worker on core 1 serves a ~100-byte body with keep-alive; each load
# generator runs on core 0 with 50 connections for 10 s; medians of 3 runs.
# hammer runs in ad-hoc mode with every event written to a file.
# Then hammer's memory with 10,000 VUs held open against tasktracker.
#
#   hammer/bench.sh                      # from the workspace root
#   RUNS=1 DURATION=5 hammer/bench.sh    # quicker
#
# Peers come from Debian's packages (installed when missing and we are root).
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-18990}
TT_PORT=${TT_PORT:-18991}
DURATION=${DURATION:-10}
CONNS=${CONNS:-50}
RUNS=${RUNS:-3}
VUS_RSS=${VUS_RSS:-10000}
FIXED_RATES=${FIXED_RATES:-"1000 5000"}
# CALLGRIND=0 skips the instruction counts (valgrind is slow: ~1 min)
CALLGRIND=${CALLGRIND:-1}
EVENTS=${EVENTS:-/tmp/hammer-bench-events.ndjson}
source hammer/bench/lib.sh
bench_start saturation
need nginx:nginx-light wrk:wrk ab:apache2-utils h2load:nghttp2-client time:time

cargo build --release -q -p hammer -p tasktracker
HAMMER=${CARGO_TARGET_DIR:-target}/release/hammer
TASKTRACKER=${CARGO_TARGET_DIR:-target}/release/tasktracker

hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -ge 65536 ]; then ulimit -n 65536; else ulimit -n "$hard"; fi

port_free "$PORT"
port_free "$TT_PORT"

mkdir -p "$WORK/nginx"
sed -e "s|@PREFIX@|$WORK/nginx|g" -e "s|@PORT@|$PORT|g" hammer/bench/nginx.conf.in > "$WORK/nginx/nginx.conf"
taskset -c 1 "$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
PIDS+=($!)
wait_port "$PORT"
URL="http://127.0.0.1:$PORT/"

# One run of a tool; prints its requests per second. Each runs under
# /usr/bin/time, which leaves the generator's user + system CPU seconds in
# $WORK/cpu for cpu_per_request.
timed() { /usr/bin/time -f '%U %S' -o "$WORK/cpu" "$@"; }
run_wrk() { timed taskset -c 0 wrk -t1 -c"$CONNS" -d"${DURATION}s" "$URL" | awk '/^Requests\/sec/ {print $2}'; }
run_ab() { timed taskset -c 0 ab -k -q -c"$CONNS" -t"$DURATION" -n 100000000 "$URL" 2>/dev/null | awk '/^Requests per second/ {print $4}'; }
run_h2load() { timed taskset -c 0 h2load --h1 -c"$CONNS" -D"$DURATION" "$URL" 2>/dev/null | awk '/^finished in/ {print $4}'; }
run_oha() { timed taskset -c 0 oha --no-tui -z "${DURATION}s" -c"$CONNS" "$URL" | awk '/Requests\/sec/ {print $2}'; }
run_hammer() {
    timed taskset -c 0 "$HAMMER" --url "$URL" --vus "$CONNS" --duration "${DURATION}s" --threads 1 \
        -o "$EVENTS" 2>"$WORK/hammer.err"
    # Every event is written: the line count is the request count.
    local lines
    lines=$(wc -l < "$EVENTS")
    awk -v n="$lines" -v d="$DURATION" 'BEGIN {printf "%.0f\n", n / d}'
}
# cpu_per_request RPS SECONDS: CPU-µs per request of the last timed run.
cpu_per_request() {
    awk -v r="$1" -v d="$2" '{ n = r * d; printf "%.2f\n", (n > 0 ? ($1 + $2) * 1e6 / n : 0) }' "$WORK/cpu"
}

median() { sort -n | awk '{a[NR]=$1} END {if (NR == 0) print 0; else print a[int((NR + 1) / 2)]}'; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
declare -A RESULT CPU TOOLS_RUNS CPU_RUNS
TOOLS=()
for tool in wrk hammer ab h2load oha; do
    case $tool in
        ab) command -v ab >/dev/null || continue ;;
        h2load) command -v h2load >/dev/null || continue ;;
        oha) command -v oha >/dev/null || continue ;;
    esac
    TOOLS+=("$tool")
done
# Interleaved (wrk, hammer, ab, ..., then again), so a slow minute of the
# machine falls on every tool alike.
for _ in $(seq "$RUNS"); do
    for tool in "${TOOLS[@]}"; do
        r=$("run_$tool" || echo 0)
        c=$(cpu_per_request "${r:-0}" "$DURATION")
        TOOLS_RUNS[$tool]="${TOOLS_RUNS[$tool]:-} ${r:-0}"
        CPU_RUNS[$tool]="${CPU_RUNS[$tool]:-} $c"
        echo "  $tool: ${r:-0} req/s, $c CPU-µs/request" >&2
    done
done
for tool in "${TOOLS[@]}"; do
    RESULT[$tool]=$(printf '%s\n' ${TOOLS_RUNS[$tool]} | median)
    CPU[$tool]=$(printf '%s\n' ${CPU_RUNS[$tool]} | median)
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

printf '\n%-8s %12s %10s %16s\n' tool "req/s" "vs wrk" "CPU-µs/request"
for tool in "${TOOLS[@]}"; do
    printf '%-8s %12.0f %9.2fx %16.2f\n' "$tool" "${RESULT[$tool]}" \
        "$(awk -v a="${RESULT[$tool]}" -v b="${RESULT[wrk]}" 'BEGIN {print (b > 0 ? a / b : 0)}')" \
        "${CPU[$tool]}"
done
echo "(nginx 1 worker on core 1; generators on core 0; $CONNS connections, ${DURATION}s, median of $RUNS interleaved)"

# Fixed rate: the CPU each generator spends per request when it is not
# saturated (hammer's open model; h2load --rps and hey -q are per
# connection, so RATE / CONNS each).
printf '\n%-8s %8s %12s %16s\n' tool rate "achieved/s" "CPU-µs/request"
for rate in $FIXED_RATES; do
    per_conn=$(awk -v r="$rate" -v c="$CONNS" 'BEGIN {printf "%.2f", r / c}')
    timed taskset -c 0 "$HAMMER" --url "$URL" --max-vus "$CONNS" --rate "$rate" --duration "${DURATION}s" \
        --threads 1 -o "$EVENTS" 2>"$WORK/hammer.err"
    got=$(awk -v n="$(wc -l < "$EVENTS")" -v d="$DURATION" 'BEGIN {printf "%.0f", n / d}')
    printf '%-8s %8d %12d %16.2f\n' hammer "$rate" "$got" "$(cpu_per_request "$got" "$DURATION")"
    if command -v h2load >/dev/null; then
        got=$(timed taskset -c 0 h2load --h1 -c"$CONNS" --rps="$per_conn" -D"$DURATION" "$URL" 2>/dev/null \
            | awk '/^finished in/ {printf "%.0f", $4}')
        printf '%-8s %8d %12d %16.2f\n' h2load "$rate" "${got:-0}" "$(cpu_per_request "${got:-0}" "$DURATION")"
    fi
    if command -v hey >/dev/null; then
        got=$(timed taskset -c 0 hey -c "$CONNS" -q "$per_conn" -z "${DURATION}s" "$URL" 2>/dev/null \
            | awk '/Requests\/sec/ {printf "%.0f", $2}')
        printf '%-8s %8d %12d %16.2f\n' hey "$rate" "${got:-0}" "$(cpu_per_request "${got:-0}" "$DURATION")"
    fi
    if command -v oha >/dev/null; then
        got=$(timed taskset -c 0 oha --no-tui -q "$rate" -z "${DURATION}s" -c"$CONNS" "$URL" \
            | awk '/Requests\/sec/ {printf "%.0f", $2}')
        printf '%-8s %8d %12d %16.2f\n' oha "$rate" "${got:-0}" "$(cpu_per_request "${got:-0}" "$DURATION")"
    fi
done

# Memory: 10,000 VUs, each with its connection open, thinking 1-3 s.
"$TASKTRACKER" --listen "127.0.0.1:$TT_PORT" --hash-cost 4 2>/dev/null &
PIDS+=($!)
wait_port "$TT_PORT"
"$HAMMER" --url "http://127.0.0.1:$TT_PORT/health" --vus "$VUS_RSS" --think 1s..3s \
    --duration 12s --quiet -o /dev/null &
HPID=$!
peak=0
while kill -0 "$HPID" 2>/dev/null; do
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$HPID/status" 2>/dev/null || echo 0)
    [ "${rss:-0}" -gt "$peak" ] && peak=$rss
    sleep 0.5
done
wait "$HPID"
echo "hammer RSS with $VUS_RSS VUs held open: peak $((peak / 1024)) MiB"

# Instructions per request under callgrind (exact and repeatable where
# wall-clock figures are not): 20,000 requests on 10 connections, one
# thread, against tasktracker's /health; user-space instructions of the
# generator alone, start-up included (~3M for hammer: 140 a request).
if [ "$CALLGRIND" = 1 ] && command -v valgrind >/dev/null; then
    TT_URL="http://127.0.0.1:$TT_PORT/health"
    instructions() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null \
        | awk '/refs:/ {gsub(",", "", $4); print $4}'; }
    printf '\n%-8s %14s %10s %14s\n' tool instructions requests "per request"
    n=$(instructions "$HAMMER" --url "$TT_URL" --requests 20000 --vus 10 --threads 1 -q -o /dev/null)
    printf '%-8s %14d %10d %14.0f\n' hammer "$n" 20000 "$(awk -v n="$n" 'BEGIN {print n / 20000}')"
    n=$(instructions ab -k -q -c 10 -n 20000 "$TT_URL")
    printf '%-8s %14d %10d %14.0f\n' ab "$n" 20000 "$(awk -v n="$n" 'BEGIN {print n / 20000}')"
    # wrk runs for a time, not a count: its own count of requests divides.
    valgrind --tool=callgrind --callgrind-out-file=/dev/null wrk -t1 -c10 -d5s "$TT_URL" \
        >"$WORK/wrk.out" 2>"$WORK/wrk.err"
    n=$(awk '/refs:/ {gsub(",", "", $4); print $4}' "$WORK/wrk.err")
    reqs=$(awk '/requests in/ {print $1}' "$WORK/wrk.out")
    printf '%-8s %14d %10d %14.0f\n' wrk "$n" "$reqs" "$(awk -v n="$n" -v r="$reqs" 'BEGIN {print (r > 0 ? n / r : 0)}')"
    echo "(hammer writes an event per request; ab and wrk write nothing per request)"
fi
