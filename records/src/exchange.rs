//! One request/response exchange of a scenario, independent of the HTTP
//! client: render a [`Request`] for a user into concrete parts, then judge the
//! response (status, checks, latency limit) and apply its captures to the
//! user. `seed` and `hammer` both use this, so a scenario means the same in
//! both tools.

use std::time::Duration;

use rand::Rng;

use serde_json::Value;

use crate::event::ErrorKind;
use crate::scenario::{Body, BodyMatch, Request, CREDENTIALS};
use crate::template::{Context, FlowValues, RenderError};
use crate::user::{User, Var};

/// A request ready to send.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rendered {
    pub method: String,
    /// Path with the query string, e.g. `/api/v1/tasks/?status=pending`.
    pub path_and_query: String,
    /// Headers, including `Authorization`, `Cookie` and `Content-Type` when due.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// List values the templates picked, as (var, value): what `remove` consumes.
    pub picked: Vec<(String, Value)>,
    /// Each check's `equals`, rendered (parallel to the request's checks).
    pub expected: Vec<Option<Value>>,
}

/// Renders `request` for the user in `ctx`.
pub fn render<R: Rng>(
    request: &Request,
    ctx: &mut Context<'_, R>,
) -> Result<Rendered, RenderError> {
    ctx.picked.clear();
    let mut path_and_query = request.path.render(ctx)?;
    for (i, (key, value)) in request.query.iter().enumerate() {
        path_and_query.push(if i == 0 && !path_and_query.contains('?') {
            '?'
        } else {
            '&'
        });
        path_and_query.extend(form_urlencoded::byte_serialize(key.as_bytes()));
        path_and_query.push('=');
        path_and_query.extend(form_urlencoded::byte_serialize(
            value.render(ctx)?.as_bytes(),
        ));
    }
    let mut headers = Vec::with_capacity(request.headers.len() + 3);
    for (name, value) in &request.headers {
        headers.push((name.clone(), value.render(ctx)?));
    }
    let has = |headers: &[(String, String)], name: &str| {
        headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
    };
    if request.auth && !has(&headers, "authorization") {
        if let Some(token) = &ctx.user.token {
            headers.push(("Authorization".into(), format!("Bearer {token}")));
        }
    }
    if !ctx.user.cookies.is_empty() && !has(&headers, "cookie") {
        headers.push(("Cookie".into(), cookie_header(ctx.user)));
    }
    let body = match &request.body {
        Body::None => Vec::new(),
        Body::Json(t) => serde_json::to_vec(&t.render(ctx)?).expect("JSON values serialize"),
        Body::Form(fields) => {
            let mut form = form_urlencoded::Serializer::new(String::new());
            for (key, value) in fields {
                form.append_pair(key, &value.render(ctx)?);
            }
            form.finish().into_bytes()
        }
        Body::Raw(t) => t.render(ctx)?.into_bytes(),
    };
    if let Some(content_type) = &request.content_type {
        if !has(&headers, "content-type") {
            headers.push(("Content-Type".into(), content_type.clone()));
        }
    }
    let expected = request
        .checks
        .iter()
        .map(|c| c.equals.as_ref().map(|e| e.render(ctx)).transpose())
        .collect::<Result<_, _>>()?;
    Ok(Rendered {
        method: request.method.clone(),
        path_and_query,
        headers,
        body,
        picked: std::mem::take(&mut ctx.picked),
        expected,
    })
}

/// `request` rendered once for good, when no template of it has a
/// placeholder: what [`render`] gives every user for whom
/// [`adds_credentials`] is false, so a hot path can skip rendering.
pub fn render_literal(request: &Request) -> Option<Rendered> {
    if !request.templates().iter().all(|t| t.is_literal()) {
        return None;
    }
    let user = User::default();
    let mut rng = <rand::rngs::SmallRng as rand::SeedableRng>::seed_from_u64(0);
    render(request, &mut Context::new(&user, &mut rng)).ok()
}

/// Whether [`render`] adds `user`'s credentials to `request` (the bearer
/// token, the cookie jar): then a [`render_literal`] rendering is not theirs.
pub fn adds_credentials(request: &Request, user: &User) -> bool {
    (request.auth && user.token.is_some()) || !user.cookies.is_empty()
}

/// Brings a rendered request's credentials up to date with `user` (a new
/// token, a new session cookie), keeping everything else, the values it
/// picked included, so a retry after re-authentication is the same request.
/// False when the request writes those headers itself: render it again.
pub fn reauthorize(request: &Request, rendered: &mut Rendered, user: &User) -> bool {
    let own = |name: &str| {
        request
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    };
    if own("authorization") || own("cookie") {
        return false;
    }
    rendered.headers.retain(|(n, _)| {
        !n.eq_ignore_ascii_case("authorization") && !n.eq_ignore_ascii_case("cookie")
    });
    if request.auth {
        if let Some(token) = &user.token {
            rendered
                .headers
                .push(("Authorization".into(), format!("Bearer {token}")));
        }
    }
    if !user.cookies.is_empty() {
        rendered
            .headers
            .push(("Cookie".into(), cookie_header(user)));
    }
    true
}

/// The user's cookie jar as a `Cookie` header value.
fn cookie_header(user: &User) -> String {
    user.cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// What the response said about the request.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Verdict {
    /// `None` when the request succeeded.
    pub error: Option<(ErrorKind, String)>,
    /// Whether the status is one of the request's "already exists" statuses.
    pub exists: bool,
}

impl Verdict {
    pub fn ok(&self) -> bool {
        self.error.is_none()
    }
}

/// Judges a response and, when it succeeded, applies captures, appends and
/// removals to `user`. `now_secs` turns a captured `expires_in` into
/// `expires_at`. Inside a flow (`flow` given) a capture that is not a
/// credential sets a value of the iteration (`{flow:NAME}`) rather than a
/// var of the user, which the user's other VUs share.
#[allow(clippy::too_many_arguments)]
pub fn judge(
    request: &Request,
    rendered: &Rendered,
    status: u16,
    body: &[u8],
    latency: Duration,
    user: &mut User,
    now_secs: i64,
    mut flow: Option<&mut FlowValues>,
) -> Verdict {
    let exists = request.existed(status, body);
    if request.exists.contains(&status) && !exists {
        let wanted = match &request.exists_when {
            Some(BodyMatch::Contains(text)) => format!("`{text}`"),
            Some(BodyMatch::Pointer {
                pointer,
                equals: Some(v),
            }) => format!("{pointer} = {v}"),
            Some(BodyMatch::Pointer {
                pointer,
                equals: None,
            }) => pointer.clone(),
            None => String::new(),
        };
        return Verdict {
            error: Some((
                ErrorKind::Status,
                format!("status {status}, not \"already exists\" (no {wanted})"),
            )),
            exists: false,
        };
    }
    if !exists && !request.status_ok(status) {
        let expected = if request.expect.is_empty() {
            "2xx".to_string()
        } else {
            request
                .expect
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join("|")
        };
        return Verdict {
            error: Some((
                ErrorKind::Status,
                format!("status {status}, expected {expected}"),
            )),
            exists,
        };
    }
    if let Some(limit) = request.max_latency {
        if latency > limit {
            return Verdict {
                error: Some((
                    ErrorKind::Check,
                    format!(
                        "took {}, limit {}",
                        crate::units::format_ns(latency.as_nanos() as f64),
                        crate::units::format_ns(limit.as_nanos() as f64)
                    ),
                )),
                exists,
            };
        }
    }
    let wants_json = !exists
        && (!request.checks.is_empty()
            || !request.capture.is_empty()
            || !request.append.is_empty());
    if wants_json {
        let json: serde_json::Value = match serde_json::from_slice(body) {
            Ok(json) => json,
            Err(e) => {
                return Verdict {
                    error: Some((ErrorKind::Check, format!("response is not JSON: {e}"))),
                    exists,
                }
            }
        };
        let expected = request.checks.iter().zip(&rendered.expected);
        for (check, want) in expected.filter(|(c, _)| c.cookie.is_none()) {
            let found = json.pointer(&check.pointer);
            let failure = match (want, found) {
                (Some(want), Some(got)) if got != want => {
                    Some(format!("{} is {got}, expected {want}", check.pointer))
                }
                (Some(_), None) => Some(format!("{} is missing", check.pointer)),
                (None, None) if check.exists => Some(format!("{} is missing", check.pointer)),
                (None, Some(_)) if !check.exists => Some(format!("{} is present", check.pointer)),
                _ => None,
            };
            if let Some(message) = failure {
                return Verdict {
                    error: Some((ErrorKind::Check, message)),
                    exists,
                };
            }
        }
        for (name, pointer) in &request.capture {
            match json.pointer(pointer) {
                Some(value) => match flow.as_deref_mut() {
                    Some(values) if !CREDENTIALS.contains(&name.as_str()) => {
                        values.insert(name.clone(), value.clone());
                    }
                    _ => user.capture(name, value, now_secs),
                },
                None => {
                    return Verdict {
                        error: Some((
                            ErrorKind::Check,
                            format!("capture {name}: {pointer} is missing"),
                        )),
                        exists,
                    }
                }
            }
        }
        for (name, pointer) in &request.append {
            match json.pointer(pointer) {
                Some(value) => user.append(name, value.clone()),
                None => {
                    return Verdict {
                        error: Some((
                            ErrorKind::Check,
                            format!("append {name}: {pointer} is missing"),
                        )),
                        exists,
                    }
                }
            }
        }
    }
    for check in request.checks.iter().filter(|c| c.cookie.is_some()) {
        let name = check.cookie.as_deref().unwrap_or_default();
        let held = user.cookies.contains_key(name);
        if held != check.exists {
            let message = if held {
                format!("cookie `{name}` is set")
            } else {
                format!("no cookie `{name}`")
            };
            return Verdict {
                error: Some((ErrorKind::Check, message)),
                exists,
            };
        }
    }
    for name in &request.remove {
        for (var, value) in rendered.picked.iter().filter(|(var, _)| var == name) {
            user.remove(var, value);
        }
    }
    Verdict {
        error: None,
        exists,
    }
}

/// A JSON value as a template value: strings bare, everything else as JSON text.
pub fn value_text(value: &Value) -> String {
    let mut text = String::new();
    crate::template::push_text(&mut text, value);
    text
}

/// A number, or a string holding one, as seconds or a Unix time.
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

impl User {
    /// Stores a captured value. `token`, `refresh_token`, `expires_at` and
    /// `expires_in` (seconds from now) set the user's own fields; any other
    /// name sets a var, keeping the value's JSON type.
    pub fn capture(&mut self, name: &str, value: &Value, now_secs: i64) {
        match name {
            "token" => self.token = Some(value_text(value)),
            "refresh_token" => self.refresh_token = Some(value_text(value)),
            "expires_at" => self.expires_at = number(value).map(|s| s as i64),
            "expires_in" => self.expires_at = number(value).map(|s| now_secs + s as i64),
            _ => {
                let var = match value {
                    Value::Array(items) => Var::List(items.clone()),
                    other => Var::One(other.clone()),
                };
                self.vars.insert(name.to_string(), var);
            }
        }
    }

    /// Appends to a list var (creating it; a single value becomes a list).
    pub fn append(&mut self, name: &str, value: Value) {
        match self
            .vars
            .entry(name.to_string())
            .or_insert_with(|| Var::List(Vec::new()))
        {
            Var::List(list) => {
                list.push(value);
                // Oldest out: a run that keeps creating holds bounded
                // memory, and a list given longer than the cap never grows.
                if self.list_max > 0 && list.len() > self.list_max {
                    list.remove(0);
                }
            }
            one @ Var::One(_) => {
                let Var::One(first) = std::mem::replace(one, Var::List(Vec::new())) else {
                    unreachable!()
                };
                *one = Var::List(vec![first, value]);
            }
        }
    }

    /// Removes one occurrence of `value` from a list var. The others keep
    /// their order, oldest first, as [`append`](Self::append)'s cap and a
    /// pick of the newest value rely on.
    pub fn remove(&mut self, name: &str, value: &Value) {
        if let Some(Var::List(list)) = self.vars.get_mut(name) {
            if let Some(at) = list.iter().position(|v| v == value) {
                list.remove(at);
            }
        }
    }

    /// Keeps the cookie a `Set-Cookie` header value sets (its `name=value` part).
    pub fn set_cookie(&mut self, header: &str) {
        let pair = header.split(';').next().unwrap_or("");
        if let Some((name, value)) = pair.split_once('=') {
            let (name, value) = (name.trim(), value.trim());
            if name.is_empty() {
                return;
            }
            if value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;
    use rand::SeedableRng;

    #[test]
    fn a_literal_request_renders_once_as_render_renders_it() {
        let scenario = Scenario::parse(
            r#"
[hammer]
[[hammer.requests]]
path = "/health"
headers = { X-Probe = "1" }
[[hammer.requests]]
path = "/tasks/{var:ids}"
"#,
            "t.toml",
        )
        .unwrap();
        let requests = &scenario.hammer.as_ref().unwrap().requests;
        let fixed = render_literal(&requests[0]).expect("no placeholder");
        let mut user = User::default();
        let mut rng = rand::rngs::SmallRng::seed_from_u64(1);
        assert_eq!(
            fixed,
            render(&requests[0], &mut Context::new(&user, &mut rng)).unwrap()
        );
        assert!(render_literal(&requests[1]).is_none());
        assert!(!adds_credentials(&requests[0], &user));
        user.token = Some("t".into());
        assert!(adds_credentials(&requests[0], &user));
        user.token = None;
        user.cookies.insert("session".into(), "s".into());
        assert!(adds_credentials(&requests[0], &user));
    }

    #[test]
    fn a_capped_list_drops_its_oldest_values() {
        let mut u = User {
            list_max: 3,
            ..User::default()
        };
        for id in 0..10 {
            u.append("ids", id.into());
        }
        assert_eq!(u.vars["ids"], Var::List(vec![7.into(), 8.into(), 9.into()]));
        // a removal keeps the order, so the oldest is still the one dropped
        u.remove("ids", &8.into());
        u.append("ids", 10.into());
        u.append("ids", 11.into());
        assert_eq!(
            u.vars["ids"],
            Var::List(vec![9.into(), 10.into(), 11.into()])
        );
        // 0 is no cap; a list given longer than the cap does not grow
        u.list_max = 0;
        u.append("ids", 12.into());
        assert_eq!(
            u.vars["ids"],
            Var::List(vec![9.into(), 10.into(), 11.into(), 12.into()])
        );
        u.list_max = 2;
        u.append("ids", 13.into());
        assert_eq!(
            u.vars["ids"],
            Var::List(vec![10.into(), 11.into(), 12.into(), 13.into()])
        );
        // the cap is the run's, not the record's
        let line = serde_json::to_string(&u).unwrap();
        assert!(!line.contains("list_max"), "{line}");
    }

    const SCENARIO: &str = r#"
[hammer]
[[hammer.requests]]
method = "POST"
path = "/api/v1/tasks/{var:task_ids}"
query = { status = "in progress", limit = "{n}" }
json = { title = "t {user}" }
expect = [200]
capture = { token = "/access_token", expires_in = "/expires_in", owner = "/owner" }
append = { task_ids = "/id" }
remove = ["task_ids"]
checks = [{ pointer = "/ok", equals = true }]

[[hammer.requests]]
path = "/login"
form = { email = "{user}", password = "{password}" }
auth = false
"#;

    fn user() -> User {
        let mut u = User {
            user: "a@b.c".into(),
            password: Some("p w".into()),
            token: Some("T".into()),
            ..User::default()
        };
        u.vars
            .insert("task_ids".into(), Var::List(vec!["7".into()]));
        u.cookies.insert("session".into(), "S".into());
        u
    }

    #[test]
    fn renders_path_query_headers_and_bodies() {
        let s = Scenario::parse(SCENARIO, "t.toml").unwrap();
        let reqs = s.hammer.unwrap().requests;
        let u = user();
        let mut rng = rand::rngs::SmallRng::seed_from_u64(3);
        let mut ctx = Context::new(&u, &mut rng);
        ctx.n = 4;
        let r = render(&reqs[0], &mut ctx).unwrap();
        assert_eq!(r.method, "POST");
        assert_eq!(
            r.path_and_query,
            "/api/v1/tasks/7?limit=4&status=in+progress"
        );
        assert!(r
            .headers
            .contains(&("Authorization".into(), "Bearer T".into())));
        assert!(r.headers.contains(&("Cookie".into(), "session=S".into())));
        assert!(r
            .headers
            .contains(&("Content-Type".into(), "application/json".into())));
        assert_eq!(r.body, br#"{"title":"t a@b.c"}"#);
        assert_eq!(r.picked, vec![("task_ids".into(), Value::from("7"))]);

        let login = render(&reqs[1], &mut ctx).unwrap();
        assert!(!login.headers.iter().any(|(n, _)| n == "Authorization"));
        assert_eq!(login.body, b"email=a%40b.c&password=p+w");
    }

    #[test]
    fn judges_status_checks_and_applies_captures() {
        let s = Scenario::parse(SCENARIO, "t.toml").unwrap();
        let req = &s.hammer.unwrap().requests[0];
        let mut u = user();
        let mut rng = rand::rngs::SmallRng::seed_from_u64(3);
        let r = render(req, &mut Context::new(&u.clone(), &mut rng)).unwrap();
        let ms = Duration::from_millis(1);

        let v = judge(req, &r, 500, b"", ms, &mut u, 100, None);
        assert_eq!(v.error.unwrap().0, ErrorKind::Status);

        let v = judge(req, &r, 200, br#"{"ok":false}"#, ms, &mut u, 100, None);
        assert_eq!(v.error.unwrap().0, ErrorKind::Check);

        let body = br#"{"ok":true,"access_token":"N","expires_in":60,"owner":5,"id":8}"#;
        let v = judge(req, &r, 200, body, ms, &mut u, 100, None);
        assert!(v.ok(), "{v:?}");
        assert_eq!(u.token.as_deref(), Some("N"));
        assert_eq!(u.expires_at, Some(160));
        // Captures keep their JSON type.
        assert_eq!(u.vars["owner"], Var::One(5.into()));
        // 8 appended, and 7 (picked by the template) removed.
        assert_eq!(u.vars["task_ids"], Var::List(vec![8.into()]));

        // In a flow, a capture sets a value of the iteration, not a var.
        let mut values = FlowValues::new();
        let body = br#"{"ok":true,"access_token":"M","expires_in":60,"owner":"x","id":9}"#;
        let v = judge(req, &r, 200, body, ms, &mut u, 100, Some(&mut values));
        assert!(v.ok(), "{v:?}");
        assert_eq!(values["owner"], Value::from("x"));
        assert_eq!(u.vars["owner"], Var::One(5.into()));
        assert_eq!(u.token.as_deref(), Some("M"));
    }

    #[test]
    fn set_cookie_keeps_name_and_value() {
        let mut u = User::default();
        u.set_cookie("session=abc; HttpOnly; Path=/");
        assert_eq!(u.cookies["session"], "abc");
        u.set_cookie("session=; Max-Age=0");
        assert!(u.cookies.is_empty());
    }
}
