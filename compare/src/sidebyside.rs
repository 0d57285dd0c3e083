//! Two or more runs next to each other (seed 000's architecture comparison):
//! the same metrics for every run, and each run's relative difference from
//! the first.

use crate::metric::Metric;
use crate::run::{Entry, Run, TOTAL};
use crate::stats::{self, MannWhitney};
use crate::verdict::Settings;

/// The lines of a side-by-side section, in order.
pub const LINES: [Metric; 10] = [
    Metric::Count,
    Metric::Mean,
    Metric::Min,
    Metric::Max,
    Metric::P50,
    Metric::P95,
    Metric::P99,
    Metric::P999,
    Metric::Rps,
    Metric::ErrorRate,
];

/// One endpoint (or the total) across all runs.
#[derive(Clone, Debug)]
pub struct Section {
    pub name: String,
    pub is_total: bool,
    /// Per run: the values of [`LINES`], or `None` when the run lacks the endpoint.
    pub values: Vec<Option<Vec<f64>>>,
    /// Per run after the first: Mann–Whitney against the first run, with its
    /// Holm-adjusted p (over the sections of that pair), when both have enough data.
    pub tests: Vec<Option<(MannWhitney, f64)>>,
}

fn find<'a>(run: &'a Run, name: &str, is_total: bool) -> Option<&'a Entry> {
    if is_total {
        Some(&run.total)
    } else {
        run.endpoints
            .iter()
            .chain(&run.flows)
            .find(|e| e.stats.name == name)
    }
}

#[derive(Clone, Debug)]
pub struct SideBySide {
    pub labels: Vec<String>,
    pub durations_ns: Vec<u64>,
    pub sections: Vec<Section>,
    pub alpha: f64,
}

impl SideBySide {
    pub fn new(runs: &[Run], settings: &Settings) -> SideBySide {
        let mut names: Vec<(String, bool)> = vec![(TOTAL.to_string(), true)];
        for run in runs {
            for e in run.endpoints.iter().chain(&run.flows) {
                if !names.iter().any(|(n, t)| !t && *n == e.stats.name) {
                    names.push((e.stats.name.clone(), false));
                }
            }
        }
        let mut sections: Vec<Section> = names
            .into_iter()
            .map(|(name, is_total)| {
                let entries: Vec<Option<&Entry>> =
                    runs.iter().map(|r| find(r, &name, is_total)).collect();
                let values = entries
                    .iter()
                    .map(|e| e.map(|e| LINES.iter().map(|m| m.value(&e.stats)).collect()))
                    .collect();
                let tests = entries
                    .iter()
                    .enumerate()
                    .map(|(i, e)| match (i, entries[0], e) {
                        (0, _, _) => None,
                        (_, Some(first), Some(e))
                            if first.hist.len() >= settings.min_count
                                && e.hist.len() >= settings.min_count =>
                        {
                            MannWhitney::from_groups(&stats::tie_groups(&first.hist, &e.hist))
                                .map(|mw| (mw, mw.p_value))
                        }
                        _ => None,
                    })
                    .collect();
                Section {
                    name,
                    is_total,
                    values,
                    tests,
                }
            })
            .collect();
        // Holm per pair (first run against run i), across its sections.
        for i in 1..runs.len() {
            let raw: Vec<f64> = sections
                .iter()
                .filter_map(|s| s.tests[i].map(|(mw, _)| mw.p_value))
                .collect();
            let mut adjusted = stats::holm(&raw).into_iter();
            for s in &mut sections {
                if let Some((_, p)) = &mut s.tests[i] {
                    *p = adjusted.next().unwrap_or(1.0);
                }
            }
        }
        SideBySide {
            labels: runs.iter().map(|r| r.label.clone()).collect(),
            durations_ns: runs.iter().map(Run::duration_ns).collect(),
            sections,
            alpha: settings.alpha,
        }
    }
}
