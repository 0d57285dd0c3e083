//! Run-wide counters, the live line on stderr (once a second, when asked
//! for) and the closing summary line.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use records::units::format_ns;

/// Counters every worker adds to.
#[derive(Debug)]
pub struct Stats {
    pub requests: AtomicU64,
    pub errors: AtomicU64,
    /// Open model: arrivals that came due (see [`Accounting`]).
    pub scheduled: AtomicU64,
    /// Open model: arrivals handed to a VU.
    pub sent: AtomicU64,
    /// Open model: arrivals not sent because every VU was busy.
    pub dropped: AtomicU64,
    /// Open model: arrivals not sent because the run was stopped early.
    pub cancelled: AtomicU64,
    /// Requests in flight given up on at abort (each still written as an event).
    pub aborted: AtomicU64,
    /// Closed model: VUs whose turn came in the stages that never ran.
    pub vus_not_started: AtomicU64,
    /// Set once the generator was found CPU-bound ([`crate::cpuwatch`]).
    pub cpu_bound: std::sync::atomic::AtomicBool,
    /// When it was first found so, in ns from the start of the run (0: never).
    pub cpu_bound_at_ns: AtomicU64,
    pub active_vus: AtomicU64,
    /// Flow iterations the end of the run cut short (they write no record).
    pub flows_cut: AtomicU64,
    /// Latencies of the current second, kept only when the live line shows
    /// (empty otherwise): one histogram per worker thread, so a request
    /// never waits on another thread's lock; the live line merges them once
    /// a second.
    window: Box<[Mutex<Histogram<u64>>]>,
}

/// Which of [`Stats`]'s window histograms this thread records into: threads
/// take slots in turn, so each worker thread has its own while there are as
/// many slots as workers (a thread beyond them shares one, which costs only
/// a contended lock).
fn window_slot() -> usize {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    thread_local! {
        static SLOT: usize = NEXT.fetch_add(1, Ordering::Relaxed) as usize;
    }
    SLOT.with(|slot| *slot)
}

fn window_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1_000, 3_600_000_000_000, 2).expect("bounds")
}

impl Stats {
    /// `live_workers`: the worker threads that record while the live line
    /// shows, or 0 when it does not.
    pub fn new(live_workers: usize) -> Stats {
        Stats {
            requests: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            scheduled: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            cancelled: AtomicU64::new(0),
            vus_not_started: AtomicU64::new(0),
            aborted: AtomicU64::new(0),
            cpu_bound: std::sync::atomic::AtomicBool::new(false),
            cpu_bound_at_ns: AtomicU64::new(0),
            active_vus: AtomicU64::new(0),
            flows_cut: AtomicU64::new(0),
            window: (0..live_workers)
                .map(|_| Mutex::new(window_histogram()))
                .collect(),
        }
    }

    /// The open model's arrival counts so far.
    pub fn accounting(&self) -> Accounting {
        Accounting {
            scheduled: self.scheduled.load(Ordering::Relaxed),
            sent: self.sent.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            cancelled: self.cancelled.load(Ordering::Relaxed),
        }
    }

    pub fn record(&self, latency_ns: u64, error: bool) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if error {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        if !self.window.is_empty() {
            let slot = &self.window[window_slot() % self.window.len()];
            if let Ok(mut h) = slot.lock() {
                let _ = h.record(latency_ns.clamp(1_000, 3_600_000_000_000));
            }
        }
    }

    /// The current second's latency p50 and p99 over every worker (0 when
    /// none was recorded), starting the next second afresh.
    fn take_window(&self, merged: &mut Histogram<u64>) -> (u64, u64) {
        merged.reset();
        for slot in self.window.iter() {
            if let Ok(mut h) = slot.lock() {
                let _ = merged.add(&*h);
                h.reset();
            }
        }
        if merged.is_empty() {
            (0, 0)
        } else {
            (
                merged.value_at_quantile(0.5),
                merged.value_at_quantile(0.99),
            )
        }
    }
}

/// Prints the live line once a second until the task is dropped.
pub async fn live(stats: &Stats, started: Instant, terminal: bool) {
    let mut tick = tokio::time::interval_at(
        tokio::time::Instant::now() + Duration::from_secs(1),
        Duration::from_secs(1),
    );
    let (mut last_requests, mut last_errors, mut last_at) = (0, 0, Instant::now());
    let mut merged = window_histogram();
    loop {
        tick.tick().await;
        let now = Instant::now();
        let requests = stats.requests.load(Ordering::Relaxed);
        let errors = stats.errors.load(Ordering::Relaxed);
        let (p50, p99) = stats.take_window(&mut merged);
        let secs = now.duration_since(last_at).as_secs_f64().max(1e-3);
        let line = format!(
            "{:>6} elapsed  {} VUs  {:.0} req/s  p50 {}  p99 {}  {} errors",
            records::units::format_duration(Duration::from_secs(
                now.duration_since(started).as_secs()
            )),
            stats.active_vus.load(Ordering::Relaxed),
            (requests - last_requests) as f64 / secs,
            format_ns(p50 as f64),
            format_ns(p99 as f64),
            errors - last_errors,
        );
        let mut err = std::io::stderr().lock();
        let _ = if terminal {
            write!(err, "\r\x1b[K{line}")
        } else {
            writeln!(err, "{line}")
        };
        let _ = err.flush();
        (last_requests, last_errors, last_at) = (requests, errors, now);
    }
}

/// What became of an open-model run's arrivals: every arrival that came due
/// is exactly one of sent, dropped or cancelled, so
/// `scheduled == sent + dropped + cancelled`. A sent arrival is one VU
/// iteration: one event (plus any re-login or retry it needed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Accounting {
    /// Arrivals that came due: the whole schedule when the run reached its
    /// end, those due before the stop when it was interrupted.
    pub scheduled: u64,
    /// Handed to a VU (each wrote its event).
    pub sent: u64,
    /// Not sent: every VU of the worker was busy (`--max-vus`).
    pub dropped: u64,
    /// Not sent: the run was stopped (signal, closed output) after it came due.
    pub cancelled: u64,
}

impl Accounting {
    /// Whether every arrival is accounted for.
    pub fn balanced(&self) -> bool {
        self.scheduled == self.sent + self.dropped + self.cancelled
    }
}

/// When the run's load ran: rates are per second of `load` (first scheduled
/// send to the end of the schedule or stages, or to the stop when stopped
/// early); `drain` is the wait for the requests still in flight after it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Window {
    pub load: Duration,
    pub drain: Duration,
}

/// The closing line, e.g.
/// `hammer: 2500 requests in 5.00s (500.0 req/s), drain 1.20s, 0 errors (0.00%), 2500 scheduled = 2500 sent + 0 dropped + 0 cancelled`
/// (the arrival counts in the open model only; `, 3 aborted in flight` when
/// requests were given up on at abort).
pub fn summary(stats: &Stats, window: Window, open: bool) -> String {
    let requests = stats.requests.load(Ordering::Relaxed);
    let errors = stats.errors.load(Ordering::Relaxed);
    let mut line = format!(
        "hammer: {requests} requests in {} ({:.1} req/s), drain {}, {errors} errors ({:.2}%)",
        format_ns(window.load.as_nanos() as f64),
        requests as f64 / window.load.as_secs_f64().max(1e-9),
        format_ns(window.drain.as_nanos() as f64),
        if requests == 0 {
            0.0
        } else {
            errors as f64 * 100.0 / requests as f64
        },
    );
    if open {
        let a = stats.accounting();
        line += &format!(
            ", {} scheduled = {} sent + {} dropped + {} cancelled",
            a.scheduled, a.sent, a.dropped, a.cancelled
        );
    }
    let aborted = stats.aborted.load(Ordering::Relaxed);
    if aborted > 0 {
        line += &format!(", {aborted} aborted in flight");
    }
    let not_started = stats.vus_not_started.load(Ordering::Relaxed);
    if not_started > 0 {
        line += &format!(
            ", {not_started} VUs not started (their turn came, the generator did not get to them)"
        );
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_counts_requests_errors_and_arrivals() {
        let s = Stats::new(1);
        for i in 0..10 {
            s.record(1_000_000, i == 0);
        }
        s.scheduled.fetch_add(14, Ordering::Relaxed);
        s.sent.fetch_add(10, Ordering::Relaxed);
        s.dropped.fetch_add(3, Ordering::Relaxed);
        s.cancelled.fetch_add(1, Ordering::Relaxed);
        assert!(s.accounting().balanced());
        let window = Window {
            load: Duration::from_secs(2),
            drain: Duration::from_millis(1200),
        };
        assert_eq!(
            summary(&s, window, true),
            "hammer: 10 requests in 2.00s (5.0 req/s), drain 1.20s, 1 errors (10.00%), 14 scheduled = 10 sent + 3 dropped + 1 cancelled"
        );
        s.aborted.fetch_add(2, Ordering::Relaxed);
        assert_eq!(
            summary(&s, window, false),
            "hammer: 10 requests in 2.00s (5.0 req/s), drain 1.20s, 1 errors (10.00%), 2 aborted in flight"
        );
    }

    #[test]
    fn the_live_window_merges_every_thread_and_starts_afresh() {
        let s = Stats::new(2);
        std::thread::scope(|scope| {
            // Three threads for two slots: one slot is shared, nothing is lost.
            for ms in [1u64, 2, 3] {
                let s = &s;
                scope.spawn(move || {
                    for _ in 0..100 {
                        s.record(ms * 1_000_000, false);
                    }
                });
            }
        });
        let mut merged = window_histogram();
        let (p50, p99) = s.take_window(&mut merged);
        assert_eq!(merged.len(), 300);
        // Two significant digits: values are within 1% of what was recorded.
        assert!((1_980_000..=2_020_000).contains(&p50), "{p50}");
        assert!((2_970_000..=3_030_000).contains(&p99), "{p99}");
        assert_eq!(s.take_window(&mut merged), (0, 0));
        assert_eq!(s.requests.load(Ordering::Relaxed), 300);
    }
}
