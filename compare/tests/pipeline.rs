//! End to end: the real tasktracker, once fast and once with 5 ms of added
//! delay, through the real `seed | hammer | aggregate`; compare must flag the
//! slower run (and call the reverse an improvement).

mod common;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::{compare, comparisons, find, stderr, stdout};
use records::testkit::{cmd, wait_bounded, Server};

fn scenario() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/tasktracker.toml").to_string()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// `seed | hammer | aggregate --format ndjson > DIR/NAME.ndjson` against `server`.
fn pipeline(server: &Server, dir: &Path, name: &str) -> PathBuf {
    let log = |tool: &str| dir.join(format!("{name}.{tool}.log"));
    let scenario = scenario();
    let mut seed = cmd("seed")
        .args(["-s", &scenario, "--target", &server.url, "--users", "4"])
        .stdout(Stdio::piped())
        .stderr(File::create(log("seed")).unwrap())
        .spawn()
        .unwrap();
    let mut hammer = cmd("hammer")
        .args(["-s", &scenario, "--target", &server.url])
        .args(["--vus", "4", "--duration", "3s", "--think", "0s"])
        .stdin(seed.stdout.take().unwrap())
        .stdout(Stdio::piped())
        .stderr(File::create(log("hammer")).unwrap())
        .spawn()
        .unwrap();
    let out = dir.join(format!("{name}.ndjson"));
    let mut aggregate = cmd("aggregate")
        .args(["--format", "ndjson"])
        .stdin(hammer.stdout.take().unwrap())
        .stdout(File::create(&out).unwrap())
        .stderr(File::create(log("aggregate")).unwrap())
        .spawn()
        .unwrap();
    let limit = Duration::from_secs(60);
    for (tool, child) in [
        ("seed", &mut seed),
        ("hammer", &mut hammer),
        ("aggregate", &mut aggregate),
    ] {
        let status = wait_bounded(
            child,
            limit,
            &format!("{tool} (stderr in {})", log(tool).display()),
        );
        assert!(
            status.success(),
            "{tool} failed ({status}) on {name}:\n{}",
            read(&log(tool))
        );
    }
    out
}

#[test]
fn compare_flags_the_slower_tasktracker() {
    let dir = tempfile::tempdir().unwrap();
    let fast = Server::start(&["--delay", "0ms", "--hash-cost", "4"]);
    let slow = Server::start(&["--delay", "5ms", "--hash-cost", "4"]);
    let fast = pipeline(&fast, dir.path(), "fast");
    let slow = pipeline(&slow, dir.path(), "slow");
    let (fast, slow) = (fast.to_str().unwrap(), slow.to_str().unwrap());

    let out = compare(&[fast, slow, "--format", "ndjson"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    let records = comparisons(&out);
    let total = find(&records, "Aggregated", "p95_ns");
    assert_eq!(total.verdict, "regression", "{total:?}");
    // Every slow response waited at least the 5 ms delay.
    let median = find(&records, "Aggregated", "p50_ns");
    assert!(median.current.unwrap() >= 5e6, "{median:?}");
    assert!(
        median.current.unwrap() > median.baseline.unwrap(),
        "{median:?}"
    );
    assert!(
        total.p_value.unwrap() < 1e-6 && total.effect.unwrap() > 0.7,
        "{total:?}"
    );

    // Read the other way round, the same data is an improvement and passes.
    let out = compare(&[slow, fast, "--format", "ndjson"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(
        find(&comparisons(&out), "Aggregated", "p95_ns").verdict,
        "improvement"
    );

    // A run against itself: nothing to report.
    let out = compare(&[fast, fast, "--format", "table"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).starts_with("no regression\n"),
        "{}",
        stdout(&out)
    );
}
