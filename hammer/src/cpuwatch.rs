//! The generator watches itself: once a second it reads how much CPU its
//! worker threads wanted, and when they wanted more than ~90% of their cores
//! for 3 s running, it warns once on stderr and sets `Stats::cpu_bound` and
//! `Stats::cpu_bound_at_ns` (for the run's record): from then on a request's
//! lag and latency include time hammer spent waiting for a CPU, not only the
//! target's.
//!
//! "Wanted" is the time a worker thread ran plus the time it waited runnable
//! for a core (`/proc/self/task/TID/schedstat`), so a hammer starved by
//! another process on its core counts as CPU-bound just like one that keeps
//! its cores busy by itself.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::progress::Stats;

/// The warning, printed once.
pub const WARNING: &str =
    "hammer is CPU-bound: latencies include generator delay; use more --threads, machines or a lower rate";

/// Above this share of its cores a sample counts as busy.
pub const BUSY: f64 = 0.9;
/// This many busy samples in a row (one a second) make the warning.
pub const SUSTAINED: u32 = 3;

/// Worker threads are named `hammer-worker-N`; the kernel keeps 15 bytes of it.
const WORKER_PREFIX: &str = "hammer-worker";

/// Nanoseconds the worker threads have run and waited to run, in all.
pub fn worker_demand_ns() -> Option<u64> {
    let mut total = 0u64;
    let mut found = false;
    for entry in std::fs::read_dir("/proc/self/task").ok()? {
        let Ok(entry) = entry else { continue };
        let dir = entry.path();
        let Ok(comm) = std::fs::read_to_string(dir.join("comm")) else {
            continue;
        };
        if !comm.starts_with(WORKER_PREFIX) {
            continue;
        }
        // "<ns on a CPU> <ns waiting on a run queue> <timeslices>"
        let Ok(stat) = std::fs::read_to_string(dir.join("schedstat")) else {
            continue;
        };
        let mut fields = stat.split_whitespace().map(|f| f.parse::<u64>().ok());
        if let (Some(Some(run)), Some(Some(wait))) = (fields.next(), fields.next()) {
            total += run + wait;
            found = true;
        }
    }
    found.then_some(total)
}

/// Counts busy samples in a row; says when the warning is due (once).
#[derive(Debug, Default)]
pub struct Verdict {
    busy_run: u32,
    warned: bool,
}

impl Verdict {
    /// Takes one sample (the workers' share of their cores over the last
    /// interval); true the first time the generator is found CPU-bound.
    pub fn sample(&mut self, share: f64) -> bool {
        if share > BUSY {
            self.busy_run += 1;
        } else {
            self.busy_run = 0;
        }
        if self.busy_run >= SUSTAINED && !self.warned {
            self.warned = true;
            return true;
        }
        false
    }
}

/// Samples every second until the task is dropped.
pub async fn watch(stats: &Stats, started: Instant, workers: usize, quiet: bool, terminal: bool) {
    if !std::path::Path::new("/proc/self/task").exists() {
        return; // no /proc here: nothing to watch
    }
    // A worker not named yet (it names itself once it first runs) counts as 0.
    let mut last = worker_demand_ns().unwrap_or(0);
    let mut last_at = Instant::now();
    let mut verdict = Verdict::default();
    let mut tick = tokio::time::interval_at(
        tokio::time::Instant::now() + Duration::from_secs(1),
        Duration::from_secs(1),
    );
    loop {
        tick.tick().await;
        let now = worker_demand_ns().unwrap_or(0);
        let at = Instant::now();
        let wall = at.duration_since(last_at).as_nanos() as f64 * workers.max(1) as f64;
        let share = now.saturating_sub(last) as f64 / wall.max(1.0);
        (last, last_at) = (now, at);
        if verdict.sample(share) {
            stats.cpu_bound.store(true, Ordering::Relaxed);
            let since = at.saturating_duration_since(started).as_nanos() as u64;
            stats.cpu_bound_at_ns.store(since.max(1), Ordering::Relaxed);
            if !quiet {
                // After the live line, when it is on the same terminal line.
                eprintln!("{}{WARNING}", if terminal { "\n" } else { "" });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warns_once_after_three_busy_seconds_in_a_row() {
        let mut v = Verdict::default();
        let verdicts: Vec<bool> = [0.95, 0.97, 0.5, 0.92, 0.99, 0.93, 1.0, 1.0]
            .iter()
            .map(|&s| v.sample(s))
            .collect();
        assert_eq!(
            verdicts,
            [false, false, false, false, false, true, false, false]
        );
    }

    #[test]
    fn reads_its_own_workers() {
        let t = std::thread::Builder::new()
            .name("hammer-worker-0".into())
            .spawn(|| {
                let until = Instant::now() + Duration::from_millis(50);
                while Instant::now() < until {
                    std::hint::spin_loop();
                }
                worker_demand_ns()
            })
            .unwrap();
        let ns = t.join().unwrap().expect("schedstat is readable");
        assert!(ns >= 20_000_000, "{ns}");
    }
}
