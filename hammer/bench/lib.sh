# Shared by hammer's benchmark scripts (source it after `set -euo pipefail`
# and cd to the workspace root): a temp dir, the processes started, and
# their removal on every exit path; peers from Debian's packages; ports.

# bench_start NAME: makes $WORK; whatever way the script ends (done, an
# error under set -e, ^C), the processes in PIDS stop and $WORK goes.
bench_start() {
    WORK=$(mktemp -d "/tmp/hammer-bench-$1.XXXXXX")
    PIDS=()
    trap bench_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}
bench_cleanup() {
    # A process under /usr/bin/time is its child: time dies of the signal
    # without passing it on, so the children are stopped first.
    for pid in "${PIDS[@]}"; do
        pkill -TERM -P "$pid" 2>/dev/null || true
        kill "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}

# have COMMAND: on the PATH, in /usr/sbin, or (time, a shell keyword too)
# GNU time's /usr/bin/time.
have() {
    if [ "$1" = time ]; then
        [ -x /usr/bin/time ]
    else
        command -v "$1" >/dev/null || [ -x "/usr/sbin/$1" ]
    fi
}

# need COMMAND:PACKAGE...: installs the packages of missing commands from
# Debian's archive when we are root; otherwise names them and exits 2.
# Sets NGINX to nginx's path (Debian keeps it in /usr/sbin).
need() {
    local missing=() pair
    for pair in "$@"; do
        have "${pair%%:*}" || missing+=("${pair#*:}")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        if [ "$(id -u)" != 0 ]; then
            echo "$(basename "$0"): needs apt-get install ${missing[*]}" >&2
            exit 2
        fi
        echo "installing ${missing[*]} from Debian's packages..." >&2
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
    NGINX=$(command -v nginx || echo /usr/sbin/nginx)
}

# port_free PORT: exits 2 when something already listens there.
port_free() {
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
        echo "$(basename "$0"): port $1 is taken; set the script's port variable" >&2
        exit 2
    fi
}

# wait_port PORT: waits up to 10 s for a listener.
wait_port() {
    for _ in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "$(basename "$0"): nothing listens on port $1" >&2
    exit 3
}
