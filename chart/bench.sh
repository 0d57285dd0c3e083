#!/usr/bin/env bash
# Times `chart` on a one-hour run: 3,600 one-second intervals, 50 endpoints.
# Target: under 2 s for the four one-run charts, and for report.html alone
# (release build); report.html at most 300 KB.
#   chart/bench.sh            # from the workspace root
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p chart --bins --example gen_summary
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
${CARGO_TARGET_DIR:-target}/release/examples/gen_summary "$dir/hour.ndjson" 3600 50 one-hour 0 0 --pg
${CARGO_TARGET_DIR:-target}/release/examples/gen_summary "$dir/hour-b.ndjson" 3600 50 one-hour-slower 3
ls -l "$dir"/*.ndjson | awk '{print "input:", $5, "bytes", $NF}'
one="${CARGO_TARGET_DIR:-target}/release/chart $dir/hour.ndjson --out-dir $dir/one"
pg="${CARGO_TARGET_DIR:-target}/release/chart $dir/hour.ndjson --pg $dir/hour.ndjson.pg.ndjson --out-dir $dir/pg"
two="${CARGO_TARGET_DIR:-target}/release/chart $dir/hour.ndjson $dir/hour-b.ndjson --out-dir $dir/two"
html="${CARGO_TARGET_DIR:-target}/release/chart $dir/hour.ndjson --html $dir/report.html"
if command -v hyperfine >/dev/null; then
    hyperfine --warmup 1 --runs 5 --style basic -n one-run "$one" -n one-run+pg "$pg" -n two-runs "$two" -n report.html "$html"
else
    for cmd in "$one" "$pg" "$two" "$html"; do
        echo "$cmd"
        /usr/bin/time -f "  %e s wall, %U s user, %M KB max RSS" $cmd 2>&1 | grep -v '^  /\|^chart:'
    done
fi
$html 2>/dev/null
echo "report.html of the one-hour, 50-endpoint run: $(wc -c < "$dir/report.html") bytes (goal: 307200)"
