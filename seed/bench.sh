#!/usr/bin/env bash
# Benchmark: seed USERS users (default 1000) with the TaskTracker scenario's
# 20 tasks each against a release tasktracker (in memory, loopback, free port),
# default seed settings; once with `--hash-cost 4` and once with tasktracker's
# default bcrypt cost. Prints seed's summary (wall time, req/s) for each.
#
#   seed/bench.sh            # from the workspace root (make bench calls it)
#   USERS=200 seed/bench.sh  # a quicker run
#
# Every run is bounded by `timeout` (LIMIT seconds, default 300).
set -euo pipefail
cd "$(dirname "$0")/.."

USERS=${USERS:-1000}
LIMIT=${LIMIT:-300}
SCENARIO=scenarios/tasktracker.toml

cargo build --release --quiet -p tasktracker -p seed --bins
BIN=${CARGO_TARGET_DIR:-target}/release
WORK=$(mktemp -d)
SERVER_PID=

stop_server() {
    if [[ -n $SERVER_PID ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
}
trap 'stop_server; rm -rf "$WORK"' EXIT

# start_server ARGS...: starts tasktracker on a free port, sets URL.
start_server() {
    : >"$WORK/server.log"
    "$BIN/tasktracker" --listen 127.0.0.1:0 "$@" 2>"$WORK/server.log" &
    SERVER_PID=$!
    URL=
    for _ in $(seq 100); do
        URL=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$WORK/server.log" | head -n1)
        [[ -n $URL ]] && return 0
        sleep 0.1
    done
    echo "bench: tasktracker did not start:" >&2
    cat "$WORK/server.log" >&2
    exit 1
}

# bench LABEL SERVER-ARGS...
bench() {
    local label=$1
    shift
    start_server "$@"
    local start end
    start=$(date +%s.%N)
    timeout "$LIMIT" "$BIN/seed" -s "$SCENARIO" --target "$URL" --users "$USERS" \
        -o "$WORK/users.ndjson" 2>"$WORK/seed.err" || {
        echo "bench: seed failed ($label):" >&2
        cat "$WORK/seed.err" >&2
        exit 1
    }
    end=$(date +%s.%N)
    local made
    made=$(wc -l <"$WORK/users.ndjson")
    printf '%-28s %s user records, wall %.2f s | %s\n' "$label" "$made" \
        "$(echo "$end - $start" | bc)" "$(tail -n1 "$WORK/seed.err")"
    stop_server
}

echo "seed bench: $USERS users x 20 tasks, scenario $SCENARIO, $(nproc) cores"
bench "tasktracker --hash-cost 4" --hash-cost 4
bench "tasktracker (default cost)"
