//! Flows: a user journey run as one iteration — its steps in order, values
//! carried from one step to the next (`{flow:NAME}`), loops, think time —
//! and timed as one transaction: after its steps' Events, the iteration
//! writes one [`records::Iteration`] record.

use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use records::event::StreamRecord;
use records::scenario::OnFailure;
use records::template::FlowValues;
use records::{ErrorKind, Iteration};

use crate::mix::{PreparedFlow, PreparedStep};
use crate::sink;
use crate::transport::Transport;
use crate::vu::{Plan, Vu};

/// What one iteration has done so far.
#[derive(Debug, Default)]
pub struct Walk {
    pub values: FlowValues,
    pub requests: u32,
    /// The first failing step: its name and error kind.
    pub failed: Option<(String, ErrorKind)>,
    /// The run's end (or a signal) cut the iteration short.
    pub cut: bool,
    /// `scheduled` of the iteration, for its first request only.
    scheduled: Option<Instant>,
    /// The teardown after the run: the run's stop does not cut it.
    pub teardown: bool,
}

impl Walk {
    fn done(&self, on_failure: OnFailure) -> bool {
        self.cut || (self.failed.is_some() && on_failure == OnFailure::Stop)
    }
}

impl<T: Transport> Vu<T> {
    /// Runs the scenario's teardown steps for this VU's user, every step
    /// whatever the one before did (a logout goes out even when the run's
    /// last request failed).
    pub async fn run_teardown(&mut self, plan: &Plan<T>) {
        let mut walk = Walk {
            teardown: true,
            ..Walk::default()
        };
        self.walk(plan, &plan.teardown, OnFailure::Continue, &mut walk)
            .await;
    }

    /// Runs one iteration of `flow` and writes its record. `scheduled` is
    /// when an open-model arrival was due (the iteration's lag counts from
    /// it). Returns whether the iteration failed.
    pub async fn run_flow(
        &mut self,
        plan: &Plan<T>,
        flow: &PreparedFlow,
        scheduled: Option<Instant>,
    ) -> bool {
        let started = Instant::now();
        let lag_ns = scheduled.map_or(0, |s| {
            started.saturating_duration_since(s).as_nanos() as u64
        });
        let mut walk = Walk {
            scheduled,
            ..Walk::default()
        };
        let saved_i = self.i;
        self.walk(plan, &flow.steps, flow.on_failure, &mut walk)
            .await;
        self.i = saved_i;
        if walk.cut {
            plan.stats
                .flows_cut
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return false;
        }
        let failed = walk.failed.is_some();
        let (failed_step, error) = match walk.failed {
            Some((step, kind)) => (Some(step), Some(kind.as_str().to_string())),
            None => (None, None),
        };
        let record = StreamRecord::Iteration(Iteration {
            ts: plan.clock.epoch_ns(started),
            flow: flow.name.clone(),
            duration_ns: started.elapsed().as_nanos() as u64,
            lag_ns,
            requests: walk.requests,
            vu: self.id,
            error,
            failed_step,
        });
        sink::emit_line(&record.line());
        failed
    }

    /// Runs `steps` in order (a loop's body runs its count of times).
    /// Boxed: loops nest.
    pub fn walk<'a>(
        &'a mut self,
        plan: &'a Plan<T>,
        steps: &'a [PreparedStep],
        on_failure: OnFailure,
        walk: &'a mut Walk,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
        Box::pin(async move {
            for step in steps {
                if walk.done(on_failure) {
                    return;
                }
                if !walk.teardown && !plan.control.running() {
                    walk.cut = true;
                    return;
                }
                match step {
                    PreparedStep::Request(p) => {
                        let scheduled = walk.scheduled.take();
                        let result = self
                            .request_step(plan, p, Some(&mut walk.values), scheduled)
                            .await;
                        walk.requests += result.sent;
                        if let Some(kind) = result.error {
                            walk.failed
                                .get_or_insert_with(|| (p.request.name.clone(), kind));
                        }
                    }
                    PreparedStep::Think(think) => {
                        let pause = think.sample(&mut self.rng);
                        if walk.teardown {
                            tokio::time::sleep(pause).await;
                        } else if !pause.is_zero() && !self.sleep(pause).await {
                            walk.cut = true;
                        }
                    }
                    PreparedStep::Set(values) => {
                        for (name, template) in values {
                            match self.render_value(template, &walk.values) {
                                Ok(value) => {
                                    walk.values.insert(name.clone(), value);
                                }
                                Err(e) => {
                                    // Caught by --dry-run; at run time a failure of the flow.
                                    walk.failed.get_or_insert_with(|| {
                                        (format!("set {name}: {e}"), ErrorKind::Request)
                                    });
                                }
                            }
                        }
                    }
                    PreparedStep::Ws(ws) => {
                        let result = self.ws_step(plan, ws, walk).await;
                        walk.requests += result.sent;
                        if let Some(kind) = result.error {
                            walk.failed
                                .get_or_insert_with(|| (ws.ws.name.clone(), kind));
                        }
                    }
                    PreparedStep::Loop {
                        repeat,
                        counter,
                        steps,
                    } => {
                        let times = repeat.sample(&mut self.rng);
                        let outer = self.i;
                        for i in 1..=u64::from(times) {
                            if walk.done(on_failure) {
                                break;
                            }
                            self.i = i;
                            if let Some(counter) = counter {
                                walk.values.insert(counter.clone(), i.into());
                            }
                            self.walk(plan, steps, on_failure, walk).await;
                        }
                        self.i = outer;
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    //! VU, flow and auth logic against a scripted transport: exact, no server.

    use std::sync::Arc;

    use records::{Scenario, User, Var};

    use super::*;
    use crate::auth::AuthPlan;
    use crate::mix::{Entry, Mix, Prepared};
    use crate::progress::Stats;
    use crate::signals::Control;
    use crate::transport::fake::{Scripted, Sent};
    use crate::vu::{Clock, SharedUser};

    /// A plan for the `[hammer]` of `toml`, sending through `fake`.
    fn plan(toml: &str, fake: Scripted) -> Plan<Scripted> {
        let hammer = Scenario::parse(toml, "t.toml").unwrap().hammer.unwrap();
        let mut entries: Vec<Entry> = hammer
            .requests
            .into_iter()
            .map(|r| Entry::Request(Box::new(Prepared::new(r).unwrap())))
            .collect();
        entries.extend(
            hammer
                .flows
                .into_iter()
                .map(|f| Entry::Flow(PreparedFlow::new(f).unwrap())),
        );
        let prepare = |r: Option<records::scenario::Request>| r.map(|r| Prepared::new(r).unwrap());
        Plan {
            mix: Mix::new(entries),
            auth: AuthPlan {
                refresh_before: std::time::Duration::from_secs(30),
                refresh: prepare(hammer.auth.refresh),
                login: prepare(hammer.auth.login),
                reauth_on: hammer.auth.reauth_on,
            },
            think: Default::default(),
            teardown: Vec::new(),
            client: fake,
            stats: Arc::new(Stats::new(0)),
            control: Control::new(),
            clock: Clock::now(),
            dedicated: Vec::new(),
            ws: crate::ws::Limits::new(Default::default()),
            timer: Default::default(),
        }
    }

    /// Runs `iterations` draws of the mix for one VU playing `user`; returns
    /// the stream's lines.
    fn run(plan: &Plan<Scripted>, user: Arc<SharedUser>, iterations: usize) -> Vec<String> {
        let (tx, rx) = std::sync::mpsc::channel();
        sink::install(tx);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut vu: Vu<Scripted> = Vu::new(1, user, 1, 7, &plan.control);
            for _ in 0..iterations {
                vu.iteration(plan, None).await;
            }
        });
        sink::uninstall();
        rx.try_iter()
            .flat_map(|batch| {
                String::from_utf8(batch)
                    .unwrap()
                    .lines()
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    fn user_with(vars: &[(&str, Var)]) -> Arc<SharedUser> {
        let mut user = User {
            user: "u@example.com".into(),
            password: Some("pw".into()),
            token: Some("T0".into()),
            ..User::default()
        };
        for (name, var) in vars {
            user.vars.insert(name.to_string(), var.clone());
        }
        SharedUser::new(user)
    }

    #[test]
    fn a_flow_carries_captured_values_with_their_types() {
        let fake = Scripted::new(|sent: &Sent| match sent.path.as_str() {
            "/users" => (201, r#"{"id":42,"name":"ann","admin":false}"#.into()),
            _ => (200, "{}".into()),
        });
        let plan = plan(
            r#"
[hammer]
[[hammer.flows]]
name = "journey"
[[hammer.flows.steps]]
method = "POST"
path = "/users"
capture = { id = "/id", name = "/name", admin = "/admin" }
[[hammer.flows.steps]]
set = { label = "user {flow:id}" }
[[hammer.flows.steps]]
method = "PUT"
path = "/users/{flow:id}"
json = { userId = "{flow:id}", name = "{flow:name}", admin = "{flow:admin}", label = "{flow:label}" }
"#,
            fake,
        );
        let user = user_with(&[]);
        let lines = run(&plan, user.clone(), 2);
        let sent = plan.client.sent();
        assert_eq!(sent.len(), 4);
        assert_eq!(sent[1].path, "/users/42");
        let body: serde_json::Value = serde_json::from_str(&sent[1].body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"userId": 42, "name": "ann", "admin": false, "label": "user 42"})
        );
        // Two requests' events and the iteration's record, twice.
        let records: Vec<&String> = lines
            .iter()
            .filter(|l| l.contains("\"iteration\""))
            .collect();
        assert_eq!(lines.len(), 6);
        assert_eq!(records.len(), 2);
        assert!(
            records[0].contains(r#""flow":"journey""#) && records[0].contains(r#""requests":2"#)
        );
        // A flow's captures are its own: the user's vars are untouched.
        assert!(user.lock().user.vars.is_empty());
    }

    #[test]
    fn a_failing_step_stops_the_iteration_or_not() {
        for (on_failure, sends) in [("stop", 2), ("continue", 3)] {
            let fake = Scripted::new(|sent: &Sent| match sent.path.as_str() {
                "/b" => (500, String::new()),
                _ => (200, String::new()),
            });
            let plan = plan(
                &format!(
                    r#"
[hammer]
[[hammer.flows]]
name = "abc"
on_failure = "{on_failure}"
steps = [{{ path = "/a" }}, {{ path = "/b" }}, {{ path = "/c" }}]
"#
                ),
                fake,
            );
            let lines = run(&plan, user_with(&[]), 1);
            assert_eq!(plan.client.sent().len(), sends, "{on_failure}");
            let record = lines.last().unwrap();
            assert!(
                record.contains(r#""error":"status""#)
                    && record.contains(r#""failed_step":"GET /b""#),
                "{on_failure}: {record}"
            );
        }
    }

    /// A run that keeps creating tasks keeps the newest `--list-max` IDs
    /// (oldest out), while reads go on checking the picked ones out and in.
    #[test]
    fn a_list_that_keeps_growing_stays_at_its_cap() {
        let created = Arc::new(std::sync::atomic::AtomicU64::new(100));
        let next = created.clone();
        let fake = Scripted::new(move |sent: &Sent| match sent.method.as_str() {
            "POST" => {
                let id = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                (201, format!(r#"{{"id":{id}}}"#))
            }
            _ => (200, "{}".into()),
        });
        let plan = plan(
            r#"
[hammer]
[[hammer.requests]]
name = "POST /tasks"
weight = 2
method = "POST"
path = "/tasks"
append = { task_ids = "/id" }
[[hammer.requests]]
name = "GET /tasks/{id}"
path = "/tasks/{var:task_ids}"
"#,
            fake,
        );
        let user = SharedUser::with_list_max(User::default(), 5);
        let lines = run(&plan, user.clone(), 300);
        assert_eq!(lines.len(), 300);
        assert!(lines.iter().all(|l| l.contains(r#""error":null"#)));
        let last = created.load(std::sync::atomic::Ordering::SeqCst) - 1;
        assert!(last > 150, "{} POSTs", last - 99);
        let Var::List(left) = &user.lock().user.vars["task_ids"] else {
            panic!("a list")
        };
        let mut ids: Vec<u64> = left.iter().map(|v| v.as_u64().unwrap()).collect();
        assert_eq!(ids.len(), 5, "{ids:?}");
        // the newest is always kept: only an append drops one, the oldest
        assert!(ids.contains(&last), "{ids:?} lacks {last}");
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 5, "a value twice: {left:?}");
        // the reads went on, each of a created ID, all answered (above)
        let sent = plan.client.sent();
        let reads: Vec<&Sent> = sent.iter().filter(|s| s.method == "GET").collect();
        assert!(reads.len() > 50, "{} reads", reads.len());
        assert!(reads.iter().all(|s| {
            let id: u64 = s.path["/tasks/".len()..].parse().unwrap();
            (100..=last).contains(&id)
        }));
    }

    #[test]
    fn a_401_about_one_id_logs_in_once_and_drops_that_id() {
        // The target answers 401 to task 13 whatever the token: "not yours".
        let fake = Scripted::new(|sent: &Sent| match sent.path.as_str() {
            "/login" => (200, r#"{"access_token":"T1"}"#.into()),
            "/tasks/13" => (401, r#"{"detail":"Not authenticated"}"#.into()),
            _ => (200, r#"{"id":1}"#.into()),
        });
        let plan = plan(
            r#"
[hammer]
[hammer.auth.login]
method = "POST"
path = "/login"
auth = false
capture = { token = "/access_token" }
[[hammer.requests]]
name = "GET /tasks/{id}"
path = "/tasks/{var:task_ids}"
"#,
            fake,
        );
        let ids: Vec<serde_json::Value> = [11, 12, 13, 14].map(Into::into).to_vec();
        let user = user_with(&[("task_ids", Var::List(ids))]);
        let lines = run(&plan, user.clone(), 200);
        let sent = plan.client.sent();
        let logins = sent.iter().filter(|s| s.path == "/login").count();
        let thirteens: Vec<&Sent> = sent.iter().filter(|s| s.path == "/tasks/13").collect();
        assert_eq!(logins, 1, "one renewal: {:#?}", &sent[..sent.len().min(20)]);
        // Its first answer and the retry with the fresh token; then dropped.
        assert_eq!(thirteens.len(), 2);
        assert_eq!(thirteens[0].authorization.as_deref(), Some("Bearer T0"));
        assert_eq!(thirteens[1].authorization.as_deref(), Some("Bearer T1"));
        let Var::List(left) = &user.lock().user.vars["task_ids"] else {
            panic!("a list")
        };
        let mut left = left.clone();
        left.sort_by_key(|v| v.as_i64());
        assert_eq!(left, [11, 12, 14].map(serde_json::Value::from).to_vec());
        // 200 draws, the one retry, the one login: each an event.
        assert_eq!(lines.len(), 202);
        let failures = lines
            .iter()
            .filter(|l| l.contains(r#""status":401"#))
            .count();
        assert_eq!(failures, 2);
    }

    #[test]
    fn a_token_the_target_really_revoked_is_renewed_once_per_generation() {
        // Every request with the old token gets a 401; the new one works.
        let fake = Scripted::new(|sent: &Sent| {
            match (sent.path.as_str(), sent.authorization.as_deref()) {
                ("/login", _) => (200, r#"{"access_token":"T1"}"#.into()),
                (_, Some("Bearer T1")) => (200, "{}".into()),
                _ => (401, String::new()),
            }
        });
        let plan = plan(
            r#"
[hammer]
[hammer.auth.login]
method = "POST"
path = "/login"
auth = false
capture = { token = "/access_token" }
[[hammer.requests]]
path = "/me"
"#,
            fake,
        );
        let user = user_with(&[]);
        run(&plan, user.clone(), 50);
        let sent = plan.client.sent();
        assert_eq!(sent.iter().filter(|s| s.path == "/login").count(), 1);
        // The first request, the login, its retry and 49 more: all but the first work.
        assert_eq!(sent.len(), 52);
        assert_eq!(user.lock().token_gen, 1);
    }
}
