//! The command line as users and CI meet it: formats, thresholds and their
//! exit codes, bad input, the Locust files and the table.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::*;
use records::testkit::wait_bounded;
use records::Event;

/// 3 endpoints over 3 seconds: one fast, one slow (p95 ≈ 600ms), one failing (5%).
fn sample() -> Vec<Event> {
    let mut events = Vec::new();
    for i in 0..300u64 {
        let ts = T0 + i * 10_000_000;
        let mut fast = event(ts, "GET /api/v1/tasks", 1_000_000 + (i % 10) * 100_000);
        fast.vu = (i % 5) as u32;
        events.push(fast);
        if i % 3 == 0 {
            let mut slow = event(
                ts + 1,
                "GET /api/v1/stats",
                400_000_000 + (i % 10) * 25_000_000,
            );
            slow.vu = 7;
            events.push(slow);
        }
        if i % 2 == 0 {
            let mut post = event(ts + 2, "POST /api/v1/tasks", 3_000_000 + (i % 7) * 500_000);
            post.status = 201;
            post.vu = (i % 5) as u32;
            if i % 40 == 0 {
                post.error = Some("status".into());
                post.status = 500;
            }
            events.push(post);
        }
    }
    events
}

#[test]
fn ndjson_has_run_endpoints_total_intervals_in_order() {
    let records = summarize(
        &["--label", "baseline", "--label", "arch=micro"],
        &to_ndjson(&sample()),
    );
    let run = run_info(&records);
    assert_eq!(run.labels["label"], "baseline");
    assert_eq!(run.labels["arch"], "micro");
    assert_eq!(run.tools["aggregate"], env!("CARGO_PKG_VERSION"));
    assert_eq!(run.start, T0);
    assert_eq!(run.interval_secs, 1.0);
    let names: Vec<String> = endpoints(&records).into_iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        [
            "GET /api/v1/stats",
            "GET /api/v1/tasks",
            "POST /api/v1/tasks"
        ]
    );
    let total = total(&records);
    assert_eq!(total.name, "Aggregated");
    assert_eq!(total.count, 300 + 100 + 150);
    assert_eq!(total.errors, 8);
    assert_eq!(total.error_kinds["status"], 8);
    assert_eq!(total.status["201"], 142);
    assert!(total.service.is_none(), "no lag, no service time");
    // record order: run, endpoints, total, then intervals
    let kinds: Vec<&str> = records
        .iter()
        .map(|r| match r {
            records::Summary::Run(_) => "run",
            records::Summary::Endpoint(_) => "endpoint",
            records::Summary::Total(_) => "total",
            records::Summary::Interval(_) => "interval",
            _ => "other",
        })
        .collect();
    assert_eq!(
        &kinds[..5],
        ["run", "endpoint", "endpoint", "endpoint", "total"]
    );
    assert!(kinds[5..].iter().all(|k| *k == "interval"));
}

#[test]
fn interval_counts_sum_to_the_total() {
    for interval in ["1s", "250ms", "2s"] {
        let records = summarize(&["--interval", interval], &to_ndjson(&sample()));
        let intervals = intervals(&records);
        let total = total(&records);
        assert_eq!(
            intervals.iter().map(|i| i.count).sum::<u64>(),
            total.count,
            "{interval}"
        );
        assert_eq!(
            intervals.iter().map(|i| i.errors).sum::<u64>(),
            total.errors,
            "{interval}"
        );
        assert!(intervals.windows(2).all(|w| w[0].start < w[1].start));
        assert!(intervals.iter().all(|i| i.hist.is_some()));
    }
    let records = summarize(&[], &to_ndjson(&sample()));
    let intervals = intervals(&records);
    assert_eq!(intervals.len(), 3);
    // VUs 0..5 plus the stats VU 7
    assert_eq!(intervals[0].vus, 6);
    assert_eq!(intervals[0].count, 100 + 34 + 50);
    assert_eq!(intervals[0].rps, 184.0);
}

fn exit_code(args: &[&str]) -> (Option<i32>, String) {
    let out = run(args, &to_ndjson(&sample()));
    (out.status.code(), stderr(&out))
}

#[test]
fn thresholds_exit_0_when_they_hold() {
    let (code, err) = exit_code(&[
        "--threshold",
        "p99<1s",
        "--threshold",
        "GET /api/v1/tasks:p95<5ms",
        "--threshold",
        "error_rate<2%",
        "--threshold",
        "rps>100",
        "--threshold",
        "count>=550",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("broken"), "{err}");
}

#[test]
fn a_broken_threshold_exits_1_and_says_which() {
    let (code, err) = exit_code(&[
        "--threshold",
        "p99<1s",
        "--threshold",
        "GET /api/v1/stats:p95<500ms",
    ]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("threshold broken: GET /api/v1/stats:p95<500ms: p95 = 6"),
        "{err}"
    );
    assert!(
        !err.contains("p99<1s"),
        "only the broken one is reported: {err}"
    );
    let out = run(
        &[
            "--format",
            "ndjson",
            "--threshold",
            "POST /api/v1/tasks:error_rate<1%",
        ],
        &to_ndjson(&sample()),
    );
    assert_eq!(out.status.code(), Some(1));
    let records =
        records::ndjson::read_from::<records::Summary>(&out.stdout[..], "stdout").unwrap();
    let result = records
        .iter()
        .find_map(|r| match r {
            records::Summary::Threshold(t) => Some(t.clone()),
            _ => None,
        })
        .expect("a threshold record");
    assert_eq!(result.expr, "POST /api/v1/tasks:error_rate<1%");
    assert!(!result.ok);
    assert!((result.value - 8.0 / 150.0).abs() < 1e-9);
}

#[test]
fn a_threshold_on_a_missing_endpoint_is_broken_not_ignored() {
    let (code, err) = exit_code(&["--threshold", "GET /nope:p95<1s"]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("no requests to endpoint, and no iterations of flow, `GET /nope`"),
        "{err}"
    );
}

#[test]
fn a_bad_threshold_exits_2_before_reading_input() {
    for (expr, says) in [
        ("p97<1s", "unknown metric `p97`"),
        ("p95<500", "needs a unit"),
        ("p95=500ms", "unknown comparison"),
        ("latency", "no known metric"),
    ] {
        // stdin stays open and empty: a tool that read it would hang
        let mut child = aggregate()
            .args(["--threshold", expr])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let status = wait_bounded(
            &mut child,
            Duration::from_secs(20),
            &format!("aggregate with a bad threshold {expr} (it waited for input)"),
        );
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        assert_eq!(status.code(), Some(2), "{expr}");
        let err = stderr(&out);
        assert!(err.contains(&format!("bad --threshold `{expr}`")), "{err}");
        assert!(err.contains(says), "{expr}: {err}");
    }
}

#[test]
fn a_malformed_line_exits_2_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = to_ndjson(&sample()[..5]);
    text.push_str("{\"ts\":1,\"name\":\"GET /x\"}\n");
    text.push_str(&to_ndjson(&sample()[..2]));
    let path = write_file(dir.path(), "events.ndjson", &text);
    let out = run(&[path.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains(&format!("{}:6:", path.display())), "{err}");
    assert!(err.contains("latency_ns"), "{err}");
    assert!(out.stdout.is_empty());

    let out = run(
        &[
            "--format",
            "ndjson",
            "--skip-invalid",
            path.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("skipped 1 invalid lines"), "{err}");
    assert!(err.contains(":6:"), "{err}");
    let records =
        records::ndjson::read_from::<records::Summary>(&out.stdout[..], "stdout").unwrap();
    assert_eq!(run_info(&records).skipped_lines, 1);
    assert_eq!(total(&records).count, 7);
}

#[test]
fn garbage_is_bad_input_too() {
    let out = run(&[], "not json\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("<stdin>:1:"), "{}", stderr(&out));
}

#[test]
fn empty_input_exits_2_with_a_clear_message() {
    for input in ["", "\n\n  \n"] {
        let out = run(&[], input);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            stderr(&out).contains("no events in <stdin>"),
            "{}",
            stderr(&out)
        );
    }
    let out = run(&["--merge"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("<stdin>: no summary records"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_missing_file_is_named() {
    let out = run(&["/nonexistent/events.ndjson"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("/nonexistent/events.ndjson"),
        "{}",
        stderr(&out)
    );
}

const LOCUST_HEADER: &str = "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%\n";

#[test]
fn locust_header_byte_for_byte() {
    let out = run(&["--format", "locust"], &to_ndjson(&sample()));
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with(LOCUST_HEADER), "{text}");
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(rows.len(), 4);
    assert!(
        rows[0].starts_with("GET,/api/v1/stats,100,0,"),
        "{}",
        rows[0]
    );
    assert!(
        rows[2].starts_with("POST,/api/v1/tasks,150,8,"),
        "{}",
        rows[2]
    );
    assert!(rows[3].starts_with(",Aggregated,550,8,"), "{}", rows[3]);
    for row in rows {
        assert_eq!(row.split(',').count(), 22, "{row}");
    }
}

#[test]
fn out_dir_writes_the_run_folder() {
    let dir = tempfile::tempdir().unwrap();
    let run_dir = dir.path().join("results/run1");
    let out = run(
        &["--format", "ndjson", "--out-dir", run_dir.to_str().unwrap()],
        &to_ndjson(&sample()),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let read = |name: &str| std::fs::read_to_string(run_dir.join(name)).unwrap();
    assert!(read("stats.csv").starts_with(LOCUST_HEADER));
    let history = read("stats_history.csv");
    assert!(history.starts_with("Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,"));
    // Locust's all-zero row first, then one row per second
    assert_eq!(history.lines().count(), 1 + 1 + 3);
    assert_eq!(
        history.lines().nth(1).unwrap(),
        "1764000000,0,,Aggregated,0.000000,0.000000,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,0,0,0,0.0,0,0,0"
    );
    let first = history.lines().nth(2).unwrap();
    assert!(
        first.starts_with("1764000000,6,,Aggregated,184.000000,"),
        "{first}"
    );
    // every event carries 100 bytes
    assert!(first.ends_with(",100.00"), "{first}");
    let failures = read("failures.csv");
    assert_eq!(
        failures,
        "Method,Name,Error,Occurrences,First Seen,Last Seen\n\
         POST,/api/v1/tasks,LocustBadStatusCode(code=500),8,2025-11-24T16:00:00Z,2025-11-24T16:00:02Z\n"
    );
    assert_eq!(read("exceptions.csv"), "Count,Message,Traceback,Nodes\n");
    assert_eq!(
        read("summary.ndjson").as_bytes(),
        &out.stdout[..],
        "summary.ndjson = stdout"
    );
    assert!(read("table.txt").contains("Aggregated"));
}

#[test]
fn csv_and_json_formats() {
    let out = run(&["--format", "csv"], &to_ndjson(&sample()));
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("kind,name,count,errors,error_rate,rps,"));
    assert_eq!(lines.count(), 4);

    let out = run(&["--format", "json"], &to_ndjson(&sample()));
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["total"]["count"], 550);
    assert_eq!(doc["endpoints"].as_array().unwrap().len(), 3);
    let slow: Vec<&str> = doc["slow_endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(slow, ["GET /api/v1/stats", "POST /api/v1/tasks"]);
    assert_eq!(doc["slow_limit_ns"], 500_000_000);
}

#[test]
fn the_slow_report_follows_the_limit() {
    let out = run(&["--format", "json", "--slow", "1s"], &to_ndjson(&sample()));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let slow = doc["slow_endpoints"].as_array().unwrap();
    assert_eq!(slow.len(), 1, "only the failing endpoint: {slow:?}");
    assert_eq!(slow[0]["reasons"][0], "errors");
}

#[test]
fn help_and_version() {
    let out = aggregate().arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(
        help.contains("--threshold <EXPR>") && help.contains("hammer -s"),
        "{help}"
    );
    let out = aggregate().arg("--version").output().unwrap();
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .starts_with("aggregate "));
}

#[test]
fn other_tools_files_say_what_aggregate_expected_and_where() {
    let dir = tempfile::tempdir().unwrap();
    let summary = run(&["--format", "ndjson"], &to_ndjson(&sample()));
    let summary = write_file(
        dir.path(),
        "run.ndjson",
        &String::from_utf8(summary.stdout).unwrap(),
    );
    let csv = write_file(
        dir.path(),
        "stats.csv",
        "Type,Name,Request Count\nGET,/a,1\n",
    );
    let users = write_file(
        dir.path(),
        "users.ndjson",
        "{\"user\":\"a@example.com\",\"password\":\"p\"}\n",
    );
    for (file, needle) in [
        (&summary, "this is a summary (aggregate's output), not an Event (hammer's output); to combine summaries, give --merge"),
        (&csv, "this is CSV, not NDJSON"),
        (&users, "this is a User record (seed's output)"),
    ] {
        let out = run(&[file.to_str().unwrap()], "");
        assert_eq!(out.status.code(), Some(2));
        let err = stderr(&out);
        assert!(err.contains(&format!("{}:1: {needle}", file.display())), "{err}");
    }
}
