//! `seed | hammer | aggregate` against the real tasktracker, as people run it.

mod common;

use std::process::Stdio;

use common::*;
use records::testkit::{cmd, Server};

const SCENARIO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/tasktracker.toml");

#[test]
fn seed_hammer_aggregate_pipeline() {
    let server = Server::start(&["--hash-cost", "4"]);
    let dir = tempfile::tempdir().unwrap();
    let run_dir = dir.path().join("run");
    let mut seed = cmd("seed")
        .args(["-s", SCENARIO, "--target", &server.url, "--users", "5"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut hammer = cmd("hammer")
        .args(["-s", SCENARIO, "--target", &server.url])
        .args([
            "--vus",
            "5",
            "--duration",
            "3s",
            "--think",
            "0s",
            "--requests",
            "20000",
        ])
        .stdin(seed.stdout.take().unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = aggregate()
        .args(["--format", "ndjson", "--label", "pipeline", "--out-dir"])
        .arg(&run_dir)
        .args(["--threshold", "count>0", "--threshold", "p99<5s"])
        .stdin(hammer.stdout.take().unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(seed.wait().unwrap().success(), "seed failed");
    assert!(hammer.wait().unwrap().success(), "hammer failed");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let records =
        records::ndjson::read_from::<records::Summary>(&out.stdout[..], "stdout").unwrap();
    let run = run_info(&records);
    assert_eq!(run.labels["label"], "pipeline");
    let secs = run.duration_ns as f64 / 1e9;
    assert!((1.0..15.0).contains(&secs), "a 3s run lasted {secs}s");
    let total = total(&records);
    assert!(total.count > 50, "only {} requests in 3s", total.count);
    let endpoints = endpoints(&records);
    assert!(endpoints.len() >= 3, "{endpoints:?}");
    for e in &endpoints {
        // endpoint templates, never concrete IDs
        assert!(e.name.contains("/api/v1/"), "{}", e.name);
        assert!(
            !e.name
                .split(['/', '?', '='])
                .any(|seg| !seg.is_empty() && seg.chars().all(|c| c.is_ascii_digit())),
            "a concrete ID in {}",
            e.name
        );
        assert!(e.latency.p50_ns > 0 && e.latency.p50_ns <= e.latency.max_ns);
    }
    assert_eq!(endpoints.iter().map(|e| e.count).sum::<u64>(), total.count);
    let intervals = intervals(&records);
    assert_eq!(intervals.iter().map(|i| i.count).sum::<u64>(), total.count);
    assert!(
        intervals.iter().all(|i| i.vus <= 5),
        "at most 5 VUs: {intervals:?}"
    );
    let stats_csv = std::fs::read_to_string(run_dir.join("stats.csv")).unwrap();
    assert_eq!(stats_csv.lines().count(), 1 + endpoints.len() + 1);
}
