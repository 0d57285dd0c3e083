#!/usr/bin/env bash
# Open-model send precision: hammer's lag_ns p50/p99 and its CPU time per
# request at 500, 2,000 and 10,000 req/s against nginx (1 worker on core 1,
# hammer on core 0, one worker thread), for each pacer timer (the default:
# a timerfd woken early by its measured lateness, then a short spin; a plain
# timerfd; tokio's 1 ms timer, as before; tokio then a yield_now spin; a
# timer thread with nanosleep then a spin), and oha --latency-correction at
# the same rates when oha is installed.
#
#   hammer/bench/precision.sh                        # from the workspace root
#   DURATION=5 RATES="500 10000" TIMERS=timerfd hammer/bench/precision.sh
#   TUNED=1 TIMERS=timerfd hammer/bench/precision.sh  # a machine set for latency
#
# TUNED=1 runs everything as on a machine set up for latency: it holds
# /dev/cpu_dma_latency at 0 for the runs (what tuned's latency-performance
# profile does: an idle core polls instead of halting, so a wake-up is not a
# VM exit) and runs each generator, and the wake-up floor, as SCHED_FIFO 1
# (chrt), so no other process on core 0 delays it. Needs root.
#
# Needs nginx (apt-get install nginx-light) and python3.
set -euo pipefail
cd "$(dirname "$0")/../.."

PORT=${PORT:-18992}
DURATION=${DURATION:-10}
RATES=${RATES:-500 2000 10000}
TIMERS=${TIMERS:-timerfd timerfd-plain tokio spin thread}
THREADS=${THREADS:-1}
TUNED=${TUNED:-0}
WORK=$(mktemp -d /tmp/hammer-precision.XXXXXX)
NGINX_PID=
HOLD_PID=
cleanup() {
    if [ -n "$NGINX_PID" ]; then kill "$NGINX_PID" 2>/dev/null || true; fi
    if [ -n "$HOLD_PID" ]; then kill "$HOLD_PID" 2>/dev/null || true; fi
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

RT=()
if [ "$TUNED" = 1 ]; then
    if [ ! -w /dev/cpu_dma_latency ] || ! chrt -f 1 true 2>/dev/null; then
        echo "precision.sh: TUNED=1 needs root (/dev/cpu_dma_latency, chrt -f)" >&2
        exit 2
    fi
    # The request holds while the file stays open: this process is killed
    # on exit like nginx.
    python3 -c 'import os, struct, time; fd = os.open("/dev/cpu_dma_latency", os.O_WRONLY); os.write(fd, struct.pack("i", 0)); time.sleep(86400)' &
    HOLD_PID=$!
    RT=(chrt -f 1)
fi

NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || { echo "precision.sh: nginx is needed (apt-get install nginx-light)" >&2; exit 2; }
cargo build --release -q -p hammer --bins --example wake_cost
HAMMER=${CARGO_TARGET_DIR:-target}/release/hammer
WAKE_COST=${CARGO_TARGET_DIR:-target}/release/examples/wake_cost

mkdir -p "$WORK/nginx"
sed -e "s|@PREFIX@|$WORK/nginx|g" -e "s|@PORT@|$PORT|g" hammer/bench/nginx.conf.in > "$WORK/nginx/nginx.conf"
taskset -c 1 "$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
NGINX_PID=$!
for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
    sleep 0.1
done
URL="http://127.0.0.1:$PORT/"

# Runs a generator on core 0 and prints its CPU time in seconds: every
# thread's time on a CPU from /proc/PID/task/*/schedstat (nanoseconds; the
# tick sampling /usr/bin/time reports over-counts a process that wakes on
# the tick), polled every 20 ms until it exits.
cat > "$WORK/cpu_of.py" <<'PY'
import os, subprocess, sys, time
out = open(os.environ["CHILD_OUT"], "w") if "CHILD_OUT" in os.environ else None
p = subprocess.Popen(["taskset", "-c", "0"] + sys.argv[1:], stdout=out)
seen = {}
while p.poll() is None:
    try:
        for tid in os.listdir(f"/proc/{p.pid}/task"):
            try:
                with open(f"/proc/{p.pid}/task/{tid}/schedstat") as f:
                    seen[tid] = int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
    except OSError:
        pass
    time.sleep(0.02)
print(sum(seen.values()) / 1e9)
PY

# lag p50/p99 and corrected latency (latency + lag, what oha's
# --latency-correction reports) p50/p99 in µs of an events file, and
# CPU-µs per request.
cat > "$WORK/report.py" <<'PY'
import json, sys
label, events, cpu = sys.argv[1], sys.argv[2], float(sys.argv[3])
rows = [r for r in map(json.loads, open(events)) if "kind" not in r]  # the load record has none
lags = sorted(r["lag_ns"] for r in rows)
corrected = sorted(r["lag_ns"] + r["latency_ns"] for r in rows)
q = lambda xs, p: xs[min(len(xs) - 1, int(len(xs) * p))] / 1e3
print(f"{label:<22} {len(rows):>7} {q(lags, 0.5):>10.1f} {q(lags, 0.99):>10.1f} "
      f"{q(corrected, 0.5):>10.1f} {q(corrected, 0.99):>10.1f} {cpu * 1e6 / max(1, len(rows)):>12.1f}")
PY

# The same columns for oha: its corrected percentiles and request count
# from its text summary (no lag of its own to show).
cat > "$WORK/report_oha.py" <<'PY'
import re, sys
label, text, cpu = sys.argv[1], open(sys.argv[2]).read(), float(sys.argv[3])
def pct(p):
    m = re.search(rf"{p}% in ([0-9.]+) (us|ms|secs)", text)
    scale = {"us": 1, "ms": 1e3, "secs": 1e6}
    return float(m.group(1)) * scale[m.group(2)] if m else float("nan")
n = sum(int(c) for c in re.findall(r"\[\d+\] (\d+) responses", text))
print(f"{label:<22} {n:>7} {'-':>10} {'-':>10} {pct('50.00'):>10.1f} {pct('99.00'):>10.1f} "
      f"{cpu * 1e6 / max(1, n):>12.1f}")
PY

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)$([ "$TUNED" = 1 ] && echo "; TUNED=1: cpu_dma_latency 0, generators SCHED_FIFO 1")"
printf '%-22s %7s %10s %10s %10s %10s %12s\n' "run" "events" "lag p50" "lag p99" "corr. p50" "corr. p99" "CPU-µs/req"
for rate in $RATES; do
    for timer in $TIMERS; do
        cpu=$(HAMMER_PACER_TIMER=$timer python3 "$WORK/cpu_of.py" "${RT[@]}" "$HAMMER" --url "$URL" \
            --rate "$rate" --duration "${DURATION}s" --threads "$THREADS" -q -o "$WORK/events.ndjson")
        python3 "$WORK/report.py" "hammer $timer @$rate" "$WORK/events.ndjson" "$cpu"
    done
    if command -v oha >/dev/null; then
        cpu=$(CHILD_OUT="$WORK/oha.txt" python3 "$WORK/cpu_of.py" "${RT[@]}" oha -z "${DURATION}s" -q "$rate" \
            --latency-correction --no-tui -u us "$URL")
        python3 "$WORK/report_oha.py" "oha @$rate" "$WORK/oha.txt" "$cpu"
    fi
done
command -v oha >/dev/null || echo "(oha is not installed: no oha figures; cargo install oha --locked)"
# The floor under any precise sender: the CPU one timerfd sleep-and-wake
# costs here with nothing else in the loop (a request needs at least two:
# its send and its response), and how late the kernel wakes it (a sender
# that does not wake early and spin is at least this late).
for rate in $RATES; do taskset -c 0 "${RT[@]}" "$WAKE_COST" "$rate" 2; done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
