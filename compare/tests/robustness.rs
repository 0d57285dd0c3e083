//! Bad input and a closed stdout, run against the real binary: every
//! malformed summary is exit 2 with the file and line named and no panic, a
//! 100 MB line is refused quickly (bounded memory), absurd but well-typed
//! numbers do not panic, and a closed stdout is a quiet exit 0.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use records::testkit::{
    assert_bad_input, bad_summary_lines, cmd, extreme_summary, huge_line_file, run_bounded,
    write_file, SUMMARY,
};

const TOOL: &str = "compare";

fn compare(args: &[&PathBuf], extra: &[&str]) -> Output {
    run_bounded(
        cmd("compare").args(args).args(extra),
        Duration::from_secs(60),
    )
}

#[test]
fn bad_summaries_exit_2_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let good = write_file(dir.path(), "good.ndjson", SUMMARY.as_bytes());
    for (i, (case, line)) in bad_summary_lines(SUMMARY.lines().nth(2).unwrap())
        .into_iter()
        .enumerate()
    {
        let path = write_file(
            dir.path(),
            &format!("s{i}.ndjson"),
            format!("{SUMMARY}{line}\n").as_bytes(),
        );
        let place = format!("{}:5", path.display());
        assert_bad_input(TOOL, &compare(&[&good, &path], &[]), case, &place);
        assert_bad_input(
            TOOL,
            &compare(&[&path, &good], &["--format", "ndjson"]),
            case,
            &place,
        );
        assert_bad_input(TOOL, &compare(&[&good, &good, &path], &[]), case, &place);
    }
}

#[test]
fn empty_and_garbage_summaries_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let good = write_file(dir.path(), "good.ndjson", SUMMARY.as_bytes());
    let empty = write_file(dir.path(), "empty.ndjson", b"");
    assert_bad_input(
        TOOL,
        &compare(&[&good, &empty], &[]),
        "empty",
        &empty.display().to_string(),
    );
    let garbage: Vec<u8> = (0u8..=255).cycle().take(4096).collect();
    let garbage = write_file(dir.path(), "garbage.ndjson", &garbage);
    let place = format!("{}:1", garbage.display());
    assert_bad_input(TOOL, &compare(&[&garbage, &good], &[]), "garbage", &place);
}

#[test]
fn a_100_mb_line_is_refused_with_its_line_number() {
    let dir = tempfile::tempdir().unwrap();
    let good = write_file(dir.path(), "good.ndjson", SUMMARY.as_bytes());
    let huge = huge_line_file(
        dir.path(),
        SUMMARY.lines().next().unwrap(),
        r#"{"kind":"run","x":""#,
    );
    // Bounded time stands for bounded memory: the reader stops at 16 MiB.
    let out = compare(&[&good, &huge], &[]);
    assert_bad_input(TOOL, &out, "100 MB line", &format!("{}:2", huge.display()));
    assert!(String::from_utf8_lossy(&out.stderr).contains("longer than"));
}

#[test]
fn numbers_at_the_ends_of_u64_do_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    let good = write_file(dir.path(), "good.ndjson", SUMMARY.as_bytes());
    let extreme = write_file(dir.path(), "extreme.ndjson", extreme_summary().as_bytes());
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
    let good = write_file(dir.path(), "good.ndjson", SUMMARY.as_bytes());
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
