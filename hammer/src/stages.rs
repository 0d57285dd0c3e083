//! A value that ramps linearly between targets over time: the VU count of a
//! closed-model run (`--stages 30s:50,1m:50,10s:0`, k6's ramping VUs, Locust's
//! spawn rate) and the arrival rate of an open-model one (`--rate-stages`).
//!
//! A VU numbered `i` (from 0) is active while the value is above `i`, so a
//! ramp from 0 to 10 over 10 s starts one more VU each second and a ramp back
//! down stops the highest-numbered ones first.

use std::time::Duration;

use records::workload::{parse_stages, Stage};

/// A piecewise-linear function of the time since the start of the run.
#[derive(Clone, Debug, PartialEq)]
pub struct Stages {
    start: f64,
    /// (length of the stage, value reached at its end)
    steps: Vec<(Duration, f64)>,
}

/// Long enough to stand for "until something else stops the run".
pub const FOREVER: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

impl Stages {
    /// The same value for `length`.
    pub fn constant(value: f64, length: Duration) -> Stages {
        Stages {
            start: value,
            steps: vec![(length, value)],
        }
    }

    /// Locust's model: start `users` at `rate` per second from 0, then hold
    /// them until `length` is over.
    pub fn spawn(users: f64, rate: f64, length: Duration) -> Stages {
        let ramp = Duration::from_secs_f64(users / rate);
        let steps = if ramp >= length {
            vec![(length, rate * length.as_secs_f64())]
        } else {
            vec![(ramp, users), (length - ramp, users)]
        };
        Stages { start: 0.0, steps }
    }

    /// Ramps from `start` through `stages` (parsed by [`records::workload::parse_stages`]).
    pub fn new(start: f64, stages: &[Stage]) -> Stages {
        Stages {
            start,
            steps: stages.iter().map(|s| (s.length, s.target)).collect(),
        }
    }

    /// Parses `30s:50,1m:50,10s:0`: ramp from `start` to 50 over 30 s, hold 50
    /// for a minute, ramp down to 0 over 10 s.
    pub fn parse(text: &str, start: f64) -> Result<Stages, String> {
        Ok(Stages::new(start, &parse_stages(text)?))
    }

    /// When the last stage ends.
    pub fn end(&self) -> Duration {
        self.steps.iter().fold(Duration::ZERO, |sum, (length, _)| {
            sum.saturating_add(*length)
        })
    }

    /// The highest value any stage reaches.
    pub fn peak(&self) -> f64 {
        self.steps
            .iter()
            .map(|(_, v)| *v)
            .fold(self.start, f64::max)
    }

    /// Segments as (start time, length, value at start, value at end).
    fn segments(&self) -> impl Iterator<Item = (f64, f64, f64, f64)> + '_ {
        let mut at = 0.0;
        let mut from = self.start;
        self.steps.iter().map(move |(length, to)| {
            let segment = (at, length.as_secs_f64(), from, *to);
            at += length.as_secs_f64();
            from = *to;
            segment
        })
    }

    /// The value at `t`; after the end, the last target.
    pub fn value_at(&self, t: Duration) -> f64 {
        let t = t.as_secs_f64();
        let mut last = self.start;
        for (at, length, from, to) in self.segments() {
            if t < at + length {
                if length <= 0.0 {
                    return to;
                }
                return from + (to - from) * (t - at) / length;
            }
            last = to;
        }
        last
    }

    /// The earliest time at or after `from`, before the end, at which the value
    /// is above `level`; `None` when it never is again.
    pub fn next_above(&self, level: f64, from: Duration) -> Option<Duration> {
        let from = from.as_secs_f64();
        for (at, length, v0, v1) in self.segments() {
            let end = at + length;
            if end <= from || length <= 0.0 {
                continue;
            }
            let t0 = at.max(from);
            let v_t0 = v0 + (v1 - v0) * (t0 - at) / length;
            if v_t0 > level {
                return Some(Duration::from_secs_f64(t0));
            }
            if v1 > level {
                // Rising through `level` inside this segment; a microsecond
                // after the crossing the value is strictly above it.
                let cross = at + (level - v0) / (v1 - v0) * length + 1e-6;
                if cross < end {
                    return Some(Duration::from_secs_f64(cross.max(t0)));
                }
            }
        }
        None
    }

    /// The earliest time at which the area under the curve (value × seconds)
    /// reaches `area`, or `None` if it does not before the end. For a rate in
    /// requests per second, hit `k` (from 0) is due at `time_of_area(k)`.
    pub fn time_of_area(&self, area: f64) -> Option<Duration> {
        if area <= 0.0 {
            return (self.end() > Duration::ZERO).then_some(Duration::ZERO);
        }
        let mut remaining = area;
        for (at, length, v0, v1) in self.segments() {
            let whole = (v0 + v1) / 2.0 * length;
            if whole < remaining {
                remaining -= whole;
                continue;
            }
            // Solve v0·x + slope·x²/2 = remaining for x in [0, length].
            let slope = (v1 - v0) / length;
            let x = if slope.abs() < 1e-12 {
                remaining / v0
            } else {
                (-v0 + (v0 * v0 + 2.0 * slope * remaining).max(0.0).sqrt()) / slope
            };
            let t = at + x.clamp(0.0, length);
            if t >= at + length {
                continue;
            }
            return Some(Duration::from_secs_f64(t));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(secs: f64) -> Duration {
        Duration::from_secs_f64(secs)
    }

    #[test]
    fn parses_k6_style_stages() {
        let st = Stages::parse("30s:50, 1m:50,10s:0", 0.0).unwrap();
        assert_eq!(st.end(), s(100.0));
        assert_eq!(st.value_at(s(15.0)), 25.0);
        assert_eq!(st.value_at(s(60.0)), 50.0);
        assert_eq!(st.value_at(s(95.0)), 25.0);
        assert_eq!(st.value_at(s(200.0)), 0.0);
        assert_eq!(st.peak(), 50.0);
        for bad in ["", "30s", "30s:x", "x:5", "1s:-1"] {
            assert!(Stages::parse(bad, 0.0).is_err(), "{bad}");
        }
    }

    #[test]
    fn vus_start_and_stop_with_the_ramp() {
        // 0→10 over 10 s, hold 10 s, 10→0 over 10 s.
        let st = Stages::parse("10s:10,10s:10,10s:0", 0.0).unwrap();
        // VU 0 starts at once, VU 4 once the value passes 4 (t = 4 s).
        assert!(st.next_above(0.0, Duration::ZERO).unwrap() < s(0.01));
        let t4 = st.next_above(4.0, Duration::ZERO).unwrap();
        assert!((t4.as_secs_f64() - 4.0).abs() < 0.01, "{t4:?}");
        // Active now means "now".
        assert_eq!(st.next_above(4.0, s(12.0)), Some(s(12.0)));
        // On the way down VU 9 stops at 21 s and never comes back.
        assert!(st.value_at(s(21.5)) < 9.0);
        assert_eq!(st.next_above(9.0, s(21.5)), None);
        assert_eq!(st.next_above(10.0, Duration::ZERO), None);
    }

    #[test]
    fn locust_spawn_rate_ramps_then_holds() {
        let st = Stages::spawn(10.0, 5.0, s(10.0));
        assert_eq!(st.value_at(s(1.0)), 5.0);
        assert_eq!(st.value_at(s(5.0)), 10.0);
        assert_eq!(st.end(), s(10.0));
        let short = Stages::spawn(100.0, 10.0, s(2.0));
        assert_eq!(short.value_at(s(1.0)), 10.0);
    }

    #[test]
    fn area_gives_arrival_times() {
        let constant = Stages::constant(200.0, s(5.0));
        assert_eq!(constant.time_of_area(0.0), Some(Duration::ZERO));
        let t = constant.time_of_area(100.0).unwrap();
        assert!((t.as_secs_f64() - 0.5).abs() < 1e-9);
        assert!(constant.time_of_area(999.0).is_some());
        assert_eq!(constant.time_of_area(1000.0), None);
        // Ramp 0→100/s over 10 s: area(t) = 5 t², so hit 20 is due at 2 s.
        let ramp = Stages::parse("10s:100", 0.0).unwrap();
        let t = ramp.time_of_area(20.0).unwrap();
        assert!((t.as_secs_f64() - 2.0).abs() < 1e-6, "{t:?}");
        // The ramp carries 500 hits in all.
        assert!(ramp.time_of_area(499.0).is_some());
        assert_eq!(ramp.time_of_area(500.5), None);
    }
}
