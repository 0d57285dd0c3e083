#!/usr/bin/env bash
# How far one hammer goes in open connections: CONNS VUs (default 100,000),
# each on its own keep-alive connection, sending one request every 5-10 s
# (think time) to nginx, opened over RAMP and held for HOLD; beyond 25,000
# they come from the loopback addresses 127.0.0.1, .2, ... (--local-ips),
# 25,000 each, so the ephemeral port range is not the limit. Reports the connections nginx held
# at once (ss), hammer's peak RSS and RSS per connection, and its CPU per
# request; every event is written to a file.
#
#   hammer/bench/conns.sh                      # from the workspace root
#   CONNS=20000 HOLD=60s hammer/bench/conns.sh
#
# Each connection takes a file descriptor in hammer and one in nginx: the
# script raises the limit to CONNS + 1,024 where it may (root), and where
# the hard limit is lower it says so and runs as many as fit (this
# development container's hard limit is 20,000).
# Not a timed test: the figures depend on the machine.
set -euo pipefail
cd "$(dirname "$0")/../.."

CONNS=${CONNS:-100000}
RAMP=${RAMP:-10s}
HOLD=${HOLD:-30s}
THINK=${THINK:-5s..10s}
PORT=${PORT:-18993}
source hammer/bench/lib.sh
bench_start conns
need nginx:nginx-light ss:iproute2
cargo build --release -q -p hammer
HAMMER=${CARGO_TARGET_DIR:-target}/release/hammer

want=$((CONNS + 1024))
ulimit -Hn "$want" 2>/dev/null || true
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$want" ]; then
    fit=$((hard - 1024))
    echo "conns.sh: $CONNS connections need $want file descriptors, the hard limit is $hard: running $fit" >&2
    CONNS=$fit
    want=$hard
fi
ulimit -n "$want"
port_free "$PORT"

mkdir -p "$WORK/nginx"
sed -e "s|@PREFIX@|$WORK/nginx|g" -e "s|@PORT@|$PORT|g" -e "s|@FDS@|$want|g" \
    -e "s|@CONNS@|$CONNS|g" hammer/bench/nginx-conns.conf.in >"$WORK/nginx/nginx.conf"
taskset -c 1 "$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
PIDS+=($!)
wait_port "$PORT"

# Beyond one address's ephemeral ports, connections come from several
# (--local-ips binds each to an address; ~28,000 ports apiece).
FROM=()
SHOWN="127.0.0.1"
if [ "$CONNS" -gt 25000 ]; then
    SHOWN="127.0.0.1-127.0.0.$(( (CONNS + 24999) / 25000 ))"
    FROM=(--local-ips "$SHOWN")
fi
echo "conns.sh: $CONNS connections from $SHOWN, opened over $RAMP, think $THINK, held $HOLD" >&2
# The connections open over RAMP (a SYN storm of all at once overflows the
# listen backlog, and the retries look like timeouts), then stay for HOLD.
taskset -c 0 /usr/bin/time -f '%M %U %S' -o "$WORK/time" \
    "$HAMMER" --url "http://127.0.0.1:$PORT/" --stages "$RAMP:$CONNS,$HOLD:$CONNS" --think "$THINK" \
    "${FROM[@]}" --threads 1 -q -o "$WORK/events.ndjson" &
HPID=$!
held=0
while kill -0 "$HPID" 2>/dev/null; do
    now=$(ss -Htn state established "( sport = :$PORT )" 2>/dev/null | wc -l)
    [ "$now" -gt "$held" ] && held=$now
    sleep 1
done
wait "$HPID"
read -r rss user sys <"$WORK/time"
requests=$(wc -l <"$WORK/events.ndjson")
errors=$(grep -c '"error":"' "$WORK/events.ndjson" || true)
if [ "$errors" -gt 0 ]; then
    echo "conns.sh: the errors, by kind and detail:" >&2
    grep -o '"error":"[a-z]*","detail":"[^"]*' "$WORK/events.ndjson" | sort | uniq -c | sort -rn | head -5 >&2
fi
printf '\n%-12s %8s %10s %8s %12s %14s %16s\n' connections held requests errors "peak RSS MB" "KB/connection" "CPU-µs/request"
awk -v n="$CONNS" -v h="$held" -v q="$requests" -v e="$errors" -v r="$rss" -v u="$user" -v s="$sys" 'BEGIN {
    printf "%-12d %8d %10d %8d %12.1f %14.1f %16.1f\n", n, h, q, e, r / 1024, r / n, (u + s) * 1e6 / q }'
echo "(hammer on core 0, one thread; nginx, one worker, on core 1; RSS per connection is peak RSS over connections, everything included)"
