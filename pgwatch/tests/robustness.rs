//! A closed stdout (EPIPE) mid-run is a quiet normal end. (SIGINT and
//! SIGTERM after whole lines are in `pgwatch.rs`.)

use std::process::{Command, Stdio};
use std::time::Duration;

use records::testkit::{bin, database_url, require_postgres, wait_bounded};

#[test]
fn a_closed_stdout_is_a_quiet_exit_0() {
    if !require_postgres() {
        return;
    }
    // head takes two samples and leaves; pgwatch (unbounded run) meets EPIPE
    // on its next poll, 50 ms later.
    let script = format!(
        "'{}' --database-url '{}' --interval 50ms | head -2 >/dev/null; echo \"status ${{PIPESTATUS[*]}}\"",
        bin("pgwatch").display(),
        database_url()
    );
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(script)
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_bounded(
        &mut child,
        Duration::from_secs(30),
        "pgwatch with a closed stdout",
    );
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "status 0 0",
        "{stderr}"
    );
    assert!(stderr.is_empty(), "error spam on a closed stdout: {stderr}");
}

#[test]
fn an_http_url_flag_names_database_url() {
    let out = records::testkit::run_bounded(
        records::testkit::cmd("pgwatch").args(["--url", "postgres://u:secret@127.0.0.1/x"]),
        std::time::Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--database-url") && !err.contains("secret"),
        "{err}"
    );
}
