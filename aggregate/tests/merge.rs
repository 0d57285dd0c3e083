//! `--merge` of shard summaries equals aggregating all the events at once.

mod common;

use common::*;
use rand::{rngs::SmallRng, Rng, SeedableRng};
use records::{Event, Summary};

/// Events over 4 endpoints and ~5 seconds, some failing, some late (`lag_ns`).
fn events(seed: u64, count: usize, lag: bool, vu_base: u32) -> Vec<Event> {
    let names = ["GET /a", "POST /b", "GET /c/{id}", "DELETE /d/{id}"];
    let mut rng = SmallRng::seed_from_u64(seed);
    (0..count)
        .map(|i| {
            let mut e = event(
                T0 + i as u64 * 5_000_000_000 / count as u64 + rng.gen_range(0..1_000_000),
                names[rng.gen_range(0..names.len())],
                rng.gen_range(50_000..200_000_000),
            );
            e.vu = vu_base + rng.gen_range(0..20);
            e.bytes_in = rng.gen_range(0..5000);
            if rng.gen_ratio(1, 20) {
                e.error = Some(["timeout", "status", "check"][rng.gen_range(0..3)].into());
                e.status = if e.error.as_deref() == Some("timeout") {
                    0
                } else {
                    500
                };
                // error groups (kind, status, detail) must merge too
                if e.error.as_deref() == Some("check") {
                    e.detail = Some(format!("/id missing (variant {})", rng.gen_range(0..2)));
                }
            }
            if lag && rng.gen_bool(0.3) {
                e.lag_ns = rng.gen_range(1..50_000_000);
            }
            e
        })
        .collect()
}

/// Splits events into two shards, interleaved in time like two load machines.
fn shards(events: &[Event]) -> (Vec<Event>, Vec<Event>) {
    let mut a = Vec::new();
    let mut b = Vec::new();
    for e in events {
        if e.vu < 1000 {
            a.push(e.clone());
        } else {
            b.push(e.clone());
        }
    }
    (a, b)
}

fn check_merge_equals_whole(lag_in_second_shard: bool) {
    let dir = tempfile::tempdir().unwrap();
    let first = events(7, 3000, false, 0);
    let second = events(8, 2000, lag_in_second_shard, 1000);
    let mut all: Vec<Event> = first.iter().chain(&second).cloned().collect();
    all.sort_by_key(|e| e.ts);
    let (a, b) = shards(&all);

    let whole = summarize(&[], &to_ndjson(&all));
    let a_path = write_file(dir.path(), "a.ndjson", &to_ndjson(&a));
    let b_path = write_file(dir.path(), "b.ndjson", &to_ndjson(&b));
    let both_files = summarize(&[a_path.to_str().unwrap(), b_path.to_str().unwrap()], "");
    assert_eq!(both_files, whole, "two event files are shards of one run");

    let sa = run(&["--format", "ndjson", a_path.to_str().unwrap()], "");
    let sb = run(&["--format", "ndjson", b_path.to_str().unwrap()], "");
    let sa_path = write_file(
        dir.path(),
        "a.summary",
        &String::from_utf8(sa.stdout).unwrap(),
    );
    let sb_path = write_file(
        dir.path(),
        "b.summary",
        &String::from_utf8(sb.stdout).unwrap(),
    );
    let merged = summarize(
        &[
            "--merge",
            sa_path.to_str().unwrap(),
            sb_path.to_str().unwrap(),
        ],
        "",
    );

    // What tells a merge from the whole: its shard count and breakdown.
    assert_eq!(run_info(&merged).shards, 2);
    let shard_rows = merged
        .iter()
        .filter(|r| matches!(r, Summary::Shard(_)))
        .count();
    assert_eq!(shard_rows, 2);
    let merged = without_shards(merged);
    assert_eq!(run_info(&merged), run_info(&whole));
    assert_eq!(endpoints(&merged), endpoints(&whole), "endpoint records");
    assert_eq!(total(&merged), total(&whole), "total record");
    assert_eq!(intervals(&merged), intervals(&whole), "interval records");
    assert_eq!(merged, whole);
    assert_eq!(total(&whole).service.is_some(), lag_in_second_shard);
    assert_eq!(total(&whole).count, 5000);
    let groups = &endpoints(&whole)[0].failures;
    assert!(
        groups.len() >= 3
            && groups
                .iter()
                .all(|g| g.first_ns >= T0 && g.last_ns >= g.first_ns),
        "{groups:?}"
    );

    // merging is associative with stdin too: a merged summary merges again
    let again = summarize(
        &["--merge", "-", sb_path.to_str().unwrap()],
        &std::fs::read_to_string(&sa_path).unwrap(),
    );
    assert_eq!(without_shards(again), merged);
}

/// A merge's records as the whole run's: no shard count, no shard records.
fn without_shards(records: Vec<Summary>) -> Vec<Summary> {
    records
        .into_iter()
        .filter(|r| !matches!(r, Summary::Shard(_)))
        .map(|r| match r {
            Summary::Run(info) => Summary::Run(records::RunInfo { shards: 0, ..info }),
            other => other,
        })
        .collect()
}

#[test]
fn merged_shards_equal_the_whole() {
    check_merge_equals_whole(false);
}

#[test]
fn merged_shards_equal_the_whole_with_coordinated_omission_correction() {
    check_merge_equals_whole(true);
}

#[test]
fn merging_different_endpoints_keeps_them_all() {
    let dir = tempfile::tempdir().unwrap();
    let a_events: Vec<Event> = (0..100)
        .map(|i| {
            event(
                T0 + i * 10_000_000,
                if i % 2 == 0 { "GET /x" } else { "GET /y" },
                1_000_000 + i * 1000,
            )
        })
        .collect();
    let b_events: Vec<Event> = (0..50)
        .map(|i| event(T0 + i * 10_000_000, "POST /z", 5_000_000 + i * 1000))
        .collect();
    let a = summarize(&[], &to_ndjson(&a_events));
    let b = summarize(&[], &to_ndjson(&b_events));
    let to_text = |records: &[Summary]| {
        records
            .iter()
            .map(|r| serde_json::to_string(r).unwrap() + "\n")
            .collect::<String>()
    };
    let a_path = write_file(dir.path(), "a.ndjson", &to_text(&a));
    let b_path = write_file(dir.path(), "b.ndjson", &to_text(&b));
    let merged = summarize(
        &[
            "--merge",
            a_path.to_str().unwrap(),
            b_path.to_str().unwrap(),
        ],
        "",
    );
    let names: Vec<String> = endpoints(&merged).into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["GET /x", "GET /y", "POST /z"]);
    for (name, from) in [("GET /x", &a), ("GET /y", &a), ("POST /z", &b)] {
        let original = endpoints(from)
            .into_iter()
            .find(|s| s.name == name)
            .unwrap();
        let kept = endpoints(&merged)
            .into_iter()
            .find(|s| s.name == name)
            .unwrap();
        assert_eq!(kept.count, original.count, "{name}");
        assert_eq!(kept.latency, original.latency, "{name}");
        assert_eq!(kept.hist, original.hist, "{name}");
    }
    assert_eq!(total(&merged).count, 150);
}

#[test]
fn merge_refuses_a_corrupt_histogram_naming_the_line() {
    let events: Vec<Event> = (0..10).map(|i| event(T0 + i, "GET /x", 1000)).collect();
    let summary = summarize(&[], &to_ndjson(&events));
    let mut text = String::new();
    for r in &summary {
        let mut line = serde_json::to_string(r).unwrap();
        if matches!(r, Summary::Endpoint(_)) {
            let hist = match r {
                Summary::Endpoint(s) => s.hist.clone(),
                _ => unreachable!(),
            };
            line = line.replace(&hist, "bm90IGEgaGlzdG9ncmFt");
        }
        text.push_str(&line);
        text.push('\n');
    }
    let out = run(&["--merge"], &text);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("<stdin>:2:") && err.contains("hist"), "{err}");
}
