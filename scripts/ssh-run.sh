#!/usr/bin/env bash
# One load test over plain machines by SSH, the shape of kube-run.sh: host i
# of the list runs shard i (deploy/kubernetes/shard.sh, sent over stdin, with
# the scenario copied to a folder of its own) with a start time a little
# ahead; each host's summary comes back on its stdout; the summaries are
# merged with the thresholds judged on the whole; the run folder is written;
# the exit status is the verdict. The hosts need seed, hammer and aggregate
# on their PATH (or in --remote-bin). Remote folders are removed and ssh
# sessions stopped on every exit.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/shards-lib.sh

usage() {
    cat <<'EOF2'
usage: scripts/ssh-run.sh -H HOSTS [FLAGS] [-- HAMMER FLAGS]

  -H, --hosts FILE       one host a line ([user@]host, as ssh takes it; # comments)
      --remote-bin DIR   where the binaries are on the hosts (default: their PATH)
EOF2
    usage_common
    cat <<'EOF2'

SSH (default `ssh -o BatchMode=yes`) is the command that reaches a host.

Example:
  scripts/ssh-run.sh -H hosts.txt -s scenarios/tasktracker.toml -t http://10.0.0.5:8080 \
    --users 300 --threshold 'p99<1s' -- --rate 3000 --duration 10m
EOF2
}

HOSTS_FILE=""
REMOTE_BIN=""
while [ $# -gt 0 ]; do
    case $1 in
        -h | --help) usage; exit 0 ;;
        -H | --hosts) HOSTS_FILE=$2; shift 2 ;;
        --remote-bin) REMOTE_BIN=$2; shift 2 ;;
        --) shift; HAMMER_ARGS=("$@"); break ;;
        *)
            used=$(parse_common "$1" "${2-}")
            if [ "$used" = 0 ] || { [ "$used" = 2 ] && [ $# -lt 2 ]; }; then
                echo "ssh-run: unknown flag or missing value: $1 (see --help)" >&2
                exit 2
            fi
            parse_common "$1" "$2" >/dev/null
            shift "$used"
            ;;
    esac
done
[ -n "$HOSTS_FILE" ] || { echo "ssh-run: give the hosts with -H FILE (see --help)" >&2; exit 2; }
[ -r "$HOSTS_FILE" ] || { echo "ssh-run: cannot read $HOSTS_FILE" >&2; exit 2; }
mapfile -t HOSTS < <(sed 's/#.*//; s/^[[:space:]]*//; s/[[:space:]]*$//; /^$/d' "$HOSTS_FILE")
[ ${#HOSTS[@]} -gt 0 ] || { echo "ssh-run: $HOSTS_FILE lists no hosts" >&2; exit 2; }
[ -n "$TARGET_URL" ] || { echo "ssh-run: give the target with -t URL" >&2; exit 2; }
SCENARIO_FILE=${SCENARIO_FILE:-deploy/kubernetes/scenario.toml}
[ -r "$SCENARIO_FILE" ] || { echo "ssh-run: cannot read scenario $SCENARIO_FILE" >&2; exit 2; }
LEAD=${LEAD:-10}
read -r -a SSH_CMD <<<"${SSH:-ssh -o BatchMode=yes}"
N=${#HOSTS[@]}
RUN=$(date +%Y%m%d-%H%M%S)
OUT=${OUT:-out/ssh-$RUN}
# One folder per shard: a host may be listed twice (two shards on one machine).
REMOTE_DIR=/tmp/loadpipe-$RUN-$$
mkdir -p "$OUT/shards"

PIDS=()
cleanup() {
    for pid in ${PIDS[@]+"${PIDS[@]}"}; do kill "$pid" 2>/dev/null || true; done
    for pid in ${PIDS[@]+"${PIDS[@]}"}; do wait "$pid" 2>/dev/null || true; done
    for i in "${!HOSTS[@]}"; do
        "${SSH_CMD[@]}" "${HOSTS[$i]}" "rm -rf $REMOTE_DIR-$i" </dev/null 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

START=$(start_at "$LEAD")
q() { printf '%q' "$1"; }
echo "ssh-run: $N shards start at $(date -u -d "@$START" +%FT%TZ) (in ${LEAD}s)" >&2
for i in "${!HOSTS[@]}"; do
    host=${HOSTS[$i]}
    dir=$REMOTE_DIR-$i
    "${SSH_CMD[@]}" "$host" "mkdir -p $dir && cat > $dir/scenario.toml" <"$SCENARIO_FILE"
    env="SHARDS=$N JOB_COMPLETION_INDEX=$i START_AT=$START TARGET=$(q "$TARGET_URL")"
    env+=" SCENARIO=$dir/scenario.toml HAMMER_ARGS=$(q "${HAMMER_ARGS[*]-}")"
    [ -n "$USERS" ] && env+=" SEED_ARGS=$(q "--users $USERS")"
    [ -n "$REMOTE_BIN" ] && env+=" PATH=$(q "$REMOTE_BIN"):\$PATH"
    "${SSH_CMD[@]}" "$host" "cd $dir && $env sh -s" <"$SHARD_SH" \
        >"$OUT/shards/shard-$i.ndjson" 2>"$OUT/shards/shard-$i.log" &
    PIDS+=($!)
done
failed=0
for i in "${!PIDS[@]}"; do
    if ! wait "${PIDS[$i]}"; then
        failed=$((failed + 1))
        echo "ssh-run: shard $i (${HOSTS[$i]}) failed:" >&2
        sed "s/^/  /" "$OUT/shards/shard-$i.log" >&2
    fi
done
PIDS=()
echo "ssh-run: $((N - failed)) of $N shards done" >&2

status=0
merge_shards "$OUT" "$N" || status=$?
echo "ssh-run: run folder $OUT (exit $status)" >&2
exit "$status"
