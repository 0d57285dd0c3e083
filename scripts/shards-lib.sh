# Shared by kube-run.sh and ssh-run.sh, the two fan-outs of one many-machine
# run: the common flags, the start time, and the merge that judges the run
# once, on the whole. Source it under `set -euo pipefail`, from the
# repository root.

BIN=${BIN:-target/release}
SHARD_SH=deploy/kubernetes/shard.sh
SCENARIO_FILE=""
TARGET_URL=""
USERS=""
LEAD=""
OUT=""
THRESHOLDS=()
HAMMER_ARGS=()

# usage_common: the flags both fan-outs take.
usage_common() {
    cat <<'EOF2'
  -s, --scenario FILE    the scenario (default: deploy/kubernetes/scenario.toml)
  -t, --target URL       the base URL under test, as the shards reach it
      --users N          users in all shards (seed --users; default: the scenario's)
      --lead SECONDS     start the load this long after launching the shards
      --threshold EXPR   judged on the merged run (repeatable), as aggregate's
  -o, --out DIR          the run folder (default: out/<kind>-YYYYmmdd-HHMMSS)
  -- HAMMER FLAGS        the whole run's workload, e.g. -- --vus 400 --duration 5m;
                         each shard takes its share (hammer --shards)
EOF2
}

# parse_common FLAG [VALUE]: takes one common flag; prints how many
# arguments it used (0: not a common flag).
parse_common() {
    case $1 in
        -s | --scenario) SCENARIO_FILE=$2; echo 2 ;;
        -t | --target) TARGET_URL=$2; echo 2 ;;
        --users) USERS=$2; echo 2 ;;
        --lead) LEAD=$2; echo 2 ;;
        --threshold) THRESHOLDS+=(--threshold "$2"); echo 2 ;;
        -o | --out) OUT=$2; echo 2 ;;
        *) echo 0 ;;
    esac
}

# start_at SECONDS: the Unix time that many seconds from now.
start_at() {
    echo $(($(date +%s) + $1))
}

# merge_shards DIR N: merges DIR/shards/shard-*.ndjson (all N must be
# there), writes the run folder (aggregate's files and charts) in DIR,
# prints the table and returns aggregate's verdict (1: a threshold broke,
# 2: a shard missing or not of this run).
merge_shards() {
    local dir=$1 n=$2 status=0
    local files=()
    for f in "$dir"/shards/shard-*.ndjson; do
        [ -s "$f" ] && files+=("$f")
    done
    if [ ${#files[@]} -eq 0 ]; then
        echo "no shard printed a summary; their logs are in $dir/shards/" >&2
        return 2
    fi
    "$BIN/aggregate" --merge --expect-shards "$n" --format table --out-dir "$dir" \
        ${THRESHOLDS[@]+"${THRESHOLDS[@]}"} "${files[@]}" || status=$?
    if [ -s "$dir/summary.ndjson" ] && [ -x "$BIN/chart" ]; then
        "$BIN/chart" "$dir/summary.ndjson" --out-dir "$dir/charts" >&2 || true
    fi
    return "$status"
}
