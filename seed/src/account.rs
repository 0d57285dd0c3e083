//! Making one user: register, log in, run the setup steps.

use rand::Rng;
use records::exchange::{judge, render, Verdict};
use records::scenario::{Request, Seed, Step};
use records::template::{Context, Template};
use records::User;

use crate::client::{Client, TransportError};

/// How a user came to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Made {
    /// The register step created it.
    Created,
    /// It was there already (an `exists` status, or the scenario has no register step).
    Existed,
}

/// Why a user could not be made. Never holds a password or a token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failed {
    pub n: u64,
    /// The login name (not a secret), when it could be rendered.
    pub user: String,
    /// The request that failed, by name (`POST /api/v1/auth/login`).
    pub step: String,
    pub reason: String,
    /// No connection could be made: the target is not there (`reason` says why).
    pub unreachable: bool,
    /// It was TLS that failed (a certificate problem): `reason` is the one
    /// line [`records::tls::describe`] gives, and `unreachable` is set.
    pub tls: bool,
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "user {}", self.n)?;
        if !self.user.is_empty() {
            write!(f, " ({})", self.user)?;
        }
        write!(f, ": {}: {}", self.step, self.reason)
    }
}

/// Makes user `n` as the `[seed]` section says.
pub async fn make<R: Rng>(
    seed: &Seed,
    client: &Client,
    n: u64,
    rng: &mut R,
) -> Result<(User, Made), Failed> {
    let mut user = User::default();
    user.user = identity(&seed.user, &user, n, rng).map_err(|reason| Failed {
        n,
        user: String::new(),
        step: "seed.user".into(),
        reason,
        unreachable: false,
        tls: false,
    })?;
    let password = identity(&seed.password, &user, n, rng).map_err(|reason| Failed {
        n,
        user: user.user.clone(),
        step: "seed.password".into(),
        reason,
        unreachable: false,
        tls: false,
    })?;
    user.password = Some(password);

    let mut steps = Steps {
        client,
        user,
        n,
        seq: 0,
        rng,
    };
    let mut made = Made::Existed;
    if let Some(register) = &seed.register {
        if !steps.run(register, 1).await?.exists {
            made = Made::Created;
        }
    }
    if let Some(login) = &seed.login {
        steps.run(login, 1).await?;
    }
    for step in &seed.setup {
        for i in 1..=u64::from(step.repeat) {
            steps.run(step, i).await?;
        }
    }
    Ok((steps.user, made))
}

/// Runs `steps` (the scenario's teardown) for `user`, user number `n`:
/// every step, whatever the one before did (a logout goes out anyway);
/// returns the failures.
pub async fn teardown<R: Rng + Send>(
    steps: &[Step],
    client: &Client,
    user: User,
    n: u64,
    rng: &mut R,
) -> Vec<Failed> {
    let mut run = Steps {
        client,
        user,
        n,
        seq: 0,
        rng,
    };
    let mut failed = Vec::new();
    walk(&mut run, steps, 1, &mut failed).await;
    failed
}

/// Teardown steps in order; loops repeat their body (`{i}` counts).
fn walk<'a, 'c: 'a, R: Rng + Send>(
    run: &'a mut Steps<'c, R>,
    steps: &'a [Step],
    i: u64,
    failed: &'a mut Vec<Failed>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>> {
    Box::pin(async move {
        for step in steps {
            match step {
                Step::Request(request) => {
                    if let Err(f) = run.run(request, i).await {
                        failed.push(f);
                    }
                }
                Step::Think(think) => tokio::time::sleep(think.sample(&mut *run.rng)).await,
                Step::Loop(l) => {
                    for i in 1..=u64::from(l.repeat.sample(&mut *run.rng)) {
                        walk(run, &l.steps, i, failed).await;
                    }
                }
                // Refused when the teardown is planned (see `lib::teardown`).
                Step::Set { .. } => {}
                // Refused by the scenario parser: WebSocket steps are flows'.
                Step::Ws(_) => {}
            }
        }
    })
}

/// Renders the user-name or password template for user `n`.
fn identity<R: Rng>(
    template: &Template,
    user: &User,
    n: u64,
    rng: &mut R,
) -> Result<String, String> {
    let mut ctx = Context::new(user, rng);
    ctx.n = n;
    template
        .render(&mut ctx)
        .map_err(|e| format!("cannot render: {e}"))
}

/// One user's state while its requests run.
struct Steps<'a, R> {
    client: &'a Client,
    user: User,
    n: u64,
    /// `{seq}` keeps counting across the user's requests.
    seq: u64,
    rng: &'a mut R,
}

impl<R: Rng> Steps<'_, R> {
    /// Sends repeat `i` of `request` and applies what the answer says.
    async fn run(&mut self, request: &Request, i: u64) -> Result<Verdict, Failed> {
        let rendered = {
            let mut ctx = Context::new(&self.user, &mut *self.rng);
            ctx.n = self.n;
            ctx.i = i;
            ctx.seq = self.seq;
            let rendered = render(request, &mut ctx);
            self.seq = ctx.seq;
            rendered.map_err(|e| self.failed(request, format!("cannot render: {e}"), false))?
        };
        let reply = match self.client.send(&rendered).await {
            Ok(reply) => reply,
            Err(TransportError::Connect(cause)) => return Err(self.failed(request, cause, true)),
            Err(TransportError::Tls(problem)) => {
                // Our own words, not the server's: nothing to redact or cut.
                return Err(Failed {
                    tls: true,
                    reason: problem,
                    ..self.failed(request, String::new(), true)
                });
            }
            Err(e) => return Err(self.failed(request, e.to_string(), false)),
        };
        for cookie in &reply.set_cookies {
            self.user.set_cookie(cookie);
        }
        let now_secs = (records::units::now_ns() / 1_000_000_000) as i64;
        let verdict = judge(
            request,
            &rendered,
            reply.status,
            &reply.body,
            reply.latency,
            &mut self.user,
            now_secs,
            None,
        );
        if let Some((_, detail)) = &verdict.error {
            let mut reason = detail.clone();
            // Only error answers are quoted: a success answer carries the
            // very data (tokens) that must not reach stderr.
            let excerpt = if reply.status >= 400 {
                excerpt(&reply.body)
            } else {
                String::new()
            };
            if !excerpt.is_empty() {
                reason.push_str(": ");
                reason.push_str(&excerpt);
            }
            return Err(self.failed(request, reason, false));
        }
        Ok(verdict)
    }

    fn failed(&self, request: &Request, reason: String, unreachable: bool) -> Failed {
        Failed {
            n: self.n,
            user: self.user.user.clone(),
            step: request.name.clone(),
            reason: redact(&reason, &self.user),
            unreachable,
            tls: false,
        }
    }
}

/// Longest piece of a response body shown in a failure message.
const EXCERPT_CHARS: usize = 120;

/// An error body on one line, for a failure message. In a JSON body, values
/// under secret-sounding keys are hidden; the user's own secrets are removed
/// later, by [`redact`], before anything is cut short.
fn excerpt(body: &[u8]) -> String {
    if let Ok(mut json) = serde_json::from_slice::<serde_json::Value>(body) {
        hide_secret_fields(&mut json);
        return json.to_string();
    }
    let text = String::from_utf8_lossy(body);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Key fragments whose values are never shown.
const SECRET_KEYS: [&str; 6] = ["token", "password", "secret", "session", "cookie", "key"];

fn hide_secret_fields(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                let key = key.to_ascii_lowercase();
                if SECRET_KEYS.iter().any(|s| key.contains(s)) {
                    *value = serde_json::Value::String("<redacted>".into());
                } else {
                    hide_secret_fields(value);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(hide_secret_fields),
        _ => {}
    }
}

/// Replaces the user's password, tokens and cookie values in `text` (an
/// error body may echo what was sent, e.g. a 422 listing the input), then
/// cuts it to a readable length.
pub fn redact(text: &str, user: &User) -> String {
    let mut out = text.to_string();
    let secrets = user
        .password
        .iter()
        .chain(user.token.iter())
        .chain(user.refresh_token.iter())
        .chain(user.cookies.values());
    for secret in secrets {
        if secret.is_empty() {
            continue;
        }
        out = out.replace(secret.as_str(), "<redacted>");
        // As it appears inside a JSON string.
        let escaped = serde_json::to_string(secret).unwrap_or_default();
        let escaped = escaped.trim_matches('"');
        if !escaped.is_empty() && escaped != secret {
            out = out.replace(escaped, "<redacted>");
        }
    }
    if out.chars().count() > EXCERPT_CHARS {
        out = out.chars().take(EXCERPT_CHARS).collect::<String>() + "…";
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_secrets_even_json_escaped() {
        let mut user = User {
            user: "a@b.c".into(),
            password: Some("pa\"ss".into()),
            token: Some("tok123".into()),
            ..User::default()
        };
        user.cookies.insert("session".into(), "cookie-value".into());
        let body = r#"{"input":{"password":"pa\"ss"},"t":"tok123","c":"cookie-value"}"#;
        let out = redact(body, &user);
        assert!(
            !out.contains("pa\\\"ss") && !out.contains("pa\"ss"),
            "{out}"
        );
        assert!(
            !out.contains("tok123") && !out.contains("cookie-value"),
            "{out}"
        );
        assert!(out.contains("a@b.c") || !body.contains("a@b.c"));
    }

    #[test]
    fn redact_cuts_long_text_after_hiding() {
        let user = User {
            password: Some("secret".into()),
            ..User::default()
        };
        let long = format!("{}secret", "x".repeat(EXCERPT_CHARS - 3));
        let out = redact(&long, &user);
        assert!(!out.contains("sec"), "{out}");
        assert!(out.ends_with('…'));
    }

    #[test]
    fn excerpt_is_one_line_and_hides_secret_fields() {
        assert_eq!(
            excerpt(b"{\n  \"detail\": \"no\"\n}\n"),
            r#"{"detail":"no"}"#
        );
        assert_eq!(excerpt(b"Bad\n  Gateway\n"), "Bad Gateway");
        let body =
            br#"{"detail":[{"input":{"email":"a@b.c","Password":"x1"}}],"access_token":"eyJ"}"#;
        let out = excerpt(body);
        assert!(!out.contains("x1") && !out.contains("eyJ"), "{out}");
        assert!(out.contains("a@b.c"), "{out}");
    }

    #[test]
    fn failures_read_well() {
        let f = Failed {
            n: 5,
            user: "loadtest5@example.com".into(),
            step: "POST /api/v1/auth/login".into(),
            reason: "status 401, expected 200".into(),
            unreachable: false,
            tls: false,
        };
        assert_eq!(
            f.to_string(),
            "user 5 (loadtest5@example.com): POST /api/v1/auth/login: status 401, expected 200"
        );
    }
}
