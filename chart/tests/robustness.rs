//! Bad input, run against the real binary: every malformed summary, pg or
//! host sample is exit 2 with the file and line named and no panic, a 100 MB line
//! is refused quickly (bounded memory), and absurd but well-typed numbers
//! (counts and timestamps at u64::MAX) draw charts instead of overflowing.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use records::testkit::{
    assert_bad_input, bad_summary_lines, cmd, extreme_summary, huge_line_file, run_bounded,
    write_file, SUMMARY,
};

const TOOL: &str = "chart";

const PG: &str = r#"{"kind":"pg","ts":2,"datname":"t","total":1,"active":0,"idle":1,"idle_in_transaction":0,"waiting":0,"blocked":0,"max_connections":100,"utilization":0.01,"longest_query_ns":0,"longest_xact_ns":0}"#;

const HOST: &str = r#"{"kind":"host","ts":2,"interval_ns":1000000000,"cpus":1,"cpu_permille":500,"cpu_user_permille":400,"cpu_system_permille":100,"cpu_iowait_permille":0,"cpu_steal_permille":0,"cores":[],"load1_milli":0,"load5_milli":0,"load15_milli":0,"mem_total_bytes":100,"mem_used_bytes":50,"mem_available_bytes":50,"mem_cached_bytes":0,"swap_total_bytes":0,"swap_used_bytes":0,"net":[],"disks":[]}"#;
const PROCESS: &str = r#"{"kind":"process","ts":2,"interval_ns":1000000000,"watch":"app","pid":7,"ppid":1,"name":"app","cpu_permille":10,"rss_bytes":4096,"threads":1}"#;

fn chart(dir: &Path, args: &[&Path]) -> Output {
    run_bounded(
        cmd("chart")
            .args(args)
            .arg("--out-dir")
            .arg(dir.join("charts"))
            .args(["--size", "400x300"]),
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
        assert_bad_input(TOOL, &chart(dir.path(), &[&path]), case, &place);
        assert_bad_input(TOOL, &chart(dir.path(), &[&good, &path]), case, &place);
    }
}

#[test]
fn empty_and_garbage_summaries_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let empty = write_file(dir.path(), "empty.ndjson", b"");
    assert_bad_input(
        TOOL,
        &chart(dir.path(), &[&empty]),
        "empty",
        &empty.display().to_string(),
    );
    let garbage: Vec<u8> = (0u8..=255).cycle().take(4096).collect();
    let garbage = write_file(dir.path(), "garbage.ndjson", &garbage);
    let place = format!("{}:1", garbage.display());
    assert_bad_input(TOOL, &chart(dir.path(), &[&garbage]), "garbage", &place);
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
    let place = format!("{}:2", huge.display());
    // Bounded time stands for bounded memory: the reader stops at 16 MiB.
    let out = chart(dir.path(), &[&huge]);
    assert_bad_input(TOOL, &out, "100 MB summary line", &place);
    assert!(String::from_utf8_lossy(&out.stderr).contains("longer than"));
    let out = run_bounded(
        cmd("chart")
            .arg(&good)
            .arg("--pg")
            .arg(&huge)
            .arg("--out-dir")
            .arg(dir.path().join("c")),
        Duration::from_secs(60),
    );
    assert_bad_input(TOOL, &out, "100 MB pg line", &place);
}

#[test]
fn bad_pg_samples_exit_2_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let good = write_file(dir.path(), "good.ndjson", SUMMARY.as_bytes());
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
        let path = write_file(
            dir.path(),
            &format!("pg{i}.ndjson"),
            format!("{PG}\n{line}\n").as_bytes(),
        );
        let out = run_bounded(
            cmd("chart")
                .arg(&good)
                .arg("--pg")
                .arg(&path)
                .arg("--out-dir")
                .arg(dir.path().join("c")),
            Duration::from_secs(60),
        );
        assert_bad_input(TOOL, &out, case, &format!("{}:2", path.display()));
    }
    let empty = write_file(dir.path(), "empty.ndjson", b"");
    let out = run_bounded(
        cmd("chart")
            .arg(&good)
            .arg("--pg")
            .arg(&empty)
            .arg("--out-dir")
            .arg(dir.path().join("c")),
        Duration::from_secs(60),
    );
    assert_bad_input(TOOL, &out, "empty pg", &empty.display().to_string());
}

/// Found by this test: a run whose interval starts near u64::MAX, and two
/// runs whose counts add past u64::MAX, panicked with an overflow.
#[test]
fn numbers_at_the_ends_of_u64_draw_instead_of_panicking() {
    let dir = tempfile::tempdir().unwrap();
    let good = write_file(dir.path(), "good.ndjson", SUMMARY.as_bytes());
    let extreme = write_file(dir.path(), "extreme.ndjson", extreme_summary().as_bytes());
    let max = u64::MAX;
    let pg = write_file(
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
                .arg("--out-dir")
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

#[test]
fn bad_host_samples_exit_2_naming_file_and_line_and_extreme_ones_draw() {
    let dir = tempfile::tempdir().unwrap();
    let good = write_file(dir.path(), "good.ndjson", SUMMARY.as_bytes());
    let cases = [
        (
            "cpu -1",
            HOST.replacen("\"cpu_permille\":500", "\"cpu_permille\":-1", 1),
        ),
        (
            "ts as a string",
            HOST.replacen("\"ts\":2", "\"ts\":\"2\"", 1),
        ),
        ("missing fields", r#"{"kind":"host","ts":1}"#.to_string()),
        (
            "rss 2^64",
            PROCESS.replacen(
                "\"rss_bytes\":4096",
                "\"rss_bytes\":18446744073709551616",
                1,
            ),
        ),
        ("process without pid", PROCESS.replacen("\"pid\":7,", "", 1)),
        ("garbage", "\u{0}\u{1}\u{2}".repeat(300)),
    ];
    let host = |path: &Path| {
        run_bounded(
            cmd("chart")
                .arg(&good)
                .arg("--host")
                .arg(path)
                .arg("--out-dir")
                .arg(dir.path().join("c")),
            Duration::from_secs(60),
        )
    };
    for (i, (case, line)) in cases.into_iter().enumerate() {
        let path = write_file(
            dir.path(),
            &format!("host{i}.ndjson"),
            format!("{HOST}\n{line}\n").as_bytes(),
        );
        assert_bad_input(TOOL, &host(&path), case, &format!("{}:2", path.display()));
    }
    let only_processes = write_file(
        dir.path(),
        "procs.ndjson",
        format!("{PROCESS}\n").as_bytes(),
    );
    assert_bad_input(
        TOOL,
        &host(&only_processes),
        "no host samples",
        "no host samples",
    );
    // Absurd but well-typed: every figure at its type's maximum.
    let max = u64::MAX.to_string();
    let extreme = format!(
        "{}\n{}\n{}\n",
        HOST.replace(
            "\"cpu_permille\":500",
            &format!("\"cpu_permille\":{}", u32::MAX)
        )
        .replace(
            "\"mem_used_bytes\":50",
            &format!("\"mem_used_bytes\":{max}")
        ),
        PROCESS.replace("\"rss_bytes\":4096", &format!("\"rss_bytes\":{max}")),
        PROCESS
            .replace("\"pid\":7", "\"pid\":8")
            .replace("\"rss_bytes\":4096", &format!("\"rss_bytes\":{max}"))
            .replace(
                "\"cpu_permille\":10",
                &format!("\"cpu_permille\":{}", u32::MAX)
            ),
    );
    let path = write_file(dir.path(), "extreme.ndjson", extreme.as_bytes());
    let out = host(&path);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn dash_o_and_a_file_for_the_directory_say_what_chart_wants() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("charts.png");
    std::fs::write(&file, "").unwrap();
    let file_run = dir.path().join("run.ndjson");
    std::fs::write(&file_run, records::testkit::extreme_summary()).unwrap();
    for (flags, needle) in [
        (vec!["-o", file.to_str().unwrap()], "--out-dir DIR"),
        (
            vec!["--out-dir", file.to_str().unwrap()],
            "is a file; --out-dir wants a directory",
        ),
    ] {
        let out = records::testkit::run_bounded(
            cmd("chart").arg(&file_run).args(&flags),
            std::time::Duration::from_secs(30),
        );
        assert_eq!(out.status.code(), Some(2), "{flags:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{flags:?}: {err}");
    }
}
