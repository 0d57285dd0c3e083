//! `GET /metrics`: Prometheus text format 0.0.4.
//!
//! One registry per process. HTTP requests are counted at the outer server
//! only (the gateway in micro mode, so a request is counted once, not once
//! per hop); WebSocket and task-change counters are kept where those happen
//! (the task service's hub in micro mode), which is the same process.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use http::header;
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// What happened to a task, as WebSocket pushes and the metrics name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Updated,
    Completed,
    Incomplete,
    Deleted,
}

impl Change {
    pub const ALL: [Change; 4] = [
        Change::Updated,
        Change::Completed,
        Change::Incomplete,
        Change::Deleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Change::Updated => "updated",
            Change::Completed => "completed",
            Change::Incomplete => "incomplete",
            Change::Deleted => "deleted",
        }
    }
}

#[derive(Default)]
pub struct Metrics {
    /// route template → status → count. The key space is bounded by the
    /// route table, never by request paths. Keyed by `Arc<str>` so that the
    /// per-request lookup takes the label as `&str` and allocates nothing.
    http: Mutex<HashMap<Arc<str>, HashMap<u16, u64>>>,
    pub ws_connections: AtomicI64,
    pub ws_sent: AtomicU64,
    pub ws_received: AtomicU64,
    tasks_changed: [AtomicU64; 4],
}

/// The route a response came from, put there by [`label_route`]; cloning a
/// `MatchedPath` copies a pointer.
#[derive(Clone)]
struct RouteLabel(MatchedPath);

/// Requests that matched no route (404s, and answers given before routing
/// such as injected faults) share this label.
const UNMATCHED: &str = "unmatched";

impl Metrics {
    pub fn task_changed(&self, change: Change) {
        self.tasks_changed[change as usize].fetch_add(1, Ordering::Relaxed);
    }

    fn count_http(&self, route: &str, status: u16) {
        let mut http = self.http.lock().unwrap_or_else(|p| p.into_inner());
        let by_status = match http.get_mut(route) {
            Some(by_status) => by_status,
            None => http.entry(Arc::from(route)).or_default(),
        };
        *by_status.entry(status).or_default() += 1;
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP tasktracker_http_requests_total HTTP requests answered, by route template and status.\n\
             # TYPE tasktracker_http_requests_total counter\n",
        );
        let mut http: Vec<((Arc<str>, u16), u64)> = {
            let http = self.http.lock().unwrap_or_else(|p| p.into_inner());
            http.iter()
                .flat_map(|(route, by_status)| {
                    by_status.iter().map(|(s, n)| ((route.clone(), *s), *n))
                })
                .collect()
        };
        http.sort();
        for ((route, status), n) in http {
            let _ = writeln!(
                out,
                "tasktracker_http_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                escape(&route)
            );
        }
        let gauge = self.ws_connections.load(Ordering::Relaxed).max(0);
        let _ = write!(
            out,
            "# HELP tasktracker_ws_connections WebSocket connections open now.\n\
             # TYPE tasktracker_ws_connections gauge\n\
             tasktracker_ws_connections {gauge}\n\
             # HELP tasktracker_ws_messages_sent_total WebSocket text messages sent by the server.\n\
             # TYPE tasktracker_ws_messages_sent_total counter\n\
             tasktracker_ws_messages_sent_total {}\n\
             # HELP tasktracker_ws_messages_received_total WebSocket text and binary messages received.\n\
             # TYPE tasktracker_ws_messages_received_total counter\n\
             tasktracker_ws_messages_received_total {}\n\
             # HELP tasktracker_tasks_changed_total Task changes (the WebSocket push statuses).\n\
             # TYPE tasktracker_tasks_changed_total counter\n",
            self.ws_sent.load(Ordering::Relaxed),
            self.ws_received.load(Ordering::Relaxed),
        );
        for change in Change::ALL {
            let _ = writeln!(
                out,
                "tasktracker_tasks_changed_total{{status=\"{}\"}} {}",
                change.as_str(),
                self.tasks_changed[change as usize].load(Ordering::Relaxed)
            );
        }
        out
    }
}

/// Label values escape `\`, `"` and newlines; route templates have none
/// today, but the format must hold whatever a route is called.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

async fn serve_metrics(State(metrics): State<Arc<Metrics>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        metrics.render(),
    )
        .into_response()
}

/// `GET /metrics`, unauthenticated.
pub fn routes(metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route("/metrics", get(serve_metrics))
        .with_state(metrics)
}

/// Route layer: tags the response with the matched route template, which
/// the outer [`count`] layer cannot see (routing happens inside it).
pub async fn label_route(matched: Option<MatchedPath>, req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    if let Some(matched) = matched {
        response.extensions_mut().insert(RouteLabel(matched));
    }
    response
}

/// Outermost layer: counts every answer, faults' included.
pub async fn count(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let route = response
        .extensions()
        .get::<RouteLabel>()
        .map_or(UNMATCHED, |l| l.0.as_str());
    metrics.count_http(route, response.status().as_u16());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_line_is_name_labels_value() {
        let m = Metrics::default();
        m.count_http("/api/v1/tasks/{id}", 200);
        m.count_http("/api/v1/tasks/{id}", 200);
        m.count_http("/api/v1/tasks/{id}", 404);
        m.task_changed(Change::Deleted);
        let text = m.render();
        assert!(text.contains(
            "tasktracker_http_requests_total{route=\"/api/v1/tasks/{id}\",status=\"200\"} 2\n"
        ));
        assert!(text.contains("tasktracker_tasks_changed_total{status=\"deleted\"} 1\n"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (_, value) = line.rsplit_once(' ').unwrap();
            value.parse::<f64>().unwrap();
        }
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
