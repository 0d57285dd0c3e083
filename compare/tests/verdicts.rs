//! The compare binary on summaries built from known distributions.

mod common;

use common::{choice, compare, comparisons, find, lognormal, stats, stderr, stdout, Dir};

const TASKS: &str = "GET /api/v1/tasks/";
const TASK: &str = "GET /api/v1/tasks/{id}";
const STATS: &str = "GET /api/v1/stats/";

#[test]
fn same_distribution_is_no_regression() {
    let dir = Dir::new();
    let run = |seed: u64| {
        vec![
            stats(TASKS, &lognormal(seed, 3000, 20.0, 0.5, 1.0), 3, 60.0),
            stats(TASK, &lognormal(seed + 1, 4000, 8.0, 0.4, 1.0), 2, 60.0),
            stats(STATS, &lognormal(seed + 2, 1000, 30.0, 0.7, 1.0), 0, 60.0),
        ]
    };
    let base = dir.summary("base.ndjson", &run(10));
    let cur = dir.summary("cur.ndjson", &run(20));
    let out = compare(&[&base, &cur, "--format", "ndjson"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let records = comparisons(&out);
    assert!(records.iter().all(|c| c.verdict == "~"), "{records:#?}");
    // Four endpoints (three and the total) times nine metrics.
    assert_eq!(records.len(), 4 * 9);
    let p95 = find(&records, TASKS, "p95_ns");
    assert!(
        p95.p_value.unwrap() > 0.01 && (p95.effect.unwrap() - 0.5).abs() < 0.05,
        "{p95:?}"
    );
}

#[test]
fn thirty_percent_slower_is_a_regression() {
    let dir = Dir::new();
    let base = dir.summary(
        "base.ndjson",
        &[
            stats(TASKS, &lognormal(1, 2000, 20.0, 0.5, 1.0), 0, 60.0),
            stats(TASK, &lognormal(2, 2000, 8.0, 0.4, 1.0), 0, 60.0),
        ],
    );
    let cur = dir.summary(
        "cur.ndjson",
        &[
            stats(TASKS, &lognormal(3, 2000, 20.0, 0.5, 1.3), 0, 60.0),
            stats(TASK, &lognormal(4, 2000, 8.0, 0.4, 1.0), 0, 60.0),
        ],
    );
    let out = compare(&[&base, &cur, "--format", "ndjson"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let records = comparisons(&out);
    let p95 = find(&records, TASKS, "p95_ns");
    assert_eq!(p95.verdict, "regression", "{p95:?}");
    assert!((p95.change.unwrap() - 0.3).abs() < 0.08, "{p95:?}");
    assert!(
        p95.p_value.unwrap() < 1e-20 && p95.effect.unwrap() > 0.6,
        "{p95:?}"
    );
    // The untouched endpoint stays quiet.
    assert_eq!(find(&records, TASK, "p95_ns").verdict, "~");

    // The same on a terminal-style table, with the endpoint named.
    let out = compare(&[&base, &cur, "--format", "table"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains(TASKS) && text.contains("regression (limit +20%)"),
        "{text}"
    );
    assert!(
        text.contains("Mann-Whitney") && text.contains("Kolmogorov-Smirnov"),
        "{text}"
    );
}

#[test]
fn two_percent_slower_with_100k_requests_is_significant_but_small() {
    let dir = Dir::new();
    let base = dir.summary(
        "base.ndjson",
        &[stats(
            TASKS,
            &lognormal(5, 100_000, 20.0, 0.5, 1.0),
            0,
            60.0,
        )],
    );
    let cur = dir.summary(
        "cur.ndjson",
        &[stats(
            TASKS,
            &lognormal(6, 100_000, 20.0, 0.5, 1.02),
            0,
            60.0,
        )],
    );
    let out = compare(&[&base, &cur, "--format", "ndjson"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let records = comparisons(&out);
    let p95 = find(&records, TASKS, "p95_ns");
    assert!(p95.p_value.unwrap() < 1e-6, "significant: {p95:?}");
    assert!(
        p95.change.unwrap() > 0.0 && p95.change.unwrap() < 0.05,
        "{p95:?}"
    );
    // A tiny effect: the probability of superiority is barely above one half.
    assert!(
        p95.effect.unwrap() > 0.5 && p95.effect.unwrap() < 0.53,
        "{p95:?}"
    );
    assert_eq!(p95.verdict, "~");
    // A tight enough limit turns the same data into a regression.
    let out = compare(&[
        &base,
        &cur,
        "--format",
        "ndjson",
        "--max-increase",
        "p50=1%",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert_eq!(
        find(&comparisons(&out), TASKS, "p50_ns").verdict,
        "regression"
    );
}

#[test]
fn error_rate_from_a_tenth_of_a_percent_to_five_is_a_regression() {
    let dir = Dir::new();
    let base = dir.summary(
        "base.ndjson",
        &[stats(TASKS, &lognormal(7, 5000, 20.0, 0.5, 1.0), 5, 60.0)],
    );
    let cur = dir.summary(
        "cur.ndjson",
        &[stats(TASKS, &lognormal(8, 5000, 20.0, 0.5, 1.0), 250, 60.0)],
    );
    let out = compare(&[&base, &cur, "--format", "ndjson"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let records = comparisons(&out);
    let errors = find(&records, TASKS, "error_rate");
    assert_eq!(errors.verdict, "regression", "{errors:?}");
    assert!(
        (errors.change.unwrap() - 4.9).abs() < 1e-9,
        "in percentage points: {errors:?}"
    );
    assert!(errors.p_value.unwrap() < 1e-30, "{errors:?}");
    assert_eq!(find(&records, TASKS, "p95_ns").verdict, "~");
    // Few errors on both sides: Fisher's exact test, and no verdict on noise.
    let base = dir.summary(
        "fewbase.ndjson",
        &[stats(TASKS, &lognormal(7, 5000, 20.0, 0.5, 1.0), 2, 60.0)],
    );
    let cur = dir.summary(
        "few.ndjson",
        &[stats(TASKS, &lognormal(8, 5000, 20.0, 0.5, 1.0), 4, 60.0)],
    );
    let out = compare(&[&base, &cur, "--format", "table"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("errors: Fisher p="),
        "{}",
        stdout(&out)
    );
}

#[test]
fn too_few_requests_get_no_verdict() {
    let dir = Dir::new();
    let base = dir.summary(
        "base.ndjson",
        &[
            stats(TASKS, &lognormal(9, 12, 20.0, 0.5, 1.0), 0, 60.0),
            stats(TASK, &lognormal(10, 500, 8.0, 0.4, 1.0), 0, 60.0),
        ],
    );
    // Ten times slower, all failing, but only 15 requests.
    let cur = dir.summary(
        "cur.ndjson",
        &[
            stats(TASKS, &lognormal(11, 15, 20.0, 0.5, 10.0), 15, 60.0),
            stats(TASK, &lognormal(12, 500, 8.0, 0.4, 1.0), 0, 60.0),
        ],
    );
    let out = compare(&[
        &base,
        &cur,
        "--format",
        "ndjson",
        "--max-increase",
        "rps=off",
    ]);
    let records = comparisons(&out);
    let thin: Vec<_> = records.iter().filter(|c| c.name == TASKS).collect();
    assert_eq!(thin.len(), 9);
    assert!(
        thin.iter()
            .all(|c| c.verdict == "insufficient data" && c.p_value.is_none()),
        "{thin:#?}"
    );
    assert!(
        find(&records, TASKS, "p95_ns").change.unwrap() > 5.0,
        "the change is still shown"
    );
    let text = stdout(&compare(&[&base, &cur, "--format", "table"]));
    assert!(text.contains("insufficient data"), "{text}");
}

#[test]
fn endpoints_only_in_one_run_are_added_or_removed() {
    let dir = Dir::new();
    let base = dir.summary(
        "base.ndjson",
        &[
            stats(TASKS, &lognormal(13, 500, 20.0, 0.5, 1.0), 0, 60.0),
            stats(
                "DELETE /api/v1/tasks/{id}",
                &lognormal(14, 100, 5.0, 0.5, 1.0),
                0,
                60.0,
            ),
        ],
    );
    let cur = dir.summary(
        "cur.ndjson",
        &[
            stats(TASKS, &lognormal(15, 500, 20.0, 0.5, 1.0), 0, 60.0),
            stats(
                "PATCH /api/v1/tasks/{id}/complete",
                &lognormal(16, 80, 5.0, 0.5, 1.0),
                0,
                60.0,
            ),
        ],
    );
    let out = compare(&[&base, &cur, "--format", "ndjson"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let records = comparisons(&out);
    let removed = find(&records, "DELETE /api/v1/tasks/{id}", "count");
    assert_eq!(
        (removed.verdict.as_str(), removed.baseline, removed.current),
        ("removed", Some(100.0), None)
    );
    let added = find(&records, "PATCH /api/v1/tasks/{id}/complete", "count");
    assert_eq!(
        (added.verdict.as_str(), added.baseline, added.current),
        ("added", None, Some(80.0))
    );
    let text = stdout(&compare(&[&base, &cur, "--format", "table"]));
    assert!(
        text.contains("removed  DELETE /api/v1/tasks/{id} (100 requests)"),
        "{text}"
    );
    assert!(
        text.contains("added    PATCH /api/v1/tasks/{id}/complete (80 requests)"),
        "{text}"
    );
    let md = stdout(&compare(&[&base, &cur, "--format", "markdown"]));
    assert!(
        md.contains("**Added:** `PATCH /api/v1/tasks/{id}/complete`"),
        "{md}"
    );
}

#[test]
fn bad_input_names_file_and_line_and_exits_2() {
    let dir = Dir::new();
    let good = dir.summary(
        "good.ndjson",
        &[stats(TASKS, &choice(1, 50, &[1_000_000]), 0, 60.0)],
    );
    let cases: Vec<(&str, String, &str)> = vec![
        ("broken.ndjson", "{\"kind\":\"run\",\"start\":0,\"end\":0,\"duration_ns\":0}\n\n{not json\n".into(), ":3: "),
        (
            "badhist.ndjson",
            format!(
                "{}\n{}\n",
                "{\"kind\":\"run\",\"start\":0,\"end\":0,\"duration_ns\":0}",
                "{\"kind\":\"endpoint\",\"name\":\"x\",\"count\":5,\"errors\":0,\"rps\":1,\"min_ns\":1,\"mean_ns\":1,\"stdev_ns\":0,\"max_ns\":1,\"p50_ns\":1,\"p66_ns\":1,\"p75_ns\":1,\"p80_ns\":1,\"p90_ns\":1,\"p95_ns\":1,\"p98_ns\":1,\"p99_ns\":1,\"p999_ns\":1,\"p9999_ns\":1,\"hist\":\"AAAA\"}"
            ),
            ":2: field `hist` of `x`",
        ),
        ("events.ndjson", "{\"ts\":1,\"name\":\"GET /\",\"status\":200,\"latency_ns\":5}\n".into(), ":1: "),
        ("empty.ndjson", "".into(), "empty.ndjson: no summary records"),
    ];
    for (name, text, needle) in cases {
        let path = dir.path(name);
        std::fs::write(&path, text).unwrap();
        let path = path.to_string_lossy().into_owned();
        let out = compare(&[&good, &path]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        let err = stderr(&out);
        assert!(err.contains(name) && err.contains(needle), "{name}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let missing = dir.path("missing.ndjson").to_string_lossy().into_owned();
    let out = compare(&[&good, &missing]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("missing.ndjson"), "{}", stderr(&out));
    // Usage errors are exit 2 too, naming the flag.
    let out = compare(&[&good, &good, "--max-increase", "p95=lots"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--max-increase `p95=lots`"),
        "{}",
        stderr(&out)
    );
    assert_eq!(compare(&[&good]).status.code(), Some(2));
    assert_eq!(
        compare(&["--format", "pdf", &good, &good]).status.code(),
        Some(2)
    );
}

#[test]
fn markdown_is_ready_for_a_pull_request() {
    let dir = Dir::new();
    let base = dir.summary(
        "base.ndjson",
        &[stats(
            "GET /a|b",
            &lognormal(17, 2000, 20.0, 0.5, 1.0),
            0,
            60.0,
        )],
    );
    let cur = dir.summary(
        "cur.ndjson",
        &[stats(
            "GET /a|b",
            &lognormal(18, 2000, 20.0, 0.5, 1.5),
            0,
            60.0,
        )],
    );
    let out = compare(&[&base, &cur, "--format", "markdown"]);
    assert_eq!(out.status.code(), Some(1));
    let md = stdout(&out);
    assert!(md.starts_with("### ❌ Performance: "), "{md}");
    assert!(
        md.contains("`base` → `cur`"),
        "labels default to file names: {md}"
    );
    assert!(
        md.contains("| endpoint | metric | baseline | current | change | p (Holm) | verdict |"),
        "{md}"
    );
    assert!(md.contains("|---|---|---:|---:|---:|---:|---|"), "{md}");
    assert!(
        md.contains("| `GET /a\\|b` | p95 |") && md.contains("**regression (limit +20%)**"),
        "{md}"
    );
    assert!(
        md.contains("<details>") && md.contains("</details>"),
        "{md}"
    );
    // Every table row has the header's number of cells.
    for line in md.lines().filter(|l| l.starts_with('|')) {
        assert_eq!(line.replace("\\|", "").matches('|').count(), 8, "{line}");
    }
    let out = compare(&[&base, &base, "--format", "markdown"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).starts_with("### ✅ Performance: no regression"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn labelled_runs_are_put_side_by_side() {
    let dir = Dir::new();
    let mono = dir.summary(
        "m.ndjson",
        &[stats(TASKS, &lognormal(19, 3000, 40.0, 0.4, 1.0), 3, 60.0)],
    );
    let micro = dir.summary(
        "u.ndjson",
        &[stats(TASKS, &lognormal(20, 2000, 40.0, 0.4, 1.8), 30, 60.0)],
    );
    let other = dir.summary(
        "third.ndjson",
        &[stats(TASK, &lognormal(21, 200, 4.0, 0.4, 1.0), 0, 60.0)],
    );
    let out_dir = dir.path("results");
    let out = compare(&[
        "--label",
        "mono",
        &mono,
        "--label",
        "micro",
        &micro,
        "--format",
        "table",
        "--out-dir",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "side by side never fails a check: {}",
        stderr(&out)
    );
    let text = stdout(&out);
    for needle in [
        "Comparison: mono vs micro",
        "Aggregated",
        TASKS,
        "vs mono",
        "p99.9",
        "failure rate",
        "mean",
        "throughput",
    ] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
    // 3000 vs 2000 requests: micro made a third fewer; its failures rose by 1.4pp.
    assert!(
        text.contains("-33.3%") && text.contains("+1.40pp"),
        "{text}"
    );
    assert!(text.contains("micro vs mono: latency differs"), "{text}");
    assert_eq!(
        std::fs::read_to_string(out_dir.join("summary.txt")).unwrap(),
        text
    );

    // Three runs need no labels; missing endpoints show as "-".
    let out = compare(&[&mono, &micro, &other, "--format", "ndjson"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let records = comparisons(&out);
    let rps = records
        .iter()
        .find(|c| {
            c.name == TASKS && c.metric == "rps" && c.current.is_some() && c.baseline.is_some()
        })
        .unwrap();
    assert!((rps.change.unwrap() + 1.0 / 3.0).abs() < 1e-9, "{rps:?}");
    assert!(records
        .iter()
        .any(|c| c.name == TASK && c.verdict == "added"));
    let md = stdout(&compare(&[&mono, &micro, &other, "--format", "markdown"]));
    assert!(md.contains("| | m | u | vs m | third | vs m |"), "{md}");
}

#[test]
fn a_cpu_bound_generator_is_named_beside_the_verdict() {
    let dir = Dir::new();
    let samples = lognormal(7, 500, 10.0, 0.3, 1.0);
    let base = dir.summary("base.ndjson", &[stats("GET /x", &samples, 0, 60.0)]);
    let current = dir.summary("current.ndjson", &[stats("GET /x", &samples, 0, 60.0)]);
    let text = std::fs::read_to_string(&current).unwrap();
    assert!(text.contains("\"cpu_bound\":false"), "{text}");
    std::fs::write(
        &current,
        text.replace("\"cpu_bound\":false", "\"cpu_bound\":true"),
    )
    .unwrap();
    for format in ["table", "markdown"] {
        let out = compare(&[&base, &current, "--format", format]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let text = stdout(&out);
        assert!(
            text.contains("hammer was CPU-bound in current"),
            "{format}: {text}"
        );
    }
    let out = compare(&[&base, &base, "--format", "table"]);
    assert!(!stdout(&out).contains("CPU-bound"));
}
