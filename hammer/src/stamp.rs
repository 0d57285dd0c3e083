//! The hot path's clock: `CLOCK_MONOTONIC`, the clock `Instant` reads, as
//! plain nanoseconds. A request's latency, time to first byte, idle check
//! and event timestamp are differences of such readings; as `Instant`s each
//! went through std's `sub_timespec` (~37 instructions under callgrind, and
//! a request took five). What waits on tokio's timer still gets an
//! `Instant` ([`Stamp::instant`]).

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A reading of the monotonic clock in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Stamp(u64);

/// One `Instant` and the `Stamp` of the same moment, read once per process:
/// how the two are converted.
fn anchor() -> (Instant, Stamp) {
    static ANCHOR: OnceLock<(Instant, Stamp)> = OnceLock::new();
    *ANCHOR.get_or_init(|| {
        // The `Instant` read between two stamps and anchored at their
        // midpoint, retried until the two are close: a thread taken off the
        // core between two bare reads would shift every conversion (an
        // open-model arrival's lag, a timeout) by the time it was away.
        let mut best: Option<(u64, Instant, Stamp)> = None;
        for _ in 0..100 {
            let before = Stamp::now();
            let instant = Instant::now();
            let spread = Stamp::now().nanos_since(before);
            if best.is_none_or(|(least, _, _)| spread < least) {
                best = Some((spread, instant, Stamp(before.0 + spread / 2)));
            }
            if spread < 1_000 {
                break;
            }
        }
        let (_, instant, stamp) = best.expect("the loop reads at least once");
        (instant, stamp)
    })
}

impl Stamp {
    pub fn now() -> Stamp {
        // Through libc (nix), as `Instant` reads it: rustix's own vDSO
        // lookup faults under valgrind, which the benchmarks run hammer in.
        // Like `Instant::now`, it cannot fail on Linux.
        let t = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
            .expect("CLOCK_MONOTONIC can be read");
        Stamp(t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64)
    }

    /// The stamp of a `CLOCK_REALTIME` reading from the past (a kernel
    /// receive timestamp), taken as its age now: both clocks read back to
    /// back, so a step of the wall clock at any other time changes nothing.
    pub fn of_realtime(past: nix::sys::time::TimeSpec) -> Stamp {
        let now = Stamp::now();
        let real = nix::time::clock_gettime(nix::time::ClockId::CLOCK_REALTIME)
            .expect("CLOCK_REALTIME can be read");
        let ns =
            |t: nix::sys::time::TimeSpec| t.tv_sec() as i128 * 1_000_000_000 + t.tv_nsec() as i128;
        let age = (ns(real) - ns(past)).clamp(0, u64::MAX as i128) as u64;
        Stamp(now.0.saturating_sub(age))
    }

    /// Nanoseconds from `earlier` to this reading (0 if it is not earlier).
    pub fn nanos_since(self, earlier: Stamp) -> u64 {
        self.0.saturating_sub(earlier.0)
    }

    /// The stamp of `at` (to within the ~tens of ns between the anchor's
    /// two readings).
    pub fn of(at: Instant) -> Stamp {
        let (instant, stamp) = anchor();
        match at.checked_duration_since(instant) {
            Some(after) => Stamp(stamp.0 + after.as_nanos() as u64),
            None => Stamp(stamp.0.saturating_sub((instant - at).as_nanos() as u64)),
        }
    }

    /// This moment as an `Instant`.
    pub fn instant(self) -> Instant {
        let (instant, stamp) = anchor();
        if self >= stamp {
            instant + Duration::from_nanos(self.0 - stamp.0)
        } else {
            instant
                .checked_sub(Duration::from_nanos(stamp.0 - self.0))
                .unwrap_or(instant)
        }
    }
}

impl std::ops::Add<Duration> for Stamp {
    type Output = Stamp;

    fn add(self, d: Duration) -> Stamp {
        Stamp(self.0.saturating_add(d.as_nanos() as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_and_instants_are_one_clock() {
        let (i0, s0) = (Instant::now(), Stamp::now());
        std::thread::sleep(Duration::from_millis(20));
        let (i1, s1) = (Instant::now(), Stamp::now());
        let by_instant = (i1 - i0).as_nanos() as i128;
        let by_stamp = i128::from(s1.nanos_since(s0));
        assert!(
            (by_instant - by_stamp).abs() < 1_000_000,
            "{by_instant} vs {by_stamp}"
        );
        // Round trips, either way, land within a few µs.
        let back = Stamp::of(i1).instant();
        assert!(back.max(i1) - back.min(i1) < Duration::from_micros(50));
        let earlier = i0 - Duration::from_millis(5);
        let back = Stamp::of(earlier).instant();
        assert!(back.max(earlier) - back.min(earlier) < Duration::from_micros(50));
        assert!(Stamp::of(i1).nanos_since(Stamp::of(i0)) >= 20_000_000);
        assert_eq!(s0.nanos_since(s1), 0);
        assert_eq!((s0 + Duration::from_micros(3)).nanos_since(s0), 3_000);
    }
}
