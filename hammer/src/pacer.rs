//! When each arrival of an open-model run is due, in the manner of vegeta's
//! `Pace(elapsed, hits) -> (wait, stop)`: constant or linearly ramping rates.
//!
//! Arrivals are numbered from 0 across the whole run and each one has a fixed
//! schedule, so a late sender never shifts the later arrivals: its lateness is
//! measured (`lag_ns`) instead of hidden (coordinated omission).

use std::time::Duration;

use crate::stages::Stages;

/// The arrival schedule of an open-model run.
#[derive(Clone, Debug)]
pub struct Pacer {
    rate: Stages,
}

impl Pacer {
    /// `rate` in arrivals per second over time.
    pub fn new(rate: Stages) -> Pacer {
        Pacer { rate }
    }

    /// When arrival `hit` (from 0) is due, or `None` when the run is over by then.
    pub fn due(&self, hit: u64) -> Option<Duration> {
        self.rate.time_of_area(hit as f64)
    }

    /// How long to wait from `elapsed` for the next arrival after `hits` have
    /// been sent, and whether the run is over.
    pub fn pace(&self, elapsed: Duration, hits: u64) -> (Duration, bool) {
        match self.due(hits) {
            None => (Duration::ZERO, true),
            Some(due) => (due.saturating_sub(elapsed), false),
        }
    }

    /// Arrivals the whole schedule holds (for a closing summary).
    pub fn expected(&self) -> f64 {
        let mut area = 0.0;
        let mut at = Duration::ZERO;
        let step = Duration::from_millis(1);
        // The stages are piecewise linear: the trapezoid rule is exact per step.
        while at < self.rate.end() && at < Duration::from_secs(365 * 24 * 3600) {
            let next = (at + step).min(self.rate.end());
            area += (self.rate.value_at(at) + self.rate.value_at(next)) / 2.0
                * (next - at).as_secs_f64();
            at = next;
            if area > 1e12 {
                break;
            }
        }
        area
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_rate_paces_evenly_and_stops() {
        let p = Pacer::new(Stages::constant(500.0, Duration::from_secs(1)));
        assert_eq!(p.pace(Duration::ZERO, 0), (Duration::ZERO, false));
        let (wait, stop) = p.pace(Duration::ZERO, 1);
        assert!(!stop);
        assert!((wait.as_secs_f64() - 0.002).abs() < 1e-9);
        // Behind schedule: no wait, send at once.
        assert_eq!(p.pace(Duration::from_secs_f64(0.5), 10).0, Duration::ZERO);
        assert!(!p.pace(Duration::ZERO, 499).1);
        assert!(p.pace(Duration::ZERO, 500).1);
    }

    #[test]
    fn ramping_rate_accelerates() {
        // 10s:100 then 30s:500: 500 hits in the first ramp, 9,000 in the second.
        let p = Pacer::new(Stages::parse("10s:100,30s:500", 0.0).unwrap());
        let gap_early = p.due(11).unwrap() - p.due(10).unwrap();
        let gap_late = p.due(5001).unwrap() - p.due(5000).unwrap();
        assert!(gap_early > gap_late * 3, "{gap_early:?} {gap_late:?}");
        assert!(p.due(9_499).is_some());
        assert!(p.due(9_501).is_none());
        assert!((p.expected() - 9_500.0).abs() < 1.0, "{}", p.expected());
    }
}
