#!/usr/bin/env bash
# How far one machine goes in open connections: CONNS VUs (default 100,000),
# each on its own keep-alive connection, sending one request every 5-10 s
# (think time) to nginx, opened over RAMP and held for HOLD. Each source
# address takes at most PER_IP of them (127.0.0.1, .2, ... by --local-ips),
# so the ephemeral port range is not the limit. Reports the connections
# nginx held at once (ss), hammer's peak RSS and RSS per connection, and
# its CPU per request; every event is written to a file.
#
#   hammer/bench/conns.sh                      # from the workspace root
#   CONNS=20000 HOLD=60s hammer/bench/conns.sh
#
# Each connection takes a file descriptor in hammer and one in nginx. The
# script raises the limit to CONNS + 1,024 where it may (root); where the
# hard limit is lower (this development container's is 20,000 and cannot
# be raised), the connections are shared among as many hammer processes
# as it takes, and nginx gets as many workers (one reuseport listener
# each). Then the RSS is the sum over the hammer processes, each with its
# own runtime, so it counts against hammer, not for it.
# Not a timed test: the figures depend on the machine.
set -euo pipefail
cd "$(dirname "$0")/../.."

CONNS=${CONNS:-100000}
# 5,000 new connections a second: 10,000 saturated core 0 here.
RAMP=${RAMP:-20s}
HOLD=${HOLD:-30s}
THINK=${THINK:-5s..10s}
PORT=${PORT:-18993}
# hammer leaves the choice of port to connect (IP_BIND_ADDRESS_NO_PORT),
# which needs only the 4-tuple free (a TIME_WAIT one is reused on loopback,
# net.ipv4.tcp_tw_reuse's default), so an earlier run's TIME_WAIT sockets
# are no reason to wait. connect tries the ports of one parity first, half
# the ephemeral range (~14,000 here); past them it scans that half on every
# connect: 16,667 an address gave 267 CPU-µs a request and 8% timeouts,
# 12,000 gave 48.5 and none.
PER_IP=${PER_IP:-12000}
source hammer/bench/lib.sh
bench_start conns
need nginx:nginx-light ss:iproute2 time:time
cargo build --release -q -p hammer
HAMMER=${CARGO_TARGET_DIR:-target}/release/hammer

want=$((CONNS + 1024))
ulimit -Hn "$want" 2>/dev/null || true
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] && hard=$want
FDS=$((want < hard ? want : hard))
ulimit -n "$FDS"
PER_PROCESS=$((FDS - 1024))
if [ "$PER_PROCESS" -lt 1000 ]; then
    echo "conns.sh: the file-descriptor limit is $FDS: too few for this benchmark" >&2
    exit 2
fi
PROCS=$(((CONNS + PER_PROCESS - 1) / PER_PROCESS))
# reuseport spreads connections over nginx's workers by a hash, not evenly:
# a quarter more workers than the even share keeps each under its limit.
WORKERS=$(((CONNS * 5 / 4 + PER_PROCESS - 1) / PER_PROCESS))
if [ "$PROCS" -gt 1 ]; then
    echo "conns.sh: the file-descriptor hard limit is $hard: $CONNS connections from $PROCS hammer processes, nginx with $WORKERS workers" >&2
fi
port_free "$PORT"

mkdir -p "$WORK/nginx"
sed -e "s|@PREFIX@|$WORK/nginx|g" -e "s|@PORT@|$PORT|g" -e "s|@FDS@|$FDS|g" \
    -e "s|@WORKERS@|$WORKERS|g" hammer/bench/nginx-conns.conf.in >"$WORK/nginx/nginx.conf"
taskset -c 1 "$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
PIDS+=($!)
wait_port "$PORT"

# The connections open over RAMP (a SYN storm of all at once overflows the
# listen backlog, and the retries look like timeouts), then stay for HOLD.
# Process p takes its share of the connections from its own block of
# addresses, PER_IP connections an address at most.
HPIDS=()
next_ip=1
for p in $(seq "$PROCS"); do
    share=$((CONNS / PROCS + (p <= CONNS % PROCS ? 1 : 0)))
    ips=$(((share + PER_IP - 1) / PER_IP))
    from="127.0.0.$next_ip"
    [ "$ips" -gt 1 ] && from="$from-127.0.0.$((next_ip + ips - 1))"
    next_ip=$((next_ip + ips))
    echo "conns.sh: process $p: $share connections from $from, opened over $RAMP, think $THINK, held $HOLD" >&2
    taskset -c 0 /usr/bin/time -f '%M %U %S' -o "$WORK/time.$p" \
        "$HAMMER" --url "http://127.0.0.1:$PORT/" --stages "$RAMP:$share,$HOLD:$share" --think "$THINK" \
        --local-ips "$from" --threads 1 -q -o "$WORK/events.$p.ndjson" &
    HPIDS+=($!)
    PIDS+=($!)
done
held=0
running() { for pid in "${HPIDS[@]}"; do kill -0 "$pid" 2>/dev/null && return 0; done; return 1; }
while running; do
    now=$(ss -Htn state established "( sport = :$PORT )" 2>/dev/null | wc -l)
    [ "$now" -gt "$held" ] && held=$now
    sleep 1
done
status=0
for pid in "${HPIDS[@]}"; do wait "$pid" || status=$?; done
[ "$status" = 0 ] || { echo "conns.sh: a hammer process failed (exit $status)" >&2; exit "$status"; }
# Peak RSS is summed over the processes (each peaked about when all held).
read -r rss user sys < <(cat "$WORK"/time.* | awk '{r += $1; u += $2; s += $3} END {print r, u, s}')
cat "$WORK"/events.*.ndjson >"$WORK/events.ndjson"
# Every line is an event but each process's closing load record.
requests=$(grep -vc '"kind":"load"' "$WORK/events.ndjson" || true)
errors=$(grep -c '"error":"' "$WORK/events.ndjson" || true)
if [ "$errors" -gt 0 ]; then
    echo "conns.sh: the errors, by kind and detail:" >&2
    grep -o '"error":"[a-z]*","detail":"[^"]*' "$WORK/events.ndjson" | sort | uniq -c | sort -rn | head -5 >&2
fi
printf '\n%-12s %8s %10s %8s %12s %14s %16s\n' connections held requests errors "peak RSS MB" "KB/connection" "CPU-µs/request"
awk -v n="$CONNS" -v h="$held" -v q="$requests" -v e="$errors" -v r="$rss" -v u="$user" -v s="$sys" 'BEGIN {
    printf "%-12d %8d %10d %8d %12.1f %14.1f %16.1f\n", n, h, q, e, r / 1024, r / n, (u + s) * 1e6 / q }'
echo "(hammer on core 0: $PROCS process(es), one thread each; nginx, $WORKERS worker(s), on core 1; RSS per connection is the summed peak RSS over connections, everything included)"
