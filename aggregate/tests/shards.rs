//! `--merge` of the shards of one many-machine run: the count and per-shard
//! breakdown, and a missing shard, a shard of another run and the same shard
//! twice each found and named.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use records::{Load, Shard, Summary};

/// Shard `index` of `count`: `requests` events in a 10 s window from
/// `start`, of `scenario`, summarised by the real aggregate into `dir`.
fn shard_summary(
    dir: &Path,
    name: &str,
    shard: Option<Shard>,
    start: u64,
    scenario: &str,
    requests: u64,
    latency_ns: u64,
) -> PathBuf {
    let mut text = to_ndjson(
        &(0..requests)
            .map(|i| {
                event(
                    start + i * 10_000_000_000 / requests,
                    "GET /a",
                    latency_ns + i,
                )
            })
            .collect::<Vec<_>>(),
    );
    let load = records::event::StreamRecord::Load(Load {
        start,
        end: start + 10_000_000_000,
        shard,
        ..Load::default()
    });
    text.push_str(&serde_json::to_string(&load).unwrap());
    text.push('\n');
    let events = write_file(dir, &format!("{name}.events.ndjson"), &text);
    let out = aggregate()
        .args(["--format", "ndjson", "--scenario", scenario])
        .arg(&events)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let summary = write_file(
        dir,
        &format!("{name}.ndjson"),
        std::str::from_utf8(&out.stdout).unwrap(),
    );
    let records = records::ndjson::read_from::<Summary>(&out.stdout[..], "stdout").unwrap();
    assert_eq!(
        run_info(&records).shard,
        shard,
        "a shard's run record names it"
    );
    summary
}

fn shard(index: u64, count: u64) -> Option<Shard> {
    Some(Shard::new(index, count).unwrap())
}

fn merge(args: &[&Path], flags: &[&str]) -> std::process::Output {
    aggregate()
        .args(["--merge", "--format", "ndjson"])
        .args(flags)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn a_merge_counts_its_shards_and_breaks_them_down() {
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<PathBuf> = (0..3)
        .map(|i| {
            shard_summary(
                dir.path(),
                &format!("s{i}"),
                shard(i, 3),
                T0,
                "tt",
                100 + i,
                1_000_000 * (i + 1),
            )
        })
        .collect();
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let out = merge(
        &paths,
        &["--expect-shards", "3", "--threshold", "count<302"],
    );
    // Each shard alone passes count<302; the whole (303) does not.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("merged 3 shards"), "{}", stderr(&out));
    let records = records::ndjson::read_from::<Summary>(&out.stdout[..], "stdout").unwrap();
    let info = run_info(&records);
    assert_eq!((info.shards, info.shard), (3, None));
    assert_eq!(total(&records).count, 303);
    let rows: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            Summary::Shard(s) => Some(s.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(rows.len(), 3);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.shard, shard(i as u64, 3));
        assert_eq!(row.count, 100 + i as u64);
        assert!(row.source.ends_with(&format!("s{i}.ndjson")));
        // The slow shard shows: its latencies are (i + 1) ms.
        assert!(
            row.p50_ns >= 1_000_000 * (i as u64 + 1) && row.p50_ns < 1_100_000 * (i as u64 + 1),
            "{row:?}"
        );
    }
    let table = aggregate()
        .args(["--merge", "--format", "table"])
        .args(&paths)
        .output()
        .unwrap();
    let table = String::from_utf8(table.stdout).unwrap();
    assert!(
        table.contains("3 shards") && table.contains("2/3"),
        "{table}"
    );
}

#[test]
fn a_missing_shard_is_a_warning_and_with_expect_shards_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let a = shard_summary(dir.path(), "a", shard(0, 3), T0, "tt", 10, 1_000_000);
    let c = shard_summary(dir.path(), "c", shard(2, 3), T0, "tt", 10, 1_000_000);
    let out = merge(&[&a, &c], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("warning: shards 1/3 are missing"),
        "{}",
        stderr(&out)
    );
    let out = merge(&[&a, &c], &["--expect-shards", "3"]);
    assert_bad(&out, "shards 1/3 are missing");
    // Unnamed inputs are counted.
    let x = shard_summary(dir.path(), "x", None, T0, "tt", 10, 1_000_000);
    let y = shard_summary(dir.path(), "y", None, T0, "tt", 11, 1_000_000);
    assert_bad(
        &merge(&[&x, &y], &["--expect-shards", "3"]),
        "2 inputs for 3 shards",
    );
    assert_eq!(
        merge(&[&x, &y], &["--expect-shards", "2"]).status.code(),
        Some(0)
    );
    assert_bad(
        &merge(&[&a, &c], &["--expect-shards", "4"]),
        "inputs are shards of 3",
    );
}

#[test]
fn a_shard_of_another_run_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let a = shard_summary(dir.path(), "a", shard(0, 2), T0, "tt", 10, 1_000_000);
    let other_scenario = shard_summary(dir.path(), "b", shard(1, 2), T0, "other", 10, 1_000_000);
    assert_bad(
        &merge(&[&a, &other_scenario], &[]),
        "different scenarios (`tt`, `other`)",
    );
    let an_hour_later = shard_summary(
        dir.path(),
        "c",
        shard(1, 2),
        T0 + 3_600_000_000_000,
        "tt",
        10,
        1_000_000,
    );
    assert_bad(
        &merge(&[&a, &an_hour_later], &[]),
        "did not run at the same time",
    );
    let split_otherwise = shard_summary(dir.path(), "d", shard(1, 3), T0, "tt", 10, 1_000_000);
    assert_bad(
        &merge(&[&a, &split_otherwise], &[]),
        "split it 2 and 3 ways",
    );
    // Overlapping but not together: a warning that the windows disagree.
    let late = shard_summary(
        dir.path(),
        "e",
        shard(1, 2),
        T0 + 2_000_000_000,
        "tt",
        10,
        1_000_000,
    );
    let out = merge(&[&a, &late], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("windows disagree"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_same_shard_twice_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let a = shard_summary(dir.path(), "a", shard(0, 2), T0, "tt", 10, 1_000_000);
    let copy = dir.path().join("copy.ndjson");
    std::fs::copy(&a, &copy).unwrap();
    assert_bad(&merge(&[&a, &copy], &[]), "are the same summary");
    let rerun = shard_summary(dir.path(), "b", shard(0, 2), T0, "tt", 12, 1_000_000);
    assert_bad(&merge(&[&a, &rerun], &[]), "are both shard 0/2");
}

fn assert_bad(out: &std::process::Output, message: &str) {
    assert_eq!(out.status.code(), Some(2), "{}", stderr(out));
    assert!(
        stderr(out).contains(message),
        "wanted `{message}` in: {}",
        stderr(out)
    );
}
