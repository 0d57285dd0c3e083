//! Bad input and a closed stdout, run against the real binary: every
//! malformed summary is exit 2 with the file and line named and no panic, a
//! 100 MB line is refused quickly (bounded memory), absurd but well-typed
//! numbers do not panic, and a closed stdout is a quiet exit 0.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use records::testkit::cmd;

const TOOL: &str = "compare";

/// Runs `command` to its end, killing it and failing the test after `limit`.
fn run_bounded(command: &mut Command, limit: Duration) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err.read_to_end(&mut buf);
        buf
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out_reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Exit 2, `place` in the message, no panic.
fn assert_bad_input(out: &Output, case: &str, place: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{case}: {stderr}");
    assert!(!stderr.contains("panicked"), "{case}: {stderr}");
    assert!(stderr.contains(place), "{case}: no `{place}` in: {stderr}");
    assert!(
        stderr.starts_with(&format!("{TOOL}: error: ")),
        "{case}: {stderr}"
    );
}

/// A file of `first`, then a 100 MB line.
fn huge_line_file(dir: &Path, first: &str) -> PathBuf {
    let path = dir.join("huge.ndjson");
    let mut text = Vec::with_capacity(101 << 20);
    text.extend_from_slice(first.as_bytes());
    text.extend_from_slice(b"\n{\"kind\":\"run\",\"x\":\"");
    text.resize(text.len() + (100 << 20), b'x');
    text.extend_from_slice(b"\"}\n");
    std::fs::write(&path, text).unwrap();
    path
}

/// A summary `aggregate` wrote for one event of 5 ns.
const SUMMARY: &str = r#"{"kind":"run","start":1,"end":6,"duration_ns":5,"tools":{"aggregate":"0.1.0"},"labels":{},"skipped_lines":0,"interval_secs":1.0}
{"kind":"endpoint","name":"a","count":1,"errors":0,"error_kinds":{},"status":{"200":1},"bytes_in":0,"bytes_out":0,"rps":200000000.0,"failures_per_s":0.0,"min_ns":5,"mean_ns":5.0,"stdev_ns":0.0,"max_ns":5,"p50_ns":5,"p66_ns":5,"p75_ns":5,"p80_ns":5,"p90_ns":5,"p95_ns":5,"p98_ns":5,"p99_ns":5,"p999_ns":5,"p9999_ns":5,"hist":"HISTFAAAACN4nJNpmSzMwMDAxAABzFCaEYh5f7hHMNh/gAhwMgEAVXUEKw=="}
{"kind":"total","name":"Aggregated","count":1,"errors":0,"error_kinds":{},"status":{"200":1},"bytes_in":0,"bytes_out":0,"rps":200000000.0,"failures_per_s":0.0,"min_ns":5,"mean_ns":5.0,"stdev_ns":0.0,"max_ns":5,"p50_ns":5,"p66_ns":5,"p75_ns":5,"p80_ns":5,"p90_ns":5,"p95_ns":5,"p98_ns":5,"p99_ns":5,"p999_ns":5,"p9999_ns":5,"hist":"HISTFAAAACN4nJNpmSzMwMDAxAABzFCaEYh5f7hHMNh/gAhwMgEAVXUEKw=="}
{"kind":"interval","start":0,"secs":1.0,"count":1,"errors":0,"rps":1.0,"p50_ns":5,"p95_ns":5,"p99_ns":5,"max_ns":5,"vus":1,"hist":"HISTFAAAAB94nJNpmSzMwMDAyAABTBCK+QWEZr9g/wEqAQBVgQQ9"}
"#;

/// The `total` line of [`SUMMARY`], made bad in one way each.
fn bad_summary_lines() -> Vec<(&'static str, String)> {
    let total = SUMMARY.lines().nth(2).unwrap();
    vec![
        (
            "count -1",
            total.replacen("\"count\":1,", "\"count\":-1,", 1),
        ),
        (
            "rps 1e400",
            total.replacen("\"rps\":", "\"rps\":1e400,\"x\":", 1),
        ),
        (
            "count 2^64",
            total.replacen("\"count\":1,", "\"count\":18446744073709551616,", 1),
        ),
        (
            "count as a string",
            total.replacen("\"count\":1,", "\"count\":\"1\",", 1),
        ),
        (
            "duplicate key",
            total.replacen("\"count\":1,", "\"count\":1,\"count\":2,", 1),
        ),
        (
            "hist not base64",
            total.replacen("\"hist\":\"HIST", "\"hist\":\"!!", 1),
        ),
        ("missing fields", r#"{"kind":"endpoint"}"#.to_string()),
        (
            "binary garbage",
            "\u{1}\u{2}\u{3}\u{fffd}\u{7f}".repeat(100),
        ),
        ("half a line", total[..total.len() / 2].to_string()),
    ]
}

/// SUMMARY with every count and byte total at u64::MAX and the run and its
/// interval starting at u64::MAX: absurd, but valid JSON of the right types.
fn extreme_summary() -> String {
    let max = u64::MAX.to_string();
    SUMMARY
        .replace("\"count\":1,", &format!("\"count\":{max},"))
        .replace("\"bytes_in\":0", &format!("\"bytes_in\":{max}"))
        .replace("\"errors\":0,", &format!("\"errors\":{max},"))
        .replace(
            "\"start\":1,\"end\":6",
            &format!("\"start\":{max},\"end\":0"),
        )
        .replace("\"start\":0,", &format!("\"start\":{max},"))
}

fn compare(args: &[&PathBuf], extra: &[&str]) -> Output {
    run_bounded(
        cmd("compare").args(args).args(extra),
        Duration::from_secs(60),
    )
}

#[test]
fn bad_summaries_exit_2_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.ndjson", SUMMARY.as_bytes());
    for (i, (case, line)) in bad_summary_lines().into_iter().enumerate() {
        let path = write(
            dir.path(),
            &format!("s{i}.ndjson"),
            format!("{SUMMARY}{line}\n").as_bytes(),
        );
        let place = format!("{}:5", path.display());
        assert_bad_input(&compare(&[&good, &path], &[]), case, &place);
        assert_bad_input(
            &compare(&[&path, &good], &["--format", "ndjson"]),
            case,
            &place,
        );
        assert_bad_input(&compare(&[&good, &good, &path], &[]), case, &place);
    }
}

#[test]
fn empty_and_garbage_summaries_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.ndjson", SUMMARY.as_bytes());
    let empty = write(dir.path(), "empty.ndjson", b"");
    assert_bad_input(
        &compare(&[&good, &empty], &[]),
        "empty",
        &empty.display().to_string(),
    );
    let garbage: Vec<u8> = (0u8..=255).cycle().take(4096).collect();
    let garbage = write(dir.path(), "garbage.ndjson", &garbage);
    let place = format!("{}:1", garbage.display());
    assert_bad_input(&compare(&[&garbage, &good], &[]), "garbage", &place);
}

#[test]
fn a_100_mb_line_is_refused_with_its_line_number() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.ndjson", SUMMARY.as_bytes());
    let huge = huge_line_file(dir.path(), SUMMARY.lines().next().unwrap());
    // Bounded time stands for bounded memory: the reader stops at 16 MiB.
    let out = compare(&[&good, &huge], &[]);
    assert_bad_input(&out, "100 MB line", &format!("{}:2", huge.display()));
    assert!(String::from_utf8_lossy(&out.stderr).contains("longer than"));
}

#[test]
fn numbers_at_the_ends_of_u64_do_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.ndjson", SUMMARY.as_bytes());
    let extreme = write(dir.path(), "extreme.ndjson", extreme_summary().as_bytes());
    for args in [
        vec![&good, &extreme],
        vec![&extreme, &good],
        vec![&extreme, &extreme, &good],
    ] {
        for format in ["table", "markdown", "ndjson"] {
            let out = compare(&args, &["--format", format]);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!stderr.contains("panicked"), "{args:?} {format}: {stderr}");
            assert!(
                matches!(out.status.code(), Some(0 | 1)),
                "{args:?} {format}: {stderr}"
            );
        }
    }
}

#[test]
fn a_closed_stdout_is_a_quiet_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.ndjson", SUMMARY.as_bytes());
    // The reader closes its end before compare starts: the first write is EPIPE.
    let out = run_bounded(
        Command::new("bash").arg("-c").arg(format!(
            "{{ sleep 0.3; '{}' '{}' '{}' --format ndjson; }} | {{ exec 0<&-; sleep 1; }}; echo \"status ${{PIPESTATUS[0]}}\"",
            records::testkit::bin("compare").display(),
            good.display(),
            good.display()
        )),
        Duration::from_secs(60),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "status 0",
        "stderr: {stderr}"
    );
    assert!(stderr.is_empty(), "error spam on a closed stdout: {stderr}");
}
