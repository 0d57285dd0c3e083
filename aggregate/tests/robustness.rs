//! Bad input and process faults, run against the real binary: every
//! malformed input is exit 2 with the file and line named and no panic, a
//! 100 MB line is refused quickly in bounded memory, and a closed stdout is a
//! quiet exit 0.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use records::testkit::{
    assert_bad_input, bad_summary_lines, cmd, huge_line_file, run_bounded, wait_bounded, write_file,
};

const TOOL: &str = "aggregate";

const GOOD_EVENT: &str =
    r#"{"ts":1700000000000000000,"name":"GET /x","method":"GET","status":200,"latency_ns":1000}"#;

/// One bad line after a good one: the error must name line 2.
fn bad_event_lines() -> Vec<(&'static str, Vec<u8>)> {
    let e = |s: &str| s.as_bytes().to_vec();
    vec![
        ("binary garbage", (0u8..=255).cycle().take(4096).collect()),
        ("NUL bytes", vec![0u8; 100]),
        (
            "status 70000",
            e(r#"{"ts":1,"name":"a","method":"GET","status":70000,"latency_ns":5}"#),
        ),
        (
            "negative latency",
            e(r#"{"ts":1,"name":"a","method":"GET","status":200,"latency_ns":-5}"#),
        ),
        (
            "latency 1e400",
            e(r#"{"ts":1,"name":"a","method":"GET","status":200,"latency_ns":1e400}"#),
        ),
        (
            "latency 2^64",
            e(
                r#"{"ts":1,"name":"a","method":"GET","status":200,"latency_ns":18446744073709551616}"#,
            ),
        ),
        (
            "status as a string",
            e(r#"{"ts":1,"name":"a","method":"GET","status":"200","latency_ns":5}"#),
        ),
        (
            "name as a number",
            e(r#"{"ts":1,"name":7,"method":"GET","status":200,"latency_ns":5}"#),
        ),
        (
            "duplicate key",
            e(r#"{"ts":1,"name":"a","name":"b","method":"GET","status":200,"latency_ns":5}"#),
        ),
        ("an array", e("[1,2,3]")),
        ("half a line", e(r#"{"ts":1,"name":"a","met"#)),
    ]
}

#[test]
fn bad_events_exit_2_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    for (i, (case, line)) in bad_event_lines().into_iter().enumerate() {
        let mut text = format!("{GOOD_EVENT}\n").into_bytes();
        text.extend_from_slice(&line);
        text.push(b'\n');
        let path = write_file(dir.path(), &format!("events{i}.ndjson"), &text);
        let out = run_bounded(
            cmd("aggregate").args(["--format", "ndjson"]).arg(&path),
            Duration::from_secs(30),
        );
        assert_bad_input(TOOL, &out, case, &format!("{}:2", path.display()));
    }
}

#[test]
fn empty_input_exits_2_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "empty.ndjson", b"");
    let out = run_bounded(
        cmd("aggregate").args(["--format", "ndjson"]).arg(&path),
        Duration::from_secs(30),
    );
    assert_bad_input(TOOL, &out, "empty events", &path.display().to_string());
    let out = run_bounded(
        cmd("aggregate").arg("--merge").arg(&path),
        Duration::from_secs(30),
    );
    assert_bad_input(TOOL, &out, "empty summaries", &path.display().to_string());
}

#[test]
fn a_100_mb_line_is_refused_with_its_line_number() {
    let dir = tempfile::tempdir().unwrap();
    let path = huge_line_file(dir.path(), GOOD_EVENT, r#"{"name":""#);
    // Bounded memory shows as bounded time: reading 100 MB into one buffer
    // and parsing it would take far longer on this box than refusing at 16 MiB.
    let out = run_bounded(
        cmd("aggregate").args(["--format", "ndjson"]).arg(&path),
        Duration::from_secs(30),
    );
    assert_bad_input(TOOL, &out, "100 MB line", &format!("{}:2", path.display()));
    assert!(String::from_utf8_lossy(&out.stderr).contains("longer than"));

    // The same on stdin.
    let out = run_bounded(
        Command::new("sh").arg("-c").arg(format!(
            "exec '{}' --format ndjson < '{}'",
            records::testkit::bin("aggregate").display(),
            path.display()
        )),
        Duration::from_secs(30),
    );
    assert_bad_input(TOOL, &out, "100 MB line on stdin", "<stdin>:2");
}

fn good_summary(dir: &Path) -> String {
    let events = write_file(dir, "good.ndjson", format!("{GOOD_EVENT}\n").as_bytes());
    let out = run_bounded(
        cmd("aggregate").args(["--format", "ndjson"]).arg(&events),
        Duration::from_secs(30),
    );
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn bad_summaries_for_merge_exit_2_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let summary = good_summary(dir.path());
    // An endpoint record: --merge recomputes the total from the endpoints, so
    // a bad total line would be rightly ignored.
    let endpoint = summary
        .lines()
        .find(|l| l.contains(r#""kind":"endpoint""#))
        .unwrap()
        .to_string();
    for (i, (case, line)) in bad_summary_lines(&endpoint).into_iter().enumerate() {
        let path = write_file(
            dir.path(),
            &format!("s{i}.ndjson"),
            format!("{summary}{line}\n").as_bytes(),
        );
        let n = summary.lines().count() + 1;
        let out = run_bounded(
            cmd("aggregate").arg("--merge").arg(&path),
            Duration::from_secs(30),
        );
        assert_bad_input(TOOL, &out, case, &format!("{}:{n}", path.display()));
    }
    let path = huge_line_file(
        dir.path(),
        summary.lines().next().unwrap(),
        r#"{"kind":"run","x":""#,
    );
    let out = run_bounded(
        cmd("aggregate").arg("--merge").arg(&path),
        Duration::from_secs(30),
    );
    assert_bad_input(
        TOOL,
        &out,
        "100 MB summary line",
        &format!("{}:2", path.display()),
    );
}

#[test]
fn events_at_the_ends_of_u64_do_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    let max = u64::MAX;
    let path = write_file(
        dir.path(),
        "extreme.ndjson",
        format!(
            "{{\"ts\":{max},\"name\":\"a\",\"method\":\"GET\",\"status\":65535,\"latency_ns\":{max},\"lag_ns\":{max},\"bytes_in\":{max}}}\n\
             {{\"ts\":0,\"name\":\"a\",\"method\":\"GET\",\"status\":0,\"latency_ns\":0,\"bytes_in\":{max}}}\n"
        )
        .as_bytes(),
    );
    for format in ["ndjson", "table", "csv", "json", "locust"] {
        let out = run_bounded(
            cmd("aggregate").args(["--format", format]).arg(&path),
            Duration::from_secs(30),
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{format}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{format}: {stderr}");
    }
}

/// Runs `shell` in bash with the reader closing its stdin before the writer
/// starts, so the writer's first write meets EPIPE; prints PIPESTATUS.
fn closed_stdout(writer: &str) -> Output {
    run_bounded(
        Command::new("bash").arg("-c").arg(format!(
            "{{ sleep 0.3; {writer}; }} | {{ exec 0<&-; sleep 1; }}; echo \"status ${{PIPESTATUS[0]}}\""
        )),
        Duration::from_secs(60),
    )
}

#[test]
fn a_closed_stdout_is_a_quiet_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    // 20,000 events 1 ms apart and 1 ms intervals: megabytes of output.
    let mut text = String::new();
    for i in 0..20_000u64 {
        text.push_str(&format!(
            "{{\"ts\":{},\"name\":\"GET /x\",\"method\":\"GET\",\"status\":200,\"latency_ns\":{}}}\n",
            1_700_000_000_000_000_000 + i * 1_000_000,
            1000 + i
        ));
    }
    let path = write_file(dir.path(), "events.ndjson", text.as_bytes());
    let out = closed_stdout(&format!(
        "'{}' --format ndjson --interval 1ms '{}'",
        records::testkit::bin("aggregate").display(),
        path.display()
    ));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stdout.trim(), "status 0", "stderr: {stderr}");
    assert!(stderr.is_empty(), "error spam on a closed stdout: {stderr}");
}

/// Waits until `pid` catches SIGINT and SIGTERM (its handlers are in place).
fn wait_for_handlers(pid: u32) {
    let start = Instant::now();
    loop {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let caught = status
            .lines()
            .find_map(|l| l.strip_prefix("SigCgt:"))
            .map(|m| u64::from_str_radix(m.trim(), 16).unwrap())
            .unwrap_or(0);
        // Bit n-1 stands for signal n: SIGINT is 2, SIGTERM 15.
        if caught & (1 << 1) != 0 && caught & (1 << 14) != 0 {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no signal handlers"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn kill(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn event_lines(from: u64, n: u64) -> String {
    (from..from + n)
        .map(|i| {
            format!(
                "{{\"ts\":{},\"name\":\"GET /x\",\"method\":\"GET\",\"status\":200,\"latency_ns\":{}}}\n",
                1_700_000_000_000_000_000 + i * 1_000_000,
                1000 + i
            )
        })
        .collect()
}

/// Found by this test: a Ctrl-C on `seed | hammer | aggregate` killed
/// aggregate at once, losing the whole summary and the events hammer still
/// wrote in its grace period. Now the first signal lets it read to the end.
#[test]
fn a_signal_mid_pipeline_still_counts_every_event_then_exits_0() {
    use std::io::Write;
    for signal in ["INT", "TERM"] {
        let mut child = cmd("aggregate")
            .args(["--format", "ndjson"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(event_lines(0, 1000).as_bytes()).unwrap();
        wait_for_handlers(child.id());
        kill(child.id(), signal);
        // What upstream writes after the signal (hammer's grace) still counts.
        stdin.write_all(event_lines(1000, 500).as_bytes()).unwrap();
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "SIG{signal}: {stderr}");
        let summary: Vec<records::Summary> =
            records::ndjson::read_from(&out.stdout[..], "summary").expect("whole lines");
        let count = summary.iter().find_map(|s| match s {
            records::Summary::Total(t) => Some(t.count),
            _ => None,
        });
        assert_eq!(count, Some(1500), "SIG{signal}: {stderr}");
    }
}

#[test]
fn a_second_signal_stops_at_once() {
    let mut child = cmd("aggregate")
        .args(["--format", "ndjson"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap(); // kept open: upstream is stuck
    wait_for_handlers(child.id());
    kill(child.id(), "INT");
    // The first is noted on stderr before the second is sent.
    let mut err = child.stderr.take().unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 256];
    while !String::from_utf8_lossy(&seen).contains('\n') {
        let n = err.read(&mut buf).unwrap();
        assert!(n > 0, "no note of the first signal");
        seen.extend_from_slice(&buf[..n]);
    }
    kill(child.id(), "INT");
    let status = wait_bounded(&mut child, Duration::from_secs(10), "aggregate");
    assert_eq!(status.code(), Some(130));
    drop(stdin);
}
