//! hammer: drive a realistic HTTP load from seeded users and write one
//! [`records::Event`] per request.
//!
//! The run: [`cli`] resolves the command line and the scenario into a
//! [`cli::Config`]; worker threads (each a current-thread tokio runtime) run
//! the VUs ([`vu`], closed model) or the arrivals ([`open`]); every worker
//! batches its events and hands them to one writer thread ([`sink`]); the
//! main thread watches the clock, the signals ([`signals`]) and the live
//! line ([`progress`]).

pub mod auth;
pub mod check;
pub mod cli;
pub mod client;
pub mod conn;
pub mod cpuwatch;
pub mod dry_run;
pub mod flow;
pub mod h1;
pub mod head;
pub mod mix;
pub mod open;
pub mod pacer;
pub mod progress;
pub mod race;
pub mod signals;
pub mod sink;
pub mod stages;
pub mod stamp;
pub mod timer;
pub mod transport;
pub mod vu;
pub mod ws;

use std::io::{IsTerminal, Write};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use records::{bad_input, unreachable, Exit, User};

use crate::auth::AuthPlan;
use crate::cli::{Args, Config, UsersFrom, Workload};
use crate::client::Client;
use crate::mix::{Entry, Mix, Prepared, PreparedFlow, PreparedStep};
use crate::progress::Stats;
use crate::signals::{Control, Phase};
use crate::stages::FOREVER;
use crate::vu::{Clock, Closed, Plan, SharedUser, Vu};

/// Reads the User records the run needs.
fn load_users(from: &UsersFrom) -> anyhow::Result<Vec<User>> {
    let path = match from {
        UsersFrom::Nobody => return Ok(vec![User::default()]),
        UsersFrom::Stdin => {
            if std::io::stdin().is_terminal() {
                return Err(bad_input(
                    "this scenario needs users: pipe them from seed (seed -s FILE | hammer -s FILE) or give --users-file FILE",
                ));
            }
            "-"
        }
        UsersFrom::File(path) => path.as_str(),
    };
    let mut reader = records::ndjson::open(path)?;
    let mut users = Vec::new();
    while let Some(user) = reader.next_record::<User>() {
        users.push(user?);
    }
    if users.is_empty() {
        return Err(bad_input(format!(
            "no users in {}; make them with `seed -s FILE`",
            reader.source_name()
        )));
    }
    Ok(users)
}

fn prepare(request: records::scenario::Request) -> anyhow::Result<Prepared> {
    Prepared::new(request).map_err(bad_input)
}

/// Runs hammer with parsed arguments.
pub fn run(args: Args) -> anyhow::Result<Exit> {
    if args.dry_run {
        return dry_run::run(&args);
    }
    let config = Config::resolve(args)?;
    let users = load_users(&config.users)?;
    // Before the preflight, so the notice shows even when the target is down.
    records::tls::notice("hammer", &config.client.tls, config.target.https);
    config
        .target
        .preflight(&config.client)
        .map_err(unreachable)?;
    let out: Option<Box<dyn Write + Send>> = match &config.output {
        None if config.check => None,
        None => Some(Box::new(std::io::stdout())),
        Some(path) => Some(Box::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))
                .map_err(|e| bad_input(format!("{e:#}")))?,
        )),
    };
    let control = Control::new();
    let stats = Arc::new(Stats::new(if config.live { config.threads } else { 0 }));
    let mut entries: Vec<Entry> = config
        .requests
        .iter()
        .cloned()
        .map(|r| prepare(r).map(|p| Entry::Request(Box::new(p))))
        .collect::<anyhow::Result<_>>()?;
    let mut dedicated = Vec::new();
    for flow in &config.flows {
        let prepared = PreparedFlow::new(flow.clone()).map_err(bad_input)?;
        if prepared.vus.is_some() {
            dedicated.push(prepared);
        } else {
            entries.push(Entry::Flow(prepared));
        }
    }
    let mixed = !entries.is_empty();
    let plan = Arc::new(Plan {
        mix: Mix::new(entries),
        auth: AuthPlan {
            refresh_before: config.refresh_before,
            refresh: config.refresh.clone().map(prepare).transpose()?,
            login: config.login.clone().map(prepare).transpose()?,
            reauth_on: config.reauth_on.clone(),
        },
        think: config.think,
        teardown: PreparedStep::all(config.teardown.clone()).map_err(bad_input)?,
        client: Client::new(config.target.clone(), config.client.clone()).map_err(bad_input)?,
        stats: stats.clone(),
        control: control.clone(),
        clock: start_clock(config.start_at)?,
        dedicated,
        ws: ws::Limits::new(config.websocket.clone()),
        timer: timer::TimerKind::from_env(),
    });
    // Each seeded user's state is shared by the VUs playing it; without
    // users (ad-hoc mode) every VU has its own, so nothing is contended.
    let anonymous = matches!(config.users, UsersFrom::Nobody);
    let users: Arc<Vec<Arc<SharedUser>>> = Arc::new(
        users
            .into_iter()
            .map(|u| SharedUser::with_list_max(u, config.list_max))
            .collect(),
    );
    if config.check {
        return check::run(&plan, users[0].clone(), out);
    }
    let (events, writer) = {
        let control = control.clone();
        let out = out.expect("an output outside --check");
        sink::start(out, move || control.interrupt())
    };
    let closed = match &config.workload {
        Workload::Closed {
            stages,
            iterations,
            requests,
        } => Some(Arc::new(Closed {
            stages: stages.clone(),
            iterations: *iterations,
            requests: *requests,
            started: AtomicU64::new(0),
        })),
        Workload::Open { .. } => None,
    };

    let threads = config.threads as u64;
    let timer = plan.timer;
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let mut workers = Vec::new();
    for w in 0..threads {
        let (plan, users, closed, events, done) = (
            plan.clone(),
            users.clone(),
            closed.clone(),
            events.clone(),
            done_tx.clone(),
        );
        let workload = match &config.workload {
            Workload::Open {
                pacer,
                max_vus,
                requests,
                ..
            } => Some((pacer.clone(), *max_vus, *requests)),
            Workload::Closed { .. } => None,
        };
        let vus = if mixed {
            config.workload.shard_vus(config.shard)
        } else {
            0
        };
        // This worker's VUs of their own: (flow index, local VU index).
        let own: Vec<(usize, u64)> = {
            let mut all = Vec::new();
            for (f, flow) in plan.dedicated.iter().enumerate() {
                let count = config.shard.share(flow.vus.unwrap_or(0));
                all.extend((0..count).map(|_| f));
            }
            all.into_iter()
                .enumerate()
                .map(|(j, f)| (f, vus + j as u64))
                .filter(|&(_, local)| (local - vus) % threads == w)
                .collect()
        };
        let shard = config.shard;
        let seed = config.random_seed;
        let worker = std::thread::Builder::new()
            .name(format!("hammer-worker-{w}"))
            .spawn(move || {
                sink::install(events);
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a tokio runtime");
                runtime.block_on(async {
                    let abort_watch = signals::watch_abort(&plan.control);
                    let flusher = tokio::spawn(async {
                        let mut tick = tokio::time::interval(Duration::from_millis(200));
                        loop {
                            tick.tick().await;
                            sink::flush();
                        }
                    });
                    // The shard's `local`-th VU: its user is the shard's
                    // local-th (seed --shard gives each shard its users),
                    // its number and `{n}` are the run-wide ones.
                    let vu_of = |local: u64| {
                        let id = shard.global(local) as u32 + 1;
                        if anonymous {
                            return Vu::new(
                                id,
                                SharedUser::with_list_max(User::default(), config.list_max),
                                1,
                                seed,
                                &plan.control,
                            );
                        }
                        let i = local % users.len() as u64;
                        let n = shard.global(i) + 1;
                        Vu::new(id, users[i as usize].clone(), n, seed, &plan.control)
                    };
                    let mut own_tasks = tokio::task::JoinSet::new();
                    for &(flow, local) in &own {
                        own_tasks.spawn(vu::run_dedicated(vu_of(local), plan.clone(), flow));
                    }
                    match (closed, workload) {
                        _ if !mixed => {}
                        (Some(closed), _) => {
                            let mut tasks = tokio::task::JoinSet::new();
                            let mut local = w;
                            while local < vus {
                                // The run-wide index is the VU's level in the stages.
                                let index = shard.global(local);
                                tasks.spawn(vu::run_closed(
                                    vu_of(local),
                                    index,
                                    plan.clone(),
                                    closed.clone(),
                                ));
                                local += threads;
                            }
                            while tasks.join_next().await.is_some() {}
                        }
                        (None, Some((pacer, max_vus, requests))) => {
                            let share = open::Share::of(shard, w, threads, max_vus, requests);
                            open::run(plan.clone(), pacer, share, timer, |k| {
                                vu_of(k * threads + w)
                            })
                            .await;
                        }
                        (None, None) => unreachable!("a workload is open or closed"),
                    }
                    while own_tasks.join_next().await.is_some() {}
                    flusher.abort();
                    abort_watch.abort();
                });
                sink::flush();
                let _ = done.send(());
            })
            .context("cannot start a worker thread")?;
        workers.push(worker);
    }
    drop(done_tx);
    // Kept to hand the writer the closing `load` record after every event.
    let closing = events;

    let control_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the control runtime")?;
    let started = plan.clock.start;
    let end = config.workload.end();
    let whole_schedule = matches!(config.workload, Workload::Open { requests: None, .. });
    let (load_end, drained) = control_rt.block_on(async {
        let signals = tokio::spawn(signals::listen(control.clone(), config.grace, config.quiet));
        let live = config.live.then(|| {
            tokio::spawn({
                let stats = stats.clone();
                let terminal = config.terminal;
                async move { progress::live(&stats, started, terminal).await }
            })
        });
        let cpu = tokio::spawn({
            let stats = stats.clone();
            let (workers, quiet, terminal) = (config.threads, config.quiet, config.terminal);
            async move { cpuwatch::watch(&stats, started, workers, quiet, terminal).await }
        });
        let mut phase = control.subscribe();
        let mut remaining = threads;
        let all_done = async {
            while remaining > 0 && done_rx.recv().await.is_some() {
                remaining -= 1;
            }
        };
        tokio::pin!(all_done);
        let deadline = async {
            if end >= FOREVER {
                std::future::pending::<()>().await;
            }
            tokio::time::sleep_until((started + end).into()).await;
        };
        let finished = tokio::select! {
            _ = &mut all_done => true,
            _ = deadline => false,
            _ = signals::reached(&mut phase, Phase::Stopping) => false,
        };
        // The load ran to here; what follows is the drain. An open-model
        // schedule that ran out is as long as it is, even when its last
        // responses came back before its end.
        let now = Instant::now();
        let load_end = match started.checked_add(end) {
            Some(e) if finished && whole_schedule && !control.interrupted() => e,
            Some(e) => now.min(e),
            None => now,
        };
        if !finished {
            control.advance(Phase::Stopping);
            let done = tokio::select! {
                _ = &mut all_done => true,
                _ = tokio::time::sleep(config.grace) => false,
                _ = signals::reached(&mut phase, Phase::Abort) => false,
            };
            if !done {
                control.advance(Phase::Abort);
                // After an abort every request in flight ends at once.
                let _ = tokio::time::timeout(Duration::from_secs(10), &mut all_done).await;
            }
        }
        let drained = Instant::now();
        cpu.abort();
        signals.abort();
        if let Some(live) = live {
            live.abort();
            if config.terminal {
                eprintln!();
            }
        }
        (load_end, drained)
    });
    for worker in workers {
        let _ = worker.join();
    }
    if !anonymous && !plan.teardown.is_empty() && control.phase() < Phase::Abort {
        sink::install(closing.clone());
        control_rt.block_on(teardown(
            &plan,
            &users,
            config.workload.peak_vus(),
            config.grace,
        ));
        sink::uninstall();
    }
    let window = progress::Window {
        load: load_end.saturating_duration_since(started),
        drain: drained.saturating_duration_since(load_end),
    };
    // The stream's last line: the load window and what became of every
    // arrival, so aggregate divides by the same window and counts what was
    // never sent. A closed output has already ended the writer.
    let _ = closing.send(load_record(&plan.clock, &stats, window, config.shard));
    drop(closing);
    let written = writer
        .join()
        .map_err(|_| records::fault("the event writer panicked"))?
        .context("writing events")?;
    if !config.quiet && !written.closed {
        let open = matches!(config.workload, Workload::Open { .. });
        eprintln!("{}", progress::summary(&stats, window, open));
    }
    Ok(Exit::Ok)
}

/// Runs the scenario's teardown once for every seeded user, a few users at
/// a time, within `grace`: a logout per user after the load.
async fn teardown(plan: &Arc<Plan>, users: &[Arc<SharedUser>], first_vu: u64, grace: Duration) {
    const AT_ONCE: usize = 16;
    let work = async {
        let mut tasks = tokio::task::JoinSet::new();
        for (i, user) in users.iter().enumerate() {
            if tasks.len() >= AT_ONCE {
                tasks.join_next().await;
            }
            let id = (first_vu + i as u64 + 1) as u32;
            let mut vu: Vu = Vu::new(id, user.clone(), i as u64 + 1, id.into(), &plan.control);
            let plan = plan.clone();
            tasks.spawn(async move { vu.run_teardown(&plan).await });
        }
        while tasks.join_next().await.is_some() {}
    };
    if tokio::time::timeout(grace, work).await.is_err() {
        eprintln!(
            "hammer: the teardown did not finish within --grace {}",
            records::units::format_duration(grace)
        );
    }
}

/// How late `--start-at` may be found already past: a pod that starts later
/// than this would skew the run, so it fails (exit 2) instead.
pub const START_GRACE: Duration = Duration::from_secs(1);

/// The run's clock: now, or (`--start-at`) that instant, waited for. The
/// clock's epoch is the instant itself, so every shard's window starts at
/// the same nanosecond, however late the wait woke up.
fn start_clock(start_at: Option<u64>) -> anyhow::Result<Clock> {
    let Some(at) = start_at else {
        return Ok(Clock::now());
    };
    let now = records::units::now_ns();
    if now > at {
        let late = Duration::from_nanos(now - at);
        if late > START_GRACE {
            return Err(bad_input(format!(
                "--start-at is {} in the past (more than the {} grace); give a later time",
                records::units::format_duration(late),
                records::units::format_duration(START_GRACE),
            )));
        }
    } else {
        std::thread::sleep(Duration::from_nanos(at - now));
    }
    let late = Duration::from_nanos(records::units::now_ns().saturating_sub(at));
    let instant = Instant::now();
    Ok(Clock::starting_at(
        instant.checked_sub(late).unwrap_or(instant),
        at,
    ))
}

/// hammer's closing `{"kind":"load",…}` line.
fn load_record(
    clock: &vu::Clock,
    stats: &progress::Stats,
    window: progress::Window,
    shard: records::Shard,
) -> Vec<u8> {
    let accounting = stats.accounting();
    let start = clock.start_epoch_ns;
    let record = records::event::StreamRecord::Load(records::Load {
        start,
        end: start.saturating_add(window.load.as_nanos() as u64),
        scheduled: accounting.scheduled,
        sent: accounting.sent,
        dropped: accounting.dropped,
        cancelled: accounting.cancelled,
        vus_not_started: stats
            .vus_not_started
            .load(std::sync::atomic::Ordering::Relaxed),
        cpu_bound: stats.cpu_bound.load(std::sync::atomic::Ordering::Relaxed),
        shard: (!shard.is_whole()).then_some(shard),
    });
    record.line()
}
