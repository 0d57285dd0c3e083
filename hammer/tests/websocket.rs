//! WebSocket flow steps: the real hammer against the real tasktracker's
//! `/api/v1/ws` on loopback — pushes counted from the events, a server that
//! closes connections, one that never answers, and SIGINT.

mod common;

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;
use records::testkit::{write_file, Server};
use records::Event;

/// A scenario file in `dir`: tasktracker's `[seed]` (to log users in), then `hammer`.
fn scenario(dir: &tempfile::TempDir, hammer: &str) -> String {
    let base = std::fs::read_to_string(SCENARIO).unwrap();
    let seed_end = base.find("[hammer]").unwrap();
    let text = format!("{}{hammer}", &base[..seed_end]);
    let path = write_file(dir.path(), "ws.toml", text.as_bytes());
    path.to_str().unwrap().to_string()
}

fn count(events: &[Event], name: &str) -> usize {
    events.iter().filter(|e| e.name == name).count()
}

fn errors(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e.error.is_some())
        .map(|e| format!("{} {:?} {:?}", e.name, e.error, e.detail))
        .collect()
}

/// A journey on one long-lived connection: create a task, subscribe to it,
/// change it three ways, wait for each push, delete it, wait for that too.
const JOURNEY: &str = r#"
[hammer]
[[hammer.flows]]
name = "watched task"
[[hammer.flows.steps]]
ws_connect = "/api/v1/ws"
socket = "feed"
latency_from = "/ts"
[[hammer.flows.steps]]
name = "POST task"
method = "POST"
path = "/api/v1/tasks/"
json = { title = "watched {seq}", priority = "low" }
expect = [201]
capture = { id = "/id" }
[[hammer.flows.steps]]
name = "subscribe"
ws_send = { type = "subscribe", taskId = "{flow:id}" }
socket = "feed"
reply = { "/type" = "subscribed", "/taskId" = "{flow:id}" }
timeout = "5s"
[[hammer.flows.steps]]
name = "subscribe to another user's task"
ws_send = { type = "subscribe", taskId = OTHER }
socket = "feed"
reply = { "/type" = "error", "/taskId" = OTHER }
timeout = "5s"
[[hammer.flows.steps]]
repeat = 2
steps = [
  { name = "complete", method = "PATCH", path = "/api/v1/tasks/{flow:id}/complete", expect = [200] },
  { name = "await completed", ws_await = { "/type" = "task_update", "/taskId" = "{flow:id}", "/status" = "completed" }, socket = "feed", timeout = "5s" },
  { name = "incomplete", method = "PATCH", path = "/api/v1/tasks/{flow:id}/incomplete", expect = [200] },
  { name = "await incomplete", ws_await = { "/type" = "task_update", "/taskId" = "{flow:id}", "/status" = "incomplete" }, socket = "feed", timeout = "5s" },
]
[[hammer.flows.steps]]
name = "delete"
method = "DELETE"
path = "/api/v1/tasks/{flow:id}"
expect = [200, 204]
[[hammer.flows.steps]]
name = "await deleted"
ws_await = { "/type" = "task_update", "/taskId" = "{flow:id}", "/status" = "deleted" }
socket = "feed"
timeout = "5s"
"#;

/// A task of a user that no VU plays, and a way to keep changing it.
fn outsider_task(url: &str) -> (u64, String) {
    let (status, _) = http(
        "POST",
        &format!("{url}/api/v1/auth/register"),
        &[("Content-Type", "application/json")],
        r#"{"email":"outsider@example.com","password":"Outsider-pass-1","full_name":"O"}"#,
    );
    assert_eq!(status, 201);
    let (status, body) = http(
        "POST",
        &format!("{url}/api/v1/auth/login"),
        &[("Content-Type", "application/json")],
        r#"{"email":"outsider@example.com","password":"Outsider-pass-1"}"#,
    );
    assert_eq!(status, 200);
    let token = serde_json::from_slice::<serde_json::Value>(&body).unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let bearer = format!("Bearer {token}");
    let (status, body) = http(
        "POST",
        &format!("{url}/api/v1/tasks/"),
        &[
            ("Authorization", &bearer),
            ("Content-Type", "application/json"),
        ],
        r#"{"title":"not yours","priority":"low"}"#,
    );
    assert_eq!(status, 201);
    let id = serde_json::from_slice::<serde_json::Value>(&body).unwrap()["id"]
        .as_u64()
        .unwrap();
    (id, bearer)
}

#[test]
fn subscribers_get_exactly_the_pushes_their_tasks_caused_and_none_of_others() {
    let server = Server::start(&["--hash-cost", "4"]);
    let users = seed_users(&server.url, 2);
    let (other, bearer) = outsider_task(&server.url);
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(&dir, &JOURNEY.replace("OTHER", &other.to_string()));
    // The outsider's task changes all through the run: no VU may hear of it.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let changer = {
        let (url, stop) = (server.url.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut changes = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && changes < 2000 {
                let what = if changes % 2 == 0 {
                    "complete"
                } else {
                    "incomplete"
                };
                let (status, _) = http(
                    "PATCH",
                    &format!("{url}/api/v1/tasks/{other}/{what}"),
                    &[("Authorization", &bearer)],
                    "",
                );
                assert_eq!(status, 200);
                changes += 1;
                std::thread::sleep(Duration::from_millis(5));
            }
            changes
        })
    };
    let out = hammer(&[
        "-s",
        &file,
        "--target",
        &server.url,
        "--users-file",
        users.path().to_str().unwrap(),
        "--vus",
        "4",
        "--iterations",
        "3",
        "--think",
        "0s",
    ]);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let outsider_changes = changer.join().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(outsider_changes > 0);
    let events = events(&out.stdout);
    assert_eq!(errors(&events), Vec::<String>::new());
    // 4 VUs, 3 iterations: one connection each, kept across iterations.
    assert_eq!(count(&events, "WS feed connect"), 4);
    assert_eq!(count(&events, "subscribe"), 12);
    assert_eq!(count(&events, "subscribe to another user's task"), 12);
    for await_step in ["await completed", "await incomplete"] {
        assert_eq!(count(&events, await_step), 24, "{await_step}");
    }
    assert_eq!(count(&events, "await deleted"), 12);
    // Every change the VUs made reached the VU that subscribed, once, and
    // nothing else arrived: per VU, pushes = its changes.
    let mut changes: BTreeMap<u32, usize> = BTreeMap::new();
    let mut pushes: BTreeMap<u32, usize> = BTreeMap::new();
    for e in &events {
        match e.name.as_str() {
            "complete" | "incomplete" | "delete" => *changes.entry(e.vu).or_default() += 1,
            "WS feed recv task_update" => {
                assert_eq!(e.method, "WS");
                assert!(e.bytes_in > 0);
                // Delivery time from the server's stamp: loopback, well under a second.
                assert!(e.latency_ns < 1_000_000_000, "{e:?}");
                *pushes.entry(e.vu).or_default() += 1;
            }
            _ => {}
        }
    }
    assert_eq!(changes.values().sum::<usize>(), 4 * 3 * 5);
    assert_eq!(pushes, changes);
    // Replies are timed by their sends' events, not events of their own.
    assert_eq!(count(&events, "WS feed recv subscribed"), 0);
    assert_eq!(count(&events, "WS feed recv error"), 0);
    let connect = events.iter().find(|e| e.name == "WS feed connect").unwrap();
    assert_eq!(connect.status, 101);
    assert!(connect.connect_ns.is_some_and(|c| c <= connect.latency_ns));
}

/// VUs of their own holding one connection each and pinging on a period.
fn pingers(vus: u32, every: &str, timeout: &str) -> String {
    format!(
        r#"
[hammer]
[hammer.websocket]
stagger_every = 2
stagger_wait = "100ms"

[[hammer.flows]]
name = "pinger"
vus = {vus}
[[hammer.flows.steps]]
ws_connect = "/api/v1/ws?token={{token}}"
socket = "feed"
auth = false
[[hammer.flows.steps]]
name = "ping"
ws_send = {{ type = "ping" }}
socket = "feed"
every = "{every}"
reply = {{ "/type" = "pong" }}
timeout = "{timeout}"
"#
    )
}

#[test]
fn a_server_that_closes_connections_gives_disconnect_errors_and_hammer_goes_on() {
    let server = Server::start(&["--hash-cost", "4", "--ws-close-after", "700ms"]);
    let users = seed_users(&server.url, 2);
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(&dir, &pingers(3, "100ms", "2s"));
    let out = hammer(&[
        "-s",
        &file,
        "--target",
        &server.url,
        "--users-file",
        users.path().to_str().unwrap(),
        "--duration",
        "3s",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let events = events(&out.stdout);
    let closed: Vec<&Event> = events
        .iter()
        .filter(|e| e.name == "WS feed closed")
        .collect();
    // Each of 3 connections lives 0.7 s of a 3 s run, and is made again.
    assert!(closed.len() >= 6, "{} closes", closed.len());
    for e in &closed {
        assert_eq!(e.error.as_deref(), Some("reset"));
        assert!(e.detail.as_deref().unwrap_or("").contains("1011"), "{e:?}");
    }
    let connects = count(&events, "WS feed connect");
    assert!(
        connects >= closed.len(),
        "{connects} connects, {} closes",
        closed.len()
    );
    let pings_ok = events
        .iter()
        .filter(|e| e.name == "ping" && e.error.is_none())
        .count();
    assert!(pings_ok >= 30, "{pings_ok} answered pings");
    // The start-up stagger: 2 connections per 100 ms, so the third waits.
    let mut first: Vec<u64> = events
        .iter()
        .filter(|e| e.name == "WS feed connect")
        .map(|e| e.ts)
        .collect();
    first.sort_unstable();
    assert!(first[2] - first[0] >= 90_000_000, "{first:?}");
}

#[test]
fn repeating_sends_go_out_on_their_schedule_not_on_a_millisecond_tick() {
    let server = Server::start(&["--hash-cost", "4"]);
    let users = seed_users(&server.url, 2);
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(&dir, &pingers(2, "50ms", "2s"));
    let out = hammer(&[
        "-s",
        &file,
        "--target",
        &server.url,
        "--users-file",
        users.path().to_str().unwrap(),
        "--duration",
        "2s",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let events = events(&out.stdout);
    let mut lags: Vec<u64> = events
        .iter()
        .filter(|e| e.name == "ping" && e.error.is_none())
        .map(|e| e.lag_ns)
        .collect();
    assert!(lags.len() >= 40, "{} answered pings", lags.len());
    // tokio's timer rounds every deadline up to its next 1 ms tick (a
    // median lag of ~0.5 ms); the pacer's timerfd sends within microseconds.
    let p50 = percentile(&mut lags, 0.5);
    assert!(p50 < 300_000, "ping lag p50 {p50} ns: {lags:?}");
}

#[test]
fn a_server_that_never_answers_gives_timeout_events() {
    let server = Server::start(&["--hash-cost", "4", "--ws-mute"]);
    let users = seed_users(&server.url, 1);
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(&dir, &pingers(2, "300ms", "200ms"));
    let out = hammer(&[
        "-s",
        &file,
        "--target",
        &server.url,
        "--users-file",
        users.path().to_str().unwrap(),
        "--duration",
        "2s",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let events = events(&out.stdout);
    let pings: Vec<&Event> = events.iter().filter(|e| e.name == "ping").collect();
    assert!(pings.len() >= 2, "{} pings", pings.len());
    for e in &pings {
        assert_eq!(e.error.as_deref(), Some("timeout"), "{e:?}");
        assert!(e.latency_ns >= 200_000_000, "{e:?}");
    }
    assert_eq!(count(&events, "WS feed recv pong"), 0);
}

#[test]
fn wss_uses_the_https_trust_settings_and_offers_http1_under_http2() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("self-signed.pem");
    let cert = cert.to_str().unwrap();
    let server = Server::start(&["--hash-cost", "4", "--tls", "--cert-out", cert]);
    assert!(server.url.starts_with("https://"), "{}", server.url);
    let trust = ["--ca-cert", cert];
    let users = seed_users_with(&server.url, 2, &trust);
    let file = scenario(&dir, &pingers(4, "100ms", "2s"));
    let run = |extra: &[&str]| {
        let mut args = vec![
            "-s",
            &file,
            "--target",
            &server.url,
            "--users-file",
            users.path().to_str().unwrap(),
            "--duration",
            "1500ms",
        ];
        args.extend_from_slice(extra);
        hammer(&args)
    };
    // --http2 offers h2 by ALPN for requests; the upgrade must get HTTP/1.1.
    for extra in [&trust[..], &[&trust[..], &["--http2"]].concat()] {
        let out = run(extra);
        assert!(out.status.success(), "{extra:?}: {}", stderr(&out));
        let events = events(&out.stdout);
        assert_eq!(errors(&events), Vec::<String>::new(), "{extra:?}");
        assert_eq!(count(&events, "WS feed connect"), 4, "{extra:?}");
        // a TLS handshake is in every connect's time
        assert!(events
            .iter()
            .filter(|e| e.name == "WS feed connect")
            .all(|e| e.connect_ns.is_some_and(|c| c > 0 && c <= e.latency_ns)));
        assert!(count(&events, "ping") >= 20, "{extra:?}");
    }
    // Without the CA the certificate is refused before any load: exit 3.
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("--ca-cert"), "{}", stderr(&out));
}

/// A metric's value from tasktracker's `/metrics`.
fn metric(url: &str, name: &str) -> f64 {
    let (status, body) = http("GET", &format!("{url}/metrics"), &[], "");
    assert_eq!(status, 200);
    let text = String::from_utf8(body).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.split([' ', '{']).next() == Some(name))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum()
}

#[test]
fn sigint_closes_every_connection_and_loses_no_event() {
    let server = Server::start(&["--hash-cost", "4"]);
    let users = seed_users(&server.url, 3);
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(&dir, &pingers(10, "50ms", "2s"));
    let child = spawn_hammer(&[
        "-s",
        &file,
        "--target",
        &server.url,
        "--users-file",
        users.path().to_str().unwrap(),
        "--duration",
        "60s",
    ]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while metric(&server.url, "tasktracker_ws_connections") < 10.0 {
        assert!(Instant::now() < deadline, "10 connections never opened");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    let interrupted = Instant::now();
    interrupt(&child);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(interrupted.elapsed() < Duration::from_secs(5));
    let events = events(&out.stdout);
    assert!(
        load(&out.stdout).is_some(),
        "the closing load record is there"
    );
    assert_eq!(errors(&events), Vec::<String>::new());
    // Every ping the server answered is one event; none is lost.
    let pings = count(&events, "ping") as f64;
    let deadline = Instant::now() + Duration::from_secs(5);
    while metric(&server.url, "tasktracker_ws_connections") > 0.0 {
        assert!(Instant::now() < deadline, "connections left open");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        metric(&server.url, "tasktracker_ws_messages_received_total"),
        pings
    );
    assert_eq!(
        count(&events, "WS feed recv pong"),
        0,
        "replies are the pings' events"
    );
    assert_eq!(
        metric(&server.url, "tasktracker_ws_client_closes_total"),
        10.0,
        "every connection closed with a close frame"
    );
}

#[test]
fn the_taskforge_scenario_runs_end_to_end_with_zero_errors() {
    let taskforge = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/taskforge.toml");
    let server = Server::start(&["--hash-cost", "4"]);
    let users = tempfile::NamedTempFile::new().unwrap();
    let seeded = records::testkit::cmd("seed")
        .args(["-s", taskforge, "--target", &server.url])
        .stdout(Stdio::from(users.reopen().unwrap()))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(seeded.status.success(), "{}", stderr(&seeded));
    let out = hammer(&[
        "-s",
        taskforge,
        "--target",
        &server.url,
        "--users-file",
        users.path().to_str().unwrap(),
        "--duration",
        "5s",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let events = events(&out.stdout);
    assert_eq!(errors(&events), Vec::<String>::new());
    // 50 connections over 20 users, round-robin: 3, 3, 2, 2, … per user.
    let connects: Vec<&Event> = events
        .iter()
        .filter(|e| e.name == "WS feed connect")
        .collect();
    assert_eq!(connects.len(), 50);
    let mut per_vu: Vec<u32> = connects.iter().map(|e| e.vu).collect();
    per_vu.sort_unstable();
    per_vu.dedup();
    assert_eq!(per_vu.len(), 50, "one connection per VU of its own");
    // Staggered: 10 per 100 ms, so the last group opens ≥ 0.4 s after the first.
    let mut opened: Vec<u64> = connects.iter().map(|e| e.ts).collect();
    opened.sort_unstable();
    assert!(opened[49] - opened[0] >= 380_000_000, "{opened:?}");
    // Every connection subscribes every 2 s: at least twice in 5 s.
    assert!(count(&events, "WS feed subscribe") >= 100);
    assert!(
        count(&events, "WS feed recv task_update") > 0,
        "workers' completions are pushed"
    );
    for weight in [
        "GET /health",
        "POST /api/v1/tasks/ (pdf)",
        "POST /api/v1/tasks/ (video)",
        "POST /api/v1/tasks/ (image)",
        "GET /metrics",
    ] {
        assert!(count(&events, weight) > 0, "{weight}");
    }
    assert_eq!(count(&events, "POST /api/v1/auth/logout"), 20);
    // aggregate shows the WebSocket rows beside the HTTP endpoints.
    let mut aggregate = records::testkit::cmd("aggregate")
        .args(["--format", "table"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    aggregate
        .stdin
        .take()
        .unwrap()
        .write_all(&out.stdout)
        .unwrap();
    let table = aggregate.wait_with_output().unwrap();
    assert!(table.status.success(), "{}", stderr(&table));
    let text = String::from_utf8_lossy(&table.stdout).into_owned() + &stderr(&table);
    for row in [
        "WS feed connect",
        "WS feed subscribe",
        "WS feed recv task_update",
    ] {
        assert!(text.contains(row), "{row} in:\n{text}");
    }
}
