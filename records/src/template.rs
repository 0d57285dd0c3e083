//! Templates in scenario strings: `{user}`, `{password}`, `{token}`,
//! `{refresh_token}`, `{n}` (user number), `{i}` (repeat number),
//! `{var:NAME}` (a captured value; a random element when it is a list),
//! `{rand:1000..9999}`, `{uuid}`, `{seq}` (a counter), `{now}` (Unix seconds),
//! `{flow:NAME}` (a value of the running flow iteration: set by a `set` step
//! or captured by an earlier step). `{{` and `}}` stand for literal braces.
//!
//! A template renders as text, except a JSON body leaf that is exactly one
//! placeholder: it renders with the value's own type ([`Template::render_value`]),
//! so a captured number goes back as a number.
//!
//! A template is parsed once when the scenario is loaded, so an unknown
//! placeholder is a load-time error naming the field, and rendering is a
//! walk over ready parts.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rand::Rng;
use serde_json::Value;

use crate::user::{User, Var};

#[derive(Clone, Debug, PartialEq)]
enum Part {
    Text(String),
    User,
    Password,
    Token,
    RefreshToken,
    UserNumber,
    Repeat,
    Var(String),
    Flow(String),
    Rand(i64, i64),
    Uuid,
    Seq,
    Now,
}

/// A parsed template string.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

/// Why a template could not be rendered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RenderError {
    #[error("no value for `{{{0}}}`")]
    Missing(String),
    #[error("the list `{0}` is empty")]
    EmptyList(String),
}

/// The values of one flow iteration, `{flow:NAME}`.
pub type FlowValues = BTreeMap<String, Value>;

/// What a template is rendered against.
pub struct Context<'a, R: Rng> {
    pub user: &'a User,
    /// The running flow iteration's values, when rendering inside a flow.
    pub flow: Option<&'a FlowValues>,
    /// 1-based number of the user in the seeded set.
    pub n: u64,
    /// 1-based repeat number within a seed step.
    pub i: u64,
    /// A counter that increases on every render call that asks for it.
    pub seq: u64,
    pub rng: &'a mut R,
    /// Values picked from lists while rendering, as (var name, value), so a
    /// request can remove the ID it just deleted.
    pub picked: Vec<(String, Value)>,
    /// Pick a list's newest value (the last appended) instead of a random
    /// one: `hammer --check` deletes what it created, not seeded data.
    pub newest: bool,
}

impl<'a, R: Rng> Context<'a, R> {
    pub fn new(user: &'a User, rng: &'a mut R) -> Self {
        Context {
            user,
            flow: None,
            newest: false,
            n: 0,
            i: 0,
            seq: 0,
            rng,
            picked: Vec::new(),
        }
    }
}

impl Template {
    /// Parses `text`; the error says which placeholder is wrong.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = text.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|&(_, c)| c) == Some('{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek().map(|&(_, c)| c) == Some('}') => {
                    chars.next();
                    literal.push('}');
                }
                '{' => {
                    let close = text[at..]
                        .find('}')
                        .ok_or_else(|| format!("unclosed `{{` at byte {at} in `{text}`"))?;
                    let inner = &text[at + 1..at + close];
                    if !literal.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut literal)));
                    }
                    parts.push(parse_placeholder(inner)?);
                    while chars.peek().is_some_and(|&(i, _)| i <= at + close) {
                        chars.next();
                    }
                }
                '}' => {
                    return Err(format!(
                        "stray `}}` at byte {at} in `{text}` (write `}}}}`)"
                    ))
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        Ok(Template { parts })
    }

    /// True when the template has no placeholders.
    pub fn is_literal(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Text(_)))
    }

    /// Names of the vars this template reads.
    pub fn vars(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(name) => Some(name.as_str()),
            _ => None,
        })
    }

    /// Names of the flow values this template reads.
    pub fn flow_values(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Flow(name) => Some(name.as_str()),
            _ => None,
        })
    }

    /// Renders with the value's own type when the template is exactly one
    /// placeholder (`"{var:user_id}"` gives the captured number, `"{n}"` a
    /// number, `"{user}"` a string); otherwise as text.
    pub fn render_value<R: Rng>(&self, ctx: &mut Context<'_, R>) -> Result<Value, RenderError> {
        let [part] = self.parts.as_slice() else {
            return Ok(Value::String(self.render(ctx)?));
        };
        Ok(match part {
            Part::UserNumber => ctx.n.into(),
            Part::Repeat => ctx.i.into(),
            Part::Seq => {
                ctx.seq += 1;
                ctx.seq.into()
            }
            Part::Now => (crate::units::now_ns() / 1_000_000_000).into(),
            Part::Rand(low, high) => ctx.rng.gen_range(*low..=*high).into(),
            Part::Var(name) => var_value(ctx, name)?,
            Part::Flow(name) => flow_value(ctx, name)?.clone(),
            _ => Value::String(self.render(ctx)?),
        })
    }

    /// Whether the template uses the user's token.
    pub fn uses_token(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Token))
    }

    pub fn render<R: Rng>(&self, ctx: &mut Context<'_, R>) -> Result<String, RenderError> {
        let mut out = String::new();
        self.render_into(ctx, &mut out)?;
        Ok(out)
    }

    pub fn render_into<R: Rng>(
        &self,
        ctx: &mut Context<'_, R>,
        out: &mut String,
    ) -> Result<(), RenderError> {
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::User => out.push_str(&ctx.user.user),
                Part::Password => out.push_str(secret(&ctx.user.password, "password")?),
                Part::Token => out.push_str(secret(&ctx.user.token, "token")?),
                Part::RefreshToken => {
                    out.push_str(secret(&ctx.user.refresh_token, "refresh_token")?)
                }
                Part::UserNumber => {
                    let _ = write!(out, "{}", ctx.n);
                }
                Part::Repeat => {
                    let _ = write!(out, "{}", ctx.i);
                }
                Part::Var(name) => push_text(out, &var_value(ctx, name)?),
                Part::Flow(name) => push_text(out, flow_value(ctx, name)?),
                Part::Rand(low, high) => {
                    let _ = write!(out, "{}", ctx.rng.gen_range(*low..=*high));
                }
                Part::Uuid => {
                    let bytes: [u8; 16] = ctx.rng.gen();
                    let _ = write!(
                        out,
                        "{}",
                        uuid::Builder::from_random_bytes(bytes).into_uuid()
                    );
                }
                Part::Seq => {
                    ctx.seq += 1;
                    let _ = write!(out, "{}", ctx.seq);
                }
                Part::Now => {
                    let _ = write!(out, "{}", crate::units::now_ns() / 1_000_000_000);
                }
            }
        }
        Ok(())
    }
}

/// A var's value; a random element (checked out in `ctx.picked`) of a list.
fn var_value<R: Rng>(ctx: &mut Context<'_, R>, name: &str) -> Result<Value, RenderError> {
    match ctx.user.vars.get(name) {
        Some(Var::One(value)) => Ok(value.clone()),
        Some(Var::List(list)) if list.is_empty() => Err(RenderError::EmptyList(name.to_string())),
        Some(Var::List(list)) => {
            let at = if ctx.newest {
                list.len() - 1
            } else {
                ctx.rng.gen_range(0..list.len())
            };
            let value = list[at].clone();
            ctx.picked.push((name.to_string(), value.clone()));
            Ok(value)
        }
        None => Err(RenderError::Missing(format!("var:{name}"))),
    }
}

fn flow_value<'c, R: Rng>(ctx: &'c Context<'_, R>, name: &str) -> Result<&'c Value, RenderError> {
    ctx.flow
        .and_then(|values| values.get(name))
        .ok_or_else(|| RenderError::Missing(format!("flow:{name}")))
}

/// A value as template text: strings bare, everything else as JSON text.
pub fn push_text(out: &mut String, value: &Value) {
    match value {
        Value::String(s) => out.push_str(s),
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

fn secret<'a>(value: &'a Option<String>, name: &str) -> Result<&'a str, RenderError> {
    value
        .as_deref()
        .ok_or_else(|| RenderError::Missing(name.to_string()))
}

fn parse_placeholder(inner: &str) -> Result<Part, String> {
    let part = match inner {
        "user" => Part::User,
        "password" => Part::Password,
        "token" => Part::Token,
        "refresh_token" => Part::RefreshToken,
        "n" => Part::UserNumber,
        "i" => Part::Repeat,
        "uuid" => Part::Uuid,
        "seq" => Part::Seq,
        "now" => Part::Now,
        _ => {
            if let Some(name) = inner.strip_prefix("var:") {
                if name.is_empty() {
                    return Err("`{var:}` needs a name, e.g. `{var:task_ids}`".into());
                }
                Part::Var(name.to_string())
            } else if let Some(name) = inner.strip_prefix("flow:") {
                if name.is_empty() {
                    return Err("`{flow:}` needs a name, e.g. `{flow:task_id}`".into());
                }
                Part::Flow(name.to_string())
            } else if let Some(range) = inner.strip_prefix("rand:") {
                let (low, high) = range.split_once("..").ok_or_else(|| {
                    format!("`{{{inner}}}`: write a range like `{{rand:1000..9999}}`")
                })?;
                let parse = |s: &str| {
                    s.trim()
                        .parse::<i64>()
                        .map_err(|_| format!("`{{{inner}}}`: `{s}` is not an integer"))
                };
                let (low, high) = (parse(low)?, parse(high)?);
                if low > high {
                    return Err(format!("`{{{inner}}}`: the range is empty"));
                }
                Part::Rand(low, high)
            } else {
                return Err(format!(
                    "unknown placeholder `{{{inner}}}`; known: user, password, token, refresh_token, n, i, var:NAME, flow:NAME, rand:A..B, uuid, seq, now"
                ));
            }
        }
    };
    Ok(part)
}

/// A JSON body template: every string leaf is a [`Template`].
#[derive(Clone, Debug, PartialEq)]
pub enum JsonTemplate {
    Value(serde_json::Value),
    Text(Template),
    Array(Vec<JsonTemplate>),
    Object(Vec<(String, JsonTemplate)>),
}

impl JsonTemplate {
    pub fn parse(value: &serde_json::Value) -> Result<JsonTemplate, String> {
        Ok(match value {
            serde_json::Value::String(s) => {
                let t = Template::parse(s)?;
                if t.is_literal() {
                    JsonTemplate::Value(value.clone())
                } else {
                    JsonTemplate::Text(t)
                }
            }
            serde_json::Value::Array(items) => JsonTemplate::Array(
                items
                    .iter()
                    .map(JsonTemplate::parse)
                    .collect::<Result<_, _>>()?,
            ),
            serde_json::Value::Object(map) => JsonTemplate::Object(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), JsonTemplate::parse(v)?)))
                    .collect::<Result<_, String>>()?,
            ),
            other => JsonTemplate::Value(other.clone()),
        })
    }

    /// Calls `f` on every string template in the body.
    pub fn each_template<'t>(&'t self, f: &mut impl FnMut(&'t Template)) {
        match self {
            JsonTemplate::Value(_) => {}
            JsonTemplate::Text(t) => f(t),
            JsonTemplate::Array(items) => items.iter().for_each(|i| i.each_template(f)),
            JsonTemplate::Object(fields) => fields.iter().for_each(|(_, v)| v.each_template(f)),
        }
    }

    pub fn render<R: Rng>(
        &self,
        ctx: &mut Context<'_, R>,
    ) -> Result<serde_json::Value, RenderError> {
        Ok(match self {
            JsonTemplate::Value(v) => v.clone(),
            JsonTemplate::Text(t) => t.render_value(ctx)?,
            JsonTemplate::Array(items) => serde_json::Value::Array(
                items
                    .iter()
                    .map(|i| i.render(ctx))
                    .collect::<Result<_, _>>()?,
            ),
            JsonTemplate::Object(fields) => serde_json::Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), v.render(ctx)?)))
                    .collect::<Result<_, RenderError>>()?,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn user() -> User {
        let mut u = User {
            user: "loadtest7@example.com".into(),
            password: Some("pw".into()),
            token: Some("tok".into()),
            ..User::default()
        };
        u.vars
            .insert("task_ids".into(), Var::List(vec!["17".into(), "18".into()]));
        u.vars.insert("empty".into(), Var::List(vec![]));
        u
    }

    #[test]
    fn renders_every_placeholder() {
        let u = user();
        let mut rng = rand::rngs::SmallRng::seed_from_u64(1);
        let mut ctx = Context::new(&u, &mut rng);
        ctx.n = 7;
        ctx.i = 3;
        let t = Template::parse("/u/{user}/{n}/{i}/{var:task_ids}/{rand:5..5}/{seq}{seq}/{{x}}")
            .unwrap();
        let out = t.render(&mut ctx).unwrap();
        assert!(
            out == "/u/loadtest7@example.com/7/3/17/5/12/{x}"
                || out == "/u/loadtest7@example.com/7/3/18/5/12/{x}",
            "{out}"
        );
        assert_eq!(ctx.picked.len(), 1);
        let id = Template::parse("{uuid}").unwrap().render(&mut ctx).unwrap();
        assert_eq!(id.len(), 36);
        assert_eq!(
            Template::parse("Bearer {token}")
                .unwrap()
                .render(&mut ctx)
                .unwrap(),
            "Bearer tok"
        );
    }

    #[test]
    fn parse_errors_name_the_placeholder() {
        assert!(Template::parse("{usr}")
            .unwrap_err()
            .contains("unknown placeholder `{usr}`"));
        assert!(Template::parse("{rand:9..1}")
            .unwrap_err()
            .contains("empty"));
        assert!(Template::parse("{rand:a..b}").is_err());
        assert!(Template::parse("/x/{user")
            .unwrap_err()
            .contains("unclosed"));
        assert!(Template::parse("a}b").is_err());
    }

    #[test]
    fn render_errors_say_what_is_missing() {
        let u = user();
        let mut rng = rand::rngs::SmallRng::seed_from_u64(1);
        let mut ctx = Context::new(&u, &mut rng);
        let missing = Template::parse("{var:nope}")
            .unwrap()
            .render(&mut ctx)
            .unwrap_err();
        assert_eq!(missing, RenderError::Missing("var:nope".into()));
        let empty = Template::parse("{var:empty}")
            .unwrap()
            .render(&mut ctx)
            .unwrap_err();
        assert_eq!(empty, RenderError::EmptyList("empty".into()));
    }

    #[test]
    fn a_lone_placeholder_keeps_its_type() {
        let mut u = user();
        u.vars.insert("user_id".into(), Var::One(42.into()));
        u.vars.insert("active".into(), Var::One(true.into()));
        u.vars.insert("code".into(), Var::text("007"));
        let mut rng = rand::rngs::SmallRng::seed_from_u64(1);
        let mut values = FlowValues::new();
        values.insert("qr".into(), "QR123".into());
        let mut ctx = Context::new(&u, &mut rng);
        ctx.flow = Some(&values);
        ctx.n = 7;
        let body = serde_json::json!({
            "userId": "{var:user_id}", "active": "{var:active}", "code": "{var:code}",
            "n": "{n}", "label": "user {var:user_id}", "qr": "{flow:qr}",
            "child": "{flow:qr}_CHILD_{n}", "email": "{user}"
        });
        let out = JsonTemplate::parse(&body)
            .unwrap()
            .render(&mut ctx)
            .unwrap();
        assert_eq!(
            out,
            serde_json::json!({
                "userId": 42, "active": true, "code": "007", "n": 7, "label": "user 42",
                "qr": "QR123", "child": "QR123_CHILD_7", "email": "loadtest7@example.com"
            })
        );
        let missing = Template::parse("{flow:nope}")
            .unwrap()
            .render(&mut ctx)
            .unwrap_err();
        assert_eq!(missing, RenderError::Missing("flow:nope".into()));
    }

    #[test]
    fn json_templates_render_string_leaves() {
        let u = user();
        let mut rng = rand::rngs::SmallRng::seed_from_u64(1);
        let mut ctx = Context::new(&u, &mut rng);
        let body = serde_json::json!({"email": "{user}", "n": 3, "tags": ["a", "{password}"]});
        let out = JsonTemplate::parse(&body)
            .unwrap()
            .render(&mut ctx)
            .unwrap();
        assert_eq!(
            out,
            serde_json::json!({"email": "loadtest7@example.com", "n": 3, "tags": ["a", "pw"]})
        );
    }
}
