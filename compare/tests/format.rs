//! Pins the NDJSON output format: the records are re-declared here with
//! `deny_unknown_fields`, so adding, renaming or dropping a field fails this
//! test and must be done on purpose (and in the README).

mod common;

use common::{compare, lognormal, stats, stdout, Dir};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Record {
    kind: String,
    name: String,
    metric: String,
    baseline: Option<f64>,
    current: Option<f64>,
    change: Option<f64>,
    p_value: Option<f64>,
    effect: Option<f64>,
    verdict: String,
    p_adjusted: Option<f64>,
    limit: Option<f64>,
    ks_d: Option<f64>,
    ks_p_value: Option<f64>,
    cliffs_delta: Option<f64>,
    test: Option<String>,
    count_baseline: u64,
    count_current: u64,
    baseline_label: Option<String>,
    label: Option<String>,
}

fn parse(text: &str) -> Vec<Record> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn ndjson_records_have_exactly_the_documented_fields() {
    let dir = Dir::new();
    let base = dir.summary(
        "base.ndjson",
        &[
            stats("GET /a", &lognormal(1, 500, 10.0, 0.5, 1.0), 1, 60.0),
            stats("GET /gone", &lognormal(2, 50, 10.0, 0.5, 1.0), 0, 60.0),
        ],
    );
    let cur = dir.summary(
        "cur.ndjson",
        &[stats("GET /a", &lognormal(3, 500, 10.0, 0.5, 1.4), 2, 60.0)],
    );
    let out = compare(&[&base, &cur, "--format", "ndjson"]);
    let records = parse(&stdout(&out));
    assert!(records.iter().all(|r| r.kind == "comparison"));
    let metrics: Vec<&str> = records
        .iter()
        .filter(|r| r.name == "GET /a")
        .map(|r| r.metric.as_str())
        .collect();
    assert_eq!(
        metrics,
        [
            "p50_ns",
            "p90_ns",
            "p95_ns",
            "p99_ns",
            "p999_ns",
            "mean_ns",
            "max_ns",
            "error_rate",
            "rps"
        ]
    );
    let p95 = records
        .iter()
        .find(|r| r.name == "GET /a" && r.metric == "p95_ns")
        .unwrap();
    assert!(p95.ks_d.is_some() && p95.cliffs_delta.is_some() && p95.limit == Some(0.2));
    let errors = records.iter().find(|r| r.metric == "error_rate").unwrap();
    assert_eq!(errors.test.as_deref(), Some("Fisher"));
    assert!(records
        .iter()
        .any(|r| r.name == "GET /gone" && r.metric == "count" && r.verdict == "removed"));

    // Side by side carries the labels.
    let out = compare(&[
        "--label", "one", &base, "--label", "two", &cur, "--format", "ndjson",
    ]);
    let records = parse(&stdout(&out));
    assert!(!records.is_empty());
    assert!(records
        .iter()
        .all(|r| r.baseline_label.as_deref() == Some("one") && r.label.as_deref() == Some("two")));
}

#[test]
fn a_closed_pipe_is_a_normal_end() {
    let dir = Dir::new();
    let runs: Vec<_> = (0..40)
        .map(|i| {
            stats(
                &format!("GET /e{i}"),
                &lognormal(i, 100, 10.0, 0.5, 1.0),
                0,
                60.0,
            )
        })
        .collect();
    let base = dir.summary("base.ndjson", &runs);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_compare"))
        .args([&base, &base, "--format", "table"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
