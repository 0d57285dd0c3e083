//! Shared helpers: synthetic Events and running the real `aggregate` binary.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use records::{Event, Summary};

pub const T0: u64 = 1_764_000_000_000_000_000;

/// An event with the fields tests care about.
pub fn event(ts: u64, name: &str, latency_ns: u64) -> Event {
    Event {
        ts,
        name: name.to_string(),
        method: name.split(' ').next().unwrap_or("GET").to_string(),
        status: 200,
        latency_ns,
        lag_ns: 0,
        bytes_in: 100,
        bytes_out: 10,
        vu: 1,
        error: None,
        detail: None,
        connect_ns: None,
        ttfb_ns: None,
        proto: None,
    }
}

pub fn to_ndjson(events: &[Event]) -> String {
    let mut out = String::new();
    for e in events {
        out.push_str(&serde_json::to_string(e).unwrap());
        out.push('\n');
    }
    out
}

pub fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

pub fn aggregate() -> Command {
    records::testkit::cmd("aggregate")
}

/// Runs aggregate with `args`, feeding `stdin`.
pub fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = aggregate()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start aggregate");
    let mut input = child.stdin.take().unwrap();
    let text = stdin.to_string();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(text.as_bytes());
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs aggregate expecting exit 0 and NDJSON summary records on stdout.
pub fn summarize(args: &[&str], stdin: &str) -> Vec<Summary> {
    let mut all = vec!["--format", "ndjson"];
    all.extend_from_slice(args);
    let out = run(&all, stdin);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    records::ndjson::read_from::<Summary>(&out.stdout[..], "stdout").unwrap()
}

pub fn endpoints(records: &[Summary]) -> Vec<records::Stats> {
    records
        .iter()
        .filter_map(|r| match r {
            Summary::Endpoint(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

pub fn total(records: &[Summary]) -> records::Stats {
    records
        .iter()
        .find_map(|r| match r {
            Summary::Total(s) => Some(s.clone()),
            _ => None,
        })
        .expect("a total record")
}

pub fn intervals(records: &[Summary]) -> Vec<records::Interval> {
    records
        .iter()
        .filter_map(|r| match r {
            Summary::Interval(i) => Some(i.clone()),
            _ => None,
        })
        .collect()
}

pub fn run_info(records: &[Summary]) -> records::RunInfo {
    match &records[0] {
        Summary::Run(run) => run.clone(),
        other => panic!("first record is not the run: {other:?}"),
    }
}
