#!/usr/bin/env bash
# Open-model send precision: hammer's lag_ns p50/p99 and its CPU time per
# request at 500, 2,000 and 10,000 req/s against nginx (1 worker on core 1,
# hammer on core 0), for each pacer timer (the timerfd default, tokio's 1 ms
# timer as before, and sleep-then-spin), and oha --latency-correction at the
# same rates when oha is installed.
#
#   hammer/bench/precision.sh                        # from the workspace root
#   DURATION=5 RATES="500 10000" hammer/bench/precision.sh
#
# Needs nginx (apt-get install nginx-light), python3 and /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/../.."

PORT=${PORT:-18992}
DURATION=${DURATION:-10}
RATES=${RATES:-500 2000 10000}
TIMERS=${TIMERS:-timerfd tokio spin}
THREADS=${THREADS:-1}
WORK=$(mktemp -d /tmp/hammer-precision.XXXXXX)
NGINX_PID=
cleanup() {
    if [ -n "$NGINX_PID" ]; then kill "$NGINX_PID" 2>/dev/null || true; fi
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || { echo "precision.sh: nginx is needed (apt-get install nginx-light)" >&2; exit 2; }
cargo build --release -q -p hammer
HAMMER=target/release/hammer

mkdir -p "$WORK/nginx"
sed -e "s|@PREFIX@|$WORK/nginx|g" -e "s|@PORT@|$PORT|g" hammer/bench/nginx.conf.in > "$WORK/nginx/nginx.conf"
taskset -c 1 "$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
NGINX_PID=$!
for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
    sleep 0.1
done
URL="http://127.0.0.1:$PORT/"

# lag p50/p99 (µs) of an events file, and CPU-µs per request from time's output.
report() { # label events timefile
    python3 - "$@" <<'EOF'
import json, sys
label, events, timefile = sys.argv[1:4]
lags = sorted(json.loads(l)["lag_ns"] for l in open(events))
user, sys_ = (float(x) for x in open(timefile).read().split()[-2:])
q = lambda p: lags[min(len(lags) - 1, int(len(lags) * p))] / 1e3
print(f"{label:<22} {len(lags):>7} {q(0.5):>10.1f} {q(0.99):>10.1f} {(user + sys_) * 1e6 / max(1, len(lags)):>12.1f}")
EOF
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-22s %7s %10s %10s %12s\n' "run" "events" "lag p50 µs" "lag p99 µs" "CPU-µs/req"
for rate in $RATES; do
    for timer in $TIMERS; do
        HAMMER_PACER_TIMER=$timer /usr/bin/time -f "%U %S" -o "$WORK/time" \
            taskset -c 0 "$HAMMER" --url "$URL" --rate "$rate" --duration "${DURATION}s" \
            --threads "$THREADS" -q -o "$WORK/events.ndjson"
        report "hammer $timer @$rate" "$WORK/events.ndjson" "$WORK/time"
    done
    if command -v oha >/dev/null; then
        /usr/bin/time -f "%U %S" -o "$WORK/time" taskset -c 0 oha -z "${DURATION}s" -q "$rate" \
            --latency-correction --no-tui "$URL" > "$WORK/oha.txt"
        echo "oha @$rate (--latency-correction): $(grep -E '50.00%|99.00%' "$WORK/oha.txt" | tr -s ' ' | tr '\n' ' ') CPU $(cat "$WORK/time") s"
    fi
done
command -v oha >/dev/null || echo "(oha is not installed: no oha figures)"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
