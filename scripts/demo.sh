#!/usr/bin/env bash
# `make demo`: start tasktracker on a free loopback port, run
# seed | hammer | aggregate against it with hostwatch sampling the machine
# and tasktracker's process beside it, draw the charts, stop the server.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ARCH=${ARCH:-mono}
RUN=${RUN:-out/demo-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$RUN"

start_tasktracker "$RUN/tasktracker.log" --arch "$ARCH"
echo "demo: tasktracker ($ARCH) at $URL" >&2
# --arch micro runs its services inside the same process: one pid either way.
start_hostwatch "$RUN/host.ndjson" --pid "$TASKTRACKER_PID" --interval 250ms
run_pipeline "$RUN" "$ARCH" --threshold 'p95<500ms' --threshold 'error_rate<1%'
stop_hostwatch "$RUN/host.ndjson"
"$BIN/chart" "$RUN/summary.ndjson" --host "$RUN/host.ndjson" --out-dir "$RUN/charts"
point_latest "$RUN"

cat >&2 <<MSG

demo: results in $RUN/  (also out/latest)
  table.txt summary.ndjson stats.csv stats_history.csv failures.csv exceptions.csv   from aggregate
  events.ndjson    one event per request (hammer)
  host.ndjson      host and tasktracker samples every 250 ms (hostwatch)
  users.ndjson     the seeded users, mode 0600: it holds tokens
  charts/*.png     $(cd "$RUN/charts" && ls -- *.png | tr '\n' ' ')
  open the report: $RUN/charts/report.html  (one file, works offline)
MSG
