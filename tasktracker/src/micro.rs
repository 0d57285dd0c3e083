//! `--arch micro`: user, task and stats services, each its own HTTP server on
//! a loopback port of this process, behind a gateway on the listen address.
//! Every hop is real HTTP over a keep-alive client pool, so comparing with the
//! monolith measures what the extra hops cost.
//!
//! The gateway authenticates (JWT locally, session cookies by asking the user
//! service) and passes the caller's id to the services in `x-user-id`; the
//! stats service pages through the caller's tasks on the task service.

use crate::api::{self, AppState, AuthMode, Inner, StatsSource, USER_HEADER};
use crate::error::ApiError;
use crate::serve::serve;
use crate::store::Store;
use crate::token::{self, Tokens};
use crate::ws::{self, Hub, Live};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use http::{header, HeaderMap, StatusCode};
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

/// The keep-alive client every hop uses.
pub fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .no_proxy()
        .http1_only()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(1024)
        .pool_idle_timeout(Duration::from_secs(90))
        .timeout(Duration::from_secs(60))
        .build()?)
}

/// Starts one internal service on 127.0.0.1:0; returns its base URL.
async fn spawn_service(name: &str, router: Router, max_body: usize) -> anyhow::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let router = api::finish(router).layer(DefaultBodyLimit::max(max_body));
    tokio::spawn(serve(listener, router, None, None, std::future::pending()));
    // Worded so that only the gateway's line says "listening on".
    eprintln!("tasktracker: {name} service up at {url}");
    Ok(url)
}

pub struct Services {
    pub user: String,
    pub task: String,
    pub stats: String,
}

/// Starts the three services; `user_store` and `task_store` are their own.
pub async fn start_services(
    user_store: Store,
    task_store: Store,
    tokens: Arc<Tokens>,
    hash_cost: u32,
    max_body: usize,
    client: reqwest::Client,
    hub: Arc<Hub>,
) -> anyhow::Result<Services> {
    let state = |store: Store, stats: StatsSource, hub: Option<Arc<Hub>>| -> AppState {
        Arc::new(Inner {
            store,
            tokens: tokens.clone(),
            auth: AuthMode::Trusted,
            stats,
            hash_cost,
            hub,
        })
    };
    let user_router = api::user_routes()
        .route("/internal/session", get(api::session_lookup))
        .with_state(state(user_store, StatsSource::Store, None));
    let user = spawn_service("user", user_router, max_body).await?;
    // Task changes happen here, so the WebSocket hub does too.
    let task_router =
        api::task_routes().with_state(state(task_store, StatsSource::Store, Some(hub)));
    let task = spawn_service("task", task_router, max_body).await?;
    // The stats service keeps no data of its own: an empty store it never reads.
    let stats_source = StatsSource::TaskService {
        client,
        base: task.clone(),
    };
    let stats_router = api::stats_routes().with_state(state(Store::memory(), stats_source, None));
    let stats = spawn_service("stats", stats_router, max_body).await?;
    Ok(Services { user, task, stats })
}

pub struct Gateway {
    pub services: Services,
    pub tokens: Arc<Tokens>,
    pub client: reqwest::Client,
    pub max_body: usize,
    /// WebSockets being relayed, for shutdown to wait on.
    pub proxies: Arc<Live>,
}

impl Gateway {
    pub fn router(self) -> Router {
        let mut router = Router::new()
            .route("/health", get(api::health))
            .route(api::WS_ROUTE, get(forward_ws));
        for path in api::FORWARDED_ROUTES {
            router = router.route(path, any(forward));
        }
        router.fallback(forward).with_state(Arc::new(self))
    }

    /// Relays a WebSocket upgrade to the task service: the handshake goes
    /// through as HTTP/1.1, then both upgraded sockets are joined byte for
    /// byte, so frames (and close codes) pass unchanged.
    async fn upgrade(&self, mut req: Request) -> Result<Response, ApiError> {
        let user = match ws::query_token(req.uri().query()) {
            Some(token) => self
                .tokens
                .verify_access(&token)
                .ok_or_else(|| ApiError::unauthorized("Could not validate credentials"))?,
            None => self.authenticate(req.headers()).await?,
        };
        let unavailable = |e: &dyn std::fmt::Display| {
            eprintln!("tasktracker: task service WebSocket call failed: {e}");
            ApiError::new(StatusCode::BAD_GATEWAY, "task service unavailable")
        };
        let addr = self.services.task.trim_start_matches("http://");
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| unavailable(&e))?;
        let _ = stream.set_nodelay(true);
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| unavailable(&e))?;
        tokio::spawn(async move {
            let _ = connection.with_upgrades().await;
        });
        let target = req.uri().path_and_query().map_or("/", |p| p.as_str());
        let mut upstream = http::Request::get(target).header(header::HOST, addr);
        // Only the handshake's own headers: credentials stay here, and a
        // client's x-user-id must never reach a service that trusts it.
        for (name, value) in req.headers() {
            let name_str = name.as_str();
            if name_str.starts_with("sec-websocket-")
                || name == header::UPGRADE
                || name == header::CONNECTION
            {
                upstream = upstream.header(name, value);
            }
        }
        let upstream = upstream
            .header(USER_HEADER, user.to_string())
            .body(axum::body::Body::empty())
            .map_err(|e| unavailable(&e))?;
        let client_side = hyper::upgrade::on(&mut req);
        let mut response = sender
            .send_request(upstream)
            .await
            .map_err(|e| unavailable(&e))?;
        if response.status() != StatusCode::SWITCHING_PROTOCOLS {
            // The service's own rejection (not a WebSocket handshake, …).
            return Ok(response.map(axum::body::Body::new));
        }
        let service_side = hyper::upgrade::on(&mut response);
        let guard = self.proxies.enter();
        tokio::spawn(async move {
            let _guard = guard;
            let (Ok(client), Ok(service)) = tokio::join!(client_side, service_side) else {
                return;
            };
            let _ = tokio::io::copy_bidirectional(
                &mut TokioIo::new(client),
                &mut TokioIo::new(service),
            )
            .await;
        });
        let mut out = Response::builder().status(StatusCode::SWITCHING_PROTOCOLS);
        for (name, value) in response.headers() {
            out = out.header(name, value);
        }
        out.body(axum::body::Body::empty())
            .map_err(|e| ApiError::from(anyhow::Error::from(e)))
    }

    async fn authenticate(&self, headers: &HeaderMap) -> Result<i64, ApiError> {
        if let Some(value) = headers.get(header::AUTHORIZATION) {
            return self.tokens.user_of_authorization(value);
        }
        let Some(session) = token::session_cookie(headers) else {
            return Err(ApiError::unauthorized("Not authenticated"));
        };
        let response = self
            .client
            .get(format!("{}/internal/session", self.services.user))
            .header(header::COOKIE, format!("session={session}"))
            .send()
            .await
            .map_err(|e| api::upstream("user service", &e))?;
        if response.status() == StatusCode::UNAUTHORIZED {
            return Err(ApiError::unauthorized("Session expired or logged out"));
        }
        let bad = || ApiError::new(StatusCode::BAD_GATEWAY, "user service gave a bad answer");
        if !response.status().is_success() {
            return Err(bad());
        }
        let body: serde_json::Value = response.json().await.map_err(|_| bad())?;
        body["user_id"].as_i64().ok_or_else(bad)
    }

    async fn route(&self, req: Request) -> Result<Response, ApiError> {
        let path = req.uri().path();
        let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
        let (name, base, public) = if let Some(rest) = path.strip_prefix("/api/v1/auth/") {
            let public = matches!(rest.trim_end_matches('/'), "register" | "login" | "refresh");
            ("user service", &self.services.user, public)
        } else if under("/api/v1/tasks") {
            ("task service", &self.services.task, false)
        } else if under("/api/v1/stats") {
            ("stats service", &self.services.stats, false)
        } else {
            return Err(ApiError::new(StatusCode::NOT_FOUND, "Not Found"));
        };
        let (parts, body) = req.into_parts();
        let user = if public {
            None
        } else {
            Some(self.authenticate(&parts.headers).await?)
        };
        let body = axum::body::to_bytes(body, self.max_body)
            .await
            .map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "request body too large"))?;
        let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let mut request = self
            .client
            .request(parts.method, format!("{base}{target}"))
            .body(body);
        if let Some(ct) = parts.headers.get(header::CONTENT_TYPE) {
            request = request.header(header::CONTENT_TYPE, ct);
        }
        if let Some(user) = user {
            request = request.header(USER_HEADER, user.to_string());
        }
        let response = request.send().await.map_err(|e| api::upstream(name, &e))?;
        let mut out = Response::builder().status(response.status());
        for h in [
            header::CONTENT_TYPE,
            header::SET_COOKIE,
            header::WWW_AUTHENTICATE,
        ] {
            for value in response.headers().get_all(&h) {
                out = out.header(&h, value);
            }
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| api::upstream(name, &e))?;
        out.body(axum::body::Body::from(bytes))
            .map_err(|e| ApiError::from(anyhow::Error::from(e)))
    }
}

async fn forward_ws(State(gateway): State<Arc<Gateway>>, req: Request) -> Response {
    match gateway.upgrade(req).await {
        Ok(response) => response,
        Err(err) => err.into_response(),
    }
}

async fn forward(State(gateway): State<Arc<Gateway>>, req: Request) -> Response {
    match gateway.route(req).await {
        Ok(response) => response,
        Err(err) => err.into_response(),
    }
}
