//! aggregate's Locust files against Locust's own (aggregate/tests/fixtures/locust,
//! written by Locust 2.47 running the locustfile there against tasktracker):
//! the same headers byte for byte, and in pandas the same columns and dtypes.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use records::testkit::{cmd, may_skip_without_postgres, run_bounded, Server};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/locust/");
const DTYPES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/locust_dtypes.py");
const FILES: [&str; 4] = ["stats", "stats_history", "failures", "exceptions"];

/// The locustfile's load as a scenario: a success, a 401 and a 404.
const SCENARIO: &str = r#"
name = "probe"
base_url = "http://127.0.0.1:9"

[[hammer.requests]]
name = "GET /health"
weight = 3
path = "/health"
expect = [200]

[[hammer.requests]]
name = "GET /api/v1/tasks"
path = "/api/v1/tasks"
expect = [200]

[[hammer.requests]]
name = "GET /missing"
path = "/missing"
expect = [200]
"#;

/// hammer | aggregate --csv DIR/ours against tasktracker; returns the prefix
/// of the files, `DIR/ours_`.
fn our_files(dir: &Path) -> PathBuf {
    let server = Server::start(&[]);
    let scenario = dir.join("probe.toml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let events = dir.join("events.ndjson");
    let out = run_bounded(
        cmd("hammer")
            .arg("-s")
            .arg(&scenario)
            .args(["--target", &server.url, "--vus", "5", "--duration", "3s"])
            .args(["--think", "20ms..50ms", "-o"])
            .arg(&events),
        Duration::from_secs(30),
    );
    assert!(
        out.status.success(),
        "hammer: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let prefix = dir.join("ours");
    let out = run_bounded(
        cmd("aggregate")
            .arg(&events)
            .arg("--csv")
            .arg(&prefix)
            .args(["--format", "ndjson"])
            .stdout(Stdio::null()),
        Duration::from_secs(30),
    );
    assert!(
        out.status.success(),
        "aggregate: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir.join("ours_")
}

fn header(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines().next().unwrap_or_default().to_string()
}

/// A Python that has pandas: `python3` on PATH, else the system's.
fn python_with_pandas() -> Option<&'static str> {
    ["python3", "/usr/bin/python3"].into_iter().find(|python| {
        Command::new(python)
            .args(["-c", "import pandas"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

#[test]
fn locust_files_match_locusts_own() {
    let dir = tempfile::tempdir().unwrap();
    let ours = our_files(dir.path());
    let file = |prefix: &str, name: &str| PathBuf::from(format!("{prefix}{name}.csv"));
    let ours_text = ours.to_str().unwrap();
    for name in FILES {
        assert_eq!(
            header(&file(ours_text, name)),
            header(&file(FIXTURES, name)),
            "{name}.csv header"
        );
    }
    let failures = std::fs::read_to_string(file(ours_text, "failures")).unwrap();
    for code in [401, 404] {
        assert!(
            failures.contains(&format!(",LocustBadStatusCode(code={code}),")),
            "one row per status code:\n{failures}"
        );
    }

    let Some(python) = python_with_pandas() else {
        // The same rule as for PostgreSQL: CI=true makes a missing tool a failure.
        assert!(
            may_skip_without_postgres(),
            "pandas is not installed and CI is set: this test must not skip (.ci/run installs python3-pandas)"
        );
        eprintln!(
            "SKIPPED the pandas half: no python3 with pandas (apt-get install python3-pandas)"
        );
        return;
    };
    let out = run_bounded(
        Command::new(python).args([DTYPES, FIXTURES, ours_text]),
        Duration::from_secs(60),
    );
    assert!(
        out.status.success(),
        "pandas sees other columns or dtypes than in Locust's files:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
