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
EVENTS=${EVENTS:-/tmp/hammer-bench-events.ndjson}
WORK=$(mktemp -d /tmp/hammer-bench.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

if ! command -v nginx >/dev/null || ! command -v wrk >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        echo "installing nginx, wrk, ab and h2load from Debian's packages..." >&2
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light wrk apache2-utils nghttp2-client >/dev/null
    else
        echo "bench.sh: nginx and wrk are needed (apt-get install nginx-light wrk apache2-utils nghttp2-client)" >&2
        exit 2
    fi
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

cargo build --release -q -p hammer -p tasktracker
HAMMER=${CARGO_TARGET_DIR:-target}/release/hammer
TASKTRACKER=${CARGO_TARGET_DIR:-target}/release/tasktracker

hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -ge 65536 ]; then ulimit -n 65536; else ulimit -n "$hard"; fi

wait_port() {
    for _ in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "bench.sh: nothing listens on port $1" >&2
    exit 3
}

for port in "$PORT" "$TT_PORT"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "bench.sh: port $port is taken; set PORT/TT_PORT" >&2
        exit 2
    fi
done

mkdir -p "$WORK/nginx"
sed -e "s|@PREFIX@|$WORK/nginx|g" -e "s|@PORT@|$PORT|g" hammer/bench/nginx.conf.in > "$WORK/nginx/nginx.conf"
taskset -c 1 "$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
PIDS+=($!)
wait_port "$PORT"
URL="http://127.0.0.1:$PORT/"

# One run of a tool; prints its requests per second.
run_wrk() { taskset -c 0 wrk -t1 -c"$CONNS" -d"${DURATION}s" "$URL" | awk '/^Requests\/sec/ {print $2}'; }
run_ab() { taskset -c 0 ab -k -q -c"$CONNS" -t"$DURATION" -n 100000000 "$URL" 2>/dev/null | awk '/^Requests per second/ {print $4}'; }
run_h2load() { taskset -c 0 h2load --h1 -c"$CONNS" -D"$DURATION" "$URL" 2>/dev/null | awk '/^finished in/ {print $4}'; }
run_oha() { taskset -c 0 oha --no-tui -z "${DURATION}s" -c"$CONNS" "$URL" | awk '/Requests\/sec/ {print $2}'; }
run_hammer() {
    taskset -c 0 "$HAMMER" --url "$URL" --vus "$CONNS" --duration "${DURATION}s" --threads 1 \
        -o "$EVENTS" 2>"$WORK/hammer.err"
    # Every event is written: the line count is the request count.
    local lines
    lines=$(wc -l < "$EVENTS")
    awk -v n="$lines" -v d="$DURATION" 'BEGIN {printf "%.0f\n", n / d}'
}

median() { sort -n | awk '{a[NR]=$1} END {if (NR == 0) print 0; else print a[int((NR + 1) / 2)]}'; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
declare -A RESULT
for tool in wrk hammer ab h2load oha; do
    case $tool in
        ab) command -v ab >/dev/null || continue ;;
        h2load) command -v h2load >/dev/null || continue ;;
        oha) command -v oha >/dev/null || continue ;;
    esac
    runs=""
    for _ in $(seq "$RUNS"); do
        r=$("run_$tool" || echo 0)
        runs="$runs ${r:-0}"
        echo "  $tool: ${r:-0} req/s" >&2
    done
    RESULT[$tool]=$(printf '%s\n' $runs | median)
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

printf '\n%-8s %12s %10s\n' tool "req/s" "vs wrk"
for tool in wrk hammer ab h2load oha; do
    [ -n "${RESULT[$tool]:-}" ] || continue
    printf '%-8s %12.0f %9.2fx\n' "$tool" "${RESULT[$tool]}" \
        "$(awk -v a="${RESULT[$tool]}" -v b="${RESULT[wrk]}" 'BEGIN {print (b > 0 ? a / b : 0)}')"
done
echo "(nginx 1 worker on core 1; generators on core 0; $CONNS connections, ${DURATION}s, median of $RUNS)"

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
