//! Checking a scenario without a target (`hammer --dry-run`, `seed
//! --dry-run`): what parsing alone cannot see, each problem with its file and
//! line. A var that no step makes (`{var:task_id}` where seed appends
//! `task_ids`), a flow value used before any step sets it, a placeholder
//! that cannot render in its place (`{flow:…}` outside a flow), and a
//! request that renders into something no server accepts (a space in the path).

use std::collections::BTreeSet;

use crate::exchange;
use crate::scenario::{Request, Scenario, ScenarioError, Step, Ws, WsAction, CREDENTIALS};
use crate::template::{Context, FlowValues, Template};
use crate::user::{User, Var};

/// What a scenario holds, for the closing line of a clean check.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Inventory {
    pub requests: usize,
    pub flows: usize,
    pub flow_steps: usize,
    pub teardown_steps: usize,
}

/// Checks `scenario`; `known_vars` are vars the users already carry (from a
/// users file). Returns every problem found, in file order.
pub fn check(scenario: &Scenario, known_vars: &BTreeSet<String>) -> Vec<ScenarioError> {
    let mut lint = Lint {
        scenario,
        vars: known_vars.clone(),
        sockets: BTreeSet::new(),
        problems: Vec::new(),
    };
    if let Some(seed) = &scenario.seed {
        for request in seed.register.iter().chain(&seed.login).chain(&seed.setup) {
            lint.request(request, None);
            lint.makes(request, false);
        }
    }
    let hammer = scenario.hammer.as_ref();
    // Vars made anywhere in the mix can feed any other part of it.
    for request in hammer.iter().flat_map(|h| &h.requests) {
        lint.makes(request, false);
    }
    for flow in hammer.iter().flat_map(|h| &h.flows) {
        Step::each_request(&flow.steps, &mut |r| lint.makes(r, true));
        lint.opens(&flow.steps);
    }
    if let Some(h) = hammer {
        for request in h.auth.refresh.iter().chain(&h.auth.login) {
            lint.request(request, None);
        }
        for request in &h.requests {
            lint.request(request, None);
        }
        for flow in &h.flows {
            let mut set = BTreeSet::new();
            lint.steps(&flow.steps, &mut set);
        }
    }
    let mut set = BTreeSet::new();
    lint.steps(&scenario.teardown, &mut set);
    lint.problems.sort_by_key(|p| p.line);
    lint.problems
}

/// The problems [`check`] found, as one message for people (`N problems in
/// FILE:` then one `file:line: …` a line); `None` when there are none.
pub fn report(scenario: &Scenario, problems: &[ScenarioError]) -> Option<String> {
    if problems.is_empty() {
        return None;
    }
    let shown: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    Some(format!(
        "{} problem{} in {}:\n{}",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" },
        scenario.file,
        shown.join("\n")
    ))
}

/// Counts what the scenario holds.
pub fn inventory(scenario: &Scenario) -> Inventory {
    fn count(steps: &[Step]) -> usize {
        steps
            .iter()
            .map(|s| match s {
                Step::Loop(l) => 1 + count(&l.steps),
                _ => 1,
            })
            .sum()
    }
    let hammer = scenario.hammer.as_ref();
    Inventory {
        requests: hammer.map_or(0, |h| h.requests.len()),
        flows: hammer.map_or(0, |h| h.flows.len()),
        flow_steps: hammer.map_or(0, |h| h.flows.iter().map(|f| count(&f.steps)).sum()),
        teardown_steps: count(&scenario.teardown),
    }
}

struct Lint<'s> {
    scenario: &'s Scenario,
    /// Vars some step makes (or the users carry).
    vars: BTreeSet<String>,
    /// WebSocket connections some flow's `ws_connect` opens (a VU's
    /// connections outlive the flow iteration that opened them).
    sockets: BTreeSet<String>,
    problems: Vec<ScenarioError>,
}

impl Lint<'_> {
    fn problem(&mut self, line: usize, message: String) {
        self.problems.push(ScenarioError {
            file: self.scenario.file.clone(),
            line,
            message,
        });
    }

    /// Notes the WebSocket connections `steps` open.
    fn opens(&mut self, steps: &[Step]) {
        for step in steps {
            match step {
                Step::Ws(ws) if matches!(ws.action, WsAction::Connect { .. }) => {
                    self.sockets.insert(ws.socket.clone());
                }
                Step::Loop(l) => self.opens(&l.steps),
                _ => {}
            }
        }
    }

    /// A WebSocket step on a connection no `ws_connect` opens (a typo in
    /// `socket`) would fail on every iteration.
    fn socket_used(&mut self, ws: &Ws) {
        if matches!(ws.action, WsAction::Connect { .. }) || self.sockets.contains(&ws.socket) {
            return;
        }
        let near = self.sockets.iter().find(|s| close(s, &ws.socket)).cloned();
        let hint = match near {
            Some(s) => format!("; did you mean `{s}`?"),
            None if self.sockets.is_empty() => "; open one with a `ws_connect` step".to_string(),
            None => format!(
                "; the open ones: {}",
                self.sockets
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        self.problem(
            ws.line,
            format!(
                "{}: socket `{}` is not opened by any ws_connect{hint}",
                ws.name, ws.socket
            ),
        );
    }

    /// Notes the vars `request` makes: appends, and captures outside flows
    /// (inside one a capture sets a flow value).
    fn makes(&mut self, request: &Request, in_flow: bool) {
        for (name, _) in &request.append {
            self.vars.insert(name.clone());
        }
        if !in_flow {
            for (name, _) in &request.capture {
                if !CREDENTIALS.contains(&name.as_str()) {
                    self.vars.insert(name.clone());
                }
            }
        }
    }

    /// Walks flow steps in order; `set` holds the flow values set so far.
    fn steps(&mut self, steps: &[Step], set: &mut BTreeSet<String>) {
        for step in steps {
            match step {
                Step::Request(request) => {
                    self.request(request, Some(set));
                    for (name, _) in &request.capture {
                        if !CREDENTIALS.contains(&name.as_str()) {
                            set.insert(name.clone());
                        }
                    }
                }
                Step::Think(_) => {}
                Step::Set { values, line } => {
                    for (name, template) in values {
                        let mut used = Vec::new();
                        template.each_template(&mut |t| used.extend(t.flow_values()));
                        for value in used {
                            if !set.contains(value) {
                                self.problem(
                                    *line,
                                    format!("set.{name}: `{{flow:{value}}}` is used before any step sets it"),
                                );
                            }
                        }
                        set.insert(name.clone());
                    }
                }
                Step::Loop(l) => {
                    if let Some(counter) = &l.counter {
                        set.insert(counter.clone());
                    }
                    self.steps(&l.steps, set);
                }
                Step::Ws(ws) => {
                    self.socket_used(ws);
                    self.placeholders(ws.line, &ws.name, &ws.templates(), Some(set));
                }
            }
        }
    }

    /// Checks one request's templates; `flow` holds the values set before
    /// it when it is a flow step (`None`: no `{flow:…}` can render here).
    fn request(&mut self, request: &Request, flow: Option<&BTreeSet<String>>) {
        self.placeholders(request.line, &request.name, &request.templates(), flow);
        self.renders(request, flow);
    }

    /// Checks that the vars and flow values `templates` use are made
    /// somewhere (flow values: by an earlier step of the flow, `flow`).
    fn placeholders(
        &mut self,
        line: usize,
        field: &str,
        templates: &[&Template],
        flow: Option<&BTreeSet<String>>,
    ) {
        let mut vars = BTreeSet::new();
        for template in templates.iter() {
            for var in template.vars() {
                if !self.vars.contains(var) {
                    vars.insert(var.to_string());
                }
            }
            for value in template.flow_values() {
                match flow {
                    None => self.problem(
                        line,
                        format!("{field}: `{{flow:{value}}}` outside a flow; flow values live in [[hammer.flows]] steps"),
                    ),
                    Some(set) if !set.contains(value) => self.problem(
                        line,
                        format!("{field}: `{{flow:{value}}}` is used before any step sets it (a `set` step or a `capture`)"),
                    ),
                    Some(_) => {}
                }
            }
        }
        for var in vars {
            let near = self.vars.iter().find(|v| close(v, &var)).cloned();
            let hint = near
                .map(|v| format!("; did you mean `{{var:{v}}}`?"))
                .unwrap_or_default();
            self.problem(
                line,
                format!("{field}: no step makes the var `{var}` (seed's capture/append, a request's append){hint}"),
            );
        }
    }

    /// Renders `request` with placeholder values and checks what a server
    /// would see.
    fn renders(&mut self, request: &Request, flow: Option<&BTreeSet<String>>) {
        let mut user = User {
            user: "user@example.com".into(),
            password: Some("password".into()),
            token: Some("token".into()),
            refresh_token: Some("refresh".into()),
            ..User::default()
        };
        for template in request.templates() {
            for var in template.vars() {
                user.vars
                    .insert(var.to_string(), Var::List(vec!["1".into()]));
            }
        }
        let values: FlowValues = flow
            .into_iter()
            .flatten()
            .map(|name| (name.clone(), "1".into()))
            .collect();
        let mut rng = <rand::rngs::SmallRng as rand::SeedableRng>::seed_from_u64(1);
        let mut ctx = Context::new(&user, &mut rng);
        ctx.flow = Some(&values);
        ctx.n = 1;
        ctx.i = 1;
        let Ok(rendered) = exchange::render(request, &mut ctx) else {
            // Missing values are reported above, by name.
            return;
        };
        if let Some(bad) = rendered
            .path_and_query
            .chars()
            .find(|c| c.is_whitespace() || c.is_control())
        {
            self.problem(
                request.line,
                format!(
                    "{}: the path renders as `{}`, with {bad:?} in it; no server accepts that",
                    request.name, rendered.path_and_query
                ),
            );
        }
        for (name, value) in &rendered.headers {
            if value.contains(['\r', '\n']) || name.is_empty() || name.contains([' ', ':']) {
                self.problem(
                    request.line,
                    format!(
                        "{}: header `{name}` does not render as a valid header",
                        request.name
                    ),
                );
            }
        }
    }
}

/// Whether two names differ by a plural `s` or one character.
fn close(a: &str, b: &str) -> bool {
    if a.trim_end_matches('s') == b.trim_end_matches('s') {
        return true;
    }
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    a.len() == b.len() && a.iter().zip(&b).filter(|(x, y)| x != y).count() == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        let scenario = Scenario::parse(text, "t.toml").unwrap();
        check(&scenario, &BTreeSet::new())
            .into_iter()
            .map(|p| p.to_string())
            .collect()
    }

    #[test]
    fn a_websocket_step_on_a_connection_nothing_opens_is_named() {
        let text = r#"
[hammer]
[[hammer.flows]]
name = "f"
[[hammer.flows.steps]]
ws_connect = "/ws"
socket = "feed"
[[hammer.flows.steps]]
ws_send = "ping"
socket = "feeds"
[[hammer.flows.steps]]
ws_await = { "/type" = "pong" }
socket = "feed"
[[hammer.flows.steps]]
ws_close = "other"
"#;
        let p = problems(text);
        assert_eq!(p.len(), 2, "{p:#?}");
        assert!(
            p[0].starts_with("t.toml:9: ")
                && p[0].contains("socket `feeds` is not opened by any ws_connect")
                && p[0].contains("did you mean `feed`?"),
            "{p:#?}"
        );
        assert!(
            p[1].starts_with("t.toml:15: ") && p[1].contains("the open ones: `feed`"),
            "{p:#?}"
        );
    }

    #[test]
    fn a_clean_scenario_has_no_problems() {
        let text = r#"
[seed]
[[seed.setup]]
path = "/tasks"
append = { task_ids = "/id" }

[hammer]
[[hammer.requests]]
path = "/tasks/{var:task_ids}"

[[hammer.flows]]
name = "scan"
[[hammer.flows.steps]]
set = { parent = "QR{rand:1..9}" }
[[hammer.flows.steps]]
method = "POST"
path = "/scan"
json = { qr = "{flow:parent}" }
capture = { scan_id = "/id" }
[[hammer.flows.steps]]
repeat = "1..3"
counter = "child"
steps = [{ path = "/scan/{flow:scan_id}/{flow:child}/{i}" }]
"#;
        assert_eq!(problems(text), Vec::<String>::new());
    }

    #[test]
    fn names_what_is_missing_where() {
        let text = r#"
[seed]
[[seed.setup]]
path = "/tasks"
append = { task_ids = "/id" }

[hammer]
[[hammer.requests]]
path = "/tasks/{var:task_id}"
[[hammer.requests]]
path = "/x/{flow:y}"

[[hammer.flows]]
name = "f"
[[hammer.flows.steps]]
path = "/a/{flow:later}"
[[hammer.flows.steps]]
set = { later = "{flow:nothing}" }
[[hammer.flows.steps]]
path = "/b c"
"#;
        let p = problems(text);
        assert_eq!(p.len(), 5, "{p:#?}");
        assert!(
            p[0].starts_with("t.toml:9: ")
                && p[0].contains("var `task_id`")
                && p[0].contains("did you mean `{var:task_ids}`"),
            "{p:#?}"
        );
        assert!(
            p[1].starts_with("t.toml:11: ") && p[1].contains("outside a flow"),
            "{p:#?}"
        );
        assert!(
            p[2].starts_with("t.toml:16: ") && p[2].contains("`{flow:later}` is used before"),
            "{p:#?}"
        );
        assert!(
            p[3].starts_with("t.toml:18: ") && p[3].contains("`{flow:nothing}`"),
            "{p:#?}"
        );
        assert!(
            p[4].starts_with("t.toml:20: ") && p[4].contains("' '"),
            "{p:#?}"
        );
    }
}
