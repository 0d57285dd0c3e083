//! A run's time series as the charts draw them, in seconds from the run's
//! start: the one data preparation behind the PNGs and `report.html`.
//!
//! Each series is downsampled with LTTB to `max_points`; LTTB's choice of
//! points does not change when x is scaled, so the PNGs rescale x to their
//! axis unit (s, min, h) afterwards and both outputs show the same points.

use records::metric::Metric;
use records::Interval;

use crate::lttb::lttb;
use crate::nines;
use crate::pg::Poll;
use crate::run::Run;

pub type Points = Vec<(f64, f64)>;

/// One named series.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub name: &'static str,
    pub points: Points,
}

/// p50, p95 and p99 per interval (ms). An interval's p95 or p99 is left
/// out when its request count does not resolve it ([`Metric::resolved_by`]:
/// p99 needs 100 requests): with fewer it is just that interval's maximum.
pub fn latency(run: &Run, max_points: usize) -> [Series; 3] {
    let line = |name, metric: Metric, value: fn(&Interval) -> u64| Series {
        name,
        points: downsampled(
            run.intervals
                .iter()
                .filter(|i| i.count > 0 && metric.resolved_by(i.count))
                .map(|i| (run.interval_x(i), nines::ms(value(i) as f64))),
            max_points,
        ),
    };
    [
        line("p50", Metric::P50, |i| i.p50_ns),
        line("p95", Metric::P95, |i| i.p95_ns),
        line("p99", Metric::P99, |i| i.p99_ns),
    ]
}

/// Intervals whose p99 was left out of [`latency`] for too few requests.
pub fn unresolved_intervals(run: &Run) -> usize {
    run.intervals
        .iter()
        .filter(|i| i.count > 0 && !Metric::P99.resolved_by(i.count))
        .count()
}

/// Requests/s, failures/s and active virtual users per interval.
#[derive(Clone, Debug, PartialEq)]
pub struct Throughput {
    pub rps: Points,
    pub failures: Points,
    pub vus: Points,
}

pub fn throughput(run: &Run, max_points: usize) -> Throughput {
    let series = |f: &dyn Fn(&Interval) -> f64| {
        downsampled(
            run.intervals.iter().map(|i| (run.interval_x(i), f(i))),
            max_points,
        )
    };
    Throughput {
        rps: series(&|i| {
            if i.rps > 0.0 {
                i.rps
            } else {
                i.count as f64 / i.active()
            }
        }),
        failures: series(&|i| i.errors as f64 / i.active()),
        vus: series(&|i| i.vus as f64),
    }
}

/// Responses per second by status code, per interval: one series per code
/// the run saw (`"none"` for no response), most frequent first. Empty for
/// summaries whose intervals predate status counts.
pub fn statuses(run: &Run, max_points: usize) -> Vec<(String, Points)> {
    let mut totals: std::collections::BTreeMap<&str, u64> = Default::default();
    for i in &run.intervals {
        for (code, n) in &i.status {
            *totals.entry(code.as_str()).or_default() += n;
        }
    }
    let mut codes: Vec<(&str, u64)> = totals.into_iter().collect();
    codes.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    codes
        .into_iter()
        .map(|(code, _)| {
            let points = downsampled(
                run.intervals.iter().map(|i| {
                    let n = i.status.get(code).copied().unwrap_or(0);
                    (run.interval_x(i), n as f64 / i.active())
                }),
                max_points,
            );
            let name = if code == "0" { "none" } else { code };
            (name.to_string(), points)
        })
        .collect()
}

/// PostgreSQL connections by state, and utilization (%), per poll, every
/// series on the same polls.
#[derive(Clone, Debug, PartialEq)]
pub struct PgLines {
    /// active, idle in transaction, idle (these three stack to the
    /// connections open), then waiting on a lock (a part of active).
    pub states: [Series; 4],
    pub utilization: Points,
}

/// The polls within the run's time axis (`0..=axis_secs`), as series.
pub fn pg(run: &Run, polls: &[Poll], max_points: usize) -> Option<PgLines> {
    let start = run.start_ns() as f64;
    let end = crate::run::axis_secs(run);
    let within: Vec<(f64, &Poll)> = polls
        .iter()
        .map(|p| ((p.ts as f64 - start) / 1e9, p))
        .filter(|(x, _)| (0.0..=end).contains(x))
        .collect();
    if within.is_empty() {
        return None;
    }
    // One set of polls for every series, so the states stack: the ones LTTB
    // keeps of the busy count (active or idle in transaction), whose spikes
    // are what matters.
    let busy: Points = within
        .iter()
        .map(|&(x, p)| (x, p.active.saturating_add(p.idle_in_transaction) as f64))
        .collect();
    let kept = lttb(&busy, max_points);
    let mut next = kept.iter().map(|k| k.0).peekable();
    let chosen: Vec<(f64, &Poll)> = within
        .into_iter()
        .filter(|(x, _)| {
            let hit = next.peek() == Some(x);
            if hit {
                next.next();
            }
            hit
        })
        .collect();
    let series =
        |f: &dyn Fn(&Poll) -> f64| -> Points { chosen.iter().map(|&(x, p)| (x, f(p))).collect() };
    let state = |name, f: fn(&Poll) -> u64| Series {
        name,
        points: series(&|p| f(p) as f64),
    };
    Some(PgLines {
        states: [
            state("active", |p| p.active),
            state("idle in transaction", |p| p.idle_in_transaction),
            state("idle", |p| p.idle),
            state("waiting on a lock", |p| p.waiting),
        ],
        utilization: series(&|p| p.utilization_pct),
    })
}

/// Stacked bands of `states` (sharing their x values), bottom first: each
/// band's (x, lower, upper).
pub fn stacked(states: &[&Points]) -> Vec<Vec<(f64, f64, f64)>> {
    let n = states.first().map_or(0, |s| s.len());
    let mut floor = vec![0.0; n];
    states
        .iter()
        .map(|s| {
            s.iter()
                .zip(floor.iter_mut())
                .map(|(&(x, y), f)| {
                    let lower = *f;
                    *f += y;
                    (x, lower, *f)
                })
                .collect()
        })
        .collect()
}

/// Host CPU (% of all cores), then each watched process's CPU (% of one
/// core), up to [`crate::host::MAX_PROCESSES`], named as the PNG's legend
/// names them; the samples within the run's time axis. Empty when the host
/// has none there.
pub fn host(run: &Run, samples: &crate::host::Samples, max_points: usize) -> Vec<(String, Points)> {
    let start = run.start_ns() as f64;
    let end = crate::run::axis_secs(run);
    let x_of = |ts: u64| (ts as f64 - start) / 1e9;
    let inside = |ts: u64| (0.0..=end).contains(&x_of(ts));
    let host_cpu = downsampled(
        samples
            .host
            .iter()
            .filter(|t| inside(t.ts))
            .map(|t| (x_of(t.ts), t.cpu_pct)),
        max_points,
    );
    if host_cpu.is_empty() {
        return Vec::new();
    }
    let mut out = vec![("host CPU".to_string(), host_cpu)];
    for (watch, ticks) in samples.processes.iter().take(crate::host::MAX_PROCESSES) {
        let cpu = downsampled(
            ticks
                .iter()
                .filter(|t| inside(t.ts))
                .map(|t| (x_of(t.ts), t.cpu_pct)),
            max_points,
        );
        if !cpu.is_empty() {
            out.push((crate::host::process_name(watch), cpu));
        }
    }
    out
}

fn downsampled(points: impl Iterator<Item = (f64, f64)>, max_points: usize) -> Points {
    lttb(&points.collect::<Points>(), max_points)
}

/// Points with x rescaled (seconds to the PNG axis unit).
pub fn scaled(points: &[(f64, f64)], x: impl Fn(f64) -> f64) -> Points {
    points.iter().map(|&(px, py)| (x(px), py)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interval(i: u64, count: u64) -> Interval {
        Interval {
            start: i * 1_000_000_000,
            secs: 1.0,
            active_secs: 1.0,
            count,
            rps: count as f64,
            p50_ns: 1_000_000,
            p95_ns: 2_000_000,
            p99_ns: 3_000_000,
            ..Interval::default()
        }
    }

    fn run(intervals: Vec<Interval>) -> Run {
        Run {
            path: "r".into(),
            label: "r".into(),
            info: None,
            endpoints: Vec::new(),
            flows: Vec::new(),
            total: records::run::Entry::empty(records::run::TOTAL),
            interval_hists: vec![None; intervals.len()],
            intervals,
            thresholds: Vec::new(),
        }
    }

    #[test]
    fn small_intervals_lose_only_the_tail_percentiles_they_cannot_resolve() {
        // 10 requests resolve p50 (2) but neither p95 (20) nor p99 (100).
        let r = run(vec![interval(0, 500), interval(1, 10), interval(2, 50)]);
        let [p50, p95, p99] = latency(&r, 100);
        assert_eq!(p50.points.len(), 3);
        assert_eq!(
            p95.points.iter().map(|p| p.0).collect::<Vec<_>>(),
            [0.5, 2.5]
        );
        assert_eq!(p99.points, vec![(0.5, 3.0)]);
        assert_eq!(unresolved_intervals(&r), 2);
    }

    #[test]
    fn pg_series_share_their_polls_and_stack() {
        let polls: Vec<Poll> = (0..1000u64)
            .map(|i| Poll {
                ts: i * 250_000_000,
                active: i % 5,
                idle: 4 - i % 5,
                idle_in_transaction: u64::from(i % 7 == 0),
                total: 4 + u64::from(i % 7 == 0),
                ..Poll::default()
            })
            .collect();
        let mut r = run(vec![interval(0, 10)]);
        r.intervals[0].secs = 250.0;
        r.intervals[0].active_secs = 250.0;
        let pg = pg(&r, &polls, 100).unwrap();
        let xs = |s: &Series| s.points.iter().map(|p| p.0).collect::<Vec<_>>();
        assert!(pg.states[0].points.len() <= 100);
        for s in &pg.states[1..] {
            assert_eq!(xs(s), xs(&pg.states[0]), "{}", s.name);
        }
        let bands = stacked(&[
            &pg.states[0].points,
            &pg.states[1].points,
            &pg.states[2].points,
        ]);
        // The top of the stack is every open connection of that poll.
        for (k, &(x, _, top)) in bands[2].iter().enumerate() {
            let poll = &polls[(x * 4.0).round() as usize];
            assert_eq!(top, poll.total as f64, "poll {k}");
            assert_eq!(bands[1][k].2, bands[2][k].1);
        }
    }

    #[test]
    fn rates_are_per_second_of_the_active_part() {
        let mut half = interval(0, 10);
        half.active_secs = 0.5;
        half.rps = 0.0;
        half.errors = 2;
        let t = throughput(&run(vec![half]), 100);
        assert_eq!(t.rps, vec![(0.25, 20.0)]);
        assert_eq!(t.failures, vec![(0.25, 4.0)]);
    }
}
