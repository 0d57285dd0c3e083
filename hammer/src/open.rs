//! The open model: arrivals on a fixed schedule (constant or ramping rate),
//! whatever the target's speed. Each worker thread takes every n-th arrival
//! of the one run-wide schedule and hands it to a free VU of its pool; a
//! shard (`--shard I/N`) takes arrivals I, I + N, I + 2N… of it, which its
//! workers share out in turn, so N shards send the single run's schedule.
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

use records::Shard;
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
    /// The worker's first arrival (of the run-wide schedule) and the step to its next.
    pub first: u64,
    pub step: u64,
    /// VUs this worker may have busy at once.
    pub cap: u64,
    /// Arrivals in all (across workers and shards), if limited.
    pub requests: Option<u64>,
}

impl Share {
    /// Worker `worker` of `workers` on `shard`: the shard's arrivals in turn,
    /// and its part of the shard's `max_vus`.
    pub fn of(
        shard: Shard,
        worker: u64,
        workers: u64,
        max_vus: u64,
        requests: Option<u64>,
    ) -> Share {
        Share {
            worker,
            first: shard.global(worker),
            step: workers * shard.count,
            cap: (max_vus / workers + u64::from(worker < max_vus % workers)).max(1),
            requests,
        }
    }

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
    // An arrival that is one request, read whenever, with nothing else on
    // the worker: the pacer may wait blocked (crate::timer).
    let blocking = plan.client.times_by_arrival_stamps()
        && plan.mix.single_requests()
        && plan.dedicated.is_empty();
    let mut timer = Timer::new(timer, blocking).unwrap_or_else(|e| {
        if share.worker == 0 {
            eprintln!("hammer: no timerfd ({e}); open-model sends use tokio's 1 ms timer");
        }
        Timer::Tokio
    });
    // Each VU is a task for the whole run, woken with its arrival's due
    // time; spawning a task per arrival moved its ~2.8 KB future three
    // times and cost ~3,300 instructions an arrival (callgrind).
    let (free_tx, mut free_rx) = mpsc::unbounded_channel::<usize>();
    let mut go: Vec<mpsc::UnboundedSender<Instant>> = Vec::new();
    let mut phase = plan.control.subscribe();
    let start = plan.clock.start;
    let stats = &plan.stats;
    let mut tasks = JoinSet::new();
    let mut hit = share.first;
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
        let mut vu = free_rx.try_recv().ok();
        if vu.is_none() && (go.len() as u64) < share.cap {
            let k = go.len();
            let (tx, rx) = mpsc::unbounded_channel();
            go.push(tx);
            tasks.spawn(vu_task(
                plan.clone(),
                make_vu(k as u64),
                k,
                rx,
                free_tx.clone(),
            ));
            vu = Some(k);
        }
        if vu.is_none() {
            // A blocking timer leaves responses unread until now: let the
            // runtime read them (one yield polls the reactor, the next runs
            // the VUs it woke) before calling the arrival dropped.
            tokio::task::yield_now().await;
            tokio::task::yield_now().await;
            vu = free_rx.try_recv().ok();
        }
        match vu {
            None => {
                stats.dropped.fetch_add(1, Ordering::Relaxed);
            }
            Some(k) => {
                stats.sent.fetch_add(1, Ordering::Relaxed);
                // A VU's task ends only once `go` is dropped, below.
                let _ = go[k].send(at);
            }
        }
        hit += share.step;
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
                hit += share.step;
            }
            _ => break,
        }
    }
    // Each VU ends its iteration, if it is in one, then closes its sockets.
    drop(go);
    while tasks.join_next().await.is_some() {}
}

/// VU `k`: an iteration for each due time it is given, then back on the
/// free list; when the pacer is done with it, its sockets are closed.
async fn vu_task<T: Transport>(
    plan: Arc<Plan<T>>,
    mut vu: Vu<T>,
    k: usize,
    mut go: mpsc::UnboundedReceiver<Instant>,
    free: mpsc::UnboundedSender<usize>,
) {
    while let Some(at) = go.recv().await {
        plan.stats.active_vus.fetch_add(1, Ordering::Relaxed);
        vu.iteration(&plan, Some(at)).await;
        plan.stats.active_vus.fetch_sub(1, Ordering::Relaxed);
        let _ = free.send(k);
    }
    vu.close_sockets().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The arrivals `share` sends out of a schedule of `total`.
    fn sent(share: &Share, total: u64) -> impl Iterator<Item = u64> + '_ {
        (share.first..total)
            .step_by(share.step as usize)
            .filter(|&k| !share.beyond(k))
    }

    #[test]
    fn shards_and_workers_send_every_arrival_once() {
        for count in 1..=8 {
            for workers in 1..=3 {
                for (total, requests) in [(1000, None), (97, None), (500, Some(333)), (10, Some(0))]
                {
                    let mut times = vec![0u32; total as usize];
                    let mut cap = 0;
                    for index in 0..count {
                        let shard = Shard::new(index, count).unwrap();
                        let max_vus = shard.share(1000).max(1);
                        for w in 0..workers {
                            let share = Share::of(shard, w, workers, max_vus, requests);
                            cap += share.cap;
                            for k in sent(&share, total) {
                                assert!(shard.owns(k));
                                times[k as usize] += 1;
                            }
                        }
                    }
                    let want = requests.unwrap_or(total).min(total) as usize;
                    assert!(
                        times[..want].iter().all(|&n| n == 1),
                        "{count}×{workers} {total}"
                    );
                    assert!(times[want..].iter().all(|&n| n == 0));
                    assert_eq!(cap, 1000, "{count} shards × {workers} workers");
                }
            }
        }
    }
}
