#!/usr/bin/env bash
# `make demo-ws`: seed 002's TaskForge test (scenarios/taskforge.toml)
# against tasktracker on a free loopback port: the weighted HTTP mix beside
# 50 staggered WebSocket subscribers; prints the table with the WebSocket
# rows (connect, subscribe round trips, pushes received), stops the server.
set -euo pipefail
cd "$(dirname "$0")/.."
SCENARIO=${SCENARIO:-scenarios/taskforge.toml}
USERS=${USERS:-20}
DURATION=${DURATION:-20s}
source scripts/lib.sh

RUN=${RUN:-out/demo-ws-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$RUN"

start_tasktracker "$RUN/tasktracker.log"
echo "demo-ws: tasktracker at $URL" >&2
"$BIN/seed" -s "$SCENARIO" --target "$URL" --users "$USERS" -o "$RUN/users.ndjson"
"$BIN/hammer" --check -s "$SCENARIO" --target "$URL" --users-file "$RUN/users.ndjson" \
    2>"$RUN/check.txt" || { cat "$RUN/check.txt" >&2; echo "demo-ws: the smoke check failed (above)" >&2; exit 1; }
tail -1 "$RUN/check.txt" >&2
echo "hammer: $SCENARIO for $DURATION: 20 HTTP VUs, 50 WebSocket subscribers, 5 job workers" >&2
"$BIN/hammer" -s "$SCENARIO" --target "$URL" --users-file "$RUN/users.ndjson" --duration "$DURATION" \
    | tee "$RUN/events.ndjson" \
    | "$BIN/aggregate" --format table --out-dir "$RUN" --label taskforge --scenario taskforge \
        --threshold 'error_rate<1%'
"$BIN/chart" "$RUN/summary.ndjson" --out-dir "$RUN/charts"
point_latest "$RUN"

cat >&2 <<MSG

demo-ws: results in $RUN/  (also out/latest)
  table.txt        the table above: "WS feed connect" (handshakes), "WS feed subscribe"
                   (round trip to each ack, from its 2 s schedule), "WS feed recv task_update"
                   (pushes; rps = messages/s; latency = delivery from the server's stamp)
  events.ndjson    one event per request, message and handshake (hammer)
  charts/report.html
MSG
