//! The HTTP handlers, shared by the monolith and the micro services: the same
//! functions answer in both layouts, only how a caller is identified and where
//! stats come from differ (see [`AuthMode`] and [`StatsSource`]).

use crate::error::ApiError;
use crate::metrics::Change;
use crate::model::{Stats, Status, TaskInput, User};
use crate::store::{Page, Store};
use crate::token::{self, Tokens};
use crate::ws::Hub;
use axum::extract::{FromRequest, FromRequestParts, Path, RawQuery, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use bytes::Bytes;
use http::request::Parts;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Header the micro gateway uses to tell internal services who is calling.
pub const USER_HEADER: &str = "x-user-id";

pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;

/// How a request's caller is established.
#[derive(Clone, Copy, Debug)]
pub enum AuthMode {
    /// Bearer JWT verified here, or the session cookie looked up in the store.
    Local,
    /// Behind the micro gateway, which has already authenticated the caller.
    Trusted,
}

/// Where `GET /api/v1/stats/` gets its numbers.
#[derive(Clone)]
pub enum StatsSource {
    /// Counted in the store (monolith).
    Store,
    /// Asked of the task service over HTTP (micro stats service).
    TaskService {
        client: reqwest::Client,
        base: String,
    },
}

pub struct Inner {
    pub store: Store,
    pub tokens: Arc<Tokens>,
    pub auth: AuthMode,
    pub stats: StatsSource,
    pub hash_cost: u32,
    /// Where task changes are pushed to WebSockets: set where the task data
    /// lives (the monolith, the micro task service).
    pub hub: Option<Arc<Hub>>,
}

impl Inner {
    fn changed(&self, task: i64, change: Change) {
        if let Some(hub) = &self.hub {
            hub.publish(task, change);
        }
    }
}

pub type AppState = Arc<Inner>;

/// The authenticated user's id.
pub struct Caller(pub i64);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match state.auth {
            AuthMode::Trusted => parts
                .headers
                .get(USER_HEADER)
                .and_then(|v| v.to_str().ok()?.parse().ok())
                .map(Caller)
                .ok_or_else(|| ApiError::unauthorized("Not authenticated")),
            AuthMode::Local => {
                if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
                    return state.tokens.user_of_authorization(value).map(Caller);
                }
                if let Some(session) = token::session_cookie(&parts.headers) {
                    return match state.store.session_user(&session).await? {
                        Some(id) => Ok(Caller(id)),
                        None => Err(ApiError::unauthorized("Session expired or logged out")),
                    };
                }
                Err(ApiError::unauthorized("Not authenticated"))
            }
        }
    }
}

/// A request body read under the `--max-body` limit (413 beyond it).
pub struct Body {
    pub form: bool,
    pub bytes: Bytes,
}

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|r| ApiError::new(r.status(), r.body_text()))?;
        Ok(Body { form, bytes })
    }
}

impl Body {
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        if self.bytes.is_empty() {
            return Err(ApiError::invalid("request body: field required"));
        }
        serde_json::from_slice(&self.bytes)
            .map_err(|e| ApiError::invalid(format!("request body: {e}")))
    }
}

/// `application/x-www-form-urlencoded` pairs, decoded.
pub fn form_pairs(text: &str) -> Vec<(String, String)> {
    fn decode(part: &str) -> String {
        let bytes = part.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    let hex = |b: u8| (b as char).to_digit(16);
                    match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                        (Some(hi), Some(lo)) => {
                            out.push((hi * 16 + lo) as u8);
                            i += 2;
                        }
                        _ => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn task_id(text: &str) -> Result<i64, ApiError> {
    text.parse()
        .map_err(|_| ApiError::invalid(format!("task id: `{text}` is not an integer")))
}

// ---- auth ----------------------------------------------------------------

#[derive(Deserialize)]
struct RegisterInput {
    email: Option<String>,
    password: Option<String>,
    full_name: Option<String>,
}

async fn register(State(s): State<AppState>, body: Body) -> Result<Response, ApiError> {
    let input: RegisterInput = body.json()?;
    let email = input
        .email
        .filter(|e| e.contains('@') && e.len() <= 254)
        .ok_or_else(|| ApiError::invalid("email: a valid email address is required"))?;
    let password = input
        .password
        .filter(|p| !p.is_empty())
        .ok_or_else(|| ApiError::invalid("password: field required"))?;
    // Checked before hashing so a re-seed of existing users stays cheap.
    if s.store.credentials(&email).await?.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "Email already registered",
        ));
    }
    let hash = token::hash_password(password, s.hash_cost).await?;
    match s
        .store
        .create_user(&email, &hash, input.full_name.as_deref())
        .await?
    {
        Some(user) => Ok((StatusCode::CREATED, Json(user)).into_response()),
        None => Err(ApiError::new(
            StatusCode::CONFLICT,
            "Email already registered",
        )),
    }
}

#[derive(Serialize)]
struct TokenPair {
    access_token: String,
    refresh_token: String,
    token_type: &'static str,
    expires_in: u64,
}

async fn issue(s: &Inner, user_id: i64) -> Result<TokenPair, ApiError> {
    let refresh = s.tokens.refresh(user_id);
    s.store
        .save_refresh(&refresh.jti, user_id, refresh.expires_at)
        .await?;
    Ok(TokenPair {
        access_token: s.tokens.access(user_id),
        refresh_token: refresh.token,
        token_type: "bearer",
        expires_in: s.tokens.access_ttl.as_secs().max(1),
    })
}

#[derive(Deserialize)]
struct LoginInput {
    email: Option<String>,
    username: Option<String>,
    password: Option<String>,
}

async fn login(State(s): State<AppState>, body: Body) -> Result<Response, ApiError> {
    let input: LoginInput = if body.form {
        let mut input = LoginInput {
            email: None,
            username: None,
            password: None,
        };
        for (k, v) in form_pairs(&String::from_utf8_lossy(&body.bytes)) {
            match k.as_str() {
                "email" => input.email = Some(v),
                "username" => input.username = Some(v),
                "password" => input.password = Some(v),
                _ => {}
            }
        }
        input
    } else {
        body.json()?
    };
    let email = input
        .email
        .or(input.username)
        .ok_or_else(|| ApiError::invalid("email: field required"))?;
    let password = input
        .password
        .ok_or_else(|| ApiError::invalid("password: field required"))?;
    let bad = || ApiError::unauthorized("Incorrect email or password");
    let (user, hash) = s.store.credentials(&email).await?.ok_or_else(bad)?;
    if !token::verify_password(password, hash).await? {
        return Err(bad());
    }
    let pair = issue(&s, user.id).await?;
    let mut response = Json(pair).into_response();
    if body.form {
        let session = token::random_token();
        let expires = crate::model::Micros::now().after(s.tokens.refresh_ttl);
        s.store.save_session(&session, user.id, expires).await?;
        let cookie = format!(
            "session={session}; HttpOnly; Path=/; SameSite=Lax; Max-Age={}",
            s.tokens.refresh_ttl.as_secs()
        );
        response.headers_mut().insert(
            header::SET_COOKIE,
            HeaderValue::from_str(&cookie).expect("hex cookie is a valid header"),
        );
    }
    Ok(response)
}

#[derive(Deserialize)]
struct RefreshInput {
    refresh_token: Option<String>,
}

async fn refresh(State(s): State<AppState>, body: Body) -> Result<Response, ApiError> {
    let input: RefreshInput = body.json()?;
    let token = input
        .refresh_token
        .ok_or_else(|| ApiError::invalid("refresh_token: field required"))?;
    let bad = || ApiError::unauthorized("Invalid or revoked refresh token");
    let (user_id, jti) = s.tokens.verify_refresh(&token).ok_or_else(bad)?;
    match s.store.take_refresh(&jti).await? {
        Some(owner) if owner == user_id => Ok(Json(issue(&s, user_id).await?).into_response()),
        _ => Err(bad()),
    }
}

async fn logout(State(s): State<AppState>, Caller(id): Caller) -> Result<Response, ApiError> {
    s.store.revoke_user(id).await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(
            header::SET_COOKIE,
            "session=; HttpOnly; Path=/; SameSite=Lax; Max-Age=0",
        )],
    )
        .into_response())
}

async fn me(State(s): State<AppState>, Caller(id): Caller) -> Result<Json<User>, ApiError> {
    s.store
        .user(id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::unauthorized("User no longer exists"))
}

// ---- tasks ---------------------------------------------------------------

/// `?status=&limit=&offset=` of the task list.
pub fn page_of(query: Option<&str>) -> Result<Page, ApiError> {
    let mut page = Page {
        status: None,
        limit: DEFAULT_LIMIT,
        offset: 0,
    };
    for (k, v) in form_pairs(query.unwrap_or("")) {
        match k.as_str() {
            "status" if !v.is_empty() => {
                page.status = Some(Status::parse(&v).ok_or_else(|| {
                    ApiError::invalid(format!(
                        "status: `{v}` is not one of pending, in_progress, completed"
                    ))
                })?)
            }
            "limit" => {
                let n: usize = v.parse().map_err(|_| {
                    ApiError::invalid(format!("limit: `{v}` is not a non-negative integer"))
                })?;
                page.limit = n.min(MAX_LIMIT);
            }
            "offset" => {
                page.offset = v.parse().map_err(|_| {
                    ApiError::invalid(format!("offset: `{v}` is not a non-negative integer"))
                })?
            }
            _ => {}
        }
    }
    Ok(page)
}

async fn create_task(
    State(s): State<AppState>,
    Caller(user): Caller,
    body: Body,
) -> Result<Response, ApiError> {
    let fields = body
        .json::<TaskInput>()?
        .validate()
        .map_err(ApiError::invalid)?;
    let task = s.store.create_task(user, fields).await?;
    Ok((StatusCode::CREATED, Json(task)).into_response())
}

async fn list_tasks(
    State(s): State<AppState>,
    Caller(user): Caller,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let page = page_of(query.as_deref())?;
    Ok(Json(s.store.tasks(user, page).await?).into_response())
}

async fn get_task(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = task_id(&id)?;
    match s.store.task(user, id).await? {
        Some(task) => Ok(Json(task).into_response()),
        None => Err(ApiError::not_found("Task")),
    }
}

async fn update_task(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
    body: Body,
) -> Result<Response, ApiError> {
    let id = task_id(&id)?;
    let fields = body
        .json::<TaskInput>()?
        .validate()
        .map_err(ApiError::invalid)?;
    match s.store.update_task(user, id, fields).await? {
        Some(task) => {
            s.changed(id, Change::Updated);
            Ok(Json(task).into_response())
        }
        None => Err(ApiError::not_found("Task")),
    }
}

async fn delete_task(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = task_id(&id)?;
    if s.store.delete_task(user, id).await? {
        s.changed(id, Change::Deleted);
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found("Task"))
    }
}

async fn set_status(
    s: &Inner,
    user: i64,
    id: &str,
    status: Status,
    change: Change,
) -> Result<Response, ApiError> {
    let id = task_id(id)?;
    match s.store.set_status(user, id, status).await? {
        Some(task) => {
            s.changed(id, change);
            Ok(Json(task).into_response())
        }
        None => Err(ApiError::not_found("Task")),
    }
}

async fn complete(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    set_status(&s, user, &id, Status::Completed, Change::Completed).await
}

async fn incomplete(
    State(s): State<AppState>,
    Caller(user): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    set_status(&s, user, &id, Status::Pending, Change::Incomplete).await
}

// ---- stats ---------------------------------------------------------------

#[derive(Deserialize)]
struct StatusOnly {
    status: Status,
}

async fn stats(State(s): State<AppState>, Caller(user): Caller) -> Result<Json<Stats>, ApiError> {
    match &s.stats {
        StatsSource::Store => Ok(Json(s.store.stats(user).await?)),
        StatsSource::TaskService { client, base } => {
            Ok(Json(stats_from_task_service(client, base, user).await?))
        }
    }
}

/// Pages through the caller's tasks on the task service, as seed 000's stats
/// service does: the extra hop is the point of the micro layout.
async fn stats_from_task_service(
    client: &reqwest::Client,
    base: &str,
    user: i64,
) -> Result<Stats, ApiError> {
    let mut stats = Stats::default();
    let mut offset = 0;
    loop {
        let url = format!("{base}/api/v1/tasks/?limit={MAX_LIMIT}&offset={offset}");
        let response = client
            .get(&url)
            .header(USER_HEADER, user.to_string())
            .send()
            .await
            .map_err(|e| upstream("task service", &e))?;
        if !response.status().is_success() {
            return Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                format!("task service answered {}", response.status()),
            ));
        }
        let page: Vec<StatusOnly> = response
            .json()
            .await
            .map_err(|e| upstream("task service", &e))?;
        for task in &page {
            stats.add(task.status, 1);
        }
        if page.len() < MAX_LIMIT {
            return Ok(stats.finish());
        }
        offset += page.len();
    }
}

pub fn upstream(service: &str, err: &reqwest::Error) -> ApiError {
    eprintln!("tasktracker: {service} call failed: {err}");
    ApiError::new(StatusCode::BAD_GATEWAY, format!("{service} unavailable"))
}

// ---- routes --------------------------------------------------------------

pub async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "Not Found")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
}

pub fn user_routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/register", post(register))
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/refresh", post(refresh))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/auth/me", get(me))
}

pub fn task_routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tasks", get(list_tasks).post(create_task))
        .route("/api/v1/tasks/", get(list_tasks).post(create_task))
        .route(
            "/api/v1/tasks/{id}",
            get(get_task).put(update_task).delete(delete_task),
        )
        .route("/api/v1/tasks/{id}/complete", patch(complete))
        .route("/api/v1/tasks/{id}/incomplete", patch(incomplete))
        .route(WS_ROUTE, get(crate::ws::handler))
}

pub const WS_ROUTE: &str = "/api/v1/ws";

/// Every public route template but `/health`, `/metrics` and [`WS_ROUTE`]:
/// the micro gateway routes these (to forward them) so that its metrics
/// label requests by template as the monolith's do.
pub const FORWARDED_ROUTES: &[&str] = &[
    "/api/v1/auth/register",
    "/api/v1/auth/login",
    "/api/v1/auth/refresh",
    "/api/v1/auth/logout",
    "/api/v1/auth/me",
    "/api/v1/tasks",
    "/api/v1/tasks/",
    "/api/v1/tasks/{id}",
    "/api/v1/tasks/{id}/complete",
    "/api/v1/tasks/{id}/incomplete",
    "/api/v1/stats",
    "/api/v1/stats/",
];

pub fn stats_routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/stats", get(stats))
        .route("/api/v1/stats/", get(stats))
}

/// Health, JSON 404/405, for every router this process serves.
pub fn finish(router: Router) -> Router {
    router
        .route("/health", get(health))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

/// The user of a session cookie (micro user service, for the gateway).
pub async fn session_lookup(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let session = token::session_cookie(&headers)
        .ok_or_else(|| ApiError::unauthorized("Not authenticated"))?;
    match s.store.session_user(&session).await? {
        Some(id) => Ok(Json(serde_json::json!({ "user_id": id }))),
        None => Err(ApiError::unauthorized("Session expired or logged out")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_pairs_decode() {
        assert_eq!(
            form_pairs("email=a%40b.c&password=p+w%2B&x"),
            vec![
                ("email".into(), "a@b.c".into()),
                ("password".into(), "p w+".into()),
                ("x".into(), "".into())
            ]
        );
        assert_eq!(
            form_pairs("a=%zz&b=%4"),
            vec![("a".into(), "%zz".into()), ("b".into(), "%4".into())]
        );
    }

    #[test]
    fn pages_default_clamp_and_reject() {
        let p = page_of(None).unwrap();
        assert_eq!((p.limit, p.offset, p.status), (100, 0, None));
        let p = page_of(Some("limit=5000&offset=3&status=completed")).unwrap();
        assert_eq!(
            (p.limit, p.offset, p.status),
            (1000, 3, Some(Status::Completed))
        );
        assert!(page_of(Some("limit=-1")).is_err());
        assert!(page_of(Some("status=done")).is_err());
    }
}
