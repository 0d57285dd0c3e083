#!/usr/bin/env bash
# `make demo-pg`: tasktracker on PostgreSQL with a small pool, pgwatch beside
# seed | hammer | aggregate, then the charts with the pool pressure overlaid.
set -euo pipefail
cd "$(dirname "$0")/.."
# No think time and a small pool, so the pool pressure shows in the charts.
THINK=${THINK:-0s}
STAGES=${STAGES:-5s:16,10s:16,3s:0}
source scripts/lib.sh

DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
POOL=${POOL:-4}
RUN=${RUN:-out/demo-pg-$(date +%Y%m%d-%H%M%S)}
SCHEMA=${SCHEMA:-loadpipe_demo_$$}
mkdir -p "$RUN"

# Dropped on every exit path, after tasktracker has stopped (on_exit's order).
CLEANUPS+=("psql '$DATABASE_URL' -qc 'DROP SCHEMA IF EXISTS $SCHEMA CASCADE' >/dev/null 2>&1")
start_tasktracker "$RUN/tasktracker.log" --database-url "$DATABASE_URL" \
    --db-schema "$SCHEMA" --pool-size "$POOL"
echo "demo-pg: tasktracker on PostgreSQL (pool $POOL, schema $SCHEMA) at $URL" >&2

# Utilization of tasktracker's pool, so the warning fires when it is full.
"$BIN/pgwatch" --database-url "$DATABASE_URL" --interval 250ms --duration 10m \
    --pool-size "$POOL" --warn-utilization 100% >"$RUN/pg.ndjson" &
pgwatch=$!
SERVERS+=("$pgwatch")
run_pipeline "$RUN" "postgres" --threshold 'error_rate<1%'
kill -INT "$pgwatch"
wait "$pgwatch" || true

"$BIN/chart" "$RUN/summary.ndjson" --pg "$RUN/pg.ndjson" --out-dir "$RUN/charts"
point_latest "$RUN"
echo "demo-pg: results in $RUN/ (pg.ndjson: $(wc -l <"$RUN/pg.ndjson") samples; charts/pg_activity.png)" >&2
echo "demo-pg: open the report: $RUN/charts/report.html (works offline)" >&2
