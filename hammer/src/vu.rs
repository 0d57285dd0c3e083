//! A virtual user: one seeded User (shared with the other VUs of that user
//! when VUs outnumber users) with its own connection, random numbers and
//! `{seq}` counter; and the closed-model loop that runs it (request, think,
//! repeat, while its stage keeps it active).

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::SeedableRng;
use records::exchange::{self, Rendered};
use records::scenario::Request;
use records::template::{Context, FlowValues, JsonTemplate, RenderError};
use records::{ErrorKind, User};
use tokio::sync::watch;

use crate::auth::AuthPlan;
use crate::client::Client;
use crate::conn::Response;
use crate::h1::Outgoing;
use crate::mix::{Entry, Mix, Prepared, PreparedFlow, PreparedStep};
use crate::progress::Stats;
use crate::race;
use crate::signals::{self, Control, Phase};
use crate::sink::{self, EventParts};
use crate::stages::Stages;
use crate::stamp::Stamp;
use crate::transport::Transport;

pub use records::workload::Think;

/// The run's start, for event timestamps and schedules.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    pub start: Instant,
    /// `start` as a [`Stamp`].
    start_stamp: Stamp,
    pub start_epoch_ns: u64,
}

impl Clock {
    pub fn now() -> Clock {
        Clock::starting_at(Instant::now(), records::units::now_ns())
    }

    /// The clock of a run that starts at `start`, `start_epoch_ns` in
    /// wall-clock time.
    pub fn starting_at(start: Instant, start_epoch_ns: u64) -> Clock {
        Clock {
            start,
            start_stamp: Stamp::of(start),
            start_epoch_ns,
        }
    }

    /// The wall-clock nanoseconds of `at`, as [`Clock::epoch_at`] maps it.
    pub fn epoch_ns(&self, at: Instant) -> u64 {
        self.epoch_at(Stamp::of(at))
    }

    /// The wall-clock nanoseconds of `at` (an event's `ts`).
    pub fn epoch_at(&self, at: Stamp) -> u64 {
        self.start_epoch_ns + at.nanos_since(self.start_stamp)
    }

    /// Time since the start.
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(Stamp::now().nanos_since(self.start_stamp))
    }
}

/// What every VU of the run shares.
pub struct Plan<T: Transport = Client> {
    pub mix: Mix,
    pub auth: AuthPlan,
    pub think: Think,
    /// `[[teardown]]`: run once per seeded user after the load.
    pub teardown: Vec<PreparedStep>,
    pub client: T,
    pub stats: Arc<Stats>,
    pub control: Arc<Control>,
    pub clock: Clock,
    /// Flows run by VUs of their own (`vus`), outside the mix.
    pub dedicated: Vec<PreparedFlow>,
    /// The run's WebSocket start-up stagger and connection cap.
    pub ws: crate::ws::Limits,
    /// How sends on a schedule wait for their time (the open model's
    /// arrivals, a repeating `ws_send`): `HAMMER_PACER_TIMER`, read once.
    pub timer: crate::timer::TimerKind,
}

/// A seeded user's state, shared by every VU that plays this user (VUs are
/// assigned round-robin when they outnumber users): its token, cookies and
/// vars are one, so a task one VU deletes is gone for the others and a token
/// one VU renews serves them all.
#[derive(Debug)]
pub struct SharedUser {
    state: Mutex<UserState>,
    /// Held while re-authenticating, so the VUs of a user renew its token
    /// once, not once each (the others wait and use the new token).
    pub(crate) auth: tokio::sync::Mutex<()>,
}

#[derive(Debug)]
pub struct UserState {
    pub user: User,
    /// Lifetime of the last token captured, in seconds.
    pub token_ttl: Option<i64>,
    /// No proactive re-authentication before this (after one failed).
    pub auth_backoff: Option<Instant>,
    /// Bumped by every successful re-authentication: a VU whose request
    /// got a 401 under an older generation just retries with the new token.
    pub token_gen: u64,
    /// A token generation that a re-authentication made and that still got
    /// a `reauth_on` answer on the retry, and when: the target means
    /// something else by that status (not yours, not found), so such answers
    /// do not renew the token again for a while (no login storm).
    pub suspect: Option<(u64, Instant)>,
}

/// `--list-max`'s default: plenty of IDs to pick from, and a user's list
/// of them stays within tens of KB however long a run keeps creating.
pub const DEFAULT_LIST_MAX: usize = 1000;

impl UserState {
    /// Whether token generation `g` is suspect: its renewal did not cure a
    /// `reauth_on` answer, less than [`crate::auth::SUSPECT_FOR`] ago.
    pub fn suspect_of(&self, g: u64) -> bool {
        self.suspect
            .is_some_and(|(s, at)| s == g && at.elapsed() < crate::auth::SUSPECT_FOR)
    }
}

impl SharedUser {
    /// A user whose lists keep [`DEFAULT_LIST_MAX`] values.
    pub fn new(user: User) -> Arc<SharedUser> {
        SharedUser::with_list_max(user, DEFAULT_LIST_MAX)
    }

    /// A user whose lists keep at most `list_max` values (0: all).
    pub fn with_list_max(mut user: User, list_max: usize) -> Arc<SharedUser> {
        user.list_max = list_max;
        Arc::new(SharedUser {
            state: Mutex::new(UserState {
                user,
                token_ttl: None,
                auth_backoff: None,
                token_gen: 0,
                suspect: None,
            }),
            auth: tokio::sync::Mutex::new(()),
        })
    }

    /// The state; never held across an await (the lock is a plain mutex,
    /// uncontended when each user has one VU, as in ad-hoc mode).
    pub fn lock(&self) -> MutexGuard<'_, UserState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One virtual user.
pub struct Vu<T: Transport = Client> {
    /// 1-based, as events show it.
    pub id: u32,
    pub user: Arc<SharedUser>,
    /// 1-based number of the user in the input, for `{n}`.
    pub n: u64,
    pub seq: u64,
    /// The innermost flow loop's count, `{i}`.
    pub i: u64,
    /// Pick lists' newest values (`--check`; see [`Context::newest`]).
    pub newest: bool,
    /// A repeating `ws_send` (`every`) sends once (`--check`).
    pub once: bool,
    pub rng: SmallRng,
    pub conn: Option<T::Conn>,
    /// The request timeout, armed across requests.
    pub watchdog: crate::timer::Watchdog,
    /// Open WebSocket connections, by their `socket` names.
    pub sockets: Vec<crate::ws::Socket>,
    pub phase: watch::Receiver<Phase>,
}

/// Unix seconds now.
pub fn now_secs() -> i64 {
    (records::units::now_ns() / 1_000_000_000) as i64
}

/// What became of one request step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StepResult {
    /// `None` when it succeeded.
    pub error: Option<ErrorKind>,
    /// Requests sent (a retry after re-authentication is a second).
    pub sent: u32,
}

impl<T: Transport> Vu<T> {
    pub fn new(id: u32, user: Arc<SharedUser>, n: u64, seed: u64, control: &Control) -> Vu<T> {
        Vu {
            id,
            user,
            n,
            seq: 0,
            i: 0,
            newest: false,
            once: false,
            rng: SmallRng::seed_from_u64(
                seed ^ (u64::from(id)).wrapping_mul(0x9E37_79B9_7F4A_7C15),
            ),
            conn: None,
            watchdog: Default::default(),
            sockets: Vec::new(),
            phase: control.subscribe(),
        }
    }

    /// A template context for this VU's user (whose state `state` is).
    pub(crate) fn context<'a>(
        &'a mut self,
        state: &'a UserState,
        flow: Option<&'a FlowValues>,
    ) -> Context<'a, SmallRng> {
        let mut ctx = Context::new(&state.user, &mut self.rng);
        ctx.flow = flow;
        ctx.newest = self.newest;
        ctx.n = self.n;
        ctx.i = self.i;
        ctx.seq = self.seq;
        ctx
    }

    /// Renders `request` for this VU's user (whose state `state` is).
    fn render_with(
        &mut self,
        state: &UserState,
        request: &Request,
        flow: Option<&FlowValues>,
    ) -> Result<Rendered, RenderError> {
        let mut ctx = self.context(state, flow);
        let rendered = exchange::render(request, &mut ctx);
        let seq = ctx.seq;
        self.seq = seq;
        rendered
    }

    /// Renders a flow value of a `set` step.
    pub fn render_value(
        &mut self,
        template: &JsonTemplate,
        flow: &FlowValues,
    ) -> Result<serde_json::Value, RenderError> {
        let user = self.user.clone();
        let state = user.lock();
        let mut ctx = self.context(&state, Some(flow));
        let value = template.render(&mut ctx);
        let seq = ctx.seq;
        self.seq = seq;
        value
    }

    /// Renders `request` and checks out the list values it picked (see
    /// [`check_out`]); returns the token generation it was rendered under.
    pub fn render(
        &mut self,
        request: &Request,
        flow: Option<&FlowValues>,
    ) -> Result<(Rendered, u64), RenderError> {
        let user = self.user.clone();
        let mut state = user.lock();
        let rendered = self.render_with(&state, request, flow)?;
        check_out(&mut state.user, &rendered);
        Ok((rendered, state.token_gen))
    }

    /// One draw from the mix (with the authentication it needs first): a
    /// single request, or a whole flow. `scheduled` is when an open-model
    /// arrival was due.
    pub async fn iteration(&mut self, plan: &Plan<T>, scheduled: Option<Instant>) {
        if let Some(token_gen) = self.token_due(plan) {
            self.reauth(plan, token_gen, true).await;
        }
        match self.pick(&plan.mix) {
            Ok(Picked::Request(p, rendered, token_gen)) => {
                // send_step's two steps, written out: one async layer less on
                // the hot path (each layer moves the request's future once more).
                let (status, error) = self
                    .exchange(plan, p, &rendered, scheduled, None, Some(token_gen))
                    .await;
                if self.needs_renewal(plan, p, status, error) {
                    // Boxed, as the flow below: a rare path whose state would
                    // otherwise enlarge every iteration's future (moved on
                    // each spawn of an open-model arrival).
                    let rendered = rendered.into_owned();
                    Box::pin(self.retry_renewed(plan, p, rendered, token_gen, None, error)).await;
                }
            }
            Ok(Picked::Flow(flow)) => {
                Box::pin(self.run_flow(plan, flow, scheduled)).await;
            }
            Err((p, e)) => {
                // Nothing in the mix can be made for this user now.
                self.record(
                    plan,
                    p,
                    Measured::unsent(),
                    Some((ErrorKind::Request, e.to_string())),
                );
            }
        }
    }

    /// Picks an entry that can go now: a single request whose template needs
    /// an empty list or a missing value sends the pick elsewhere in the mix,
    /// rather than making a request that fails because of the generator.
    fn pick<'m>(&mut self, mix: &'m Mix) -> Result<Picked<'m>, (&'m Prepared, RenderError)> {
        let user = self.user.clone();
        let mut state = user.lock();
        let mut excluded: Vec<bool> = Vec::new();
        let mut first_err = None;
        let mut index = mix.pick(&mut self.rng);
        loop {
            match &mix.entries[index] {
                Entry::Flow(flow) => return Ok(Picked::Flow(flow)),
                Entry::Request(boxed) => {
                    let p: &Prepared = boxed;
                    if let Some(fixed) = &p.literal {
                        if !exchange::adds_credentials(&p.request, &state.user) {
                            return Ok(Picked::Request(p, Cow::Borrowed(fixed), state.token_gen));
                        }
                    }
                    match self.render_with(&state, &p.request, None) {
                        Ok(rendered) => {
                            check_out(&mut state.user, &rendered);
                            return Ok(Picked::Request(p, Cow::Owned(rendered), state.token_gen));
                        }
                        Err(e) => {
                            first_err.get_or_insert((p, e));
                            if excluded.is_empty() {
                                excluded = vec![false; mix.entries.len()];
                            }
                            excluded[index] = true;
                            match mix.pick_except(&mut self.rng, &excluded) {
                                Some(i) => index = i,
                                None => return Err(first_err.expect("set above")),
                            }
                        }
                    }
                }
            }
        }
    }

    /// A request step: render it (inside a flow, with the iteration's
    /// values), send it, and renew the token and retry once on a
    /// `reauth_on` answer. A step that cannot be rendered is an event of
    /// kind `request`, not sent.
    pub async fn request_step(
        &mut self,
        plan: &Plan<T>,
        p: &Prepared,
        mut flow: Option<&mut FlowValues>,
        scheduled: Option<Instant>,
    ) -> StepResult {
        match self.render(&p.request, flow.as_deref()) {
            Ok((rendered, token_gen)) => {
                self.send_step(plan, p, rendered, token_gen, flow.take(), scheduled)
                    .await
            }
            Err(e) => {
                self.record(
                    plan,
                    p,
                    Measured::unsent(),
                    Some((ErrorKind::Request, e.to_string())),
                );
                StepResult {
                    error: Some(ErrorKind::Request),
                    sent: 0,
                }
            }
        }
    }

    /// Sends a rendered request; on a `reauth_on` status renews the user's
    /// token (once per token generation, see [`Vu::reauth`]) and retries
    /// once ([`Vu::retry_renewed`]).
    async fn send_step(
        &mut self,
        plan: &Plan<T>,
        p: &Prepared,
        rendered: Rendered,
        token_gen: u64,
        mut flow: Option<&mut FlowValues>,
        scheduled: Option<Instant>,
    ) -> StepResult {
        let (status, error) = self
            .exchange(
                plan,
                p,
                &rendered,
                scheduled,
                flow.as_deref_mut(),
                Some(token_gen),
            )
            .await;
        if self.needs_renewal(plan, p, status, error) {
            // Not boxed, unlike iteration's: a flow step's caller is boxed already.
            return self
                .retry_renewed(plan, p, rendered, token_gen, flow, error)
                .await;
        }
        StepResult { error, sent: 1 }
    }

    /// Whether a request's failure says its token is no longer good.
    fn needs_renewal(
        &self,
        plan: &Plan<T>,
        p: &Prepared,
        status: u16,
        error: Option<ErrorKind>,
    ) -> bool {
        error.is_some()
            && plan.auth.reauth_on.contains(&status)
            && p.request.auth
            && plan.auth.can_reauth()
            && plan.control.phase() < Phase::Abort
    }

    /// After a `reauth_on` answer: renews the token and sends the same
    /// request again (the same IDs) with the new credentials. A retry that
    /// fails the same way is an ordinary failure, and marks the generation
    /// suspect, so the next such answers go without a renewal.
    async fn retry_renewed(
        &mut self,
        plan: &Plan<T>,
        p: &Prepared,
        rendered: Rendered,
        token_gen: u64,
        flow: Option<&mut FlowValues>,
        first: Option<ErrorKind>,
    ) -> StepResult {
        let failed = StepResult {
            error: first,
            sent: 1,
        };
        if !self.reauth(plan, token_gen, false).await {
            return failed;
        }
        let mut again = rendered;
        let retry_gen = {
            let mut state = self.user.lock();
            let same = exchange::reauthorize(&p.request, &mut again, &state.user);
            if same {
                check_out(&mut state.user, &again);
                Some(state.token_gen)
            } else {
                None
            }
        };
        let retry_gen = match retry_gen {
            Some(g) => g,
            None => match self.render(&p.request, flow.as_deref()) {
                Ok((rendered, g)) => {
                    again = rendered;
                    g
                }
                Err(_) => return failed,
            },
        };
        let (status, error) = self.exchange(plan, p, &again, None, flow, None).await;
        if error.is_some() && plan.auth.reauth_on.contains(&status) {
            self.user.lock().suspect = Some((retry_gen, Instant::now()));
        }
        StepResult { error, sent: 2 }
    }

    /// Sends one rendered request and writes its event. Returns the status
    /// (0 without a response) and the error kind, if it failed. `token_gen`:
    /// the token generation it was rendered under, or `None` for a retry
    /// with a token fresh from its renewal. When the token is known good
    /// (fresh, or a generation whose renewal did not cure such answers), a
    /// `reauth_on` or 403 answer is about the picked ID, which is then
    /// dropped like one that is gone.
    pub async fn exchange(
        &mut self,
        plan: &Plan<T>,
        p: &Prepared,
        rendered: &Rendered,
        scheduled: Option<Instant>,
        flow: Option<&mut FlowValues>,
        token_gen: Option<u64>,
    ) -> (u16, Option<ErrorKind>) {
        let bytes_out = rendered.body.len() as u64;
        let sent = Stamp::now();
        let lag = scheduled.map_or(0, |s| sent.nanos_since(Stamp::of(s)));
        let mut cancelled = false;
        let mut proto = None;
        let outgoing = Outgoing {
            method: p.method.as_str(),
            path_and_query: &rendered.path_and_query,
            headers: &rendered.headers,
            body: &rendered.body,
            started: sent,
            literal: p
                .literal
                .as_ref()
                .is_some_and(|fixed| std::ptr::eq(fixed, rendered))
                .then_some(p.id),
        };
        // Pinned in place, as in Client::send: the race holds pointers.
        let outcome = {
            let send = std::pin::pin!(plan.client.send(
                &mut self.conn,
                outgoing,
                p.needs_body,
                &mut proto,
                &mut self.watchdog,
            ));
            let aborted = std::pin::pin!(signals::aborted(&mut self.phase));
            race::first(send, aborted).await.unwrap_or_else(|()| {
                cancelled = true;
                Err((
                    ErrorKind::Other,
                    "cancelled: the run was aborted with the request in flight".to_string(),
                ))
            })
        };
        if cancelled {
            self.conn = None;
        }
        let latency = Duration::from_nanos(match &outcome {
            Ok(Response {
                arrived_after_ns: Some(ns),
                ..
            }) => u64::from(ns.get()),
            _ => Stamp::now().nanos_since(sent),
        });
        let (connect_ns, ttfb_ns) = match &outcome {
            // Never more than the latency (both clocks are read apart).
            Ok(resp) => (
                resp.connect_ns,
                resp.ttfb_ns.map(|t| t.min(latency.as_nanos() as u64)),
            ),
            Err(_) => (None, None),
        };
        let (status, bytes_in, error) = match outcome {
            Err(failure) => (0, 0, Some(failure)),
            Ok(resp) if resp.error.is_some() => (resp.status, resp.bytes_in, resp.error),
            Ok(resp) => {
                let mut state = self.user.lock();
                for cookie in &resp.set_cookies {
                    state.user.set_cookie(cookie);
                }
                // The clock only turns a captured `expires_in` into a time.
                let now = if p.request.capture.is_empty() {
                    0
                } else {
                    now_secs()
                };
                let verdict = exchange::judge(
                    &p.request,
                    rendered,
                    resp.status,
                    &resp.body,
                    latency,
                    &mut state.user,
                    now,
                    flow,
                );
                if verdict.ok()
                    && p.request
                        .capture
                        .iter()
                        .any(|(name, _)| name == "expires_in" || name == "expires_at")
                {
                    state.token_ttl = state.user.expires_at.map(|at| at - now);
                }
                (resp.status, resp.bytes_in, verdict.error)
            }
        };
        if !rendered.picked.is_empty() {
            let mut state = self.user.lock();
            let trusted = token_gen.is_none_or(|g| state.suspect_of(g));
            let denied = trusted && (status == 403 || plan.auth.reauth_on.contains(&status));
            check_in(
                &mut state.user,
                &p.request,
                rendered,
                status,
                error.is_none(),
                denied,
            );
        }
        if cancelled {
            plan.stats.aborted.fetch_add(1, Ordering::Relaxed);
        }
        let kind = error.as_ref().map(|(kind, _)| *kind);
        self.record(
            plan,
            p,
            Measured {
                sent,
                status,
                latency_ns: latency.as_nanos() as u64,
                lag_ns: lag,
                bytes_in,
                bytes_out,
                connect_ns,
                ttfb_ns,
                proto,
            },
            error,
        );
        (status, kind)
    }

    fn record(
        &self,
        plan: &Plan<T>,
        p: &Prepared,
        m: Measured,
        error: Option<(ErrorKind, String)>,
    ) {
        plan.stats.record(m.latency_ns, error.is_some());
        let (kind, detail) = match &error {
            None => (None, None),
            Some((kind, detail)) => (Some(*kind), Some(detail.as_str())),
        };
        sink::emit(&EventParts {
            ts: plan.clock.epoch_at(m.sent),
            name_json: &p.name_json,
            method_json: &p.method_json,
            status: m.status,
            latency_ns: m.latency_ns,
            lag_ns: m.lag_ns,
            bytes_in: m.bytes_in,
            bytes_out: m.bytes_out,
            vu: self.id,
            error: kind,
            detail,
            connect_ns: m.connect_ns,
            ttfb_ns: m.ttfb_ns,
            proto: m.proto,
        });
    }

    /// Sleeps for `d`, or less if the run stops meanwhile; false if it stopped.
    pub async fn sleep(&mut self, d: Duration) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(d) => true,
            _ = signals::reached(&mut self.phase, Phase::Stopping) => false,
        }
    }

    /// Sleeps until `at`, or less if the run stops meanwhile; false if it stopped.
    pub async fn sleep_until(&mut self, at: Instant) -> bool {
        tokio::select! {
            _ = tokio::time::sleep_until(at.into()) => true,
            _ = signals::reached(&mut self.phase, Phase::Stopping) => false,
        }
    }
}

/// An entry of the mix, ready to go.
enum Picked<'m> {
    /// The request and, rendered for this user (or its literal rendering), what goes.
    Request(&'m Prepared, Cow<'m, Rendered>, u64),
    Flow(&'m PreparedFlow),
}

/// Takes the list values a request picked (a task ID) out of the user's
/// lists while the request is in flight, so no other VU of the same user
/// picks the same one meanwhile: a VU's `DELETE` never races another's
/// `GET` of the same ID, and the generator never causes a 404 ([`check_in`]
/// puts them back).
fn check_out(user: &mut User, rendered: &Rendered) {
    for (var, value) in &rendered.picked {
        user.remove(var, value);
    }
}

/// Puts the values [`check_out`] took back after the response (as the
/// newest, so a full list drops its oldest instead), except those
/// that are gone: a successful request that `remove`s them (a delete), a
/// 404/410, a delete with no answer (it may have happened; losing an ID is
/// better than a 404 the generator made), or an ID the target `denied` to a
/// token known good (a 403, or a `reauth_on` answer a renewal did not cure).
fn check_in(
    user: &mut User,
    request: &Request,
    rendered: &Rendered,
    status: u16,
    ok: bool,
    denied: bool,
) {
    let gone_anyway = status == 404 || status == 410 || denied;
    for (var, value) in &rendered.picked {
        let removes = request.remove.iter().any(|r| r == var);
        if gone_anyway || (removes && (ok || status == 0)) {
            continue;
        }
        user.append(var, value.clone());
    }
}

/// What was measured of one request.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Measured {
    sent: Stamp,
    status: u16,
    latency_ns: u64,
    lag_ns: u64,
    bytes_in: u64,
    bytes_out: u64,
    connect_ns: Option<u64>,
    ttfb_ns: Option<u64>,
    /// `h2`, or `None` for HTTP/1.1 (and requests that never got a connection).
    proto: Option<&'static str>,
}

impl Measured {
    /// A request that could not be made: nothing went out.
    fn unsent() -> Measured {
        Measured {
            sent: Stamp::now(),
            status: 0,
            latency_ns: 0,
            lag_ns: 0,
            bytes_in: 0,
            bytes_out: 0,
            connect_ns: None,
            ttfb_ns: None,
            proto: None,
        }
    }
}

/// The closed model's limits on a VU.
#[derive(Debug)]
pub struct Closed {
    /// How many VUs should be active over time.
    pub stages: Stages,
    /// Requests per VU.
    pub iterations: Option<u64>,
    /// Requests in all (burst mode); counts the requests started.
    pub requests: Option<u64>,
    pub started: AtomicU64,
}

/// Runs VU number `index` (from 0) of a closed-model run: a request, think,
/// and again, while the stages keep it active; it finishes the request it is
/// in when its stage drops below it.
pub async fn run_closed<T: Transport>(
    mut vu: Vu<T>,
    index: u64,
    plan: Arc<Plan<T>>,
    closed: Arc<Closed>,
) {
    let level = index as f64;
    let end = closed.stages.end();
    let mut active = false;
    let mut started = false;
    let mut done = 0u64;
    loop {
        if !plan.control.running() {
            break;
        }
        let elapsed = plan.clock.elapsed();
        if elapsed >= end {
            break;
        }
        if closed.stages.value_at(elapsed) <= level {
            if active {
                active = false;
                plan.stats.active_vus.fetch_sub(1, Ordering::Relaxed);
                vu.conn = None;
            }
            match closed.stages.next_above(level, elapsed) {
                None => break,
                Some(at) => {
                    let wait = at.saturating_sub(plan.clock.elapsed());
                    if !vu.sleep(wait).await {
                        break;
                    }
                    continue;
                }
            }
        }
        if !active {
            active = true;
            started = true;
            plan.stats.active_vus.fetch_add(1, Ordering::Relaxed);
        }
        if closed.iterations.is_some_and(|max| done >= max) {
            break;
        }
        if closed
            .requests
            .is_some_and(|max| closed.started.fetch_add(1, Ordering::Relaxed) >= max)
        {
            break;
        }
        vu.iteration(&plan, None).await;
        done += 1;
        let think = plan.think.sample(&mut vu.rng);
        if !think.is_zero() && !vu.sleep(think).await {
            break;
        }
    }
    vu.close_sockets().await;
    if active {
        plan.stats.active_vus.fetch_sub(1, Ordering::Relaxed);
    }
    // Its turn came (before the end, or the stop) and it never ran: the
    // generator was too slow to wake it, or its stage too short. A stop
    // counts from when it came, not from when this VU heard of it: a ramp
    // of many VUs woken by one ^C is not starved.
    let turn = closed.stages.next_above(level, Duration::ZERO);
    let gone = plan
        .control
        .stopped_at()
        .unwrap_or_else(Instant::now)
        .saturating_duration_since(plan.clock.start)
        .min(end);
    if !started && turn.is_some_and(|at| at < gone) {
        plan.stats.vus_not_started.fetch_add(1, Ordering::Relaxed);
    }
}

/// How long a VU of its own waits after a failed iteration before the
/// next: a target that refuses every connection is retried at this pace,
/// not in a tight loop.
pub const RETRY_PAUSE: Duration = Duration::from_secs(1);

/// Runs a VU of its own on `plan.dedicated[flow]` (a flow with `vus`):
/// iteration after iteration until the run stops, then closes its
/// WebSocket connections.
pub async fn run_dedicated<T: Transport>(mut vu: Vu<T>, plan: Arc<Plan<T>>, flow: usize) {
    plan.stats.active_vus.fetch_add(1, Ordering::Relaxed);
    while plan.control.running() {
        if let Some(token_gen) = vu.token_due(&plan) {
            vu.reauth(&plan, token_gen, true).await;
        }
        let failed = Box::pin(vu.run_flow(&plan, &plan.dedicated[flow], None)).await;
        let think = plan.think.sample(&mut vu.rng);
        let pause = if failed {
            think.max(RETRY_PAUSE)
        } else {
            think
        };
        if !pause.is_zero() && !vu.sleep(pause).await {
            break;
        }
    }
    vu.close_sockets().await;
    plan.stats.active_vus.fetch_sub(1, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn think_times_parse_and_stay_in_range() {
        assert_eq!(Think::parse("0s").unwrap(), Think::default());
        let t = Think::parse("1s..3s").unwrap();
        let mut rng = SmallRng::seed_from_u64(1);
        for _ in 0..1000 {
            let d = t.sample(&mut rng);
            assert!(d >= Duration::from_secs(1) && d <= Duration::from_secs(3));
        }
        assert_eq!(
            Think::parse("2s").unwrap().sample(&mut rng),
            Duration::from_secs(2)
        );
        assert!(Think::parse("3s..1s").is_err());
        assert!(Think::parse("fast").is_err());
    }
}
