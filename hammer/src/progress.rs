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
    /// Open model: arrivals not sent because every VU was busy.
    pub dropped: AtomicU64,
    /// Requests given up on at abort (each still written as an event).
    pub cancelled: AtomicU64,
    pub active_vus: AtomicU64,
    /// Latencies of the current second, kept only when the live line shows.
    window: Option<Mutex<Histogram<u64>>>,
}

impl Stats {
    pub fn new(live: bool) -> Stats {
        Stats {
            requests: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            cancelled: AtomicU64::new(0),
            active_vus: AtomicU64::new(0),
            window: live.then(|| {
                Mutex::new(Histogram::new_with_bounds(1_000, 3_600_000_000_000, 2).expect("bounds"))
            }),
        }
    }

    pub fn record(&self, latency_ns: u64, error: bool) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if error {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(window) = &self.window {
            if let Ok(mut h) = window.lock() {
                let _ = h.record(latency_ns.clamp(1_000, 3_600_000_000_000));
            }
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
    loop {
        tick.tick().await;
        let now = Instant::now();
        let requests = stats.requests.load(Ordering::Relaxed);
        let errors = stats.errors.load(Ordering::Relaxed);
        let (p50, p99) = match &stats.window {
            Some(w) => match w.lock() {
                Ok(mut h) => {
                    let q = if h.is_empty() {
                        (0, 0)
                    } else {
                        (h.value_at_quantile(0.5), h.value_at_quantile(0.99))
                    };
                    h.reset();
                    q
                }
                Err(_) => (0, 0),
            },
            None => (0, 0),
        };
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

/// The closing line: `hammer: 1000 requests in 5.00s (200.0 req/s), 0 errors (0.00%), 0 dropped, 0 cancelled`.
pub fn summary(stats: &Stats, elapsed: Duration) -> String {
    let requests = stats.requests.load(Ordering::Relaxed);
    let errors = stats.errors.load(Ordering::Relaxed);
    format!(
        "hammer: {requests} requests in {} ({:.1} req/s), {errors} errors ({:.2}%), {} dropped, {} cancelled",
        format_ns(elapsed.as_nanos() as f64),
        requests as f64 / elapsed.as_secs_f64().max(1e-9),
        if requests == 0 { 0.0 } else { errors as f64 * 100.0 / requests as f64 },
        stats.dropped.load(Ordering::Relaxed),
        stats.cancelled.load(Ordering::Relaxed),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_counts_requests_errors_and_drops() {
        let s = Stats::new(true);
        for i in 0..10 {
            s.record(1_000_000, i == 0);
        }
        s.dropped.fetch_add(3, Ordering::Relaxed);
        let line = summary(&s, Duration::from_secs(2));
        assert_eq!(
            line,
            "hammer: 10 requests in 2.00s (5.0 req/s), 1 errors (10.00%), 3 dropped, 0 cancelled"
        );
    }
}
