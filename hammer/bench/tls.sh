#!/usr/bin/env bash
# hammer over TLS next to its peers, side by side in one run: nginx with one
# worker on core 1 serves a ~100-byte body over HTTPS (ALPN h2 and
# http/1.1); each generator runs on core 0 with 50 connections:
#   HTTP/1.1 keep-alive over TLS: hammer vs wrk
#   HTTP/2 over TLS (one stream per connection): hammer --http2 vs h2load -m1
# hammer verifies the certificate (--ca-cert, the script's own self-signed
# one) and writes every event to a file; medians of RUNS runs.
#
#   hammer/bench/tls.sh                          # from the workspace root
#   RUNS=1 DURATION=5 hammer/bench/tls.sh        # quicker
#
# Not a timed test: the figures depend on the machine and on what else runs.
# nginx, wrk and h2load come from Debian's packages (installed when missing
# and we are root); openssl makes the certificate.
set -euo pipefail
cd "$(dirname "$0")/../.."

PORT=${PORT:-18992}
DURATION=${DURATION:-10}
CONNS=${CONNS:-50}
RUNS=${RUNS:-3}
source hammer/bench/lib.sh
bench_start tls
EVENTS=$WORK/events.ndjson
need nginx:nginx-light wrk:wrk h2load:nghttp2-client time:time

cargo build --release -q -p hammer
HAMMER=${CARGO_TARGET_DIR:-target}/release/hammer

hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -ge 65536 ]; then ulimit -n 65536; else ulimit -n "$hard"; fi

port_free "$PORT"

# A self-signed certificate for 127.0.0.1 (ECDSA P-256, as a modern site
# has). Not a CA's (openssl's default): webpki refuses a CA certificate as
# the server's own, as browsers do.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
    -addext basicConstraints=critical,CA:FALSE -addext extendedKeyUsage=serverAuth \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null

mkdir -p "$WORK/nginx"
sed -e "s|@PREFIX@|$WORK/nginx|g" -e "s|@PORT@|$PORT|g" \
    -e "s|@CERT@|$WORK/cert.pem|g" -e "s|@KEY@|$WORK/key.pem|g" \
    hammer/bench/nginx-tls.conf.in > "$WORK/nginx/nginx.conf"
taskset -c 1 "$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" 2>"$WORK/nginx.err" &
NGINX_PID=$!
PIDS+=($!)
for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
    sleep 0.1
done
if ! (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    echo "tls.sh: nginx did not start:" >&2
    cat "$WORK/nginx.err" >&2
    exit 3
fi
URL="https://127.0.0.1:$PORT/"

# One run of a tool; prints its requests per second. Each runs under
# /usr/bin/time, which leaves the generator's user + system CPU seconds in
# $WORK/cpu; nginx's own CPU over the run goes to $WORK/server.
timed() {
    local before after status=0
    before=$(server_ticks)
    /usr/bin/time -f '%U %S' -o "$WORK/cpu" "$@" || status=$?
    after=$(server_ticks)
    echo $((after - before)) >"$WORK/server"
    return "$status"
}
# nginx's user + system clock ticks so far (it runs as one process).
server_ticks() { awk '{print $14 + $15}' "/proc/$NGINX_PID/stat"; }
run_wrk() { timed taskset -c 0 wrk -t1 -c"$CONNS" -d"${DURATION}s" "$URL" | awk '/^Requests\/sec/ {print $2}'; }
run_h2load() {
    timed taskset -c 0 h2load -t1 -c"$CONNS" -m1 -D"$DURATION" "$URL" 2>/dev/null \
        | awk '/^finished in/ {print $4}'
}
hammer_rps() {
    if ! timed taskset -c 0 "$HAMMER" --url "$URL" --vus "$CONNS" --duration "${DURATION}s" --threads 1 \
        --ca-cert "$WORK/cert.pem" "$@" -o "$EVENTS" 2>"$WORK/hammer.err"; then
        echo "tls.sh: hammer $* failed:" >&2
        cat "$WORK/hammer.err" >&2
        return 1
    fi
    # Every event is written (the last line is the load record): the line
    # count is the request count. An error would make the figure a lie.
    if grep -q '"error":"' "$EVENTS"; then
        echo "tls.sh: hammer $* had errors:" >&2
        grep -m3 '"error":"' "$EVENTS" >&2
        return 1
    fi
    local lines
    lines=$(($(wc -l < "$EVENTS") - 1))
    awk -v n="$lines" -v d="$DURATION" 'BEGIN {printf "%.0f\n", n / d}'
}
run_hammer_h1() { hammer_rps; }
run_hammer_h2() {
    hammer_rps --http2 || return 1
    # Every event says h2, or the comparison is not HTTP/2's.
    if [ "$(grep -c '"proto":"h2"' "$EVENTS")" -ne $(($(wc -l < "$EVENTS") - 1)) ]; then
        echo "tls.sh: not every hammer --http2 event was h2" >&2
        return 1
    fi
}

median() { sort -n | awk '{a[NR]=$1} END {if (NR == 0) print 0; else print a[int((NR + 1) / 2)]}'; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
declare -A RESULT CPU SERVER RUNS_RPS RUNS_CPU RUNS_SERVER
TOOLS=(wrk hammer_h1 h2load hammer_h2)
ticks=$(getconf CLK_TCK)
# Interleaved (each run of every tool, then the next), so a slow patch of
# the machine's time lands on every tool alike.
for _ in $(seq "$RUNS"); do
    for tool in "${TOOLS[@]}"; do
        r=$("run_$tool" || echo 0)
        r=${r:-0}
        cpu=$(awk -v r="$r" -v d="$DURATION" '{n = r * d; printf "%.2f", (n > 0 ? ($1 + $2) * 1e6 / n : 0)}' "$WORK/cpu")
        busy=$(awk -v t="$ticks" -v d="$DURATION" '{printf "%.0f", $1 / t / d * 100}' "$WORK/server")
        RUNS_RPS[$tool]="${RUNS_RPS[$tool]:-} $r"
        RUNS_CPU[$tool]="${RUNS_CPU[$tool]:-} $cpu"
        RUNS_SERVER[$tool]="${RUNS_SERVER[$tool]:-} $busy"
        echo "  $tool: $r req/s, $cpu CPU-µs/request, nginx busy ${busy}%" >&2
    done
done
for tool in "${TOOLS[@]}"; do
    RESULT[$tool]=$(printf '%s\n' ${RUNS_RPS[$tool]} | median)
    CPU[$tool]=$(printf '%s\n' ${RUNS_CPU[$tool]} | median)
    SERVER[$tool]=$(printf '%s\n' ${RUNS_SERVER[$tool]} | median)
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }
row() { printf '%-26s %12.0f %9sx %16.2f %13s%%\n' "$1" "${RESULT[$2]}" "$(ratio "${RESULT[$2]}" "${RESULT[$3]}")" "${CPU[$2]}" "${SERVER[$2]}"; }
printf '\n%-26s %12s %10s %16s %14s\n' "HTTPS, $CONNS connections" "req/s" "ratio" "CPU-µs/request" "nginx busy"
row "wrk (HTTP/1.1)" wrk wrk
row "hammer (HTTP/1.1)" hammer_h1 wrk
row "h2load -m1 (HTTP/2)" h2load h2load
row "hammer --http2 (HTTP/2)" hammer_h2 h2load
echo "(nginx $("$NGINX" -v 2>&1 | sed 's|.*/||'), 1 worker on core 1; generators on core 0, 1 thread;" \
    "${DURATION}s, median of $RUNS interleaved runs; hammer verifies the certificate and writes every event;" \
    "nginx near 100% busy means the server, not the generator, sets the req/s)"
