//! The open model: arrivals on a fixed schedule (constant or ramping rate),
//! whatever the target's speed. Each worker thread takes every n-th arrival
//! of the one run-wide schedule and hands it to a free VU of its pool; when
//! all of its VUs are busy (the `--max-vus` cap), the arrival is counted as
//! dropped, never silently lost.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::pacer::Pacer;
use crate::signals::{self, Phase};
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

/// Runs a worker's arrivals; `make_vu(k)` makes its k-th VU (from 0).
pub async fn run(plan: Arc<Plan>, pacer: Pacer, share: Share, mut make_vu: impl FnMut(u64) -> Vu) {
    let (free_tx, mut free_rx) = mpsc::unbounded_channel::<Vu>();
    let mut phase = plan.control.subscribe();
    let mut made = 0u64;
    let mut tasks = JoinSet::new();
    let mut hit = share.worker;
    loop {
        if !plan.control.running() || share.requests.is_some_and(|n| hit >= n) {
            break;
        }
        let Some(due) = pacer.due(hit) else { break };
        let at = plan.clock.start + due;
        if at > std::time::Instant::now() {
            tokio::select! {
                _ = tokio::time::sleep_until(at.into()) => {}
                _ = signals::reached(&mut phase, Phase::Stopping) => break,
            }
        }
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
                plan.stats.dropped.fetch_add(1, Ordering::Relaxed);
            }
            Some(mut vu) => {
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
    }
    while tasks.join_next().await.is_some() {}
}
