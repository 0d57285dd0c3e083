//! The one list of metrics read from a summary: their names and aliases, how
//! each is read from an endpoint's [`Stats`], its unit, which direction is
//! worse, and how a change in it is expressed. aggregate's thresholds,
//! compare's limits and side-by-side view, and chart's tables all use it.

use std::fmt;

use crate::{format_ns, Latency, Stats};

/// One quantity of an endpoint's (or the total's) statistics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    P50,
    P66,
    P75,
    P80,
    P90,
    P95,
    P98,
    P99,
    P999,
    P9999,
    Mean,
    Min,
    Max,
    /// Requests.
    Count,
    /// Failed requests.
    ErrorCount,
    /// Failed requests / requests, a ratio.
    ErrorRate,
    Rps,
    FailuresPerSec,
    /// Arrivals never sent: all VUs busy (open model).
    Dropped,
    /// Dropped arrivals over all arrivals (sent or dropped), a ratio.
    DroppedRate,
    /// Closed-model VUs the stages called for that never ran.
    VusNotStarted,
}

/// What a metric's value counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A latency in nanoseconds.
    Nanos,
    /// A ratio, 0..1.
    Ratio,
    PerSecond,
    Count,
}

/// How a change from a baseline is expressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    /// Relative: 0.23 is +23%.
    Relative,
    /// Difference in percentage points, for rates.
    Points,
}

/// Every metric, in the order tables show them.
pub const ALL: [Metric; 21] = [
    Metric::Count,
    Metric::ErrorCount,
    Metric::ErrorRate,
    Metric::Rps,
    Metric::FailuresPerSec,
    Metric::Dropped,
    Metric::DroppedRate,
    Metric::VusNotStarted,
    Metric::Mean,
    Metric::Min,
    Metric::P50,
    Metric::P66,
    Metric::P75,
    Metric::P80,
    Metric::P90,
    Metric::P95,
    Metric::P98,
    Metric::P99,
    Metric::P999,
    Metric::P9999,
    Metric::Max,
];

/// The latency columns of the per-endpoint tables (aggregate's table,
/// chart's report.html), in the order people read them: Locust's and p99.9.
pub const LATENCY_COLUMNS: [Metric; 8] = [
    Metric::Min,
    Metric::Mean,
    Metric::P50,
    Metric::P90,
    Metric::P95,
    Metric::P99,
    Metric::P999,
    Metric::Max,
];

/// The latency quantiles, in [`Latency`] field order, with their fractions.
pub const QUANTILE_METRICS: [(Metric, f64); 10] = [
    (Metric::P50, 0.5),
    (Metric::P66, 0.66),
    (Metric::P75, 0.75),
    (Metric::P80, 0.8),
    (Metric::P90, 0.9),
    (Metric::P95, 0.95),
    (Metric::P98, 0.98),
    (Metric::P99, 0.99),
    (Metric::P999, 0.999),
    (Metric::P9999, 0.9999),
];

impl Metric {
    /// The name people type (`--threshold`, `--max-increase`): `p95`, `p99.9`, `error_rate`.
    pub fn name(self) -> &'static str {
        match self {
            Metric::P50 => "p50",
            Metric::P66 => "p66",
            Metric::P75 => "p75",
            Metric::P80 => "p80",
            Metric::P90 => "p90",
            Metric::P95 => "p95",
            Metric::P98 => "p98",
            Metric::P99 => "p99",
            Metric::P999 => "p99.9",
            Metric::P9999 => "p99.99",
            Metric::Mean => "mean",
            Metric::Min => "min",
            Metric::Max => "max",
            Metric::Count => "count",
            Metric::ErrorCount => "error_count",
            Metric::ErrorRate => "error_rate",
            Metric::Rps => "rps",
            Metric::FailuresPerSec => "failures_per_s",
            Metric::Dropped => "dropped",
            Metric::DroppedRate => "dropped_rate",
            Metric::VusNotStarted => "vus_not_started",
        }
    }

    /// Other names accepted for it.
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Metric::P50 => &["median"],
            Metric::P999 => &["p999"],
            Metric::P9999 => &["p9999"],
            Metric::Mean => &["avg", "average"],
            Metric::Count => &["requests"],
            Metric::ErrorCount => &["failures"],
            Metric::ErrorRate => &["errors", "error", "failure_rate"],
            Metric::Rps => &["throughput"],
            _ => &[],
        }
    }

    /// The field name in NDJSON records, with its unit: `p999_ns`, `error_rate`.
    pub fn field(self) -> &'static str {
        match self {
            Metric::P50 => "p50_ns",
            Metric::P66 => "p66_ns",
            Metric::P75 => "p75_ns",
            Metric::P80 => "p80_ns",
            Metric::P90 => "p90_ns",
            Metric::P95 => "p95_ns",
            Metric::P98 => "p98_ns",
            Metric::P99 => "p99_ns",
            Metric::P999 => "p999_ns",
            Metric::P9999 => "p9999_ns",
            Metric::Mean => "mean_ns",
            Metric::Min => "min_ns",
            Metric::Max => "max_ns",
            Metric::Count => "count",
            Metric::ErrorCount => "errors",
            Metric::ErrorRate => "error_rate",
            Metric::Rps => "rps",
            Metric::FailuresPerSec => "failures_per_s",
            Metric::Dropped => "dropped",
            Metric::DroppedRate => "dropped_rate",
            Metric::VusNotStarted => "vus_not_started",
        }
    }

    /// The row name in tables people read.
    pub fn label(self) -> &'static str {
        match self {
            Metric::Count => "requests",
            Metric::ErrorCount => "failed requests",
            Metric::ErrorRate => "failure rate",
            Metric::Rps => "throughput",
            Metric::FailuresPerSec => "failures/s",
            Metric::Dropped => "dropped arrivals",
            Metric::DroppedRate => "dropped rate",
            Metric::VusNotStarted => "VUs not started",
            m => m.name(),
        }
    }

    /// Parses a name or alias, case-insensitively; a latency may carry its
    /// unit (`p95_ns`, its field name).
    pub fn parse(text: &str) -> Option<Metric> {
        let text = text.trim().to_ascii_lowercase();
        let named = |m: &Metric, t: &str| m.name() == t || m.aliases().contains(&t);
        ALL.into_iter().find(|m| {
            named(m, &text)
                || (m.is_latency() && text.strip_suffix("_ns").is_some_and(|t| named(m, t)))
        })
    }

    /// The names accepted, for error messages: `p50 p66 … failures_per_s`.
    pub fn names() -> String {
        ALL.map(Metric::name).join(" ")
    }

    pub fn unit(self) -> Unit {
        match self {
            Metric::Count | Metric::ErrorCount | Metric::Dropped | Metric::VusNotStarted => {
                Unit::Count
            }
            Metric::ErrorRate | Metric::DroppedRate => Unit::Ratio,
            Metric::Rps | Metric::FailuresPerSec => Unit::PerSecond,
            _ => Unit::Nanos,
        }
    }

    pub fn is_latency(self) -> bool {
        self.unit() == Unit::Nanos
    }

    /// The quantile (0.95 for p95), for the latency quantiles.
    pub fn quantile(self) -> Option<f64> {
        QUANTILE_METRICS
            .iter()
            .find(|(m, _)| *m == self)
            .map(|(_, q)| *q)
    }

    /// Whether `count` samples resolve this metric: a quantile q needs at
    /// least 1 / (1 - q) of them (p99 100, p99.9 1,000, p99.99 10,000), or
    /// its value is just the largest sample, whatever q says. Tables show
    /// such a value as `-` and charts stop the curve there.
    pub fn resolved_by(self, count: u64) -> bool {
        self.quantile()
            .is_none_or(|q| count as f64 >= samples_needed(q))
    }

    /// Whether an increase is for the worse (`Some(true)`: latency, errors),
    /// for the better (`Some(false)`: throughput) or neither (request count).
    pub fn higher_is_worse(self) -> Option<bool> {
        match self {
            Metric::Count => None,
            Metric::Rps => Some(false),
            _ => Some(true),
        }
    }

    pub fn change_kind(self) -> ChangeKind {
        match self.unit() {
            Unit::Ratio => ChangeKind::Points,
            _ => ChangeKind::Relative,
        }
    }

    /// The change from `baseline` to `current`: relative (0.23 = +23%), or in
    /// percentage points for rates. No change between two zeros is 0; a
    /// relative change from zero to anything else is `None` (undefined).
    pub fn change(self, baseline: f64, current: f64) -> Option<f64> {
        match self.change_kind() {
            ChangeKind::Points => Some((current - baseline) * 100.0),
            ChangeKind::Relative if baseline > 0.0 => Some(current / baseline - 1.0),
            ChangeKind::Relative if current == baseline => Some(0.0),
            ChangeKind::Relative => None,
        }
    }

    /// The metric's value in an endpoint's statistics, in its base unit
    /// (ns, ratio, per second, count).
    pub fn value(self, s: &Stats) -> f64 {
        match self {
            Metric::Count => s.count as f64,
            Metric::ErrorCount => s.errors as f64,
            Metric::ErrorRate => s.error_rate(),
            Metric::Rps => s.rps,
            Metric::FailuresPerSec => s.failures_per_s,
            Metric::Dropped => s.dropped as f64,
            Metric::DroppedRate => s.dropped_rate(),
            Metric::VusNotStarted => s.vus_not_started as f64,
            latency => latency.of_latency(&s.latency).unwrap_or(0.0),
        }
    }

    /// A latency metric's value in a [`Latency`] (response or service time),
    /// in ns; `None` for metrics that are not latencies.
    pub fn of_latency(self, l: &Latency) -> Option<f64> {
        match self {
            Metric::Mean => Some(l.mean_ns),
            Metric::Min => Some(l.min_ns as f64),
            Metric::Max => Some(l.max_ns as f64),
            quantile => l.quantile(quantile).map(|v| v as f64),
        }
    }

    /// A value of this metric as people read it: `1.84ms`, `0.50%`, `120/s`, `1,024`.
    pub fn show(self, value: f64) -> String {
        match self.unit() {
            Unit::Nanos => format_ns(value),
            Unit::Ratio => crate::units::percent(value),
            Unit::PerSecond => crate::units::rate(value),
            Unit::Count => crate::units::thousands(value),
        }
    }

    /// A change as people read it: `+23.0%`, `-4.1%`, `+4.90pp`, `n/a` when undefined.
    pub fn show_change(self, change: Option<f64>) -> String {
        match (change, self.change_kind()) {
            (None, _) => "n/a".into(),
            (Some(c), ChangeKind::Points) => format!("{c:+.2}pp"),
            (Some(c), ChangeKind::Relative) => format!("{:+.1}%", c * 100.0),
        }
    }
}

/// The samples quantile `q` needs: 1 / (1 - q), rounded to a whole count.
fn samples_needed(q: f64) -> f64 {
    (1.0 / (1.0 - q)).round()
}

/// How far along a nines axis (x = -log10(1 - q): 1 is p90, 2 is p99) a
/// percentile curve of `count` samples means anything: log10(count).
pub fn resolved_nines(count: u64) -> f64 {
    (count.max(1) as f64).log10()
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Latency {
    /// A quantile's value by metric (`Metric::P95` → `p95_ns`); `None` for
    /// metrics that are not quantiles.
    pub fn quantile(&self, metric: Metric) -> Option<u64> {
        Some(match metric {
            Metric::P50 => self.p50_ns,
            Metric::P66 => self.p66_ns,
            Metric::P75 => self.p75_ns,
            Metric::P80 => self.p80_ns,
            Metric::P90 => self.p90_ns,
            Metric::P95 => self.p95_ns,
            Metric::P98 => self.p98_ns,
            Metric::P99 => self.p99_ns,
            Metric::P999 => self.p999_ns,
            Metric::P9999 => self.p9999_ns,
            _ => return None,
        })
    }

    /// The quantiles in [`QUANTILE_METRICS`] order.
    pub fn quantiles(&self) -> [u64; 10] {
        QUANTILE_METRICS.map(|(m, _)| self.quantile(m).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_aliases_and_fields_parse() {
        for m in ALL {
            assert_eq!(Metric::parse(m.name()), Some(m), "{m}");
            if m.is_latency() {
                assert_eq!(Metric::parse(m.field()), Some(m), "{m}");
            }
            for alias in m.aliases() {
                assert_eq!(Metric::parse(alias), Some(m), "{alias}");
            }
        }
        assert_eq!(Metric::parse("P999_NS"), Some(Metric::P999));
        assert_eq!(Metric::parse("median"), Some(Metric::P50));
        assert_eq!(Metric::parse("p97"), None);
        assert_eq!(Metric::parse("rps_ns"), None);
        assert_eq!(Metric::parse("errors"), Some(Metric::ErrorRate));
    }

    #[test]
    fn names_are_unambiguous() {
        let mut seen = std::collections::HashSet::new();
        for m in ALL {
            for n in std::iter::once(m.name()).chain(m.aliases().iter().copied()) {
                assert!(seen.insert(n), "{n} names two metrics");
            }
        }
    }

    #[test]
    fn quantiles_by_name_match_the_histogram_order() {
        assert_eq!(
            QUANTILE_METRICS.map(|(_, q)| q),
            crate::hist::QUANTILES,
            "one list of quantiles"
        );
        let l = Latency {
            p95_ns: 95,
            p9999_ns: 9999,
            ..Latency::default()
        };
        assert_eq!(l.quantile(Metric::P95), Some(95));
        assert_eq!(l.quantiles()[9], 9999);
        assert_eq!(l.quantile(Metric::Mean), None);
    }

    #[test]
    fn changes_are_relative_or_in_points() {
        assert!((Metric::P95.change(100.0, 123.0).unwrap() - 0.23).abs() < 1e-12);
        assert!((Metric::ErrorRate.change(0.001, 0.05).unwrap() - 4.9).abs() < 1e-12);
        assert_eq!(Metric::Rps.change(0.0, 5.0), None);
        assert_eq!(Metric::Max.change(0.0, 0.0), Some(0.0));
        assert_eq!(Metric::ErrorRate.change(0.0, 0.0), Some(0.0));
        assert_eq!(Metric::P95.show_change(Some(0.23)), "+23.0%");
        assert_eq!(Metric::ErrorRate.show_change(Some(4.9)), "+4.90pp");
        assert_eq!(Metric::Rps.show_change(None), "n/a");
    }

    #[test]
    fn percentiles_need_enough_samples() {
        assert!(Metric::P99.resolved_by(100));
        assert!(!Metric::P99.resolved_by(99));
        assert!(!Metric::P9999.resolved_by(9_999));
        assert!(Metric::P9999.resolved_by(10_000));
        assert!(!Metric::P999.resolved_by(65));
        assert!(Metric::P50.resolved_by(2));
        assert!(Metric::Max.resolved_by(1));
        assert!((resolved_nines(1_000) - 3.0).abs() < 1e-12);
    }

    #[test]
    fn values_read_from_stats() {
        let mut s = Stats {
            count: 200,
            errors: 3,
            rps: 12.5,
            ..Stats::default()
        };
        s.latency.p999_ns = 7;
        assert_eq!(Metric::P999.value(&s), 7.0);
        assert_eq!(Metric::ErrorRate.value(&s), 0.015);
        assert_eq!(Metric::ErrorCount.value(&s), 3.0);
        assert_eq!(Metric::Count.show(1234.0), "1,234");
    }
}
