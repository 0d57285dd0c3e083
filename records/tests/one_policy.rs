//! One decision in one place, seen from outside: the three tools that read
//! summaries (compare, chart, aggregate --merge) accept and refuse the same
//! files, every tool documents the same exit codes in `--help`, a failed
//! write is exit 4 everywhere, and scenario values fail with file and line.

use std::path::Path;
use std::time::Duration;

use records::testkit::{cmd, run_bounded, write_file, SUMMARY};

/// The endpoint line of the testkit summary, for editing.
fn endpoint_line() -> &'static str {
    SUMMARY
        .lines()
        .find(|l| l.contains("\"kind\":\"endpoint\""))
        .unwrap()
}

/// Runs compare, chart and aggregate --merge on `bad`; each must exit 2 and
/// name the file and line.
fn all_refuse(dir: &Path, name: &str, text: &str, line: usize, needle: &str) {
    let good = write_file(dir, "good.ndjson", SUMMARY.as_bytes());
    let bad = write_file(dir, name, text.as_bytes());
    let place = format!("{}:{line}:", bad.display());
    let charts = dir.join("charts");
    let runs: [(&str, Vec<&std::ffi::OsStr>); 3] = [
        ("compare", vec![good.as_os_str(), bad.as_os_str()]),
        (
            "chart",
            vec![bad.as_os_str(), "--out-dir".as_ref(), charts.as_os_str()],
        ),
        ("aggregate", vec!["--merge".as_ref(), bad.as_os_str()]),
    ];
    for (tool, args) in runs {
        let out = run_bounded(cmd(tool).args(&args), Duration::from_secs(30));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{tool} on {name}: {stderr}");
        assert!(
            stderr.contains(&place) && stderr.contains(needle),
            "{tool} on {name} should name {place} and say {needle:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{tool}: {stderr}");
    }
}

#[test]
fn more_errors_than_requests_is_refused_by_all() {
    let dir = tempfile::tempdir().unwrap();
    let line = endpoint_line().replace("\"errors\":0,", "\"errors\":5,");
    all_refuse(
        dir.path(),
        "errors.ndjson",
        &format!("{line}\n"),
        1,
        "more errors (5) than requests (1)",
    );
}

#[test]
fn the_same_endpoint_twice_is_refused_by_all() {
    let dir = tempfile::tempdir().unwrap();
    let line = endpoint_line();
    all_refuse(
        dir.path(),
        "twice.ndjson",
        &format!("{line}\n{line}\n"),
        2,
        "endpoint `a` appears twice (first on line 1)",
    );
}

#[test]
fn an_empty_histogram_field_is_refused_by_all() {
    let dir = tempfile::tempdir().unwrap();
    let line = endpoint_line();
    let hist_at = line.find("\"hist\":\"").unwrap();
    let line = format!("{}\"hist\":\"\"}}", &line[..hist_at]);
    all_refuse(
        dir.path(),
        "nohist.ndjson",
        &format!("{line}\n"),
        1,
        "field `hist` of `a`",
    );
}

#[test]
fn a_histogram_that_disagrees_with_its_count_is_refused_by_all() {
    let dir = tempfile::tempdir().unwrap();
    let line = endpoint_line().replace("\"count\":1,", "\"count\":3,");
    all_refuse(
        dir.path(),
        "count.ndjson",
        &format!("{line}\n"),
        1,
        "holds 1 values but `count` is 3",
    );
}

#[test]
fn every_tool_ends_its_help_with_the_same_exit_status_section() {
    for tool in [
        "seed",
        "hammer",
        "aggregate",
        "compare",
        "chart",
        "pgwatch",
        "hostwatch",
        "tasktracker",
    ] {
        let out = run_bounded(cmd(tool).arg("--help"), Duration::from_secs(10));
        assert_eq!(out.status.code(), Some(0), "{tool} --help");
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(
            help.trim_end()
                .ends_with(records::exit::EXIT_STATUS_HELP.trim_end()),
            "{tool} --help does not end with the exit-status section:\n{help}"
        );
    }
}

#[test]
fn a_failed_write_is_exit_4_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let summary = write_file(dir.path(), "s.ndjson", SUMMARY.as_bytes());
    // /dev/full: every write fails with "No space left on device".
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full, present on Linux");
    for (tool, args) in [
        ("compare", vec![&summary, &summary]),
        ("aggregate", vec![&summary]),
    ] {
        let mut command = cmd(tool);
        if tool == "aggregate" {
            command.args(["--merge", "--format", "ndjson"]);
        }
        command.args(&args).stdout(full.try_clone().unwrap());
        let out = command.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{tool}: {stderr}");
        assert!(stderr.contains("No space left"), "{tool}: {stderr}");
    }
}

#[test]
fn scenario_values_fail_with_file_and_line_and_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let base = "base_url = \"http://127.0.0.1:9\"\n\n[hammer]\n";
    let request = "\n[[hammer.requests]]\nname = \"x\"\npath = \"/\"\n";
    for (setting, needle) in [
        ("spawn_rate = 0.0\nusers = 5", "hammer.spawn_rate"),
        ("spawn_rate = -1.0\nusers = 5", "hammer.spawn_rate"),
        ("think = \"slow\"", "hammer.think"),
        ("stages = \"x\"", "hammer.stages"),
        ("stages = \"0s:10\"", "hammer.stages"),
        ("rate = 0.0", "hammer.rate"),
        ("rate = -5.0", "hammer.rate"),
        ("rate_stages = \"10s:0\"", "hammer.rate_stages"),
        ("duration = \"0s\"", "hammer.duration"),
        ("vus = 0", "hammer.vus"),
    ] {
        let file = write_file(
            dir.path(),
            "s.toml",
            format!("{base}{setting}\n{request}").as_bytes(),
        );
        let out = run_bounded(cmd("hammer").arg("-s").arg(&file), Duration::from_secs(10));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{setting}: {stderr}");
        let place = format!("{}:4:", file.display());
        assert!(
            stderr.contains(&place) && stderr.contains(needle),
            "{setting}: should name {place} and {needle}: {stderr}"
        );
        for flag in [
            "--think",
            "--stages",
            "--rate",
            "--spawn-rate",
            "--duration",
            "--vus",
        ] {
            assert!(!stderr.contains(flag), "{setting} blames {flag}: {stderr}");
        }
    }
}
