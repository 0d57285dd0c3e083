//! Bad input, run against the real binary: every malformed summary or pg
//! sample is exit 2 with the file and line named and no panic, a 100 MB line
//! is refused quickly (bounded memory), and absurd but well-typed numbers
//! (counts and timestamps at u64::MAX) draw charts instead of overflowing.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use records::testkit::cmd;

const TOOL: &str = "chart";

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

const PG: &str = r#"{"kind":"pg","ts":2,"datname":"t","total":1,"active":0,"idle":1,"idle_in_transaction":0,"waiting":0,"blocked":0,"max_connections":100,"utilization":0.01,"longest_query_ns":0,"longest_xact_ns":0}"#;

fn chart(dir: &Path, args: &[&Path]) -> Output {
    run_bounded(
        cmd("chart")
            .args(args)
            .arg("-o")
            .arg(dir.join("charts"))
            .args(["--size", "400x300"]),
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
        assert_bad_input(&chart(dir.path(), &[&path]), case, &place);
        assert_bad_input(&chart(dir.path(), &[&good, &path]), case, &place);
    }
}

#[test]
fn empty_and_garbage_summaries_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let empty = write(dir.path(), "empty.ndjson", b"");
    assert_bad_input(
        &chart(dir.path(), &[&empty]),
        "empty",
        &empty.display().to_string(),
    );
    let garbage: Vec<u8> = (0u8..=255).cycle().take(4096).collect();
    let garbage = write(dir.path(), "garbage.ndjson", &garbage);
    let place = format!("{}:1", garbage.display());
    assert_bad_input(&chart(dir.path(), &[&garbage]), "garbage", &place);
}

#[test]
fn a_100_mb_line_is_refused_with_its_line_number() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.ndjson", SUMMARY.as_bytes());
    let huge = huge_line_file(dir.path(), SUMMARY.lines().next().unwrap());
    let place = format!("{}:2", huge.display());
    // Bounded time stands for bounded memory: the reader stops at 16 MiB.
    let out = chart(dir.path(), &[&huge]);
    assert_bad_input(&out, "100 MB summary line", &place);
    assert!(String::from_utf8_lossy(&out.stderr).contains("longer than"));
    let out = run_bounded(
        cmd("chart")
            .arg(&good)
            .arg("--pg")
            .arg(&huge)
            .arg("-o")
            .arg(dir.path().join("c")),
        Duration::from_secs(60),
    );
    assert_bad_input(&out, "100 MB pg line", &place);
}

#[test]
fn bad_pg_samples_exit_2_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.ndjson", SUMMARY.as_bytes());
    let cases = [
        ("total -1", PG.replacen("\"total\":1", "\"total\":-1", 1)),
        (
            "utilization 1e400",
            PG.replacen("\"utilization\":0.01", "\"utilization\":1e400", 1),
        ),
        ("ts as a string", PG.replacen("\"ts\":2", "\"ts\":\"2\"", 1)),
        (
            "duplicate key",
            PG.replacen(
                "\"datname\":\"t\"",
                "\"datname\":\"t\",\"datname\":\"u\"",
                1,
            ),
        ),
        ("missing fields", r#"{"kind":"pg","ts":1}"#.to_string()),
        ("garbage", "\u{0}\u{1}\u{2}".repeat(300)),
    ];
    for (i, (case, line)) in cases.into_iter().enumerate() {
        let path = write(
            dir.path(),
            &format!("pg{i}.ndjson"),
            format!("{PG}\n{line}\n").as_bytes(),
        );
        let out = run_bounded(
            cmd("chart")
                .arg(&good)
                .arg("--pg")
                .arg(&path)
                .arg("-o")
                .arg(dir.path().join("c")),
            Duration::from_secs(60),
        );
        assert_bad_input(&out, case, &format!("{}:2", path.display()));
    }
    let empty = write(dir.path(), "empty.ndjson", b"");
    let out = run_bounded(
        cmd("chart")
            .arg(&good)
            .arg("--pg")
            .arg(&empty)
            .arg("-o")
            .arg(dir.path().join("c")),
        Duration::from_secs(60),
    );
    assert_bad_input(&out, "empty pg", &empty.display().to_string());
}

/// Found by this test: a run whose interval starts near u64::MAX, and two
/// runs whose counts add past u64::MAX, panicked with an overflow.
#[test]
fn numbers_at_the_ends_of_u64_draw_instead_of_panicking() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.ndjson", SUMMARY.as_bytes());
    let extreme = write(dir.path(), "extreme.ndjson", extreme_summary().as_bytes());
    let max = u64::MAX;
    let pg = write(
        dir.path(),
        "pg.ndjson",
        format!(
            "{}\n{}\n",
            PG.replace("\"ts\":2", &format!("\"ts\":{max}"))
                .replace("\"total\":1", &format!("\"total\":{max}")),
            PG.replace("\"ts\":2", &format!("\"ts\":{max}"))
                .replace("\"total\":1", &format!("\"total\":{max}"))
                .replace("\"t\"", "\"u\"")
        )
        .as_bytes(),
    );
    for args in [
        vec![&extreme],
        vec![&extreme, &extreme],
        vec![&good, &extreme],
    ] {
        for with_pg in [false, true] {
            let mut command = cmd("chart");
            command
                .args(&args)
                .arg("-o")
                .arg(dir.path().join("c"))
                .args(["--size", "400x300"]);
            if with_pg {
                command.arg("--pg").arg(&pg);
            }
            let out = run_bounded(&mut command, Duration::from_secs(120));
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                !stderr.contains("panicked"),
                "{args:?} pg {with_pg}: {stderr}"
            );
            assert_eq!(
                out.status.code(),
                Some(0),
                "{args:?} pg {with_pg}: {stderr}"
            );
        }
    }
}
