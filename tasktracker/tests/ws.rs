//! `GET /api/v1/ws` against the real binary, mono and micro: auth, the JSON
//! protocol, exactly one push per change, isolation, the WebSocket fault
//! switches and shutdown.

mod common;

use common::{Api, Login};
use futures_util::{SinkExt, StreamExt};
use records::testkit::{self, wait_bounded, Server};
use serde_json::{json, Value};
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};

type Stream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A blocking WebSocket client: its own runtime, so the tests can mix it
/// with the blocking REST client.
struct Ws {
    rt: tokio::runtime::Runtime,
    stream: Stream,
}

/// What the server sent next.
#[derive(Debug)]
enum Got {
    Json(Value),
    Close(Option<CloseFrame>),
    /// The connection ended without a close frame.
    Ended,
    Nothing,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn ws_url(http: &str, query: &str) -> String {
    format!("{}/api/v1/ws{query}", http.replacen("http", "ws", 1))
}

impl Ws {
    fn connect(request: tungstenite::handshake::client::Request) -> Result<Ws, tungstenite::Error> {
        let rt = runtime();
        let (stream, _) = rt.block_on(tokio_tungstenite::connect_async(request))?;
        Ok(Ws { rt, stream })
    }

    /// With `?token=`.
    fn open(server: &str, token: &str) -> Ws {
        let url = ws_url(server, &format!("?token={token}"));
        Ws::connect(url.into_client_request().unwrap()).expect("WebSocket handshake")
    }

    fn send_text(&mut self, text: &str) {
        self.rt
            .block_on(self.stream.send(Message::Text(text.into())))
            .unwrap();
    }

    fn send(&mut self, value: Value) {
        self.send_text(&value.to_string());
    }

    fn next(&mut self, within: Duration) -> Got {
        let stream = &mut self.stream;
        self.rt.block_on(async {
            let deadline = tokio::time::Instant::now() + within;
            loop {
                match tokio::time::timeout_at(deadline, stream.next()).await {
                    Err(_) => return Got::Nothing,
                    Ok(None) | Ok(Some(Err(_))) => return Got::Ended,
                    Ok(Some(Ok(Message::Text(t)))) => {
                        return Got::Json(serde_json::from_str(t.as_str()).unwrap())
                    }
                    Ok(Some(Ok(Message::Close(frame)))) => return Got::Close(frame),
                    Ok(Some(Ok(_))) => continue,
                }
            }
        })
    }

    /// The next JSON message, which must come within 5 s.
    fn json(&mut self) -> Value {
        match self.next(Duration::from_secs(5)) {
            Got::Json(v) => v,
            other => panic!("expected a JSON message, got {other:?}"),
        }
    }

    /// Sends `message` and returns the answer.
    fn ask(&mut self, message: Value) -> Value {
        self.send(message);
        self.json()
    }

    fn silent_for(&mut self, dur: Duration) {
        match self.next(dur) {
            Got::Nothing => {}
            other => panic!("expected silence, got {other:?}"),
        }
    }
}

fn nanos_now() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn task(api: &Api, user: &Login, title: &str) -> i64 {
    api.create_task(&user.access, json!({ "title": title }))["id"]
        .as_i64()
        .unwrap()
}

fn change(api: &Api, user: &Login, method: &str, path: &str) {
    let body = (method == "PUT").then(|| json!({"title": "changed", "status": "in_progress"}));
    let r = api.call(method, path, Some(&user.access), body);
    assert!(
        r.status == 200 || r.status == 204,
        "{method} {path}: {}",
        r.text
    );
}

fn assert_update(got: &Value, task: i64, status: &str, before: u128, after: u128) {
    assert_eq!(got["type"], "task_update", "{got}");
    assert_eq!(got["taskId"], task, "{got}");
    assert_eq!(got["status"], status, "{got}");
    let ts = got["ts"].as_u64().expect("ts in integer nanoseconds") as u128;
    assert!(
        before <= ts && ts <= after,
        "ts {ts} outside [{before}, {after}]"
    );
}

fn protocol(arch: &str) {
    protocol_with(arch, &[]);
}

fn protocol_with(arch: &str, extra: &[&str]) {
    let mut args = vec!["--arch", arch, "--hash-cost", "4"];
    args.extend_from_slice(extra);
    let server = Server::start(&args);
    let api = Api::new(&server.url);
    let alice = api.user("ws-alice");
    let bob = api.user("ws-bob");

    // 401 before any upgrade: no token, a bad one, a refresh token.
    for query in [
        String::new(),
        "?token=nonsense".to_string(),
        format!("?token={}", alice.refresh),
    ] {
        let r = api.call("GET", &format!("/api/v1/ws{query}"), None, None);
        assert_eq!(r.status, 401, "{arch} {query}: {}", r.text);
        let url = ws_url(&server.url, &query);
        match Ws::connect(url.into_client_request().unwrap()) {
            Err(tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), 401, "{arch} {query}")
            }
            Err(e) => panic!("{arch} {query}: {e}"),
            Ok(_) => panic!("{arch} {query}: upgraded without a valid token"),
        }
    }

    let t1 = task(&api, &alice, "watched");
    let t2 = task(&api, &alice, "not watched");
    let tb = task(&api, &bob, "bob's");

    let mut ws1 = Ws::open(&server.url, &alice.access);
    // The bearer header works as well as the query.
    let mut request = ws_url(&server.url, "").into_client_request().unwrap();
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {}", alice.access).parse().unwrap(),
    );
    let mut ws2 = Ws::connect(request).expect("bearer handshake");

    assert_eq!(ws1.ask(json!({"type": "ping"})), json!({"type": "pong"}));
    for _ in 0..2 {
        // Twice on one connection: still one push per change.
        assert_eq!(
            ws1.ask(json!({"type": "subscribe", "taskId": t1})),
            json!({"type": "subscribed", "taskId": t1})
        );
    }
    assert_eq!(
        ws2.ask(json!({"type": "subscribe", "taskId": t1})),
        json!({"type": "subscribed", "taskId": t1})
    );
    for foreign in [tb, 999_999_999] {
        assert_eq!(
            ws1.ask(json!({"type": "subscribe", "taskId": foreign})),
            json!({"type": "error", "taskId": foreign, "error": "not found"}),
            "{arch}"
        );
    }
    for bad in [
        "{not json",
        r#"{"type":"dance"}"#,
        r#"{"type":"subscribe"}"#,
        r#"{"type":"subscribe","taskId":"one"}"#,
        "[]",
        "",
    ] {
        ws1.send_text(bad);
        let got = ws1.json();
        assert_eq!(got["type"], "error", "{bad}: {got}");
        assert!(
            got["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{got}"
        );
        assert!(got.get("taskId").is_none(), "{got}");
    }
    // Binary frames are answered with an error, and the connection stays open.
    ws1.rt
        .block_on(ws1.stream.send(Message::Binary(vec![1, 2, 3].into())))
        .unwrap();
    assert_eq!(ws1.json()["type"], "error");

    // Each change: first one to tasks not subscribed (t2, bob's), then one to
    // t1: the next message must be t1's, so nothing came for the others.
    let id = |t: i64| format!("/api/v1/tasks/{t}");
    for (method, suffix, status) in [
        ("PUT", "", "updated"),
        ("PATCH", "/complete", "completed"),
        ("PATCH", "/incomplete", "incomplete"),
    ] {
        change(&api, &alice, method, &format!("{}{suffix}", id(t2)));
        change(&api, &bob, method, &format!("{}{suffix}", id(tb)));
        let before = nanos_now();
        change(&api, &alice, method, &format!("{}{suffix}", id(t1)));
        let after = nanos_now();
        for ws in [&mut ws1, &mut ws2] {
            assert_update(&ws.json(), t1, status, before, after);
        }
    }
    ws1.silent_for(Duration::from_millis(300));
    ws2.silent_for(Duration::from_millis(10));

    // Unsubscribed: no more pushes there, the other connection still gets them.
    assert_eq!(
        ws2.ask(json!({"type": "unsubscribe", "taskId": t1})),
        json!({"type": "unsubscribed", "taskId": t1})
    );
    let before = nanos_now();
    change(&api, &alice, "PATCH", &format!("{}/complete", id(t1)));
    assert_update(&ws1.json(), t1, "completed", before, nanos_now());
    ws2.silent_for(Duration::from_millis(300));

    // Deleted: one push, then the subscription is gone (re-subscribing is refused).
    let before = nanos_now();
    change(&api, &alice, "DELETE", &id(t1));
    assert_update(&ws1.json(), t1, "deleted", before, nanos_now());
    ws1.silent_for(Duration::from_millis(300));
    assert_eq!(
        ws1.ask(json!({"type": "subscribe", "taskId": t1})),
        json!({"type": "error", "taskId": t1, "error": "not found"})
    );

    // A frame over the cap (64 KiB) ends that connection, not the server.
    let mut big = Ws::open(&server.url, &alice.access);
    big.send_text(&format!(
        r#"{{"type":"ping","pad":"{}"}}"#,
        "x".repeat(200_000)
    ));
    match big.next(Duration::from_secs(5)) {
        Got::Close(Some(frame)) => assert_eq!(u16::from(frame.code), 1009, "{arch}"),
        other => panic!("{arch}: an oversized frame got {other:?}"),
    }

    // A client's close is answered with a close frame.
    ws2.rt
        .block_on(ws2.stream.send(Message::Close(Some(CloseFrame {
            code: CloseCode::Normal,
            reason: "bye".into(),
        }))))
        .unwrap();
    match ws2.next(Duration::from_secs(5)) {
        Got::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::Normal, "{arch}"),
        other => panic!("{arch}: expected a close frame, got {other:?}"),
    }
    assert_eq!(ws1.ask(json!({"type": "ping"}))["type"], "pong");
}

#[test]
fn ws_protocol_mono() {
    protocol("mono");
}

#[test]
fn ws_protocol_micro() {
    protocol("micro");
}

/// The ownership check on subscribe goes through the store: PostgreSQL too.
#[test]
fn ws_protocol_postgres() {
    if !testkit::require_postgres() {
        return;
    }
    for arch in ["mono", "micro"] {
        let scratch = common::Scratch::new();
        let url = testkit::database_url();
        protocol_with(
            arch,
            &[
                "--database-url",
                &url,
                "--db-schema",
                &scratch.schema,
                "--pool-size",
                "4",
            ],
        );
    }
}

#[test]
fn ws_close_after_closes_mid_connection_with_1011() {
    for arch in ["mono", "micro"] {
        let server = Server::start(&[
            "--arch",
            arch,
            "--hash-cost",
            "4",
            "--ws-close-after",
            "700ms",
        ]);
        let api = Api::new(&server.url);
        let user = api.user("ws-close");
        let t = task(&api, &user, "t");
        let opened = Instant::now();
        let mut ws = Ws::open(&server.url, &user.access);
        // Working normally until then.
        assert_eq!(
            ws.ask(json!({"type": "subscribe", "taskId": t}))["type"],
            "subscribed"
        );
        match ws.next(Duration::from_secs(5)) {
            Got::Close(Some(frame)) => {
                assert_eq!(frame.code, CloseCode::Error, "{arch}: {frame:?}");
                assert_eq!(u16::from(frame.code), 1011);
            }
            other => panic!("{arch}: expected close 1011, got {other:?}"),
        }
        let took = opened.elapsed();
        assert!(
            took >= Duration::from_millis(600) && took < Duration::from_secs(4),
            "{arch}: closed after {took:?}"
        );
    }
}

#[test]
fn ws_mute_never_answers() {
    for arch in ["mono", "micro"] {
        let server = Server::start(&["--arch", arch, "--hash-cost", "4", "--ws-mute"]);
        let api = Api::new(&server.url);
        let user = api.user("ws-mute");
        let t = task(&api, &user, "t");
        let mut ws = Ws::open(&server.url, &user.access);
        ws.send(json!({"type": "subscribe", "taskId": t}));
        ws.send(json!({"type": "ping"}));
        ws.send_text("{not json");
        change(&api, &user, "PATCH", &format!("/api/v1/tasks/{t}/complete"));
        ws.silent_for(Duration::from_secs(1));
        // Muted, not dead: the messages were read.
        let metrics = api.call("GET", "/metrics", None, None).text;
        assert!(
            metrics.contains("tasktracker_ws_messages_received_total 3\n"),
            "{arch}:\n{metrics}"
        );
        assert!(
            metrics.contains("tasktracker_ws_messages_sent_total 0\n"),
            "{metrics}"
        );
    }
}

/// SIGTERM: every open WebSocket gets a close frame with 1001, then exit 0.
#[test]
fn shutdown_sends_1001_to_open_websockets() {
    for arch in ["mono", "micro"] {
        let mut child = testkit::cmd("tasktracker")
            .args([
                "--listen",
                "127.0.0.1:0",
                "--arch",
                arch,
                "--hash-cost",
                "4",
            ])
            .env_remove("DATABASE_URL")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let mut seen = String::new();
        let mut buf = [0u8; 256];
        while !seen.contains("listening on") || !seen.ends_with('\n') {
            let n = stderr.read(&mut buf).unwrap();
            assert!(n > 0, "no start-up line: {seen}");
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        let url = seen
            .split("listening on ")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_string();
        let api = Api::new(&url);
        let user = api.user("ws-term");
        let mut sockets: Vec<Ws> = (0..2).map(|_| Ws::open(&url, &user.access)).collect();
        for ws in &mut sockets {
            assert_eq!(ws.ask(json!({"type": "ping"}))["type"], "pong");
        }
        let killed = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        for ws in &mut sockets {
            match ws.next(Duration::from_secs(5)) {
                Got::Close(Some(frame)) => assert_eq!(u16::from(frame.code), 1001, "{arch}"),
                other => panic!("{arch}: expected close 1001, got {other:?}"),
            }
        }
        // Answering the close lets the server finish at once.
        for ws in &mut sockets {
            let _ = ws.rt.block_on(ws.stream.close(None));
        }
        let status = wait_bounded(
            &mut child,
            Duration::from_secs(10),
            "tasktracker after TERM",
        );
        assert_eq!(status.code(), Some(0), "{arch}");
    }
}

/// wss:// through --tls, the client offering no ALPN (so HTTP/1.1).
#[test]
fn ws_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    let server = Server::start(&[
        "--hash-cost",
        "4",
        "--tls",
        "--cert-out",
        cert.to_str().unwrap(),
    ]);
    let api_url = server.url.clone();
    let pem = std::fs::read(&cert).unwrap();
    let client = reqwest::blocking::Client::builder()
        .no_proxy()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap();
    let email = common::unique_email("wss");
    let r = client
        .post(format!("{api_url}/api/v1/auth/register"))
        .json(&json!({"email": email, "password": "pw"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let login: Value = client
        .post(format!("{api_url}/api/v1/auth/login"))
        .json(&json!({"email": email, "password": "pw"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let token = login["access_token"].as_str().unwrap();

    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::CertificateDer::pem_slice_iter(&pem) {
        roots.add(c.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let addr = api_url.trim_start_matches("https://").to_string();
    let url = format!("wss://localhost:{}/api/v1/ws?token={token}", server.port());
    runtime().block_on(async move {
        let tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let tls = connector.connect(name, tcp).await.expect("TLS handshake");
        let (mut ws, _) = tokio_tungstenite::client_async(url, tls)
            .await
            .expect("wss handshake");
        ws.send(Message::Text(json!({"type": "ping"}).to_string().into()))
            .await
            .unwrap();
        let answer = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("an answer")
            .unwrap()
            .unwrap();
        assert_eq!(answer.into_text().unwrap().as_str(), r#"{"type":"pong"}"#);
    });
}
