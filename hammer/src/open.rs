//! The open model: arrivals on a fixed schedule (constant or ramping rate),
//! whatever the target's speed. Each worker thread takes every n-th arrival
//! of the one run-wide schedule and hands it to a free VU of its pool.
//!
//! Every arrival that comes due is accounted for ([`crate::progress::Accounting`]):
//! it is *sent* (handed to a VU, which writes its event), *dropped* (all of
//! the worker's `--max-vus` were busy) or *cancelled* (it came due after a
//! signal or a closed output stopped the run, and was not sent). At the end
//! of the schedule every arrival is due already, so the ones a late pacer
//! has not handed out yet are still sent (late, and their `lag_ns` says so),
//! never cut off by the run's deadline.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::pacer::Pacer;
use crate::signals::{self, Phase};
use crate::timer::{Timer, TimerKind};
use crate::transport::Transport;
use crate::vu::{Plan, Vu};

/// One worker's share of an open-model run.
pub struct Share {
    pub worker: u64,
    pub workers: u64,
    /// VUs this worker may have busy at once.
    pub cap: u64,
    /// Arrivals in all (across workers), if limited.
    pub requests: Option<u64>,
}

impl Share {
    /// Whether arrival `hit` is beyond `--requests`.
    fn beyond(&self, hit: u64) -> bool {
        self.requests.is_some_and(|n| hit >= n)
    }
}

/// Runs a worker's arrivals; `make_vu(k)` makes its k-th VU (from 0).
pub async fn run<T: Transport>(
    plan: Arc<Plan<T>>,
    pacer: Pacer,
    share: Share,
    timer: TimerKind,
    mut make_vu: impl FnMut(u64) -> Vu<T>,
) {
    let mut timer = Timer::new(timer).unwrap_or_else(|e| {
        if share.worker == 0 {
            eprintln!("hammer: no timerfd ({e}); open-model sends use tokio's 1 ms timer");
        }
        Timer::Tokio
    });
    let (free_tx, mut free_rx) = mpsc::unbounded_channel::<Vu<T>>();
    let mut phase = plan.control.subscribe();
    let start = plan.clock.start;
    let stats = &plan.stats;
    let mut made = 0u64;
    let mut tasks = JoinSet::new();
    let mut hit = share.worker;
    loop {
        if share.beyond(hit) || plan.control.interrupted() {
            break;
        }
        let Some(due) = pacer.due(hit) else { break };
        let at = start + due;
        if at > Instant::now() {
            tokio::select! {
                biased;
                _ = signals::interrupted(&plan.control, &mut phase) => break,
                _ = timer.sleep_until(at) => {}
            }
        }
        if plan.control.phase() >= Phase::Abort {
            break;
        }
        stats.scheduled.fetch_add(1, Ordering::Relaxed);
        let vu = match free_rx.try_recv() {
            Ok(vu) => Some(vu),
            Err(_) if made < share.cap => {
                made += 1;
                Some(make_vu(made - 1))
            }
            Err(_) => None,
        };
        match vu {
            None => {
                stats.dropped.fetch_add(1, Ordering::Relaxed);
            }
            Some(mut vu) => {
                stats.sent.fetch_add(1, Ordering::Relaxed);
                let plan = plan.clone();
                let free = free_tx.clone();
                tasks.spawn(async move {
                    plan.stats.active_vus.fetch_add(1, Ordering::Relaxed);
                    vu.iteration(&plan, Some(at)).await;
                    plan.stats.active_vus.fetch_sub(1, Ordering::Relaxed);
                    let _ = free.send(vu);
                });
            }
        }
        while tasks.try_join_next().is_some() {}
        hit += share.workers;
        // Let the VU send before the pacer's own work for the next arrival.
        tokio::task::yield_now().await;
    }
    // Stopped early: the arrivals that came due and were not sent are cancelled.
    let now = Instant::now().saturating_duration_since(start);
    while !share.beyond(hit) {
        match pacer.due(hit) {
            Some(due) if due <= now => {
                stats.scheduled.fetch_add(1, Ordering::Relaxed);
                stats.cancelled.fetch_add(1, Ordering::Relaxed);
                hit += share.workers;
            }
            _ => break,
        }
    }
    while tasks.join_next().await.is_some() {}
}
