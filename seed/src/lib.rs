//! `seed`: create, log in and set up test users; print one User record each.
//!
//! The work is split by concern: [`account`] makes one user (register, login,
//! setup steps, using the shared `records::exchange` rendering and judging),
//! [`client`] sends requests with bounded retries, [`tally`] counts and
//! reports, and [`run`] fans the users out over a bounded number of tasks and
//! writes their records in user-number order.

pub mod account;
pub mod args;
pub mod client;
pub mod tally;

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::signal::unix::{signal, SignalKind};

use anyhow::Context as _;
use rand::rngs::SmallRng;
use rand::SeedableRng;
use records::ndjson::Writer;
use records::scenario::Seed;
use records::{bad_input, Exit, Failure, Scenario, Shard, User};

pub use args::Args;

use account::{Failed, Made};
use client::{Client, Settings};
use tally::{Tally, Verbosity};

/// Users made at once when neither the flag nor the scenario says.
pub const DEFAULT_CONCURRENCY: usize = 16;
/// Retries per request when neither the flag nor the scenario says.
pub const DEFAULT_RETRIES: u32 = 3;
/// First wait before a retry; it doubles each time.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// The resolved settings of one run.
#[derive(Clone, Debug)]
pub struct Plan {
    pub seed: Seed,
    pub target: String,
    pub first: u64,
    /// Users in all shards.
    pub users: u64,
    /// Which of them this run makes: user `first + k` for k the shard's.
    pub shard: Shard,
    pub concurrency: usize,
    pub retries: u32,
    pub timeout: Duration,
    pub allow_partial: bool,
    pub verbosity: Verbosity,
    pub tls: records::tls::Tls,
}

impl Plan {
    /// Loads the scenario and settles every setting; errors here are bad input (exit 2).
    pub fn from_args(args: &Args) -> anyhow::Result<Plan> {
        let scenario = Scenario::load(&args.scenario).map_err(|e| bad_input(e.to_string()))?;
        let seed = scenario.seed.clone().ok_or_else(|| {
            bad_input(format!(
                "{}: no [seed] section: seed needs one to know how to make users (see seed/README.md)",
                scenario.file
            ))
        })?;
        let target = scenario.target(args.target.as_deref()).map_err(bad_input)?;
        match reqwest::Url::parse(&target) {
            Ok(url) if url.host_str().is_some_and(|h| !h.is_empty()) => {}
            Ok(_) => return Err(bad_input(format!("target `{target}` has no host"))),
            Err(e) => return Err(bad_input(format!("target `{target}` is not a URL: {e}"))),
        }
        if args.timeout.is_zero() {
            return Err(bad_input("--timeout must be more than 0"));
        }
        let users = args.users.unwrap_or(seed.users);
        let first = args.first.unwrap_or(seed.first);
        if first.checked_add(users).is_none() {
            return Err(bad_input("--first plus --users is too large"));
        }
        let shard = Shard::from_flags(args.shard.as_deref(), args.shards, |name| {
            std::env::var(name).ok()
        })
        .map_err(bad_input)?;
        Ok(Plan {
            target,
            first,
            users,
            shard,
            concurrency: args
                .concurrency
                .map(|c| c as usize)
                .or(seed.concurrency)
                .unwrap_or(DEFAULT_CONCURRENCY),
            retries: args.retries.or(seed.retries).unwrap_or(DEFAULT_RETRIES),
            timeout: args.timeout,
            allow_partial: args.allow_partial,
            verbosity: if args.quiet {
                Verbosity::Quiet
            } else if args.progress {
                Verbosity::Progress
            } else {
                Verbosity::Normal
            },
            seed,
            tls: args.tls.load()?,
        })
    }
}

/// Runs `seed` with parsed arguments.
pub fn run(args: Args) -> anyhow::Result<Exit> {
    if args.dry_run {
        return dry_run(&args);
    }
    if let Some(users) = &args.teardown {
        return teardown(&args, users);
    }
    let plan = Plan::from_args(&args)?;
    records::tls::notice("seed", &plan.tls, plan.target.starts_with("https://"));
    client::check_tls(
        &plan.target,
        &plan.tls,
        plan.timeout.min(client::CONNECT_TIMEOUT),
    )?;
    let mut out = records::ndjson::create(args.output.as_deref(), true).with_context(|| {
        format!(
            "cannot create {}",
            args.output.as_deref().unwrap_or("-".as_ref()).display()
        )
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(seed_all(&plan, &mut out))
}

/// `seed --dry-run`: the scenario checked without a target ([`records::lint`]).
fn dry_run(args: &Args) -> anyhow::Result<Exit> {
    let scenario = Scenario::load(&args.scenario).map_err(|e| bad_input(e.to_string()))?;
    let problems = records::lint::check(&scenario, &Default::default());
    if let Some(message) = records::lint::report(&scenario, &problems) {
        return Err(bad_input(message));
    }
    if !args.quiet {
        eprintln!("seed: {}: OK: every template renders", scenario.file);
    }
    Ok(Exit::Ok)
}

/// `seed --teardown USERS`: the scenario's `[[teardown]]` once for each
/// user in the file, a few users at a time.
fn teardown(args: &Args, users_file: &std::path::Path) -> anyhow::Result<Exit> {
    let scenario = Scenario::load(&args.scenario).map_err(|e| bad_input(e.to_string()))?;
    if scenario.teardown.is_empty() {
        return Err(bad_input(format!(
            "{}: no [[teardown]] steps to run (e.g. a logout request)",
            scenario.file
        )));
    }
    if scenario
        .teardown
        .iter()
        .any(|s| matches!(s, records::scenario::Step::Set { .. }))
    {
        return Err(bad_input(format!(
            "{}: seed --teardown runs requests, think and loops; a `set` step is hammer's",
            scenario.file
        )));
    }
    let target = scenario.target(args.target.as_deref()).map_err(bad_input)?;
    let tls = args.tls.load()?;
    records::tls::notice("seed", &tls, target.starts_with("https://"));
    client::check_tls(&target, &tls, args.timeout.min(client::CONNECT_TIMEOUT))?;
    let path = users_file.to_string_lossy();
    let mut reader = records::ndjson::open(&path)?;
    let mut users = Vec::new();
    while let Some(user) = reader.next_record::<User>() {
        users.push(user?);
    }
    let concurrency = args.concurrency.map_or(DEFAULT_CONCURRENCY, |c| c as usize);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let failed = runtime.block_on(async {
        let client = Arc::new(Client::new(Settings {
            base_url: target.clone(),
            retries: args.retries.unwrap_or(DEFAULT_RETRIES),
            timeout: args.timeout,
            backoff: FIRST_BACKOFF,
            pool: concurrency,
            tls: tls.clone(),
        })?);
        let steps = Arc::new(scenario.teardown.clone());
        let mut tasks = tokio::task::JoinSet::new();
        let mut failed = Vec::new();
        for (i, user) in users.iter().cloned().enumerate() {
            if tasks.len() >= concurrency {
                if let Some(Ok(f)) = tasks.join_next().await {
                    failed.extend(f);
                }
            }
            let (client, steps) = (client.clone(), steps.clone());
            tasks.spawn(async move {
                let mut rng = SmallRng::from_entropy();
                account::teardown(&steps, &client, user, i as u64 + 1, &mut rng).await
            });
        }
        while let Some(done) = tasks.join_next().await {
            failed.extend(done.unwrap_or_default());
        }
        anyhow::Ok(failed)
    })?;
    if let Some(f) = failed.iter().find(|f| f.unreachable) {
        return Err(records::unreachable(if f.tls {
            records::tls::failure_line(&target, &f.reason)
        } else {
            format!("cannot reach {target}")
        }));
    }
    for f in &failed {
        eprintln!("seed: teardown failed: {f}");
    }
    eprintln!(
        "seed: teardown of {} users ({} from {path}): {} failed",
        users.len(),
        scenario.file,
        failed.len()
    );
    Ok(if failed.is_empty() {
        Exit::Ok
    } else {
        Exit::CheckFailed
    })
}

/// Makes every user and writes the good ones to `out`, in user-number order.
///
/// The first user is made alone: when nothing answers at the target, that
/// ends the run with exit 3 before any fan-out. Later users run on
/// `concurrency` tasks that take user numbers in turn.
pub async fn seed_all<W: Write>(plan: &Plan, out: &mut Writer<W>) -> anyhow::Result<Exit> {
    let client = Arc::new(Client::new(Settings {
        base_url: plan.target.clone(),
        retries: plan.retries,
        timeout: plan.timeout,
        backoff: FIRST_BACKOFF,
        pool: plan.concurrency,
        tls: plan.tls.clone(),
    })?);
    // Caught so a stopped seed still writes, whole, every user it has made.
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot watch SIGINT")?;
    let mut terminate = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
    let seed = Arc::new(plan.seed.clone());
    // Users are made by position in the shard; `number` is the user number.
    let end = plan.shard.share(plan.users);
    let (first, shard) = (plan.first, plan.shard);
    let number = move |position: u64| first + shard.global(position);
    let mut tally = Tally::new(end, plan.verbosity);
    let mut order = Order::new(0);

    if end > 0 {
        let mut rng = SmallRng::from_entropy();
        let outcome = account::make(&seed, &client, number(0), &mut rng).await;
        if let Err(failed) = &outcome {
            if failed.tls {
                return Err(records::unreachable(records::tls::failure_line(
                    &plan.target,
                    &failed.reason,
                )));
            }
            if failed.unreachable {
                return Err(records::unreachable(format!(
                    "cannot reach {} ({})",
                    plan.target, failed.reason
                )));
            }
        }
        tally.record(outcome.as_ref().map(|(_, made)| *made), client.sent());
        order.put(0, outcome, out)?;
    }

    let next = Arc::new(AtomicU64::new(1));
    let (tx, mut rx) = tokio::sync::mpsc::channel(plan.concurrency * 2);
    let workers = (plan.concurrency as u64).min(end.saturating_sub(1));
    for _ in 0..workers {
        let (client, seed, next, tx) = (client.clone(), seed.clone(), next.clone(), tx.clone());
        tokio::spawn(async move {
            let mut rng = SmallRng::from_entropy();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= end {
                    break;
                }
                let outcome = account::make(&seed, &client, number(n), &mut rng).await;
                if tx.send((n, outcome)).await.is_err() {
                    break;
                }
            }
        });
    }
    drop(tx);

    loop {
        let (n, outcome) = tokio::select! {
            got = rx.recv() => match got {
                Some(got) => got,
                None => break,
            },
            _ = interrupt.recv() => return stopped(&next, end, &mut order, out, &mut tally, &client),
            _ = terminate.recv() => return stopped(&next, end, &mut order, out, &mut tally, &client),
        };
        tally.record(outcome.as_ref().map(|(_, made)| *made), client.sent());
        if let Err(failed) = &outcome {
            if failed.unreachable {
                // The target went away: stop rather than fail every remaining user slowly.
                next.store(end, Ordering::Relaxed);
                order.rest(out)?;
                out.flush()?;
                tally.finish(client.sent());
                return Err(records::unreachable(format!(
                    "lost {} ({}) after {} users were made",
                    plan.target,
                    failed.reason,
                    tally.counts.created + tally.counts.existed
                )));
            }
        }
        order.put(n, outcome, out)?;
    }
    out.flush()?;
    tally.finish(client.sent());

    let counts = tally.counts;
    if counts.failed > 0 && !plan.allow_partial {
        return Err(Failure::new(
            Exit::CheckFailed,
            format!(
                "{} of {} users could not be made (--allow-partial accepts that)",
                counts.failed,
                counts.total()
            ),
        )
        .into());
    }
    Ok(Exit::Ok)
}

/// Ends a run cut short by SIGINT/SIGTERM: the users made so far are written
/// (those waiting for an earlier, unfinished one too) and it is a normal end.
fn stopped<W: Write>(
    next: &AtomicU64,
    end: u64,
    order: &mut Order,
    out: &mut Writer<W>,
    tally: &mut Tally,
    client: &Client,
) -> anyhow::Result<Exit> {
    next.store(end, Ordering::Relaxed);
    order.rest(out)?;
    out.flush()?;
    tally.finish(client.sent());
    eprintln!("seed: stopped by a signal; the users made so far are written");
    Ok(Exit::Ok)
}

/// Puts finished users back in user-number order before writing them. Users
/// finish nearly in the order they started, so few wait here.
struct Order {
    next: u64,
    waiting: BTreeMap<u64, Option<User>>,
}

impl Order {
    fn new(first: u64) -> Order {
        Order {
            next: first,
            waiting: BTreeMap::new(),
        }
    }

    /// Takes user `n`'s outcome and writes every user that is now next in line.
    fn put<W: Write>(
        &mut self,
        n: u64,
        outcome: Result<(User, Made), Failed>,
        out: &mut Writer<W>,
    ) -> std::io::Result<()> {
        self.waiting.insert(n, outcome.ok().map(|(user, _)| user));
        while let Some(user) = self.waiting.remove(&self.next) {
            if let Some(user) = user {
                out.write(&user)?;
            }
            self.next += 1;
        }
        Ok(())
    }

    /// Writes the users still waiting for an earlier one that will never come.
    fn rest<W: Write>(&mut self, out: &mut Writer<W>) -> std::io::Result<()> {
        for user in std::mem::take(&mut self.waiting).into_values().flatten() {
            out.write(&user)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str) -> User {
        User {
            user: name.into(),
            ..User::default()
        }
    }

    #[test]
    fn order_writes_users_by_number_and_skips_failures() {
        let mut out = Writer::new(Vec::new());
        let mut order = Order::new(1);
        let failed = Failed {
            n: 2,
            user: "b".into(),
            step: "x".into(),
            reason: "y".into(),
            unreachable: false,
            tls: false,
        };
        order
            .put(3, Ok((user("c"), Made::Created)), &mut out)
            .unwrap();
        order.put(2, Err(failed), &mut out).unwrap();
        out.flush().unwrap();
        assert!(out.get_mut().is_empty());
        order
            .put(1, Ok((user("a"), Made::Existed)), &mut out)
            .unwrap();
        out.flush().unwrap();
        let text = String::from_utf8(out.get_mut().clone()).unwrap();
        assert_eq!(text, "{\"user\":\"a\"}\n{\"user\":\"c\"}\n");

        order
            .put(6, Ok((user("f"), Made::Created)), &mut out)
            .unwrap();
        order
            .put(5, Ok((user("e"), Made::Created)), &mut out)
            .unwrap();
        order.rest(&mut out).unwrap();
        out.flush().unwrap();
        let text = String::from_utf8(out.get_mut().clone()).unwrap();
        assert!(
            text.ends_with("{\"user\":\"e\"}\n{\"user\":\"f\"}\n"),
            "{text}"
        );
    }
}
