//! Test support shared by every crate's integration tests (feature `testkit`):
//! finding the workspace's built binaries and running the reference
//! `tasktracker` on a free loopback port.
//!
//! The binaries come from `cargo build --workspace --bins`, which `make test`
//! runs before the tests.

use std::io::Read;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

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
    !in_ci()
}

/// Whether `CI` is set (to anything but empty, `false` or `0`): tests that
/// need PostgreSQL, network namespaces or a browser then fail, not skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !(v.is_empty() || v == "false" || v == "0"))
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

// Bad input, shared by every tool's tests/robustness.rs.

/// Waits for `child` to end, killing it and failing the test (naming `what`)
/// after `limit`: no test hangs on a stuck tool.
pub fn wait_bounded(child: &mut Child, limit: Duration, what: &str) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait for a child") {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `command` to its end, killing it and failing the test after `limit`.
pub fn run_bounded(command: &mut Command, limit: Duration) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err.read_to_end(&mut buf);
        buf
    });
    let status = wait_bounded(&mut child, limit, &format!("{command:?}"));
    Output {
        status,
        stdout: out_reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
    }
}

/// Writes `bytes` to `dir/name`.
pub fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The tool exited 2 with `tool: error: …` naming `place`, and did not panic.
pub fn assert_bad_input(tool: &str, out: &Output, case: &str, place: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{case}: {stderr}");
    assert!(!stderr.contains("panicked"), "{case}: {stderr}");
    assert!(stderr.contains(place), "{case}: no `{place}` in: {stderr}");
    assert!(
        stderr.starts_with(&format!("{tool}: error: ")),
        "{case}: {stderr}"
    );
}

/// A file of the line `first`, then a 100 MB line that starts with `prefix`.
pub fn huge_line_file(dir: &Path, first: &str, prefix: &str) -> PathBuf {
    let path = dir.join("huge.ndjson");
    let mut text = Vec::with_capacity(101 << 20);
    text.extend_from_slice(first.as_bytes());
    text.push(b'\n');
    text.extend_from_slice(prefix.as_bytes());
    text.resize(text.len() + (100 << 20), b'x');
    text.extend_from_slice(b"\"}\n");
    std::fs::write(&path, text).unwrap();
    path
}

/// A summary `aggregate` wrote for one event of 5 ns.
pub const SUMMARY: &str = r#"{"kind":"run","start":1,"end":6,"duration_ns":5,"tools":{"aggregate":"0.1.0"},"labels":{},"skipped_lines":0,"interval_secs":1.0}
{"kind":"endpoint","name":"a","count":1,"errors":0,"error_kinds":{},"status":{"200":1},"bytes_in":0,"bytes_out":0,"rps":200000000.0,"failures_per_s":0.0,"min_ns":5,"mean_ns":5.0,"stdev_ns":0.0,"max_ns":5,"p50_ns":5,"p66_ns":5,"p75_ns":5,"p80_ns":5,"p90_ns":5,"p95_ns":5,"p98_ns":5,"p99_ns":5,"p999_ns":5,"p9999_ns":5,"hist":"HISTFAAAACN4nJNpmSzMwMDAxAABzFCaEYh5f7hHMNh/gAhwMgEAVXUEKw=="}
{"kind":"total","name":"Aggregated","count":1,"errors":0,"error_kinds":{},"status":{"200":1},"bytes_in":0,"bytes_out":0,"rps":200000000.0,"failures_per_s":0.0,"min_ns":5,"mean_ns":5.0,"stdev_ns":0.0,"max_ns":5,"p50_ns":5,"p66_ns":5,"p75_ns":5,"p80_ns":5,"p90_ns":5,"p95_ns":5,"p98_ns":5,"p99_ns":5,"p999_ns":5,"p9999_ns":5,"hist":"HISTFAAAACN4nJNpmSzMwMDAxAABzFCaEYh5f7hHMNh/gAhwMgEAVXUEKw=="}
{"kind":"interval","start":0,"secs":1.0,"count":1,"errors":0,"rps":1.0,"p50_ns":5,"p95_ns":5,"p99_ns":5,"max_ns":5,"vus":1,"hist":"HISTFAAAAB94nJNpmSzMwMDAyAABTBCK+QWEZr9g/wEqAQBVgQQ9"}
"#;

/// Summary lines made bad in one way each, from a good `total` line.
pub fn bad_summary_lines(total: &str) -> Vec<(&'static str, String)> {
    vec![
        (
            "count -1",
            total.replacen("\"count\":1,", "\"count\":-1,", 1),
        ),
        (
            "rps 1e400",
            total.replacen("\"rps\":", "\"rps\":1e400,\"x\":", 1),
        ),
        (
            "count 2^64",
            total.replacen("\"count\":1,", "\"count\":18446744073709551616,", 1),
        ),
        (
            "count as a string",
            total.replacen("\"count\":1,", "\"count\":\"1\",", 1),
        ),
        (
            "duplicate key",
            total.replacen("\"count\":1,", "\"count\":1,\"count\":2,", 1),
        ),
        (
            "hist not base64",
            total.replacen("\"hist\":\"HIST", "\"hist\":\"!!", 1),
        ),
        ("missing fields", r#"{"kind":"endpoint"}"#.to_string()),
        (
            "binary garbage",
            "\u{1}\u{2}\u{3}\u{fffd}\u{7f}".repeat(100),
        ),
        ("half a line", total[..total.len() / 2].to_string()),
    ]
}

/// SUMMARY with every count at i64::MAX (the most a histogram can encode),
/// byte totals at u64::MAX, and the run and its interval starting at
/// u64::MAX: absurd, but valid and consistent, so every reader must take it.
pub fn extreme_summary() -> String {
    let huge = i64::MAX as u64;
    let mut h = crate::hist::new_histogram();
    h.record_n(5, huge).expect("a count of i64::MAX fits");
    let hist = crate::hist::encode(&h);
    let max = u64::MAX.to_string();
    SUMMARY
        .replace("\"count\":1,", &format!("\"count\":{huge},"))
        .replace("\"bytes_in\":0", &format!("\"bytes_in\":{max}"))
        .replace("\"errors\":0,", &format!("\"errors\":{huge},"))
        .replace(
            "\"start\":1,\"end\":6",
            &format!("\"start\":{max},\"end\":0"),
        )
        .replace("\"start\":0,", &format!("\"start\":{max},"))
        .replace(
            "HISTFAAAACN4nJNpmSzMwMDAxAABzFCaEYh5f7hHMNh/gAhwMgEAVXUEKw==",
            &hist,
        )
        .replace(
            "HISTFAAAAB94nJNpmSzMwMDAyAABTBCK+QWEZr9g/wEqAQBVgQQ9",
            &hist,
        )
}

/// An Event as the wire format pins it, re-declared with
/// `deny_unknown_fields`: a renamed or added field fails whoever parses
/// real output with it, until the docs and every reader agree.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct WireEvent {
    pub ts: u64,
    pub name: String,
    pub method: String,
    pub status: u16,
    pub latency_ns: u64,
    pub lag_ns: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub vu: u32,
    pub error: Option<String>,
    pub detail: Option<String>,
    pub connect_ns: Option<u64>,
    pub ttfb_ns: Option<u64>,
    pub proto: Option<String>,
}

/// Compares `actual` with the pinned text in `path`; with `UPDATE_SNAPSHOTS`
/// set, writes it there first (then review the diff).
pub fn assert_snapshot(path: &Path, actual: &str) {
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().expect("a snapshot folder")).unwrap();
        std::fs::write(path, actual).unwrap();
    }
    let pinned = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        actual == pinned,
        "{} changed; run with UPDATE_SNAPSHOTS=1 and review.\n--- got ---\n{actual}\n--- pinned ---\n{pinned}",
        path.display()
    );
}

/// `scenarios/tasktracker.toml` without its flows, written into `dir`: for
/// tests that count one event per arrival (a flow's arrival sends several).
pub fn tasktracker_without_flows(dir: &Path) -> PathBuf {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/tasktracker.toml");
    let text = std::fs::read_to_string(&file).expect("the shipped scenario");
    let cut = text.find("[[hammer.flows]]").unwrap_or(text.len());
    // The flows' own comment block ends right before them.
    let cut = text[..cut].rfind("\n\n").map_or(cut, |at| at + 1);
    write_file(dir, "tasktracker-mix.toml", &text.as_bytes()[..cut])
}

/// Test certificates, made with rcgen into a folder (feature `pki`).
#[cfg(feature = "pki")]
pub mod pki {
    use std::path::{Path, PathBuf};

    use rcgen::{
        BasicConstraints, Certificate, CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    };

    /// The files: every certificate PEM beside its key.
    pub struct Pki {
        /// The CA that signed all but `stranger`.
        pub ca: PathBuf,
        /// For `localhost`, `127.0.0.1` and `::1`, valid now.
        pub good: (PathBuf, PathBuf),
        /// For the same names, expired in 2020.
        pub expired: (PathBuf, PathBuf),
        /// Valid now, but only for `example.org`.
        pub wrong_host: (PathBuf, PathBuf),
        /// A client certificate (clientAuth) the CA signed.
        pub client: (PathBuf, PathBuf),
        /// A client certificate from another CA.
        pub stranger: (PathBuf, PathBuf),
    }

    fn ca() -> (Certificate, KeyPair) {
        let key = KeyPair::generate().expect("a key");
        let mut params = CertificateParams::new(Vec::new()).expect("params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "loadpipe test CA");
        (params.self_signed(&key).expect("a CA"), key)
    }

    fn write(dir: &Path, name: &str, cert: &Certificate, key: &KeyPair) -> (PathBuf, PathBuf) {
        let pem = dir.join(format!("{name}.pem"));
        let key_file = dir.join(format!("{name}.key"));
        std::fs::write(&pem, cert.pem()).expect("write a certificate");
        std::fs::write(&key_file, key.serialize_pem()).expect("write a key");
        (pem, key_file)
    }

    fn leaf(
        names: &[&str],
        client: bool,
        expired: bool,
        (ca, ca_key): &(Certificate, KeyPair),
    ) -> (Certificate, KeyPair) {
        let key = KeyPair::generate().expect("a key");
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).expect("params");
        params.extended_key_usages = vec![if client {
            ExtendedKeyUsagePurpose::ClientAuth
        } else {
            ExtendedKeyUsagePurpose::ServerAuth
        }];
        if expired {
            params.not_before = rcgen::date_time_ymd(2019, 1, 1);
            params.not_after = rcgen::date_time_ymd(2020, 1, 1);
        }
        (params.signed_by(&key, ca, ca_key).expect("signed"), key)
    }

    /// Makes every certificate in `dir`.
    pub fn make(dir: &Path) -> Pki {
        let authority = ca();
        let here = ["localhost", "127.0.0.1", "::1"];
        let ca_file = dir.join("ca.pem");
        std::fs::write(&ca_file, authority.0.pem()).expect("write the CA");
        let (good, good_key) = leaf(&here, false, false, &authority);
        let (old, old_key) = leaf(&here, false, true, &authority);
        let (other, other_key) = leaf(&["example.org"], false, false, &authority);
        let (client, client_key) = leaf(&["loadpipe-client"], true, false, &authority);
        let (stranger, stranger_key) = leaf(&["stranger"], true, false, &ca());
        Pki {
            ca: ca_file,
            good: write(dir, "good", &good, &good_key),
            expired: write(dir, "expired", &old, &old_key),
            wrong_host: write(dir, "wrong-host", &other, &other_key),
            client: write(dir, "client", &client, &client_key),
            stranger: write(dir, "stranger", &stranger, &stranger_key),
        }
    }
}
