#!/usr/bin/env bash
# Requests/s of GET /api/v1/tasks/{id} (with a bearer token) under wrk, for
# the monolith and the micro layout, on loopback only. Bounded: each server
# runs under `timeout`, each wrk run for $DURATION.
#
#   tasktracker/bench.sh                      # 10 s each, mono then micro
#   DURATION=5s CONNECTIONS=32 ARCHES=micro tasktracker/bench.sh
#   EXTRA="--database-url postgres://postgres@127.0.0.1:5432/test --db-schema bench" tasktracker/bench.sh
#
# Needs wrk (`apt-get install -y wrk`) and curl. Prints one line per layout:
#   mono   requests/s=52000.12  p50=1.02ms p99=3.10ms
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
ARCHES=${ARCHES:-mono micro}
EXTRA=${EXTRA:-}

for tool in wrk curl; do
    command -v "$tool" >/dev/null || { echo "bench.sh: $tool is not installed (apt-get install -y $tool)" >&2; exit 2; }
done
cargo build --release -p tasktracker --quiet
BIN=${CARGO_TARGET_DIR:-target}/release/tasktracker

pid=
log=$(mktemp)
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -f "$log"
}
trap cleanup EXIT

for arch in $ARCHES; do
    # shellcheck disable=SC2086
    timeout 300 "$BIN" --listen 127.0.0.1:0 --arch "$arch" --hash-cost 4 $EXTRA 2>"$log" &
    pid=$!
    for _ in $(seq 200); do grep -q "listening on" "$log" && break; sleep 0.05; done
    url=$(sed -n 's/.*listening on \(http:\/\/[^ ]*\).*/\1/p' "$log" | head -1)
    [ -n "$url" ] || { echo "bench.sh: tasktracker did not start:" >&2; cat "$log" >&2; exit 3; }

    email="bench-$$-$arch@example.com"
    curl -sf -XPOST "$url/api/v1/auth/register" -H 'content-type: application/json' \
        -d "{\"email\":\"$email\",\"password\":\"bench-pass\"}" >/dev/null
    token=$(curl -sf -XPOST "$url/api/v1/auth/login" -H 'content-type: application/json' \
        -d "{\"email\":\"$email\",\"password\":\"bench-pass\"}" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
    id=$(curl -sf -XPOST "$url/api/v1/tasks/" -H 'content-type: application/json' -H "authorization: Bearer $token" \
        -d '{"title":"benchmark task","description":"read over and over"}' | sed -n 's/^{"id":\([0-9]*\),.*/\1/p')
    [ -n "$token" ] && [ -n "$id" ] || { echo "bench.sh: could not set up a user and a task" >&2; exit 3; }
    # One check that the request wrk will repeat really answers 200.
    curl -sf -o /dev/null -H "authorization: Bearer $token" "$url/api/v1/tasks/$id"

    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
        -H "Authorization: Bearer $token" "$url/api/v1/tasks/$id")
    echo "$out" >&2
    if echo "$out" | grep -q "Non-2xx"; then
        echo "bench.sh: $arch answered errors under load" >&2
        exit 1
    fi
    rps=$(echo "$out" | awk '/^Requests\/sec:/ {print $2}')
    p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
    p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
    printf '%-6s requests/s=%s  p50=%s p99=%s  (wrk -t%s -c%s -d%s)\n' \
        "$arch" "$rps" "$p50" "$p99" "$THREADS" "$CONNECTIONS" "$DURATION"

    kill "$pid"
    wait "$pid" 2>/dev/null || true
    pid=
done
