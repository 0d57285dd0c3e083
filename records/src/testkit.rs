//! Test support shared by every crate's integration tests (feature `testkit`):
//! finding the workspace's built binaries and running the reference
//! `tasktracker` on a free loopback port.
//!
//! The binaries come from `cargo build --workspace --bins`, which `make test`
//! runs before the tests.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Path of a workspace binary next to the running test executable.
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> → target/<profile>/<name>
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is not built; run `cargo build --workspace --bins` first (`make test` does)",
        path.display()
    );
    path
}

/// A `Command` for a workspace binary.
pub fn cmd(name: &str) -> Command {
    Command::new(bin(name))
}

/// A running tasktracker, killed when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// Everything the server printed on stderr after it started.
    logs: mpsc::Receiver<String>,
}

impl Server {
    /// Starts `tasktracker --listen 127.0.0.1:0` with `args` and waits for its address.
    pub fn start(args: &[&str]) -> Server {
        // An inherited DATABASE_URL would silently turn "in memory" into PostgreSQL.
        let mut child = cmd("tasktracker")
            .env_remove("DATABASE_URL")
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start tasktracker");
        let stderr = child.stderr.take().unwrap();
        let (url_tx, url_rx) = mpsc::channel();
        let (log_tx, logs) = mpsc::channel();
        std::thread::spawn(move || {
            let mut url_tx = Some(url_tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(at) = line.find("listening on ") {
                    if let Some(tx) = url_tx.take() {
                        let url = line[at + "listening on ".len()..]
                            .split_whitespace()
                            .next()
                            .unwrap_or("")
                            .to_string();
                        let _ = tx.send(url);
                    }
                }
                let _ = log_tx.send(line);
            }
        });
        let url = match url_rx.recv_timeout(Duration::from_secs(30)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                let said: Vec<String> = logs.try_iter().collect();
                panic!(
                    "tasktracker did not report its address; it said:\n{}",
                    said.join("\n")
                );
            }
        };
        Server { child, url, logs }
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.url
            .rsplit(':')
            .next()
            .unwrap()
            .trim_end_matches('/')
            .parse()
            .unwrap()
    }

    /// Stops the server now (to test what clients do when the target dies).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// What the server has printed on stderr so far.
    pub fn logs(&self) -> Vec<String> {
        self.logs.try_iter().collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// PostgreSQL for tests: `TEST_DATABASE_URL`, else the local trust-auth server.
pub fn database_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// Whether a test that needs PostgreSQL may skip when it is down: never in CI.
pub fn may_skip_without_postgres() -> bool {
    std::env::var("CI")
        .map(|v| v.is_empty() || v == "false" || v == "0")
        .unwrap_or(true)
}

/// Whether something accepts TCP connections on 127.0.0.1:5432 (or the test URL's port).
pub fn postgres_reachable() -> bool {
    let url = database_url();
    let hostport = url
        .split('@')
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("127.0.0.1:5432")
        .to_string();
    let addr = if hostport.contains(':') {
        hostport
    } else {
        format!("{hostport}:5432")
    };
    use std::net::ToSocketAddrs;
    addr.to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .is_some_and(|a| std::net::TcpStream::connect_timeout(&a, Duration::from_secs(2)).is_ok())
}

/// Call at the top of a PostgreSQL test: returns false (skip, with a note) only
/// outside CI; in CI an unreachable server fails the test.
pub fn require_postgres() -> bool {
    if postgres_reachable() {
        return true;
    }
    if may_skip_without_postgres() {
        eprintln!(
            "SKIPPED: PostgreSQL is not reachable at {} (CI=true makes this a failure)",
            database_url()
        );
        return false;
    }
    panic!(
        "PostgreSQL is not reachable at {} and CI is set: this test must not skip",
        database_url()
    );
}
