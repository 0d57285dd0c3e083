//! The polling loop: one snapshot per tick, whole lines out, until a count,
//! a duration or a signal ends it; through a lost connection it keeps trying.

use std::io::Write;
use std::time::Duration;

use records::exit::{unreachable, Exit};
use records::ndjson::Writer;
use records::units::{following_tick, format_duration, now_ns};
use records::watch::Signals;
pub use records::watch::Until;
use records::Summary;
use tokio::time::{sleep_until, timeout, Instant};

use crate::alarm::Alarm;
use crate::session::Session;
use crate::snapshot::Shape;
use crate::target::{describe, Target};

/// Everything the loop needs, resolved from the command line.
#[derive(Clone, Debug)]
pub struct Settings {
    pub interval: Duration,
    /// When to stop polling (besides SIGINT/SIGTERM and a closed stdout).
    pub until: Until,
    pub shape: Shape,
    pub warn_utilization: Option<f64>,
    /// `--pool-size`: what the utilization is a share of, when given.
    pub pool_size: Option<u64>,
}

/// How long a poll may take before the connection counts as lost.
const POLL_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How often to repeat, during an outage, that the server is still away.
const STILL_DOWN_EVERY: Duration = Duration::from_secs(30);

/// Polls until done; every poll's samples are written and flushed together.
pub async fn watch<W: Write>(
    target: &Target,
    settings: &Settings,
    out: &mut Writer<W>,
) -> anyhow::Result<Exit> {
    let mut signals = Signals::new()?;
    let start = Instant::now();
    let deadline = match settings.until {
        Until::Elapsed(d) => Some(start + d),
        _ => None,
    };

    let opened = tokio::select! {
        opened = timeout(POLL_TIMEOUT, Session::open(target)) => opened,
        _ = signals.recv() => return Ok(Exit::Ok),
    };
    let session = match opened {
        Ok(Ok(session)) => session,
        Ok(Err(err)) => return Err(unreachable(cannot_reach(target, &describe(&err)))),
        Err(_) => return Err(unreachable(cannot_reach(target, "no answer in time"))),
    };
    check_role(&session, target).await;
    check_databases(&session, target, &settings.shape.datnames).await;

    let mut session = Some(session);
    let mut alarm = settings
        .warn_utilization
        .map(|t| Alarm::new(t, settings.pool_size.is_some()));
    let mut polls: u64 = 0;
    let mut next = start;
    loop {
        if let Until::Count(n) = settings.until {
            if polls >= n {
                return Ok(Exit::Ok);
            }
        }
        let wake = deadline.map_or(next, |d| if polls > 0 { next.min(d) } else { next });
        tokio::select! {
            _ = sleep_until(wake) => {}
            _ = signals.recv() => return Ok(Exit::Ok),
        }
        if polls > 0 && deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(Exit::Ok);
        }
        next = Instant::from_std(following_tick(
            start.into_std(),
            settings.interval,
            std::time::Instant::now(),
        ));

        let current = match session.take() {
            Some(s) => s,
            None => match reconnect(target, &mut signals, deadline).await {
                Some(s) => s,
                None => return Ok(Exit::Ok),
            },
        };
        let ts = now_ns();
        let result = tokio::select! {
            result = timeout(POLL_TIMEOUT, current.snapshot(&settings.shape, ts)) => result,
            _ = signals.recv() => return Ok(Exit::Ok),
        };
        match result {
            Ok(Ok(snapshot)) => {
                let (used, capacity) = match settings.pool_size {
                    Some(pool) => (snapshot.busy(), pool),
                    None => (snapshot.server_total, snapshot.max_connections),
                };
                for mut sample in snapshot.samples {
                    sample.pool_size = settings.pool_size;
                    out.write(&Summary::Pg(sample))?;
                }
                // A live consumer (chart, a terminal) should see each poll now.
                out.flush()?;
                polls += 1;
                if let Some(line) = alarm.as_mut().and_then(|a| a.observe(used, capacity)) {
                    eprintln!("{line}");
                }
                session = Some(current);
            }
            Ok(Err(err)) if is_statement_error(&err) && !current.is_closed() => {
                eprintln!("pgwatch: poll failed: {}", target.scrub(&describe(&err)));
                session = Some(current);
            }
            Ok(Err(err)) => {
                eprintln!(
                    "pgwatch: lost connection to PostgreSQL at {}: {}; retrying",
                    target.place,
                    target.scrub(&describe(&err))
                );
                drop(current);
            }
            Err(_) => {
                eprintln!(
                    "pgwatch: PostgreSQL at {} did not answer within {}; reconnecting",
                    target.place,
                    format_duration(POLL_TIMEOUT)
                );
                drop(current);
            }
        }
    }
}

/// An error the statement hit with the connection still fine (say, a cancelled query).
fn is_statement_error(err: &tokio_postgres::Error) -> bool {
    err.as_db_error().is_some_and(|db| db.severity() == "ERROR")
}

/// Tries again with backoff until the server is back; `None` when told to stop meanwhile.
async fn reconnect(
    target: &Target,
    signals: &mut Signals,
    deadline: Option<Instant>,
) -> Option<Session> {
    let lost_at = Instant::now();
    let mut told_at = lost_at;
    let mut delay = Duration::from_millis(100);
    loop {
        let wake = Instant::now() + delay;
        let wake = deadline.map_or(wake, |d| wake.min(d));
        tokio::select! {
            _ = sleep_until(wake) => {}
            _ = signals.recv() => return None,
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return None;
        }
        let attempt = tokio::select! {
            attempt = timeout(POLL_TIMEOUT, Session::open(target)) => attempt,
            _ = signals.recv() => return None,
        };
        match attempt {
            Ok(Ok(session)) => {
                eprintln!(
                    "pgwatch: reconnected to PostgreSQL at {} after {}",
                    target.place,
                    format_duration(round_ms(lost_at.elapsed()))
                );
                return Some(session);
            }
            Ok(Err(err)) if told_at.elapsed() >= STILL_DOWN_EVERY => {
                told_at = Instant::now();
                eprintln!(
                    "pgwatch: still cannot reach PostgreSQL at {} after {}: {}; retrying",
                    target.place,
                    format_duration(round_ms(lost_at.elapsed())),
                    target.scrub(&describe(&err))
                );
            }
            _ => {}
        }
        delay = (delay * 2).min(MAX_BACKOFF);
    }
}

fn round_ms(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis() as u64)
}

fn cannot_reach(target: &Target, cause: &str) -> String {
    format!(
        "cannot reach PostgreSQL at {} as user {}: {}",
        target.place,
        target.user(),
        target.scrub(cause)
    )
}

/// Without superuser or pg_monitor, other roles' sessions come back with
/// NULL state, query and wait event, and the counts by state are wrong.
async fn check_role(session: &Session, target: &Target) {
    match session.limited_role().await {
        Ok(Some(role)) => eprintln!(
            "pgwatch: warning: role {role} is neither superuser nor a member of pg_monitor: \
             other roles' sessions show no state, wait event or query, so they are counted \
             in total only (fix: GRANT pg_monitor TO {role};)"
        ),
        Ok(None) => {}
        Err(err) => eprintln!(
            "pgwatch: warning: could not check the role's privileges: {}",
            target.scrub(&describe(&err))
        ),
    }
}

async fn check_databases(session: &Session, target: &Target, names: &[String]) {
    if names.is_empty() {
        return;
    }
    match session.missing_databases(names).await {
        Ok(missing) => {
            for name in missing {
                eprintln!(
                    "pgwatch: warning: there is no database {name:?} on {}; its samples will show no sessions",
                    target.place
                );
            }
        }
        Err(err) => eprintln!(
            "pgwatch: warning: could not list databases: {}",
            target.scrub(&describe(&err))
        ),
    }
}
