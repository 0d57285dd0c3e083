//! What the run adds up to: averages, peaks and lows of every sample, and each
//! watched group's RSS series for the leak slope. Memory stays bounded: the
//! series is thinned (every other point dropped) whenever it fills up.

use std::collections::BTreeMap;
use std::time::Duration;

use records::{CoreSummary, HostSample, HostSummary, ProcessSample, ProcessSummary};

/// The lowest and highest value seen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    pub min: u64,
    pub max: u64,
}

impl Range {
    fn add(slot: &mut Option<Range>, v: u64) {
        match slot {
            Some(r) => {
                r.min = r.min.min(v);
                r.max = r.max.max(v);
            }
            None => *slot = Some(Range { min: v, max: v }),
        }
    }
}

/// A mean and a peak of permille shares.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Share {
    sum: u64,
    n: u64,
    pub peak: u32,
}

impl Share {
    fn add(&mut self, permille: u32) {
        self.sum += permille as u64;
        self.n += 1;
        self.peak = self.peak.max(permille);
    }

    pub fn mean(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.sum as f64 / self.n as f64
        }
    }
}

/// Points `(seconds since the first, value)`, at most [`Series::CAP`] of them.
#[derive(Clone, Debug, Default)]
pub struct Series {
    points: Vec<(f64, f64)>,
    /// Keep one point in `stride`.
    stride: u64,
    offered: u64,
}

impl Series {
    pub const CAP: usize = 1024;

    pub fn push(&mut self, x: f64, y: f64) {
        self.stride = self.stride.max(1);
        if self.offered.is_multiple_of(self.stride) {
            if self.points.len() == Self::CAP {
                let kept: Vec<(f64, f64)> = self.points.iter().copied().step_by(2).collect();
                self.points = kept;
                self.stride *= 2;
                if !self.offered.is_multiple_of(self.stride) {
                    self.offered += 1;
                    return;
                }
            }
            self.points.push((x, y));
        }
        self.offered += 1;
    }

    pub fn points(&self) -> &[(f64, f64)] {
        &self.points
    }
}

/// The median of the slopes between every pair of points (Theil–Sen): a
/// trend that up to ~29% of wild points (a GC pause, one big allocation)
/// cannot drag. `None` for fewer than three points or no spread in x.
pub fn theil_sen(points: &[(f64, f64)]) -> Option<f64> {
    if points.len() < 3 {
        return None;
    }
    let mut slopes = Vec::with_capacity(points.len() * (points.len() - 1) / 2);
    for (i, &(x1, y1)) in points.iter().enumerate() {
        for &(x2, y2) in &points[i + 1..] {
            if x2 != x1 {
                slopes.push((y2 - y1) / (x2 - x1));
            }
        }
    }
    if slopes.is_empty() {
        return None;
    }
    let mid = slopes.len() / 2;
    let (_, upper, _) = slopes.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *upper;
    if slopes.len() % 2 == 1 {
        Some(upper)
    } else {
        let lower = slopes[..mid]
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        Some((lower + upper) / 2.0)
    }
}

/// One `--pid`/`--process` and everything it matched, summed per sample.
#[derive(Clone, Debug, Default)]
pub struct Group {
    pub label: String,
    pub samples: u64,
    pub cpu: Share,
    pub rss: Option<Range>,
    pub threads: Option<Range>,
    pub fds: Option<Range>,
    /// RSS over time, for the slope.
    pub rss_series: Series,
}

/// Everything a run's samples add up to.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    pub start: Option<u64>,
    pub end: u64,
    pub samples: u64,
    pub cpu: Share,
    pub iowait: Share,
    pub steal: Share,
    pub cores: BTreeMap<u32, Share>,
    pub load1: Option<Range>,
    pub mem_used: Option<Range>,
    pub mem_available: Option<Range>,
    pub swap_used: Option<Range>,
    pub groups: Vec<Group>,
    /// Explicit warm-up; else the first tenth of each group's samples.
    pub warmup: Option<Duration>,
}

impl Tally {
    pub fn new(labels: Vec<String>, warmup: Option<Duration>) -> Tally {
        Tally {
            groups: labels
                .into_iter()
                .map(|label| Group {
                    label,
                    ..Group::default()
                })
                .collect(),
            warmup,
            ..Tally::default()
        }
    }

    /// One tick: the host's sample and every process sample taken with it.
    pub fn add(&mut self, host: &HostSample, processes: &[ProcessSample]) {
        if self.start.is_none() {
            self.start = Some(host.ts.saturating_sub(host.interval_ns));
        }
        self.end = host.ts;
        self.samples += 1;
        self.cpu.add(host.cpu_permille);
        self.iowait.add(host.cpu_iowait_permille);
        self.steal.add(host.cpu_steal_permille);
        for core in &host.cores {
            self.cores
                .entry(core.core)
                .or_default()
                .add(core.cpu_permille);
        }
        Range::add(&mut self.load1, host.load1_milli);
        Range::add(&mut self.mem_used, host.mem_used_bytes);
        Range::add(&mut self.mem_available, host.mem_available_bytes);
        Range::add(&mut self.swap_used, host.swap_used_bytes);
        let start = self.start.unwrap_or(0);
        for group in &mut self.groups {
            let mine: Vec<&ProcessSample> = processes
                .iter()
                .filter(|p| p.watch == group.label)
                .collect();
            if mine.is_empty() {
                continue;
            }
            let sum = |f: &dyn Fn(&ProcessSample) -> u64| {
                mine.iter().fold(0u64, |acc, p| acc.saturating_add(f(p)))
            };
            group.samples += 1;
            group
                .cpu
                .add(sum(&|p| p.cpu_permille as u64).min(u32::MAX as u64) as u32);
            let rss = sum(&|p| p.rss_bytes);
            Range::add(&mut group.rss, rss);
            Range::add(&mut group.threads, sum(&|p| p.threads as u64));
            if mine.iter().all(|p| p.fds.is_some()) {
                Range::add(&mut group.fds, sum(&|p| p.fds.unwrap_or(0) as u64));
            }
            let x = host.ts.saturating_sub(start) as f64 / 1e9;
            group.rss_series.push(x, rss as f64);
        }
    }

    /// The RSS slope of a group in bytes per hour, after the warm-up.
    pub fn rss_growth(&self, group: &Group) -> Option<f64> {
        let points = group.rss_series.points();
        let (first, last) = (points.first()?.0, points.last()?.0);
        let warmup = match self.warmup {
            Some(d) => d.as_secs_f64(),
            None => (last - first) * 0.1,
        };
        let after: Vec<(f64, f64)> = points
            .iter()
            .copied()
            .filter(|&(x, _)| x >= first + warmup)
            .collect();
        theil_sen(&after).map(|per_s| per_s * 3600.0)
    }

    pub fn group(&self, label: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.label == label)
    }

    /// The closing record.
    pub fn summary(
        &self,
        pids: &[Vec<u32>],
        exits: &[(usize, records::ProcessExit)],
    ) -> HostSummary {
        let permille = |v: f64| v.round() as u32;
        HostSummary {
            start: self.start.unwrap_or(0),
            end: self.end,
            samples: self.samples,
            cpu_avg_permille: permille(self.cpu.mean()),
            cpu_peak_permille: self.cpu.peak,
            cores: self
                .cores
                .iter()
                .map(|(&core, s)| CoreSummary {
                    core,
                    cpu_avg_permille: permille(s.mean()),
                    cpu_peak_permille: s.peak,
                })
                .collect(),
            mem_used_peak_bytes: self.mem_used.map_or(0, |r| r.max),
            mem_available_min_bytes: self.mem_available.map_or(0, |r| r.min),
            swap_used_peak_bytes: self.swap_used.map_or(0, |r| r.max),
            processes: self
                .groups
                .iter()
                .enumerate()
                .map(|(i, g)| ProcessSummary {
                    watch: g.label.clone(),
                    pids: pids.get(i).cloned().unwrap_or_default(),
                    samples: g.samples,
                    cpu_avg_permille: permille(g.cpu.mean()),
                    cpu_peak_permille: g.cpu.peak,
                    rss_peak_bytes: g.rss.map_or(0, |r| r.max),
                    rss_growth_bytes_per_h: self.rss_growth(g).map(|v| v.round() as i64),
                    exited: exits
                        .iter()
                        .filter(|(s, _)| *s == i)
                        .map(|(_, e)| e.clone())
                        .collect(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn theil_sen_ignores_outliers_and_start_up() {
        let line: Vec<(f64, f64)> = (0..20).map(|i| (i as f64, 2.0 * i as f64 + 5.0)).collect();
        assert_eq!(theil_sen(&line), Some(2.0));
        let mut spiky = line.clone();
        spiky[3].1 = 1e9;
        spiky[11].1 = -1e9;
        assert_eq!(theil_sen(&spiky), Some(2.0));
        assert_eq!(theil_sen(&line[..2]), None);
        let flat = vec![(0.0, 1.0), (1.0, 1.0), (2.0, 1.0), (3.0, 1.0)];
        assert_eq!(theil_sen(&flat), Some(0.0));
    }

    #[test]
    fn a_start_up_step_is_not_a_leak() {
        let mut t = Tally::new(vec!["app".into()], None);
        for i in 0..100u64 {
            let host = HostSample {
                ts: 1_000_000_000 * (i + 1),
                interval_ns: 1_000_000_000,
                ..HostSample::default()
            };
            // 50 MB allocated in the first five seconds, then flat with noise.
            let rss = if i < 5 {
                i * 10_000_000
            } else {
                50_000_000 + (i % 3) * 4096
            };
            let p = ProcessSample {
                ts: host.ts,
                watch: "app".into(),
                rss_bytes: rss,
                ..ProcessSample::default()
            };
            t.add(&host, &[p]);
        }
        let growth = t.rss_growth(&t.groups[0]).unwrap();
        assert!(growth.abs() < 1e6, "{growth}");
        // Without the warm-up the start-up step would count.
        t.warmup = Some(Duration::ZERO);
        assert!(t.rss_growth(&t.groups[0]).unwrap() >= 0.0);
    }

    #[test]
    fn series_stay_bounded_and_evenly_spaced() {
        let mut s = Series::default();
        for i in 0..10_000 {
            s.push(i as f64, i as f64);
        }
        assert!(s.points().len() <= Series::CAP);
        assert!(s.points().len() > Series::CAP / 4);
        let gaps: Vec<f64> = s.points().windows(2).map(|w| w[1].0 - w[0].0).collect();
        assert!(gaps.iter().all(|&g| g == gaps[0]), "{gaps:?}");
        assert_eq!(theil_sen(s.points()), Some(1.0));
    }
}
