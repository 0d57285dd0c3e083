//! Process faults and secrets, with the real binaries against the real
//! tasktracker on loopback: SIGINT/SIGTERM mid-run leave whole User lines and
//! exit 0, and no password, token or session cookie seeded here shows up in
//! any output of any tool (`--help` included) other than seed's own records.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use records::testkit::{cmd, wait_bounded, Server};
use records::User;

/// The scenario of the examples with its password template replaced, its
/// login turned into a form login (so the target also sets a session
/// cookie) and `repeat` setup tasks per user.
fn scenario(dir: &Path, password: &str, repeat: u32) -> PathBuf {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/tasktracker.toml");
    let text = std::fs::read_to_string(base).unwrap();
    let text = text.replacen(
        r#"password = "LoadTest-{n}-pass""#,
        &format!(r#"password = "{password}""#),
        1,
    );
    let login = text.find("[seed.login]").unwrap();
    let (head, tail) = text.split_at(login);
    let tail = tail.replacen(
        r#"json = { email = "{user}", password = "{password}" }"#,
        r#"form = { email = "{user}", password = "{password}" }"#,
        1,
    );
    let text = format!("{head}{tail}").replacen("repeat = 20", &format!("repeat = {repeat}"), 1);
    let path = dir.join("scenario.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Collects a child's stderr in a thread.
fn stderr_of(child: &mut Child) -> std::thread::JoinHandle<String> {
    let mut err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    })
}

fn send(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits until `path` has some bytes: the tool is mid-run, not starting.
fn wait_for_output(path: &Path, child: &mut Child) {
    let start = Instant::now();
    while std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) == 0 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "ended before any output"
        );
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no output in 60 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Every line whole and a User; the file ends with a newline.
fn whole_users(path: &Path) -> Vec<User> {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(bytes.last(), Some(&b'\n'), "half a line at the end");
    records::ndjson::read_from(&bytes[..], "seed output").expect("whole User lines")
}

#[test]
fn sigint_and_sigterm_mid_run_leave_whole_users_and_exit_0() {
    let server = Server::start(&["--hash-cost", "4"]);
    let dir = tempfile::tempdir().unwrap();
    let scenario = scenario(dir.path(), "Sig-{n}-pass", 1);
    for (i, signal) in ["INT", "TERM"].into_iter().enumerate() {
        let out = dir.path().join(format!("users-{signal}.ndjson"));
        let mut child = cmd("seed")
            .arg("-s")
            .arg(&scenario)
            .args(["--target", &server.url, "--users", "100000", "-q"])
            .args(["--first", &(1 + i * 100_000).to_string()])
            .stdin(Stdio::null())
            .stdout(File::create(&out).unwrap())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = stderr_of(&mut child);
        wait_for_output(&out, &mut child);
        let before = whole_users(&out).len();
        send(&child, signal);
        let status = wait_bounded(&mut child, Duration::from_secs(20), "seed after a signal");
        let stderr = stderr.join().unwrap();
        assert_eq!(status.code(), Some(0), "SIG{signal}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        let users = whole_users(&out);
        assert!(
            users.len() >= before,
            "SIG{signal}: lost users already written"
        );
        assert!(users.len() < 100_000, "SIG{signal}: did not stop");
    }
}

/// Everything a tool printed or wrote, for the secrets check.
struct Seen(Vec<(String, String)>);

impl Seen {
    fn add(&mut self, what: impl Into<String>, text: impl Into<String>) {
        self.0.push((what.into(), text.into()));
    }

    fn output(&mut self, what: &str, out: &Output) {
        self.add(
            format!("{what} stdout"),
            String::from_utf8_lossy(&out.stdout),
        );
        self.add(
            format!("{what} stderr"),
            String::from_utf8_lossy(&out.stderr),
        );
    }

    fn files(&mut self, dir: &Path) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                self.files(&path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                self.add(path.display().to_string(), String::from_utf8_lossy(&bytes));
            }
        }
    }
}

fn run(command: &mut Command) -> Output {
    command.stdin(Stdio::null()).output().unwrap()
}

#[test]
fn no_secret_leaks_from_any_tool() {
    let mut server = Server::start(&["--hash-cost", "4"]);
    let dir = tempfile::tempdir().unwrap();
    let scenario = scenario(dir.path(), "S3cr3t-{n}-zz", 1);
    let users_file = dir.path().join("users.ndjson");
    let mut seen = Seen(Vec::new());

    let out = run(cmd("seed")
        .arg("-s")
        .arg(&scenario)
        .args(["--target", &server.url, "--users", "5", "-o"])
        .arg(&users_file));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    seen.output("seed", &out);
    let users: Vec<User> =
        records::ndjson::read_from(File::open(&users_file).unwrap(), "users.ndjson").unwrap();
    assert_eq!(users.len(), 5);

    // Failures quote error answers: the same users with the wrong password.
    let wrong = tempfile::tempdir().unwrap();
    let wrong_scenario = scenario_with_password(&scenario, wrong.path(), "S3cr3t-{n}-zz-wrong");
    let out = run(cmd("seed").arg("-s").arg(&wrong_scenario).args([
        "--target",
        &server.url,
        "--users",
        "5",
        "--retries",
        "0",
    ]));
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    seen.output("seed with a wrong password", &out);

    // hammer: its stdout is Events, which must not carry secrets either.
    let events = dir.path().join("events.ndjson");
    let out = run(cmd("hammer")
        .arg("-s")
        .arg(&scenario)
        .args(["--target", &server.url, "--users-file"])
        .arg(&users_file)
        .args(["--vus", "5", "--requests", "200", "--think", "0s", "-o"])
        .arg(&events));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    seen.output("hammer", &out);
    seen.add("events", std::fs::read_to_string(&events).unwrap());

    let results = dir.path().join("results");
    let out = run(cmd("aggregate")
        .arg(&events)
        .args([
            "--format",
            "table",
            "--label",
            "a",
            "--threshold",
            "p99<1ns",
            "--out-dir",
        ])
        .arg(results.join("a")));
    assert_eq!(out.status.code(), Some(1), "the threshold is broken");
    seen.output("aggregate", &out);
    let out = run(cmd("aggregate")
        .arg(&events)
        .args(["--format", "ndjson", "--label", "b", "--out-dir"])
        .arg(results.join("b")));
    assert!(out.status.success());
    seen.output("aggregate ndjson", &out);
    let (a, b) = (
        results.join("a/summary.ndjson"),
        results.join("b/summary.ndjson"),
    );

    for format in ["table", "markdown", "ndjson"] {
        let out = run(cmd("compare").arg(&a).arg(&b).args(["--format", format]));
        seen.output(&format!("compare --format {format}"), &out);
    }
    let out = run(cmd("compare")
        .args(["--label", "x"])
        .arg(&a)
        .args(["--label", "y"])
        .arg(&b)
        .arg("--out-dir")
        .arg(results.join("compare")));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    seen.output("compare side by side", &out);

    let out = run(cmd("chart")
        .arg(&a)
        .arg(&b)
        .arg("--out-dir")
        .arg(results.join("charts")));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    seen.output("chart", &out);
    seen.files(&results);

    for tool in [
        "seed",
        "hammer",
        "aggregate",
        "compare",
        "chart",
        "pgwatch",
        "tasktracker",
    ] {
        let out = run(cmd(tool).arg("--help"));
        assert!(out.status.success(), "{tool} --help");
        seen.output(&format!("{tool} --help"), &out);
    }

    server.kill();
    seen.add("tasktracker stderr", server.logs().join("\n"));

    let mut secrets = Vec::new();
    for u in &users {
        secrets.extend(u.password.clone());
        secrets.extend(u.token.clone());
        secrets.extend(u.refresh_token.clone());
        secrets.extend(u.cookies.values().cloned());
    }
    assert!(users
        .iter()
        .all(|u| u.token.is_some() && u.refresh_token.is_some()));
    assert!(
        users.iter().all(|u| u.cookies.contains_key("session")),
        "no session cookies seeded"
    );
    // The password template's fixed part: no password, right or wrong, whole or in part.
    secrets.push("S3cr3t-".to_string());
    for (what, text) in &seen.0 {
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "{what} contains the secret {secret:?}"
            );
        }
    }
}

fn scenario_with_password(from: &Path, dir: &Path, password: &str) -> PathBuf {
    let text = std::fs::read_to_string(from).unwrap();
    let text = text.replacen(
        r#"password = "S3cr3t-{n}-zz""#,
        &format!(r#"password = "{password}""#),
        1,
    );
    let path = dir.join("scenario.toml");
    std::fs::write(&path, text).unwrap();
    path
}
