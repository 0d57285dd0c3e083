#!/usr/bin/env bash
# WebSocket load at scale: how many connections one hammer holds, how many
# messages a second they sustain, and what each open connection costs in
# hammer's memory. tasktracker (release) serves /api/v1/ws on loopback; a
# flow on VUs of their own opens one connection per VU (staggered, as
# TaskForge's suite does) and pings every PERIOD, each ping awaiting its
# pong (sends paced by the open model's timerfd). Two runs: one connection
# (the baseline), then CONNS; RSS per connection is the difference in
# hammer's peak RSS over the difference in connections. The figures come
# from aggregate over the events.
#
#   hammer/bench/ws.sh                          # from the workspace root
#   CONNS=2000 PERIOD=100ms hammer/bench/ws.sh   # more messages, fewer connections
# Each connection takes two file descriptors (its socket, its timer); root
# raises the limit as far as the container allows (here 20,000: 9,000 connections).
#
# Not a timed test: the figures depend on the machine and on what else runs.
set -euo pipefail
cd "$(dirname "$0")/../.."

CONNS=${CONNS:-9000}
PERIOD=${PERIOD:-1s}
DURATION=${DURATION:-20s}
USERS=${USERS:-100}
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release}
WORK=$(mktemp -d /tmp/hammer-bench-ws.XXXXXX)
source scripts/lib.sh
CLEANUPS+=("rm -rf '$WORK'")

cargo build --release -q -p hammer -p seed -p aggregate -p tasktracker
# root may raise the hard limit (to fs.nr_open); others get what they have
ulimit -Hn "$((CONNS * 2 + 256))" 2>/dev/null || true
hard=$(ulimit -Hn)
want=$((CONNS * 2 + 256))  # a socket and a timer per connection
if [ "$hard" != unlimited ] && [ "$hard" -lt "$want" ]; then
    echo "ws.sh: $CONNS connections need $want file descriptors; the hard limit is $hard" >&2
    exit 2
fi
ulimit -n "$want"

start_tasktracker "$WORK/tasktracker.log"
"$BIN/seed" -s scenarios/tasktracker.toml --target "$URL" --users "$USERS" -o "$WORK/users.ndjson"

scenario() {
    local vus=$1
    sed -n '1,/^\[hammer\]/p' scenarios/tasktracker.toml | sed '$d'
    cat <<TOML
[hammer]
[hammer.websocket]
stagger_every = 100
stagger_wait = "10ms"
max_connections = $vus

[[hammer.flows]]
name = "pinger"
vus = $vus
[[hammer.flows.steps]]
ws_connect = "/api/v1/ws?token={token}"
socket = "feed"
auth = false
[[hammer.flows.steps]]
name = "ping"
ws_send = { type = "ping" }
socket = "feed"
every = "$PERIOD"
reply = { "/type" = "pong" }
timeout = "5s"
TOML
}

# held_max: the most WebSocket connections tasktracker saw at once (its gauge).
sample_held() {
    local max=0 now
    while kill -0 "$1" 2>/dev/null; do
        now=$(curl -s "$URL/metrics" | awk '$1 == "tasktracker_ws_connections" { print $2 }')
        [ -n "$now" ] && [ "${now%.*}" -gt "$max" ] && max=${now%.*}
        echo "$max" >"$WORK/held"
        sleep 0.5
    done
}

# run VUS: prints "rss_kb held pings_per_s errors p50_ms p99_ms"
run() {
    local vus=$1
    scenario "$vus" >"$WORK/ws.toml"
    echo 0 >"$WORK/held"
    /usr/bin/time -f '%M' -o "$WORK/rss" \
        "$BIN/hammer" -q -s "$WORK/ws.toml" --target "$URL" --users-file "$WORK/users.ndjson" \
        --duration "$DURATION" -o "$WORK/events.ndjson" &
    local pid=$!
    sample_held "$pid" &
    local sampler=$!
    wait "$pid"
    wait "$sampler"
    "$BIN/aggregate" --format ndjson "$WORK/events.ndjson" >"$WORK/summary.ndjson"
    python3 - "$WORK/summary.ndjson" "$(cat "$WORK/rss")" "$(cat "$WORK/held")" <<'PY'
import json, sys
rss, held = sys.argv[2], sys.argv[3]
ping = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("kind") == "endpoint" and r.get("name") == "ping":
        ping = r
lat = ping
print(rss, held, f'{ping.get("rps", 0):.0f}', ping.get("errors", 0),
      f'{lat.get("p50_ns", 0) / 1e6:.2f}', f'{lat.get("p99_ns", 0) / 1e6:.2f}')
PY
}

command -v curl >/dev/null || { echo "ws.sh: curl is needed" >&2; exit 2; }
read -r rss1 _ _ _ _ _ < <(run 1)
read -r rssn held rate errors p50 p99 < <(run "$CONNS")
printf '\n%-12s %8s %12s %10s %8s %8s %10s %14s\n' \
    connections held pings/s errors p50_ms p99_ms rss_MB KB/connection
awk -v n="$CONNS" -v h="$held" -v r="$rate" -v e="$errors" -v a="$p50" -v b="$p99" \
    -v r1="$rss1" -v rn="$rssn" 'BEGIN {
    printf "%-12d %8d %12d %10d %8.2f %8.2f %10.1f %14.1f\n",
        n, h, r, e, a, b, rn / 1024, (rn - r1) / (n - 1) }'
echo "(ping = one text message each way; pings/s over the load window, from aggregate)"
