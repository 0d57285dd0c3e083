//! The protocol mix (events' `proto`): counted per endpoint and in the
//! total, one table line, kept by `--merge`; absent when all was HTTP/1.1.

mod common;

use std::collections::BTreeMap;

use common::*;
use records::Event;

fn mixed() -> Vec<Event> {
    (0..10)
        .map(|i| {
            let mut e = event(
                T0 + i * 1_000_000,
                if i < 6 { "GET /a" } else { "GET /b" },
                1_000,
            );
            // /a: 4 over h2, 2 over HTTP/1.1; /b: all 4 over h2.
            if i >= 2 {
                e.proto = Some("h2".into());
            }
            e
        })
        .collect()
}

fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(p, n)| (p.to_string(), *n)).collect()
}

#[test]
fn the_protocol_mix_is_reported_per_endpoint_and_in_the_total() {
    let records = summarize(&[], &to_ndjson(&mixed()));
    let endpoints = endpoints(&records);
    assert_eq!(
        endpoints[0].protocols,
        counts(&[("h2", 4), ("http/1.1", 2)])
    );
    assert_eq!(endpoints[1].protocols, counts(&[("h2", 4)]));
    assert_eq!(
        total(&records).protocols,
        counts(&[("h2", 8), ("http/1.1", 2)])
    );

    let out = run(&["--format", "table"], &to_ndjson(&mixed()));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("protocols: h2 8 (80.00%), http/1.1 2 (20.00%)"),
        "{table}"
    );

    // A merge of two summaries adds their mixes up.
    let dir = tempfile::tempdir().unwrap();
    let later: Vec<Event> = mixed()
        .into_iter()
        .map(|e| Event {
            ts: e.ts + 1_000_000,
            ..e
        })
        .collect();
    let one = run(&["--format", "ndjson"], &to_ndjson(&mixed()));
    let two = run(&["--format", "ndjson"], &to_ndjson(&later));
    let a = write_file(
        dir.path(),
        "a.ndjson",
        &String::from_utf8_lossy(&one.stdout),
    );
    let b = write_file(
        dir.path(),
        "b.ndjson",
        &String::from_utf8_lossy(&two.stdout),
    );
    let merged = summarize(&["--merge", a.to_str().unwrap(), b.to_str().unwrap()], "");
    assert_eq!(
        total(&merged).protocols,
        counts(&[("h2", 16), ("http/1.1", 4)])
    );
}

#[test]
fn http1_runs_read_as_before() {
    let plain: Vec<Event> = (0..3).map(|i| event(T0 + i, "GET /a", 1_000)).collect();
    let out = run(&["--format", "ndjson"], &to_ndjson(&plain));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("protocols"));
    let out = run(&["--format", "table"], &to_ndjson(&plain));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("protocols"));
}
