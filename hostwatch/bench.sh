#!/usr/bin/env bash
# `make bench` (hostwatch): the cost of watching. Several hostwatch runs side
# by side for SECS seconds (1 s and 100 ms intervals; 1 and 50 watched
# processes, by --pid and by --process), each one's
# CPU time of all its threads from /proc/PID/task/*/schedstat (ns).
set -euo pipefail
cd "$(dirname "$0")/.."
HW=${HW:-target/release/hostwatch}
SECS=${SECS:-30}
sleepers=()
cleanup() { for p in "${sleepers[@]}" "${watchers[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
watchers=()
trap cleanup EXIT
for _ in $(seq 1 50); do sleep 3600 & sleepers+=($!); done
pid_args=(); for p in "${sleepers[@]}"; do pid_args+=(--pid "$p"); done
one=(--pid "${sleepers[0]}")
declare -A label
start() { local name=$1; shift; "$HW" "$@" </dev/null >/dev/null 2>&1 & watchers+=($!); label[$!]=$name; }
start "1s, 1 process (--pid)"            --interval 1s "${one[@]}"
start "1s, 50 processes (--pid x50)"     --interval 1s "${pid_args[@]}"
start "1s, 50 processes (--process sleep)" --interval 1s --process sleep
start "100ms, 1 process (--pid)"         --interval 100ms "${one[@]}"
start "100ms, 50 processes (--pid x50)"  --interval 100ms "${pid_args[@]}"
start "100ms, 50 processes (--process sleep)" --interval 100ms --process sleep
start "1s, host only"                    --interval 1s
sleep "$SECS"
for p in "${watchers[@]}"; do
    ns=$(cat /proc/$p/task/*/schedstat | awk '{s+=$1} END {print s}')
    awk -v ns="$ns" -v secs="$SECS" -v l="${label[$p]}" \
        'BEGIN {printf "%-42s %8.1f ms CPU in %ds = %.3f%% of a core\n", l, ns/1e6, secs, ns/1e9/secs*100}'
done
