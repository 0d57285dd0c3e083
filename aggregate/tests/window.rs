//! One run, one window: hammer, aggregate, compare and chart print the same
//! duration and rate for the same events; arrivals hammer could not send
//! reach the summary and the thresholds; a partly covered interval reports
//! its rate over the time it covers. Real binaries, real tasktracker.

mod common;

use std::process::Output;

use common::*;
use records::testkit::{cmd, Server};
use records::Summary;

fn hammer(args: &[&str]) -> Output {
    cmd("hammer").args(args).output().unwrap()
}

/// `N requests in D (R req/s)` from hammer's closing line.
fn hammer_line(stderr: &str) -> (String, String) {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("hammer: ") && l.contains(" req/s)"))
        .unwrap_or_else(|| panic!("no closing line: {stderr}"));
    let after_in = line.split(" requests in ").nth(1).unwrap();
    let (duration, rest) = after_in.split_once(" (").unwrap();
    let rate = rest.split(" req/s)").next().unwrap();
    (duration.to_string(), rate.to_string())
}

#[test]
fn every_tool_prints_the_same_duration_and_rate() {
    let server = Server::start(&["--hash-cost", "4", "--delay", "20ms"]);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{}/health", server.url);
    let out = hammer(&["--url", &url, "--rate", "200", "--duration", "2s"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (duration, rate) = hammer_line(&String::from_utf8_lossy(&out.stderr));
    let events = write_file(
        dir.path(),
        "events.ndjson",
        &String::from_utf8(out.stdout).unwrap(),
    );

    let table = aggregate()
        .arg(&events)
        .args(["--format", "table"])
        .output()
        .unwrap();
    let table = String::from_utf8(table.stdout).unwrap();
    let head = table.lines().next().unwrap();
    assert!(
        head.contains(&format!(" requests in {duration} ({rate}/s)")),
        "hammer said {duration} at {rate} req/s; aggregate: {head}"
    );
    assert!(table.contains("(drain)"), "{table}");

    let summary = aggregate()
        .arg(&events)
        .args(["--format", "ndjson"])
        .output()
        .unwrap();
    let summary = write_file(
        dir.path(),
        "run.ndjson",
        &String::from_utf8(summary.stdout).unwrap(),
    );
    let side = cmd("compare")
        .args(["--label", "a"])
        .arg(&summary)
        .args(["--label", "b"])
        .arg(&summary)
        .args(["--format", "table"])
        .output()
        .unwrap();
    let side = String::from_utf8(side.stdout).unwrap();
    assert!(side.contains(&format!("a: {duration} run")), "{side}");
    let charts = dir.path().join("charts");
    let chart = cmd("chart")
        .arg(&summary)
        .arg(&summary)
        .arg("--out-dir")
        .arg(&charts)
        .output()
        .unwrap();
    assert!(
        chart.status.success(),
        "{}",
        String::from_utf8_lossy(&chart.stderr)
    );
    let text = std::fs::read_to_string(charts.join("summary_table.txt")).unwrap();
    let line = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} row: {text}"))
            .to_string()
    };
    assert!(line("duration").contains(&duration), "{text}");
    assert!(
        line("throughput").contains(&format!("{rate}/s"))
            || line("throughput").contains(&format!("{:.0}/s", rate.parse::<f64>().unwrap())),
        "{text}"
    );
}

#[test]
fn dropped_arrivals_reach_the_summary_and_the_thresholds() {
    // One in-flight request at a time against a 100 ms target at 50/s: most
    // arrivals find every VU busy and are dropped, never sent.
    let server = Server::start(&["--hash-cost", "4", "--delay", "100ms"]);
    let url = format!("{}/health", server.url);
    let out = hammer(&[
        "--url",
        &url,
        "--rate",
        "50",
        "--duration",
        "1s",
        "--max-vus",
        "1",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stream = String::from_utf8(out.stdout).unwrap();
    let load: records::event::StreamRecord =
        serde_json::from_str(stream.lines().last().unwrap()).unwrap();
    let records::event::StreamRecord::Load(load) = load else {
        panic!("the last line is the load record")
    };
    assert!(load.dropped > 20, "{load:?}");
    assert_eq!(load.scheduled, load.sent + load.dropped + load.cancelled);

    let out = run(&["--format", "ndjson", "--threshold", "dropped<1"], &stream);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let records = records::ndjson::read_from::<Summary>(&out.stdout[..], "out").unwrap();
    let info = run_info(&records);
    assert_eq!(
        (info.scheduled, info.dropped),
        (load.scheduled, load.dropped)
    );
    let total = total(&records);
    assert_eq!(total.dropped, load.dropped);
    assert_eq!(total.count, load.sent, "every sent arrival is an event");
    assert!(
        stderr(&out).contains("threshold broken: dropped<1"),
        "{}",
        stderr(&out)
    );
    let ok = run(
        &["--format", "ndjson", "--threshold", "dropped_rate<99%"],
        &stream,
    );
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
}

#[test]
fn a_partly_covered_interval_reports_its_rate_over_the_time_it_covers() {
    let server = Server::start(&["--hash-cost", "4"]);
    let url = format!("{}/health", server.url);
    // Start mid-second, so the first and last buckets are partial.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let into_second = now.subsec_millis();
    std::thread::sleep(std::time::Duration::from_millis(
        ((1500 - into_second) % 1000).into(),
    ));
    let out = hammer(&["--url", &url, "--rate", "400", "--duration", "2s"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stream = String::from_utf8(out.stdout).unwrap();
    let records = summarize(&[], &stream);
    let intervals = intervals(&records);
    assert!(intervals.len() >= 3, "{intervals:?}");
    assert!(
        intervals.iter().any(|i| i.active_secs < i.secs * 0.9),
        "no partial interval: {intervals:?}"
    );
    for i in &intervals {
        // Divided by the whole bucket, a half-covered one would read ~200/s.
        if i.active_secs >= 0.25 {
            assert!(
                i.rps >= 400.0 * 0.9,
                "interval at {} ({}s of {}s) reports only {} req/s for a 400/s run",
                i.start,
                i.active_secs,
                i.secs,
                i.rps
            );
        }
        assert!(
            i.rps <= 400.0 * 1.10,
            "interval at {} ({}s of {}s) reports {} req/s for a 400/s run",
            i.start,
            i.active_secs,
            i.secs,
            i.rps
        );
    }
}
