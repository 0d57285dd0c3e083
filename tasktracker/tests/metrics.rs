//! `GET /metrics`: Prometheus text format that parses, and counters that grow.

mod common;

use common::Api;
use futures_util::{SinkExt, StreamExt};
use records::testkit::Server;
use serde_json::json;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

/// Samples by `name{labels}` (labels as written). Panics on any line that is
/// not a comment, blank, or `name{labels} value`, and on a sample whose
/// metric has no `# TYPE` line before it.
fn parse(text: &str) -> HashMap<String, f64> {
    let mut typed = Vec::new();
    let mut samples = HashMap::new();
    for line in text.lines() {
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut words = rest.split(' ');
            let name = words.next().unwrap().to_string();
            let kind = words.next().unwrap();
            assert!(["counter", "gauge"].contains(&kind), "{line}");
            typed.push(name);
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        assert!(!line.starts_with('#'), "unknown comment: {line}");
        let (series, value) = line.rsplit_once(' ').expect(line);
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("value in {line}"));
        let name = series.split('{').next().unwrap();
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
                && !name.starts_with(|c: char| c.is_ascii_digit()),
            "bad name in {line}"
        );
        if let Some(labels) = series.strip_prefix(name) {
            if !labels.is_empty() {
                let inner = labels
                    .strip_prefix('{')
                    .and_then(|l| l.strip_suffix('}'))
                    .unwrap_or_else(|| panic!("bad labels in {line}"));
                for pair in inner.split("\",") {
                    let (key, val) = pair.split_once("=\"").unwrap_or_else(|| panic!("{line}"));
                    assert!(
                        key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                        "{line}"
                    );
                    assert!(!val.trim_end_matches('"').contains('"'), "{line}");
                }
            }
        }
        assert!(typed.iter().any(|t| t == name), "no # TYPE before {line}");
        samples.insert(series.to_string(), value);
    }
    samples
}

fn scrape(api: &Api) -> HashMap<String, f64> {
    let r = api.call("GET", "/metrics", None, None);
    assert_eq!(r.status, 200, "{}", r.text);
    let ct = r.headers["content-type"].to_str().unwrap();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    parse(&r.text)
}

fn get(samples: &HashMap<String, f64>, series: &str) -> f64 {
    samples.get(series).copied().unwrap_or(0.0)
}

fn metrics_grow(arch: &str) {
    let server = Server::start(&["--arch", arch, "--hash-cost", "4"]);
    let api = Api::new(&server.url);
    let first = scrape(&api);
    for name in [
        "tasktracker_ws_connections",
        "tasktracker_ws_messages_sent_total",
        "tasktracker_ws_messages_received_total",
        "tasktracker_tasks_changed_total{status=\"updated\"}",
        "tasktracker_tasks_changed_total{status=\"completed\"}",
        "tasktracker_tasks_changed_total{status=\"incomplete\"}",
        "tasktracker_tasks_changed_total{status=\"deleted\"}",
    ] {
        assert!(first.contains_key(name), "{arch}: {name} missing");
    }

    let user = api.user("metrics");
    let id = api.create_task(&user.access, json!({"title": "t"}))["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v1/tasks/{id}");
    for _ in 0..3 {
        assert_eq!(api.call("GET", &path, Some(&user.access), None).status, 200);
    }
    assert_eq!(api.call("GET", "/no/such/path", None, None).status, 404);
    let done = api.call(
        "PATCH",
        &format!("{path}/complete"),
        Some(&user.access),
        None,
    );
    assert_eq!(done.status, 200);

    // A WebSocket: open, one ping and one subscribe answered, a push.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = format!(
        "{}/api/v1/ws?token={}",
        server.url.replacen("http", "ws", 1),
        user.access
    );
    let (mut ws, _) = rt.block_on(tokio_tungstenite::connect_async(url)).unwrap();
    let mut exchange = |text: String| {
        rt.block_on(async {
            ws.send(Message::Text(text.into())).await.unwrap();
            tokio::time::timeout(Duration::from_secs(5), ws.next())
                .await
                .unwrap()
                .unwrap()
                .unwrap()
        })
    };
    exchange(json!({"type": "ping"}).to_string());
    exchange(json!({"type": "subscribe", "taskId": id}).to_string());
    let open = scrape(&api);
    assert_eq!(get(&open, "tasktracker_ws_connections"), 1.0, "{arch}");

    // The server counts a message as sent once its write has returned,
    // which can be just after the client has read it: scrape until that
    // count has caught up (bounded), then check everything.
    let deadline = Instant::now() + Duration::from_secs(2);
    let sent = "tasktracker_ws_messages_sent_total";
    let after = loop {
        let after = scrape(&api);
        if get(&after, sent) - get(&first, sent) >= 2.0 || Instant::now() > deadline {
            break after;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let route = |template: &str, status: u16| {
        format!("tasktracker_http_requests_total{{route=\"{template}\",status=\"{status}\"}}")
    };
    let grew = |series: &str, by: f64| {
        let (a, b) = (get(&first, series), get(&after, series));
        assert!(
            b - a >= by,
            "{arch}: {series} went {a} → {b}, expected +{by}"
        );
    };
    grew(&route("/api/v1/tasks/{id}", 200), 3.0);
    grew(&route("/api/v1/tasks/", 201), 1.0);
    grew(&route("/api/v1/tasks/{id}/complete", 200), 1.0);
    grew(&route("/api/v1/ws", 101), 1.0);
    grew(&route("unmatched", 404), 1.0);
    grew(&route("/metrics", 200), 2.0);
    grew("tasktracker_tasks_changed_total{status=\"completed\"}", 1.0);
    grew("tasktracker_ws_messages_received_total", 2.0);
    grew("tasktracker_ws_messages_sent_total", 2.0);
    // Raw paths never become labels.
    assert!(
        !after.keys().any(|k| k.contains(&format!("/{id}"))),
        "{arch}: a task id in a label"
    );

    rt.block_on(async {
        ws.close(None).await.unwrap();
        while ws.next().await.is_some() {}
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    while get(&scrape(&api), "tasktracker_ws_connections") != 0.0 {
        assert!(
            Instant::now() < deadline,
            "{arch}: the gauge stays up after close"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn metrics_parse_and_grow_mono() {
    metrics_grow("mono");
}

#[test]
fn metrics_parse_and_grow_micro() {
    metrics_grow("micro");
}

#[test]
fn metrics_are_exempt_from_faults_and_count_them() {
    for arch in ["mono", "micro"] {
        let server = Server::start(&["--arch", arch, "--fail-rate", "1", "--drop-rate", "0"]);
        let api = Api::new(&server.url);
        for _ in 0..2 {
            assert_eq!(api.call("GET", "/health", None, None).status, 500);
        }
        let samples = scrape(&api);
        // Made up before routing, so no route template to name.
        let series = "tasktracker_http_requests_total{route=\"unmatched\",status=\"500\"}";
        assert_eq!(get(&samples, series), 2.0, "{arch}: {samples:?}");
    }
    // --drop-rate spares /metrics too.
    let server = Server::start(&["--drop-rate", "1"]);
    let api = Api::new(&server.url);
    scrape(&api);
}
