//! Scenario files (TOML): the target, the `[seed]` steps that make users, and
//! the `[hammer]` request mix. The format is documented in the README.
//!
//! Every table refuses unknown keys, so a typo'd field is an error naming its
//! file and line rather than a setting silently ignored. Templates are parsed
//! here, once, so a bad placeholder is caught before any request is sent.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::template::{JsonTemplate, Template};
use crate::units::parse_duration;
use crate::workload::{self, Stage, Think};

/// A scenario file's problem, located by file and line.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct ScenarioError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: Option<String>,
    description: Option<String>,
    base_url: Option<String>,
    seed: Option<RawSeed>,
    hammer: Option<RawHammer>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeed {
    users: Option<u64>,
    first: Option<u64>,
    user: Option<Spanned<String>>,
    password: Option<Spanned<String>>,
    concurrency: Option<usize>,
    retries: Option<u32>,
    register: Option<RawRequest>,
    login: Option<RawRequest>,
    #[serde(default)]
    setup: Vec<RawRequest>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHammer {
    think: Option<Spanned<String>>,
    vus: Option<Spanned<u64>>,
    duration: Option<Spanned<String>>,
    stages: Option<Spanned<String>>,
    rate: Option<Spanned<workload::RateValue>>,
    rate_stages: Option<Spanned<String>>,
    users: Option<u64>,
    spawn_rate: Option<Spanned<f64>>,
    timeout: Option<Spanned<String>>,
    auth: Option<RawAuth>,
    #[serde(default)]
    requests: Vec<RawRequest>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAuth {
    refresh_before: Option<Spanned<String>>,
    refresh: Option<RawRequest>,
    login: Option<RawRequest>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequest {
    name: Option<String>,
    method: Option<String>,
    path: Spanned<String>,
    #[serde(default)]
    query: BTreeMap<String, String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    json: Option<toml::Value>,
    form: Option<BTreeMap<String, String>>,
    body: Option<String>,
    #[serde(default)]
    expect: Vec<u16>,
    #[serde(default)]
    exists: Vec<u16>,
    #[serde(default)]
    capture: BTreeMap<String, String>,
    #[serde(default)]
    append: BTreeMap<String, String>,
    #[serde(default)]
    remove: Vec<String>,
    #[serde(default)]
    checks: Vec<RawCheck>,
    max_latency: Option<String>,
    weight: Option<u32>,
    repeat: Option<u32>,
    auth: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    pointer: String,
    equals: Option<toml::Value>,
    #[serde(default = "yes")]
    exists: bool,
}

fn yes() -> bool {
    true
}

/// A loaded, validated scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub file: String,
    pub name: String,
    pub description: Option<String>,
    pub base_url: Option<String>,
    pub seed: Option<Seed>,
    pub hammer: Option<Hammer>,
}

/// The `[seed]` section: how to make users.
#[derive(Clone, Debug)]
pub struct Seed {
    pub users: u64,
    /// Number of the first user (`{n}` runs from `first` to `first + users - 1`).
    pub first: u64,
    pub user: Template,
    pub password: Template,
    pub concurrency: Option<usize>,
    pub retries: Option<u32>,
    pub register: Option<Request>,
    pub login: Option<Request>,
    pub setup: Vec<Request>,
}

/// The `[hammer]` section: the request mix and the workload defaults.
#[derive(Clone, Debug, Default)]
pub struct Hammer {
    pub think: Option<Think>,
    pub vus: Option<u64>,
    pub duration: Option<Duration>,
    pub stages: Option<Vec<Stage>>,
    pub rate: Option<f64>,
    pub rate_stages: Option<Vec<Stage>>,
    pub users: Option<u64>,
    pub spawn_rate: Option<f64>,
    pub timeout: Option<Duration>,
    pub auth: Auth,
    pub requests: Vec<Request>,
}

/// How hammer keeps a user's token valid.
#[derive(Clone, Debug, Default)]
pub struct Auth {
    /// Refresh this long before the token expires.
    pub refresh_before: Option<Duration>,
    pub refresh: Option<Request>,
    /// Re-login when refreshing fails; defaults to the seed's login request.
    pub login: Option<Request>,
}

/// A request body.
#[derive(Clone, Debug)]
pub enum Body {
    None,
    Json(JsonTemplate),
    Form(Vec<(String, Template)>),
    Raw(Template),
}

/// A response check: the JSON value at `pointer` exists (or not), or equals a value.
#[derive(Clone, Debug)]
pub struct Check {
    pub pointer: String,
    pub equals: Option<serde_json::Value>,
    pub exists: bool,
}

/// One request of a seed step or of the hammer mix.
#[derive(Clone, Debug)]
pub struct Request {
    /// Endpoint template used to group events (`GET /api/v1/tasks/{id}`).
    pub name: String,
    pub method: String,
    pub path: Template,
    pub query: Vec<(String, Template)>,
    pub headers: Vec<(String, Template)>,
    pub body: Body,
    /// Statuses that count as success; empty means any 2xx.
    pub expect: Vec<u16>,
    /// Statuses that mean "already exists" (seed: register again is fine).
    pub exists: Vec<u16>,
    /// var name → JSON pointer: set the var from the response.
    pub capture: Vec<(String, String)>,
    /// list var name → JSON pointer: append the response value to the list.
    pub append: Vec<(String, String)>,
    /// list vars whose picked value this request consumes (e.g. after a delete).
    pub remove: Vec<String>,
    pub checks: Vec<Check>,
    pub max_latency: Option<Duration>,
    pub weight: u32,
    pub repeat: u32,
    /// Send the user's bearer token (when it has one).
    pub auth: bool,
    /// Line of the request's `path` in the scenario file, for error messages.
    pub line: usize,
}

impl Request {
    /// Whether `status` counts as success for this request.
    pub fn status_ok(&self, status: u16) -> bool {
        if self.expect.is_empty() {
            (200..300).contains(&status)
        } else {
            self.expect.contains(&status)
        }
    }

    /// Var lists this request reads, and so needs non-empty to be sent.
    pub fn needed_vars(&self) -> Vec<&str> {
        let mut vars: Vec<&str> = self.path.vars().collect();
        for (_, t) in self.query.iter().chain(self.headers.iter()) {
            vars.extend(t.vars());
        }
        vars.sort_unstable();
        vars.dedup();
        vars
    }
}

impl Scenario {
    /// Reads and validates a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
            file: file.clone(),
            line: 0,
            message: format!("cannot read: {e}"),
        })?;
        Scenario::parse(&text, &file)
    }

    /// Parses scenario text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
        let located = Locator { text, file };
        let raw: RawScenario = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| located.line_of(s.start)).unwrap_or(0);
            located.error(line, e.message().trim().to_string())
        })?;
        let seed = raw.seed.map(|s| located.seed(s)).transpose()?;
        let hammer = raw.hammer.map(|h| located.hammer(h)).transpose()?;
        if let Some(url) = &raw.base_url {
            check_base_url(url).map_err(|m| located.error(located.line_of_key("base_url"), m))?;
        }
        Ok(Scenario {
            file: file.to_string(),
            name: raw.name.unwrap_or_else(|| {
                Path::new(file)
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default()
            }),
            description: raw.description,
            base_url: raw.base_url,
            seed,
            hammer,
        })
    }

    /// The target: `--target` if given, else the scenario's `base_url`.
    pub fn target(&self, flag: Option<&str>) -> Result<String, String> {
        let url = flag
            .map(str::to_string)
            .or_else(|| self.base_url.clone())
            .ok_or_else(|| {
                format!(
                    "{}: no base_url in the scenario and no --target given",
                    self.file
                )
            })?;
        check_base_url(&url)?;
        Ok(url.trim_end_matches('/').to_string())
    }
}

/// A target must be an http(s) URL.
pub fn check_base_url(url: &str) -> Result<(), String> {
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(())
    } else {
        Err(format!(
            "base_url `{url}` must start with http:// or https://"
        ))
    }
}

struct Locator<'a> {
    text: &'a str,
    file: &'a str,
}

impl Locator<'_> {
    fn line_of(&self, byte: usize) -> usize {
        self.text[..byte.min(self.text.len())].matches('\n').count() + 1
    }

    fn line_of_key(&self, key: &str) -> usize {
        self.text
            .lines()
            .position(|l| l.trim_start().starts_with(key))
            .map(|i| i + 1)
            .unwrap_or(0)
    }

    fn error(&self, line: usize, message: impl Into<String>) -> ScenarioError {
        ScenarioError {
            file: self.file.to_string(),
            line,
            message: message.into(),
        }
    }

    fn template(&self, spanned: &Spanned<String>, field: &str) -> Result<Template, ScenarioError> {
        Template::parse(spanned.get_ref())
            .map_err(|m| self.error(self.line_of(spanned.span().start), format!("{field}: {m}")))
    }

    fn duration(&self, spanned: &Spanned<String>, field: &str) -> Result<Duration, ScenarioError> {
        self.value::<_, str, _>(spanned, field, parse_duration)
    }

    /// Parses a value with the shared parser, its error located at the value.
    fn value<T, V: ?Sized, P>(
        &self,
        spanned: &Spanned<impl std::borrow::Borrow<V>>,
        field: &str,
        parse: P,
    ) -> Result<T, ScenarioError>
    where
        P: FnOnce(&V) -> Result<T, String>,
    {
        parse(spanned.get_ref().borrow())
            .map_err(|m| self.error(self.line_of(spanned.span().start), format!("{field}: {m}")))
    }

    fn seed(&self, raw: RawSeed) -> Result<Seed, ScenarioError> {
        let default_user = Spanned::new(0..0, "loadtest{n}@example.com".to_string());
        let default_password = Spanned::new(0..0, "LoadTest-{n}-pass".to_string());
        let seed = Seed {
            users: raw.users.unwrap_or(10),
            first: raw.first.unwrap_or(1),
            user: self.template(raw.user.as_ref().unwrap_or(&default_user), "seed.user")?,
            password: self.template(
                raw.password.as_ref().unwrap_or(&default_password),
                "seed.password",
            )?,
            concurrency: raw.concurrency,
            retries: raw.retries,
            register: raw
                .register
                .map(|r| self.request(r, "seed.register"))
                .transpose()?,
            login: raw
                .login
                .map(|r| self.request(r, "seed.login"))
                .transpose()?,
            setup: raw
                .setup
                .into_iter()
                .enumerate()
                .map(|(i, r)| self.request(r, &format!("seed.setup[{i}]")))
                .collect::<Result<_, _>>()?,
        };
        if seed.concurrency == Some(0) {
            return Err(self.error(
                self.line_of_key("concurrency"),
                "seed.concurrency must be at least 1",
            ));
        }
        Ok(seed)
    }

    fn hammer(&self, raw: RawHammer) -> Result<Hammer, ScenarioError> {
        let auth = match raw.auth {
            None => Auth::default(),
            Some(a) => Auth {
                refresh_before: a
                    .refresh_before
                    .as_ref()
                    .map(|d| self.duration(d, "hammer.auth.refresh_before"))
                    .transpose()?,
                refresh: a
                    .refresh
                    .map(|r| self.request(r, "hammer.auth.refresh"))
                    .transpose()?,
                login: a
                    .login
                    .map(|r| self.request(r, "hammer.auth.login"))
                    .transpose()?,
            },
        };
        let requests: Vec<Request> = raw
            .requests
            .into_iter()
            .enumerate()
            .map(|(i, r)| self.request(r, &format!("hammer.requests[{i}]")))
            .collect::<Result<_, _>>()?;
        if !requests.is_empty() && requests.iter().all(|r| r.weight == 0) {
            return Err(self.error(requests[0].line, "hammer.requests: every weight is 0"));
        }
        Ok(Hammer {
            think: raw
                .think
                .as_ref()
                .map(|t| self.value::<_, str, _>(t, "hammer.think", Think::parse))
                .transpose()?,
            vus: raw
                .vus
                .as_ref()
                .map(|v| {
                    self.value(v, "hammer.vus", |&n: &u64| {
                        (n > 0).then_some(n).ok_or("must be at least 1".to_string())
                    })
                })
                .transpose()?,
            duration: raw
                .duration
                .as_ref()
                .map(|d| self.value::<_, str, _>(d, "hammer.duration", workload::run_length))
                .transpose()?,
            stages: raw
                .stages
                .as_ref()
                .map(|s| self.value::<_, str, _>(s, "hammer.stages", workload::parse_stages))
                .transpose()?,
            rate: raw
                .rate
                .as_ref()
                .map(|r| self.value(r, "hammer.rate", workload::RateValue::per_second))
                .transpose()?,
            rate_stages: raw
                .rate_stages
                .as_ref()
                .map(|s| self.value::<_, str, _>(s, "hammer.rate_stages", workload::parse_stages))
                .transpose()?,
            users: raw.users,
            spawn_rate: raw
                .spawn_rate
                .as_ref()
                .map(|r| {
                    self.value(r, "hammer.spawn_rate", |&r: &f64| {
                        workload::positive_rate(r)
                    })
                })
                .transpose()?,
            timeout: raw
                .timeout
                .as_ref()
                .map(|d| self.duration(d, "hammer.timeout"))
                .transpose()?,
            auth,
            requests,
        })
    }

    fn request(&self, raw: RawRequest, field: &str) -> Result<Request, ScenarioError> {
        let line = self.line_of(raw.path.span().start);
        let err = |m: String| self.error(line, format!("{field}: {m}"));
        let method = raw
            .method
            .unwrap_or_else(|| "GET".into())
            .to_ascii_uppercase();
        if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(err(format!("method `{method}` is not an HTTP method")));
        }
        if !raw.path.get_ref().starts_with('/') {
            return Err(err(format!(
                "path `{}` must start with `/`",
                raw.path.get_ref()
            )));
        }
        let pairs = |map: BTreeMap<String, String>,
                     what: &str|
         -> Result<Vec<(String, Template)>, ScenarioError> {
            map.into_iter()
                .map(|(k, v)| {
                    Template::parse(&v)
                        .map(|t| (k.clone(), t))
                        .map_err(|m| err(format!("{what}.{k}: {m}")))
                })
                .collect()
        };
        let bodies = [raw.json.is_some(), raw.form.is_some(), raw.body.is_some()];
        if bodies.iter().filter(|&&b| b).count() > 1 {
            return Err(err("give only one of json, form and body".into()));
        }
        let body = if let Some(json) = raw.json {
            let value = serde_json::to_value(json).map_err(|e| err(format!("json: {e}")))?;
            Body::Json(JsonTemplate::parse(&value).map_err(|m| err(format!("json: {m}")))?)
        } else if let Some(form) = raw.form {
            Body::Form(pairs(form, "form")?)
        } else if let Some(text) = raw.body {
            Body::Raw(Template::parse(&text).map_err(|m| err(format!("body: {m}")))?)
        } else {
            Body::None
        };
        let checks = raw
            .checks
            .into_iter()
            .map(|c| {
                if !(c.pointer.is_empty() || c.pointer.starts_with('/')) {
                    return Err(err(format!(
                        "checks: pointer `{}` must be empty or start with `/`",
                        c.pointer
                    )));
                }
                Ok(Check {
                    pointer: c.pointer,
                    equals: c
                        .equals
                        .map(|v| serde_json::to_value(v).unwrap_or_default()),
                    exists: c.exists,
                })
            })
            .collect::<Result<_, _>>()?;
        for pointer in raw.capture.values().chain(raw.append.values()) {
            if !(pointer.is_empty() || pointer.starts_with('/')) {
                return Err(err(format!(
                    "JSON pointer `{pointer}` must be empty or start with `/`"
                )));
            }
        }
        let max_latency = raw
            .max_latency
            .map(|d| parse_duration(&d).map_err(|m| err(format!("max_latency: {m}"))))
            .transpose()?;
        let name = raw
            .name
            .unwrap_or_else(|| format!("{method} {}", raw.path.get_ref()));
        Ok(Request {
            name,
            method,
            path: Template::parse(raw.path.get_ref()).map_err(|m| err(format!("path: {m}")))?,
            query: pairs(raw.query, "query")?,
            headers: pairs(raw.headers, "headers")?,
            body,
            expect: raw.expect,
            exists: raw.exists,
            capture: raw.capture.into_iter().collect(),
            append: raw.append.into_iter().collect(),
            remove: raw.remove,
            checks,
            max_latency,
            weight: raw.weight.unwrap_or(1),
            repeat: raw.repeat.unwrap_or(1),
            auth: raw.auth.unwrap_or(true),
            line,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
base_url = "http://127.0.0.1:8080"

[seed]
users = 3

[seed.login]
method = "POST"
path = "/api/v1/auth/login"
json = { email = "{user}", password = "{password}" }
capture = { token = "/access_token" }

[[seed.setup]]
repeat = 20
method = "POST"
path = "/api/v1/tasks/"
json = { title = "Task {i}" }
append = { task_ids = "/id" }

[hammer]
think = "1s..3s"

[[hammer.requests]]
name = "GET /api/v1/tasks/{id}"
weight = 30
path = "/api/v1/tasks/{var:task_ids}"
"#;

    #[test]
    fn loads_a_scenario() {
        let s = Scenario::parse(GOOD, "t.toml").unwrap();
        let seed = s.seed.unwrap();
        assert_eq!(seed.users, 3);
        assert_eq!(seed.setup[0].repeat, 20);
        let hammer = s.hammer.unwrap();
        assert_eq!(hammer.requests[0].name, "GET /api/v1/tasks/{id}");
        assert_eq!(hammer.requests[0].needed_vars(), vec!["task_ids"]);
        assert_eq!(hammer.requests[0].line, 26);
    }

    #[test]
    fn a_typo_names_file_and_line() {
        let bad = GOOD.replace("weight = 30", "wieght = 30");
        let err = Scenario::parse(&bad, "t.toml").unwrap_err();
        assert_eq!(err.line, 25, "{err}");
        assert!(err.to_string().starts_with("t.toml:25: "), "{err}");
        assert!(err.message.contains("wieght"), "{err}");
    }

    #[test]
    fn bad_toml_and_bad_templates_name_the_line() {
        let err = Scenario::parse("base_url = \"http://x\"\n[seed\n", "t.toml").unwrap_err();
        assert_eq!(err.line, 2, "{err}");
        let bad = GOOD.replace("{var:task_ids}", "{var:task_ids");
        let err = Scenario::parse(&bad, "t.toml").unwrap_err();
        assert_eq!(err.line, 26, "{err}");
        assert!(err.message.contains("hammer.requests[0]: path"), "{err}");
    }
}

#[cfg(test)]
mod shipped {
    #[test]
    fn every_shipped_scenario_loads() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                super::Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
                seen += 1;
            }
        }
        assert!(seen >= 1);
    }
}
