//! Baseline against current: the tests, the corrections and the verdicts.
//!
//! A metric is a regression only when two things hold: the difference is
//! statistically significant (after Holm's correction over the endpoints
//! compared), and it is larger than the practical limit the user set for that
//! metric. Significance alone is not enough: with a million requests a side a
//! 0.5% shift is "significant" and matters to nobody. A limit alone is not
//! enough either: with forty requests a 25% swing in p95 is noise.

use records::Stats;

use crate::metric::{Limits, Metric, ALL};
use crate::run::{Entry, Run, TOTAL};
use crate::stats::{self, KolmogorovSmirnov, MannWhitney, ProportionTest};

/// The knobs of a comparison.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Family-wise significance level.
    pub alpha: f64,
    pub limits: Limits,
    /// Fewer requests than this on either side: insufficient data.
    pub min_count: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            alpha: 0.01,
            limits: Limits::default(),
            min_count: 20,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Regression,
    Improvement,
    /// No practically significant change (benchstat's `~`).
    Same,
    Insufficient,
    Added,
    Removed,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Regression => "regression",
            Verdict::Improvement => "improvement",
            Verdict::Same => "~",
            Verdict::Insufficient => "insufficient data",
            Verdict::Added => "added",
            Verdict::Removed => "removed",
        }
    }
}

/// The distribution tests of one endpoint's latencies.
#[derive(Clone, Copy, Debug)]
pub struct LatencyTests {
    pub mann_whitney: MannWhitney,
    pub ks: KolmogorovSmirnov,
    /// Mann–Whitney's p after Holm's correction: what significance is judged on.
    pub p_adjusted: f64,
}

#[derive(Clone, Copy, Debug)]
pub struct ErrorTests {
    pub test: ProportionTest,
    pub p_adjusted: f64,
}

/// One metric of one endpoint.
#[derive(Clone, Debug)]
pub struct Row {
    pub metric: Metric,
    pub baseline: Option<f64>,
    pub current: Option<f64>,
    /// Relative, or percentage points for the error rate.
    pub change: Option<f64>,
    /// Mann–Whitney's p for latency, the proportion test's for errors, none for rps.
    pub p_value: Option<f64>,
    pub p_adjusted: Option<f64>,
    /// Probability of superiority A for latency rows.
    pub effect: Option<f64>,
    /// The practical limit, when this metric has one.
    pub limit: Option<f64>,
    pub verdict: Verdict,
}

/// Everything compared for one endpoint (or the total).
#[derive(Clone, Debug)]
pub struct EndpointComparison {
    pub name: String,
    pub is_total: bool,
    /// `Same` when compared (the rows carry the verdicts), else why not.
    pub status: Verdict,
    pub count_baseline: u64,
    pub count_current: u64,
    pub latency: Option<LatencyTests>,
    pub errors: Option<ErrorTests>,
    pub rows: Vec<Row>,
}

impl EndpointComparison {
    pub fn worst(&self) -> Verdict {
        if self.status != Verdict::Same {
            return self.status;
        }
        let has = |v| self.rows.iter().any(|r| r.verdict == v);
        if has(Verdict::Regression) {
            Verdict::Regression
        } else if has(Verdict::Improvement) {
            Verdict::Improvement
        } else {
            Verdict::Same
        }
    }
}

/// The whole comparison.
#[derive(Clone, Debug)]
pub struct Report {
    pub baseline: String,
    pub current: String,
    pub settings: Settings,
    pub endpoints: Vec<EndpointComparison>,
    /// Endpoints (and total) whose latency was tested: Holm's family size.
    pub family: usize,
    /// The runs (by label) whose generator was CPU-bound: their latencies
    /// include generator delay, so a difference may be the generator's.
    pub cpu_bound: Vec<String>,
}

impl Report {
    /// The warning to show beside the verdict, when a run was CPU-bound.
    pub fn cpu_warning(&self) -> Option<String> {
        (!self.cpu_bound.is_empty()).then(|| {
            format!(
                "warning: hammer was CPU-bound in {}: latencies include generator delay",
                self.cpu_bound.join(" and ")
            )
        })
    }
}

impl Report {
    pub fn count(&self, verdict: Verdict) -> usize {
        self.rows().filter(|r| r.verdict == verdict).count()
    }

    pub fn rows(&self) -> impl Iterator<Item = &Row> {
        self.endpoints.iter().flat_map(|e| e.rows.iter())
    }

    pub fn has_regression(&self) -> bool {
        self.count(Verdict::Regression) > 0
    }

    pub fn with_status(&self, status: Verdict) -> impl Iterator<Item = &EndpointComparison> {
        self.endpoints.iter().filter(move |e| e.status == status)
    }
}

/// Compares `current` against `baseline`.
pub fn compare(baseline: &Run, current: &Run, settings: &Settings) -> Report {
    // Flows are compared like endpoints, by name.
    let mut names: Vec<&str> = baseline
        .endpoints
        .iter()
        .chain(&baseline.flows)
        .map(|e| e.stats.name.as_str())
        .collect();
    for e in current.endpoints.iter().chain(&current.flows) {
        if !names.contains(&e.stats.name.as_str()) {
            names.push(&e.stats.name);
        }
    }
    let mut pairs: Vec<(String, bool, Option<&Entry>, Option<&Entry>)> = names
        .into_iter()
        .map(|n| {
            (
                n.to_string(),
                false,
                endpoint(baseline, n),
                endpoint(current, n),
            )
        })
        .collect();
    pairs.push((
        TOTAL.to_string(),
        true,
        Some(&baseline.total),
        Some(&current.total),
    ));

    // First pass: the tests, unadjusted.
    struct Tested {
        latency: Option<(MannWhitney, KolmogorovSmirnov)>,
        errors: Option<ProportionTest>,
    }
    let tested: Vec<Option<Tested>> = pairs
        .iter()
        .map(|(_, _, b, c)| match (b, c) {
            (Some(b), Some(c)) if sufficient(b, c, settings.min_count) => {
                let groups = stats::tie_groups(&b.hist, &c.hist);
                let latency =
                    MannWhitney::from_groups(&groups).zip(KolmogorovSmirnov::from_groups(&groups));
                let errors = stats::proportions::compare(
                    b.stats.errors,
                    b.stats.count,
                    c.stats.errors,
                    c.stats.count,
                );
                Some(Tested { latency, errors })
            }
            _ => None,
        })
        .collect();

    // Holm over the endpoints actually tested, one family per test.
    let latency_p: Vec<f64> = tested
        .iter()
        .flatten()
        .filter_map(|t| t.latency.map(|(mw, _)| mw.p_value))
        .collect();
    let error_p: Vec<f64> = tested
        .iter()
        .flatten()
        .filter_map(|t| t.errors.map(|e| e.p_value))
        .collect();
    let family = latency_p.len();
    let mut latency_adj = stats::holm(&latency_p).into_iter();
    let mut error_adj = stats::holm(&error_p).into_iter();

    let endpoints = pairs
        .iter()
        .zip(&tested)
        .map(|((name, is_total, b, c), tested)| {
            let count = |e: &Option<&Entry>| e.map_or(0, |e| e.stats.count);
            let mut out = EndpointComparison {
                name: name.clone(),
                is_total: *is_total,
                status: Verdict::Same,
                count_baseline: count(b),
                count_current: count(c),
                latency: None,
                errors: None,
                rows: Vec::new(),
            };
            match (b, c, tested) {
                (None, Some(_), _) => out.status = Verdict::Added,
                (Some(_), None, _) => out.status = Verdict::Removed,
                (Some(b), Some(c), None) => {
                    out.status = Verdict::Insufficient;
                    out.rows = rows(&b.stats, &c.stats, None, None, settings);
                }
                (Some(b), Some(c), Some(t)) => {
                    out.latency = t.latency.map(|(mann_whitney, ks)| LatencyTests {
                        mann_whitney,
                        ks,
                        p_adjusted: latency_adj.next().unwrap_or(1.0),
                    });
                    out.errors = t.errors.map(|test| ErrorTests {
                        test,
                        p_adjusted: error_adj.next().unwrap_or(1.0),
                    });
                    out.rows = rows(&b.stats, &c.stats, out.latency, out.errors, settings);
                }
                (None, None, _) => {}
            }
            out
        })
        .collect();

    let cpu_bound = [baseline, current]
        .iter()
        .filter(|r| r.info.as_ref().is_some_and(|i| i.cpu_bound))
        .map(|r| r.label.clone())
        .collect();
    Report {
        baseline: baseline.label.clone(),
        current: current.label.clone(),
        settings: settings.clone(),
        endpoints,
        family,
        cpu_bound,
    }
}

fn endpoint<'a>(run: &'a Run, name: &str) -> Option<&'a Entry> {
    run.endpoints
        .iter()
        .chain(&run.flows)
        .find(|e| e.stats.name == name)
}

fn sufficient(b: &Entry, c: &Entry, min_count: u64) -> bool {
    let n = |e: &Entry| e.stats.count.min(e.hist.len());
    n(b) >= min_count && n(c) >= min_count
}

fn rows(
    b: &Stats,
    c: &Stats,
    latency: Option<LatencyTests>,
    errors: Option<ErrorTests>,
    settings: &Settings,
) -> Vec<Row> {
    let tested = latency.is_some() || errors.is_some();
    ALL.into_iter()
        .map(|metric| {
            let (baseline, current) = (metric.value(b), metric.value(c));
            let change = metric.change(baseline, current);
            let limit = settings.limits.get(metric);
            let (p_value, p_adjusted, effect) = if metric.is_latency() {
                (
                    latency.map(|l| l.mann_whitney.p_value),
                    latency.map(|l| l.p_adjusted),
                    latency.map(|l| l.mann_whitney.a()),
                )
            } else if metric == Metric::ErrorRate {
                (
                    errors.map(|e| e.test.p_value),
                    errors.map(|e| e.p_adjusted),
                    None,
                )
            } else {
                (None, None, None)
            };
            let verdict = if !tested {
                Verdict::Insufficient
            } else {
                // Throughput has no per-request sample to test: its limit alone decides.
                let significant =
                    metric == Metric::Rps || p_adjusted.is_some_and(|p| p < settings.alpha);
                judge(metric, change, limit, significant)
            };
            Row {
                metric,
                baseline: Some(baseline),
                current: Some(current),
                change,
                p_value,
                p_adjusted,
                effect,
                limit,
                verdict,
            }
        })
        .collect()
}

fn judge(metric: Metric, change: Option<f64>, limit: Option<f64>, significant: bool) -> Verdict {
    let (Some(change), Some(limit)) = (change, limit) else {
        return Verdict::Same;
    };
    if !significant {
        return Verdict::Same;
    }
    let worse = if metric.higher_is_worse() != Some(false) {
        change
    } else {
        -change
    };
    if worse > limit {
        Verdict::Regression
    } else if worse < -limit {
        Verdict::Improvement
    } else {
        Verdict::Same
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regression_needs_significance_and_size() {
        assert_eq!(
            judge(Metric::P95, Some(0.3), Some(0.2), true),
            Verdict::Regression
        );
        assert_eq!(
            judge(Metric::P95, Some(0.3), Some(0.2), false),
            Verdict::Same
        );
        assert_eq!(
            judge(Metric::P95, Some(0.02), Some(0.2), true),
            Verdict::Same
        );
        assert_eq!(
            judge(Metric::P95, Some(-0.3), Some(0.2), true),
            Verdict::Improvement
        );
        assert_eq!(judge(Metric::P95, Some(0.3), None, true), Verdict::Same);
        assert_eq!(
            judge(Metric::ErrorRate, Some(4.9), Some(1.0), true),
            Verdict::Regression
        );
        // Throughput: a drop is the regression.
        assert_eq!(
            judge(Metric::Rps, Some(-0.3), Some(0.1), true),
            Verdict::Regression
        );
        assert_eq!(
            judge(Metric::Rps, Some(0.3), Some(0.1), true),
            Verdict::Improvement
        );
    }
}
