#!/usr/bin/env bash
# One load test as a Kubernetes Indexed Job of N shards: applies
# deploy/kubernetes with N, a start time a little ahead, the target and the
# workload; waits for every pod; collects each pod's summary (kubectl logs);
# merges them with the thresholds judged on the whole; writes the run folder;
# exits with the verdict (0 passed, 1 a threshold broke, 2 a shard missing or
# bad input, 3 the Job did not finish). The Job and its ConfigMap are deleted
# on every exit.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/shards-lib.sh

usage() {
    cat <<'EOF2'
usage: scripts/kube-run.sh [FLAGS] [-- HAMMER FLAGS]

  -n, --shards N         pods (completions = parallelism = N; default 4)
      --image IMAGE      the loadpipe image (default loadpipe:latest)
      --namespace NS     the namespace to run in (default: kubectl's)
      --timeout SECONDS  give up waiting after this long (default: lead + 3600)
      --render           print the manifests it would apply, and stop
EOF2
    usage_common
    cat <<'EOF2'

Example:
  scripts/kube-run.sh -n 8 -t http://tasktracker:8080 --users 800 \
    --threshold 'p95<300ms' --threshold 'error_rate<1%' -- --vus 800 --duration 5m
EOF2
}

SHARDS=4
IMAGE=loadpipe:latest
NAMESPACE=""
TIMEOUT=""
RENDER=false
while [ $# -gt 0 ]; do
    case $1 in
        -h | --help) usage; exit 0 ;;
        -n | --shards) SHARDS=$2; shift 2 ;;
        --image) IMAGE=$2; shift 2 ;;
        --namespace) NAMESPACE=$2; shift 2 ;;
        --timeout) TIMEOUT=$2; shift 2 ;;
        --render) RENDER=true; shift ;;
        --) shift; HAMMER_ARGS=("$@"); break ;;
        *)
            used=$(parse_common "$1" "${2-}")
            if [ "$used" = 0 ] || { [ "$used" = 2 ] && [ $# -lt 2 ]; }; then
                echo "kube-run: unknown flag or missing value: $1 (see --help)" >&2
                exit 2
            fi
            parse_common "$1" "$2" >/dev/null
            shift "$used"
            ;;
    esac
done
case $SHARDS in '' | *[!0-9]* | 0) echo "kube-run: --shards needs a whole number ≥ 1, not \`$SHARDS\`" >&2; exit 2 ;; esac
LEAD=${LEAD:-60}
TIMEOUT=${TIMEOUT:-$((LEAD + 3600))}
SCENARIO_FILE=${SCENARIO_FILE:-deploy/kubernetes/scenario.toml}
[ -r "$SCENARIO_FILE" ] || { echo "kube-run: cannot read scenario $SCENARIO_FILE" >&2; exit 2; }

RUN=$(date +%Y%m%d-%H%M%S)
JOB=loadpipe-$RUN
OUT=${OUT:-out/kube-$RUN}
KUBECTL=(kubectl)
[ -n "$NAMESPACE" ] && KUBECTL+=(--namespace "$NAMESPACE")

# The overlay: the base with this run's values, in a folder of its own.
OVERLAY=$(mktemp -d)
APPLIED=false
cleanup() {
    if $APPLIED; then
        "${KUBECTL[@]}" delete -k "$OVERLAY" --ignore-not-found --wait=false >&2 || true
    fi
    rm -rf "$OVERLAY"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cp "$SCENARIO_FILE" "$OVERLAY/scenario.toml"
START=$(start_at "$LEAD")
# Values go into YAML as JSON strings, which YAML reads as they are.
json() { printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g; s/^/"/; s/$/"/'; }
image_name=${IMAGE%:*} image_tag=${IMAGE##*:}
case $image_tag in */*) image_name=$IMAGE image_tag=latest ;; esac
[ "$image_name" = "$IMAGE" ] && image_tag=latest
{
    echo "apiVersion: kustomize.config.k8s.io/v1beta1"
    echo "kind: Kustomization"
    echo "resources:"
    # kustomize takes a base by a relative path only.
    echo "  - $(realpath --relative-to="$OVERLAY" deploy/kubernetes)"
    echo "nameSuffix: -$RUN"
    [ -n "$NAMESPACE" ] && echo "namespace: $NAMESPACE"
    echo "images:"
    echo "  - name: loadpipe"
    echo "    newName: $(json "$image_name")"
    echo "    newTag: $(json "$image_tag")"
    echo "configMapGenerator:"
    echo "  - name: loadpipe-scenario"
    echo "    behavior: merge"
    echo "    files:"
    echo "      - scenario.toml"
    echo "patches:"
    echo "  - patch: |-"
    echo "      apiVersion: batch/v1"
    echo "      kind: Job"
    echo "      metadata:"
    echo "        name: loadpipe"
    echo "      spec:"
    echo "        completions: $SHARDS"
    echo "        parallelism: $SHARDS"
    echo "        template:"
    echo "          spec:"
    echo "            containers:"
    echo "              - name: shard"
    echo "                env:"
    echo "                  - {name: SHARDS, value: $(json "$SHARDS")}"
    echo "                  - {name: START_AT, value: $(json "$START")}"
    [ -n "$TARGET_URL" ] && echo "                  - {name: TARGET, value: $(json "$TARGET_URL")}"
    [ -n "$USERS" ] && echo "                  - {name: SEED_ARGS, value: $(json "--users $USERS")}"
    [ ${#HAMMER_ARGS[@]} -gt 0 ] && echo "                  - {name: HAMMER_ARGS, value: $(json "${HAMMER_ARGS[*]}")}"
} >"$OVERLAY/kustomization.yaml"

if $RENDER; then
    kubectl kustomize "$OVERLAY"
    exit 0
fi

mkdir -p "$OUT/shards"
kubectl kustomize "$OVERLAY" >"$OUT/manifests.yaml"
echo "kube-run: $SHARDS shards of job/$JOB start at $(date -u -d "@$START" +%FT%TZ) (in ${LEAD}s)" >&2
APPLIED=true
"${KUBECTL[@]}" apply -k "$OVERLAY" >&2

# Every index ends, succeeded or failed (backoffLimitPerIndex: 0).
deadline=$(($(date +%s) + TIMEOUT))
while :; do
    read -r succeeded failed < <("${KUBECTL[@]}" get "job/$JOB" \
        -o jsonpath='{.status.succeeded} {.status.failed}{"\n"}' 2>/dev/null || echo "0 0")
    succeeded=${succeeded:-0} failed=${failed:-0}
    [ $((succeeded + failed)) -ge "$SHARDS" ] && break
    if [ "$(date +%s)" -ge "$deadline" ]; then
        echo "kube-run: job/$JOB not finished after ${TIMEOUT}s ($succeeded succeeded, $failed failed)" >&2
        exit 3
    fi
    sleep 5
done
echo "kube-run: job/$JOB done: $succeeded shards succeeded, $failed failed" >&2

# Each pod's log: its summary lines (NDJSON records) and what its tools said.
"${KUBECTL[@]}" get pods -l "job-name=$JOB" -o \
    jsonpath='{range .items[*]}{.metadata.name} {.metadata.annotations.batch\.kubernetes\.io/job-completion-index}{"\n"}{end}' |
    while read -r pod index; do
        "${KUBECTL[@]}" logs "$pod" >"$OUT/shards/pod-$index.log" || true
        grep '^{"kind":' "$OUT/shards/pod-$index.log" >"$OUT/shards/shard-$index.ndjson" || true
        grep -v '^{"kind":' "$OUT/shards/pod-$index.log" | sed "s/^/shard $index: /" >&2 || true
    done

status=0
merge_shards "$OUT" "$SHARDS" || status=$?
echo "kube-run: run folder $OUT (exit $status)" >&2
exit "$status"
