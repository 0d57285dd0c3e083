#!/bin/sh
# One shard of a many-machine run: seed this shard's users, wait for the
# common start, drive this shard's share of the load, print its summary
# (NDJSON, on stdout). The one pod command: the Kubernetes Job runs it from
# its ConfigMap, scripts/ssh-run.sh on each host, and the local simulation
# test (hammer/tests/shards.rs) as N processes.
#
#   SHARDS=4 JOB_COMPLETION_INDEX=0 START_AT=2026-12-03T15:00:00Z \
#   TARGET=http://tasktracker:8080 SCENARIO=scenario.toml \
#   HAMMER_ARGS='--vus 100 --duration 1m' sh shard.sh > shard-0.ndjson
#
# SEED_ARGS go to seed (e.g. --users 400: all shards' users), HAMMER_ARGS to
# hammer (the workload of the whole run; each shard takes its share).
# EVENTS=FILE also keeps the shard's events. The exit status is aggregate's:
# when seed or hammer fail (bad input, a start time already past) it has no
# events and fails too; their reasons are on stderr.
set -eu
: "${SHARDS:?SHARDS: how many shards the run has}"
: "${JOB_COMPLETION_INDEX:?JOB_COMPLETION_INDEX: this shard's index, from 0}"
: "${START_AT:?START_AT: when the load starts (RFC 3339 or Unix seconds)}"
: "${TARGET:?TARGET: the base URL under test}"
SCENARIO=${SCENARIO:-/etc/loadpipe/scenario.toml}
export JOB_COMPLETION_INDEX

keep() {
    if [ -n "${EVENTS:-}" ]; then tee "$EVENTS"; else cat; fi
}

# SEED_ARGS and HAMMER_ARGS are split into words on purpose.
# shellcheck disable=SC2086
seed -s "$SCENARIO" --target "$TARGET" --shards "$SHARDS" -q ${SEED_ARGS:-} |
    hammer -s "$SCENARIO" --target "$TARGET" --shards "$SHARDS" --start-at "$START_AT" \
        -q ${HAMMER_ARGS:-} |
    keep |
    aggregate --format ndjson --scenario "$(basename "$SCENARIO" .toml)"
