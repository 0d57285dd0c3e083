//! A closed stdout mid-run is a quiet normal end with the summary on stderr,
//! a full disk is exit 4, and bad usage of every kind is exit 2 naming the problem, with nothing on
//! stdout. (SIGINT, SIGTERM and stdin's end after whole lines are in
//! `hostwatch.rs`.)

use std::process::Command;
use std::time::Duration;

use records::testkit::{bin, cmd, run_bounded};

#[test]
fn a_closed_stdout_is_a_quiet_exit_0_with_the_summary_on_stderr() {
    let script = format!(
        "'{}' --interval 50ms | head -2 >/dev/null; echo \"status ${{PIPESTATUS[*]}}\"",
        bin("hostwatch").display()
    );
    let out = run_bounded(
        Command::new("bash").arg("-c").arg(script),
        Duration::from_secs(20),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "status 0 0",
        "{stderr}"
    );
    assert!(stderr.contains("hostwatch: "), "no summary: {stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
}

#[test]
fn bad_usage_is_exit_2_naming_the_problem() {
    let cases: &[(&[&str], &str)] = &[
        (&["--proc", "/nonexistent"], "hostwatch needs Linux's /proc"),
        (&["--threshold", "cpu<lots"], "bad --threshold `cpu<lots`"),
        (
            &["--threshold", "memory<1GB"],
            "unknown host metric `memory`",
        ),
        (
            &["--threshold", "process:nginx:cpu<50%"],
            "names process nginx, which no --pid or --process watches",
        ),
        (&["--iface", "nosuch0"], "no network interface nosuch0"),
        (&["--children"], "--children needs a --pid or --process"),
        (
            &["--pid", "4000000"],
            "--pid 4000000 matches no running process",
        ),
    ];
    for (args, message) in cases {
        let out = run_bounded(
            cmd("hostwatch").args(*args).args(["--count", "1"]),
            Duration::from_secs(10),
        );
        records::testkit::assert_bad_input("hostwatch", &out, &format!("{args:?}"), message);
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn a_failed_write_is_exit_4_and_says_so() {
    // /dev/full: every write fails with "No space left on device".
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full, present on Linux");
    let out = cmd("hostwatch")
        .args(["--count", "1", "--interval", "10ms"])
        .stdout(full)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("No space left"), "{stderr}");
}
