# Shared by the make targets' scripts: start the reference tasktracker on a
# free loopback port and run seed | hammer | aggregate against it.
# Source it; it expects `set -euo pipefail` and the repository root as cwd.

BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release}
SCENARIO=${SCENARIO:-scenarios/tasktracker.toml}
USERS=${USERS:-50}
STAGES=${STAGES:-5s:50,15s:50,5s:0}
THINK=${THINK:-100ms..500ms}
# PRESET=quick|standard|medium|stress|endurance: hammer --preset (seed 000's
# table, users started at 10/s) instead of STAGES. VUs share the USERS seeded
# accounts round-robin.
PRESET=${PRESET:-}
if [ -n "$PRESET" ]; then
    LOAD=(--preset "$PRESET")
    LOAD_SHOWN="preset $PRESET"
else
    LOAD=(--stages "$STAGES")
    LOAD_SHOWN="stages $STAGES"
fi

# Every exit path (success, a failing step under set -e, a signal) stops the
# processes in SERVERS, then runs the CLEANUPS (e.g. dropping a schema).
SERVERS=()
CLEANUPS=()
stop_servers() {
    for pid in "${SERVERS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${SERVERS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
on_exit() {
    local status=$?
    stop_servers
    for step in "${CLEANUPS[@]}"; do eval "$step" || true; done
    exit "$status"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# point_latest DIR: out/latest names the newest run folder, whatever made it.
point_latest() {
    mkdir -p out
    if [ "$(dirname "$1")" = out ]; then
        ln -sfn "$(basename "$1")" out/latest
    else
        ln -sfn "$(cd "$1" && pwd)" out/latest
    fi
}

# start_tasktracker LOG [FLAGS...]: starts it, sets $URL.
start_tasktracker() {
    local log=$1
    shift
    # bcrypt cost 4 keeps seeding quick; the API is otherwise as load-tested.
    "$BIN/tasktracker" --listen 127.0.0.1:0 --hash-cost 4 "$@" 2>"$log" &
    local pid=$!
    SERVERS+=("$pid")
    TASKTRACKER_PID=$pid
    URL=""
    for _ in $(seq 1 100); do
        URL=$(grep -o 'listening on http://[^ ]*' "$log" | head -1 | cut -d' ' -f3 || true)
        [ -n "$URL" ] && return 0
        if ! kill -0 "$pid" 2>/dev/null; then
            cat "$log" >&2
            exit 3
        fi
        sleep 0.1
    done
    echo "tasktracker did not start; its log:" >&2
    cat "$log" >&2
    exit 3
}

# start_hostwatch FILE [FLAGS...]: hostwatch in the background writing
# samples to FILE (its stderr summary to FILE.err), sets $HOSTWATCH; the EXIT
# trap stops it with the servers. stop_hostwatch ends it with SIGINT, waits,
# shows its summary and returns its status (1: a --threshold broke).
start_hostwatch() {
    local file=$1
    shift
    "$BIN/hostwatch" "$@" </dev/null >"$file" 2>"$file.err" &
    HOSTWATCH=$!
    SERVERS+=("$HOSTWATCH")
}
stop_hostwatch() {
    local status=0
    kill -INT "$HOSTWATCH" 2>/dev/null || true
    wait "$HOSTWATCH" || status=$?
    cat "$1.err" >&2
    return "$status"
}

# run_pipeline DIR LABEL [AGGREGATE FLAGS...]: seed | hammer | aggregate
# against $URL, keeping users, events and the aggregate outputs in DIR.
run_pipeline() {
    local dir=$1 label=$2
    shift 2
    mkdir -p "$dir"
    # users.ndjson holds tokens and passwords: seed creates it with mode 0600.
    "$BIN/seed" -s "$SCENARIO" --target "$URL" --users "$USERS" -o "$dir/users.ndjson"
    # The smoke test first: every request and flow once; a failure stops here.
    "$BIN/hammer" --check -s "$SCENARIO" --target "$URL" --users-file "$dir/users.ndjson" \
        2>"$dir/check.txt" || { cat "$dir/check.txt" >&2; echo "demo: the smoke check failed (above)" >&2; return 1; }
    tail -1 "$dir/check.txt" >&2
    echo "hammer: $LOAD_SHOWN, think $THINK, $USERS seeded users ($label)" >&2
    "$BIN/hammer" -s "$SCENARIO" --target "$URL" --users-file "$dir/users.ndjson" \
            "${LOAD[@]}" --think "$THINK" \
        | tee "$dir/events.ndjson" \
        | "$BIN/aggregate" --format table --out-dir "$dir" --label "$label" \
            --scenario "$(basename "$SCENARIO" .toml)" "$@"
}
