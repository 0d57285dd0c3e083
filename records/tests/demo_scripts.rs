//! Every demo script, made to fail at its pipeline (a scenario seed refuses),
//! leaves nothing behind: no process of ours, no PostgreSQL schema; and
//! `make compare`'s script refuses before any load when there is no baseline.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use records::testkit::{bin, database_url, require_postgres, run_bounded};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// The pids of processes running one of the workspace's binaries from
/// `dir` that a script started with `marker` in its environment (the run
/// folder it was given), so the other tests' servers, running at the same
/// time, are not taken for its leftovers.
fn ours(dir: &Path, marker: &str) -> Vec<(u32, PathBuf)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Ok(exe) = std::fs::read_link(entry.path().join("exe")) {
            let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
            let marked = environ
                .split(|&b| b == 0)
                .any(|var| var == marker.as_bytes());
            if exe.parent() == Some(dir) && marked {
                found.push((pid, exe));
            }
        }
    }
    found
}

/// Runs `script` with the debug binaries, a scenario seed refuses and the
/// run folder in `tmp`; it must fail, and leave no process of ours running.
fn fails_cleanly(script: &str, tmp: &Path, env: &[(&str, &str)]) -> String {
    let bins = bin("tasktracker").parent().unwrap().to_path_buf();
    let marker = format!("RUN={}", tmp.join("run").display());
    let scenario = tmp.join("broken.toml");
    std::fs::write(&scenario, "name = \"broken\"\n[seed]\nusers = \"many\"\n").unwrap();
    let out = run_bounded(
        Command::new("bash")
            .arg(Path::new(ROOT).join("scripts").join(script))
            .env("BIN", &bins)
            .env("SCENARIO", &scenario)
            .env("RUN", tmp.join("run"))
            .env("BASELINE", tmp.join("baseline"))
            .envs(env.iter().copied()),
        Duration::from_secs(120),
    );
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "{script} should fail: {err}");
    // on_exit waits for what it stops, so nothing is left a moment later
    std::thread::sleep(Duration::from_millis(200));
    let left = ours(&bins, &marker);
    assert!(left.is_empty(), "{script} left {left:?} running: {err}");
    err
}

#[test]
fn demo_and_arch_stop_what_they_started_when_a_step_fails() {
    for script in ["demo.sh", "demo-ws.sh", "arch.sh", "baseline.sh"] {
        let tmp = tempfile::tempdir().unwrap();
        let err = fails_cleanly(script, tmp.path(), &[]);
        assert!(
            err.contains("broken.toml"),
            "{script}: seed names the scenario: {err}"
        );
    }
}

#[test]
fn compare_refuses_before_any_load_without_a_baseline() {
    let tmp = tempfile::tempdir().unwrap();
    let bins = bin("tasktracker").parent().unwrap().to_path_buf();
    let out = run_bounded(
        Command::new("bash")
            .arg(Path::new(ROOT).join("scripts/baseline.sh"))
            .arg("compare")
            .env("BIN", &bins)
            .env("BASELINE", tmp.path().join("none"))
            .env("RUN", tmp.path().join("run")),
        Duration::from_secs(60),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("make baseline"), "{err}");
    assert!(!tmp.path().join("run").exists(), "no run was started");
}

#[test]
fn demo_pg_stops_pgwatch_and_drops_its_schema_when_a_step_fails() {
    if !require_postgres() {
        return;
    }
    if Command::new("psql").arg("--version").output().is_err() {
        assert!(
            records::testkit::may_skip_without_postgres(),
            "psql is missing and CI is set (apt-get install postgresql-client)"
        );
        eprintln!("SKIPPED: no psql");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let schema = format!("loadpipe_scripttest_{}", std::process::id());
    let url = database_url();
    fails_cleanly(
        "demo-pg.sh",
        tmp.path(),
        &[("SCHEMA", &schema), ("DATABASE_URL", &url)],
    );
    let out = Command::new("psql")
        .args([&url, "-tAc"])
        .arg(format!(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = '{schema}'"
        ))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "0",
        "schema {schema} left behind: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
