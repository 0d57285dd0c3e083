//! pgwatch against a real PostgreSQL: known sessions counted exactly, the
//! ways it stops, losing and regaining its connection, an unreachable server,
//! and the tasktracker's pool seen under hammer load.
//!
//! Every test calls `require_postgres()` first: outside CI a missing server
//! skips with a note; in CI it fails.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use records::testkit::{cmd, database_url, require_postgres, wait_bounded, Server};
use records::{PgSample, Summary};
use tokio::io::AsyncBufReadExt;
use tokio_postgres::{Client, NoTls};

/// The test server's URL with another database.
fn url_for(db: &str) -> String {
    let base = database_url();
    let (without_query, query) = match base.split_once('?') {
        Some((u, q)) => (u.to_string(), format!("?{q}")),
        None => (base.clone(), String::new()),
    };
    let scheme_end = without_query.find("://").map_or(0, |i| i + 3);
    let server = match without_query[scheme_end..].find('/') {
        Some(i) => &without_query[..scheme_end + i],
        None => &without_query[..],
    };
    format!("{server}/{db}{query}")
}

async fn connect(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("connect to {url}: {e}"));
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

/// A database of its own for one test, dropped (sessions and all) at the end.
struct Scratch {
    name: String,
    url: String,
}

impl Scratch {
    async fn create(purpose: &str) -> Scratch {
        let name = format!("pgwatch_{purpose}_{}", std::process::id());
        let admin = connect(&url_for("postgres")).await;
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
            .unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        let url = url_for(&name);
        Scratch { name, url }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs inside the test's runtime, which must not be blocked on
        // from within; a thread with a runtime of its own does the cleanup.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let admin = connect(&url_for("postgres")).await;
                let _ = admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await;
            });
        });
        let _ = cleanup.join();
    }
}

/// Every stdout line as a PgSample; panics on anything else.
fn samples(output: &[u8]) -> Vec<PgSample> {
    let text = std::str::from_utf8(output).expect("utf-8 output");
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "output ends mid-line: {text:?}"
    );
    text.lines()
        .map(|line| match serde_json::from_str::<Summary>(line) {
            Ok(Summary::Pg(sample)) => sample,
            other => panic!("not a pg sample: {line}: {other:?}"),
        })
        .collect()
}

async fn run(args: &[&str]) -> Output {
    let mut command = tokio::process::Command::from(cmd("pgwatch"));
    command
        .args(args)
        .env_remove("DATABASE_URL")
        .kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("pgwatch finished within 60s")
        .expect("run pgwatch")
}

fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Waits (bounded) until `check` holds for the rows of `sql`.
async fn wait_for(client: &Client, sql: &str, what: &str, check: impl Fn(i64) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let n: i64 = client.query_one(sql, &[]).await.unwrap().get(0);
        if check(n) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what} (last: {n})"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_sample_counts_known_sessions_exactly() {
    if !require_postgres() {
        return;
    }
    let db = Scratch::create("sessions").await;

    let idle_a = connect(&db.url).await;
    idle_a
        .batch_execute("CREATE TABLE locked (id int)")
        .await
        .unwrap();
    let idle_b = connect(&db.url).await;
    idle_b.batch_execute("SELECT 1").await.unwrap();
    let holder = connect(&db.url).await;
    holder
        .batch_execute("BEGIN; LOCK TABLE locked IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    // Idle in a failed transaction: counted as idle in transaction too.
    let aborted = connect(&db.url).await;
    aborted.batch_execute("BEGIN").await.unwrap();
    aborted
        .batch_execute("SELECT 1 / 0")
        .await
        .expect_err("division by zero aborts the transaction");
    let sleeper = connect(&db.url).await;
    let sleeping = tokio::spawn(async move {
        let _ = sleeper.batch_execute("SELECT pg_sleep(30)").await;
        sleeper
    });
    let blocked = connect(&db.url).await;
    let waiting = tokio::spawn(async move {
        let _ = blocked
            .batch_execute("SELECT count(*) FROM locked WHERE id = 4242")
            .await;
        blocked
    });

    let observer = connect(&url_for("postgres")).await;
    wait_for(
        &observer,
        &format!(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = '{}' AND \
             ((state = 'active' AND query LIKE '%pg_sleep%') OR wait_event_type = 'Lock')",
            db.name
        ),
        "the sleeper and the blocked session",
        |n| n == 2,
    )
    .await;
    // Long enough that the longest query and transaction pass one second.
    tokio::time::sleep(Duration::from_millis(1300)).await;

    let out = run(&[
        "--database-url",
        &url_for("postgres"),
        "--datname",
        &db.name,
        "--count",
        "1",
        "--top",
        "10",
        "--redact",
    ])
    .await;
    assert!(out.status.success(), "pgwatch failed: {}", stderr_of(&out));
    assert_eq!(
        stderr_of(&out),
        "",
        "a superuser run says nothing on stderr"
    );
    // The wire format: exactly these fields (DESIGN.md's PgSample plus utilization and top).
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut fields: Vec<&str> = line
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "active",
            "blocked",
            "datname",
            "idle",
            "idle_in_transaction",
            "kind",
            "longest_query_ns",
            "longest_xact_ns",
            "max_connections",
            "top",
            "total",
            "ts",
            "utilization",
            "waiting"
        ]
    );
    assert_eq!(line["kind"], "pg");
    let got = samples(&out.stdout);
    assert_eq!(got.len(), 1, "one sample for the one database: {got:?}");
    let s = &got[0];
    assert_eq!(s.datname, db.name);
    assert_eq!(s.total, 6, "{s:?}");
    assert_eq!(s.active, 2, "the sleeper and the blocked one: {s:?}");
    assert_eq!(s.idle, 2, "{s:?}");
    assert_eq!(s.idle_in_transaction, 2, "{s:?}");
    assert!(s.waiting >= 1, "the blocked session waits on a lock: {s:?}");
    assert_eq!(s.blocked, 1, "{s:?}");
    assert!(s.longest_query_ns >= 1_000_000_000, "{s:?}");
    assert!(s.longest_xact_ns >= 1_000_000_000, "{s:?}");
    assert!(s.longest_query_ns < 60_000_000_000, "{s:?}");
    assert!(s.max_connections > 0);
    assert!(s.utilization > 0.0 && s.utilization <= 1.0, "{s:?}");
    assert!(s.ts > 1_600_000_000_000_000_000, "ts is epoch nanoseconds");

    // --top lists the non-idle sessions, longest first, with literals redacted.
    assert_eq!(s.top.len(), 4, "{:#?}", s.top);
    assert!(s
        .top
        .windows(2)
        .all(|w| w[0].duration_ns >= w[1].duration_ns));
    let sleeping_query = s
        .top
        .iter()
        .find(|q| q.query.contains("pg_sleep"))
        .expect("the sleeper is listed");
    assert_eq!(sleeping_query.query, "SELECT pg_sleep(?)");
    assert_eq!(sleeping_query.state, "active");
    assert_eq!(
        sleeping_query.wait_event.as_deref(),
        Some("Timeout:PgSleep")
    );
    let blocked_query = s
        .top
        .iter()
        .find(|q| q.query.contains("locked WHERE"))
        .expect("the blocked session is listed");
    assert_eq!(
        blocked_query.query,
        "SELECT count(*) FROM locked WHERE id = ?"
    );
    assert_eq!(blocked_query.wait_event.as_deref(), Some("Lock:relation"));
    assert!(
        s.top
            .iter()
            .any(|q| q.state == "idle in transaction (aborted)" && q.query == "SELECT ? / ?"),
        "{:#?}",
        s.top
    );

    // A threshold below the current use warns once, in the agreed words.
    let out = run(&[
        "--database-url",
        &url_for("postgres"),
        "--datname",
        &db.name,
        "--count",
        "2",
        "--interval",
        "50ms",
        "--warn-utilization",
        "0.0001",
    ])
    .await;
    assert!(out.status.success(), "{}", stderr_of(&out));
    let warnings = stderr_of(&out);
    assert_eq!(warnings.lines().count(), 1, "{warnings}");
    assert!(
        warnings.starts_with("pgwatch: warning: high connection count: ")
            && warnings.contains(&format!("/{} (", s.max_connections)),
        "{warnings}"
    );

    drop(db);
    sleeping.abort();
    waiting.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn count_stops_after_that_many_polls() {
    if !require_postgres() {
        return;
    }
    let out = run(&[
        "--database-url",
        &database_url(),
        "--datname",
        "postgres",
        "--count",
        "3",
        "--interval",
        "100ms",
    ])
    .await;
    assert!(out.status.success(), "{}", stderr_of(&out));
    let got = samples(&out.stdout);
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(got.iter().all(|s| s.datname == "postgres"));
    assert!(got.windows(2).all(|w| w[0].ts < w[1].ts));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duration_stops_it_after_that_long() {
    if !require_postgres() {
        return;
    }
    let started = Instant::now();
    let out = run(&[
        "--database-url",
        &database_url(),
        "--datname",
        "postgres",
        "--duration",
        "1s",
        "--interval",
        "300ms",
    ])
    .await;
    let took = started.elapsed();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let got = samples(&out.stdout);
    assert!(
        (1..=5).contains(&got.len()),
        "polls at 0, 300, 600, 900ms: {got:?}"
    );
    assert!(took >= Duration::from_secs(1), "ended early: {took:?}");
}

/// Reads stdout lines of a running pgwatch on a thread, so the test can wait with a limit.
fn line_reader(stdout: std::process::ChildStdout) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if tx.send(line.clone()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    rx
}

fn send_signal(pid: u32, signal: &str) {
    // The shell's builtin kill: no unsafe libc call, no procps needed.
    let status = Command::new("sh")
        .args(["-c", &format!("kill -{signal} {pid}")])
        .status()
        .expect("run sh -c kill");
    assert!(status.success());
}

#[test]
fn sigint_and_sigterm_end_it_after_whole_lines() {
    if !require_postgres() {
        return;
    }
    for signal in ["INT", "TERM"] {
        let mut child = cmd("pgwatch")
            .args(["--database-url", &database_url(), "--interval", "50ms"])
            .env_remove("DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = line_reader(child.stdout.take().unwrap());
        let mut seen = String::new();
        for _ in 0..3 {
            seen.push_str(
                &lines
                    .recv_timeout(Duration::from_secs(20))
                    .expect("a sample line"),
            );
        }
        send_signal(child.id(), signal);
        let status = wait_bounded(&mut child, Duration::from_secs(10), "pgwatch");
        assert_eq!(status.code(), Some(0), "SIG{signal} is a normal end");
        seen.extend(lines.try_iter());
        let got = samples(seen.as_bytes());
        assert!(got.len() >= 3);
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        assert!(!stderr.contains("error"), "{stderr}");
    }
}

#[test]
fn keeps_going_when_its_connection_is_killed() {
    if !require_postgres() {
        return;
    }
    let app = format!("pgwatch_reconnect_{}", std::process::id());
    let url = format!(
        "{}{}application_name={app}",
        database_url(),
        if database_url().contains('?') {
            "&"
        } else {
            "?"
        }
    );
    let mut child = cmd("pgwatch")
        .args([
            "--database-url",
            &url,
            "--datname",
            "postgres",
            "--interval",
            "100ms",
        ])
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = line_reader(child.stdout.take().unwrap());
    let mut seen = lines
        .recv_timeout(Duration::from_secs(20))
        .expect("first sample");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let terminated: i64 = runtime.block_on(async {
        let admin = connect(&url_for("postgres")).await;
        admin
            .query_one(
                "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE application_name = $1) t",
                &[&app],
            )
            .await
            .unwrap()
            .get(0)
    });
    assert_eq!(terminated, 1, "pgwatch's one session was found and killed");

    // Samples keep coming once it has reconnected.
    let after = Instant::now();
    let mut more = 0;
    while more < 5 {
        let line = lines
            .recv_timeout(Duration::from_secs(20))
            .expect("samples after the reconnect");
        seen.push_str(&line);
        more += 1;
    }
    send_signal(child.id(), "INT");
    let status = wait_bounded(&mut child, Duration::from_secs(10), "pgwatch");
    assert_eq!(status.code(), Some(0));
    seen.extend(lines.try_iter());
    samples(seen.as_bytes());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(stderr.contains("lost connection"), "{stderr}");
    assert!(stderr.contains("reconnected"), "{stderr}");
    assert!(after.elapsed() < Duration::from_secs(30));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_server_exits_3_without_the_password() {
    // A port nobody listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://postgres:Sup3rSecretPw@127.0.0.1:{port}/test");
    let out = run(&["--database-url", &url, "--count", "1"]).await;
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
    let stderr = stderr_of(&out);
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "{stderr}");
    assert!(!stderr.contains("Sup3rSecretPw"), "{stderr}");
    assert!(out.stdout.is_empty());

    // The same through PG* variables.
    let mut command = tokio::process::Command::from(cmd("pgwatch"));
    let out = command
        .args(["--count", "1"])
        .env_remove("DATABASE_URL")
        .env("PGHOST", "127.0.0.1")
        .env("PGPORT", port.to_string())
        .env("PGUSER", "postgres")
        .env("PGPASSWORD", "Sup3rSecretPw")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(!stderr_of(&out).contains("Sup3rSecretPw"));

    // A malformed URL is bad usage, and its password is not repeated either.
    let out = run(&[
        "--database-url",
        "postgres://postgres:Sup3rSecretPw@127.0.0.1:notaport/test",
    ])
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(!stderr_of(&out).contains("Sup3rSecretPw"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_url_and_pg_variables_are_used_without_flag() {
    if !require_postgres() {
        return;
    }
    let mut command = tokio::process::Command::from(cmd("pgwatch"));
    let out = command
        .args(["--count", "1", "--datname", "postgres"])
        .env("DATABASE_URL", database_url())
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(samples(&out.stdout).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_without_pg_monitor_is_warned() {
    if !require_postgres() {
        return;
    }
    let role = format!("pgwatch_plain_{}", std::process::id());
    // A password-less login for the new role needs the trust auth of the local server.
    let url = url_for("postgres").replacen("://postgres@", &format!("://{role}@"), 1);
    if !url.contains(&role) {
        eprintln!("SKIPPED role check: the test URL is not a password-less postgres@ one");
        return;
    }
    let admin = connect(&url_for("postgres")).await;
    admin
        .batch_execute(&format!(
            "DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN"
        ))
        .await
        .unwrap();
    let limited = run(&[
        "--database-url",
        &url,
        "--count",
        "1",
        "--datname",
        "postgres",
    ])
    .await;
    admin
        .batch_execute(&format!("GRANT pg_monitor TO {role}"))
        .await
        .unwrap();
    let monitor = run(&[
        "--database-url",
        &url,
        "--count",
        "1",
        "--datname",
        "postgres",
    ])
    .await;
    admin
        .batch_execute(&format!("DROP ROLE {role}"))
        .await
        .unwrap();
    assert!(limited.status.success(), "{}", stderr_of(&limited));
    let warning = stderr_of(&limited);
    assert!(
        warning.contains("warning") && warning.contains("pg_monitor") && warning.contains(&role),
        "{warning}"
    );
    assert!(monitor.status.success(), "{}", stderr_of(&monitor));
    assert_eq!(stderr_of(&monitor), "", "pg_monitor sees everything");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasktracker_on_postgresql_under_load_shows_active_connections() {
    if !require_postgres() {
        return;
    }
    let db = Scratch::create("tasktracker").await;
    let schema = format!("pgwatch_{}", std::process::id());
    let server = Server::start(&[
        "--database-url",
        &db.url,
        "--db-schema",
        &schema,
        "--pool-size",
        "8",
        "--delay",
        "0ms",
        "--hash-cost",
        "4",
    ]);
    let base = server.url.trim_end_matches('/').to_string();
    let http = reqwest::Client::new();
    let email = format!("pgwatch{}@example.com", std::process::id());
    let creds =
        serde_json::json!({"email": email, "password": "load-test-pw-1", "full_name": "Pg Watch"});
    let registered = http
        .post(format!("{base}/api/v1/auth/register"))
        .json(&creds)
        .send()
        .await
        .unwrap();
    assert!(
        registered.status().is_success(),
        "register: {}",
        registered.status()
    );
    let login: serde_json::Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&creds)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"]
        .as_str()
        .expect("an access token")
        .to_string();

    // hammer in ad-hoc mode: 16 VUs on the task list, at most 15 s or 50k requests.
    let mut hammer = tokio::process::Command::from(cmd("hammer"));
    let mut hammer = hammer
        .args(["--url", &format!("{base}/api/v1/tasks/")])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args(["--vus", "16", "--duration", "15s", "--requests", "50000"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start hammer");
    let mut events = tokio::io::BufReader::new(hammer.stdout.take().unwrap()).lines();
    let counting = tokio::spawn(async move {
        let (mut sent, mut failed) = (0u64, 0u64);
        while let Ok(Some(line)) = events.next_line().await {
            if line.starts_with("{\"kind\":") {
                continue; // hammer's closing load record
            }
            let event: records::Event = serde_json::from_str(&line).expect("an event");
            sent += 1;
            if event.status != 200 || event.error.is_some() {
                failed += 1;
            }
        }
        (sent, failed)
    });
    // Samples until one catches a query running, or 15 s of load have passed.
    let mut watcher = tokio::process::Command::from(cmd("pgwatch"));
    let mut watcher = watcher
        .args([
            "--database-url",
            &url_for("postgres"),
            "--datname",
            &db.name,
        ])
        .args(["--interval", "20ms", "--duration", "15s"])
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(watcher.stdout.take().unwrap()).lines();
    let mut text = String::new();
    let mut caught_active = false;
    while let Some(line) = lines.next_line().await.unwrap() {
        text.push_str(&line);
        text.push('\n');
        let got = samples(text.as_bytes());
        if got.len() >= 10 && got.iter().any(|s| s.active > 0) {
            caught_active = true;
            send_signal(watcher.id().unwrap(), "INT");
            break;
        }
    }
    while let Some(line) = lines.next_line().await.unwrap() {
        text.push_str(&line);
        text.push('\n');
    }
    let status = tokio::time::timeout(Duration::from_secs(20), watcher.wait())
        .await
        .expect("pgwatch ends")
        .unwrap();
    assert!(status.success());
    if let Some(pid) = hammer.id() {
        send_signal(pid, "INT");
    }
    tokio::time::timeout(Duration::from_secs(20), hammer.wait())
        .await
        .expect("hammer ends on SIGINT")
        .unwrap();
    let (sent, failed) = counting.await.unwrap();
    let got = samples(text.as_bytes());
    assert!(sent > 0, "hammer sent requests");
    assert_eq!(failed, 0, "of {sent} requests");
    let active: Vec<u64> = got.iter().map(|s| s.active).collect();
    assert!(
        caught_active,
        "some poll caught a query running ({sent} requests): {active:?}"
    );
    assert!(
        got.iter().all(|s| s.total >= 1),
        "the pool's connections are there: {got:?}"
    );
    assert!(
        got.iter().all(|s| s.total <= 8),
        "never more than the pool's 8: {got:?}"
    );
    assert!(got.iter().all(|s| s.utilization > 0.0));
    eprintln!(
        "{} samples, {} with a running query, over {sent} requests",
        got.len(),
        active.iter().filter(|&&a| a > 0).count()
    );
    drop(server);
    drop(db);
}
