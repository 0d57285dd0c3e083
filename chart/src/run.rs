//! One run's summary, read from aggregate's NDJSON, and the endpoint
//! groupings the charts draw (top N by count, the rest as "others").

use std::collections::HashMap;

use anyhow::Context as _;

pub use records::run::{Entry, Run};

/// Reads a summary file (`-` for stdin) with the reader and checks every
/// tool shares ([`records::run`]; bad lines name file and line, exit 2), its
/// endpoints busiest first and its intervals in time order.
pub fn load(path: &str) -> anyhow::Result<Run> {
    let mut run = Run::load(path)?;
    run.endpoints.sort_by(|a, b| {
        b.stats
            .count
            .cmp(&a.stats.count)
            .then_with(|| a.stats.name.cmp(&b.stats.name))
    });
    run.intervals.sort_by_key(|i| i.start);
    Ok(run)
}

/// Seconds the charts' time axes span: the data's, at least one.
pub fn axis_secs(run: &Run) -> f64 {
    ((run.end_ns() - run.start_ns()) as f64 / 1e9).max(1.0)
}

/// The `max` busiest endpoints of a run, then the rest merged as one "others" entry.
pub fn top_endpoints(run: &Run, max: usize) -> Vec<Entry> {
    let names: Vec<&str> = run
        .endpoints
        .iter()
        .map(|e| e.stats.name.as_str())
        .collect();
    group(&[run], &names, max).pop().unwrap_or_default()
}

/// The endpoint names of several runs, busiest (summed over runs) first.
pub fn ranked_names(runs: &[&Run]) -> Vec<String> {
    let mut counts: HashMap<&str, u64> = HashMap::new();
    let mut order = Vec::new();
    for run in runs {
        for e in &run.endpoints {
            let entry = counts.entry(e.stats.name.as_str()).or_insert_with(|| {
                order.push(e.stats.name.as_str());
                0
            });
            *entry = entry.saturating_add(e.stats.count);
        }
    }
    order.sort_by(|a, b| counts[b].cmp(&counts[a]).then_with(|| a.cmp(b)));
    order.into_iter().map(str::to_string).collect()
}

/// For each run, one entry per name among the first `max` of `names` (empty
/// stats where the run lacks it), then "others (N endpoints)" merging the rest.
pub fn group<S: AsRef<str>>(runs: &[&Run], names: &[S], max: usize) -> Vec<Vec<Entry>> {
    // With one name too many, drawing it beats an "others" of one.
    let shown = if names.len() <= max + 1 {
        names.len()
    } else {
        max
    };
    runs.iter()
        .map(|run| {
            let by_name: HashMap<&str, &Entry> = run
                .endpoints
                .iter()
                .map(|e| (e.stats.name.as_str(), e))
                .collect();
            let mut out: Vec<Entry> = names[..shown]
                .iter()
                .map(|n| {
                    by_name
                        .get(n.as_ref())
                        .map(|e| (*e).clone())
                        .unwrap_or_else(|| Entry::empty(n.as_ref()))
                })
                .collect();
            if shown < names.len() {
                let rest: Vec<&Entry> = names[shown..]
                    .iter()
                    .filter_map(|n| by_name.get(n.as_ref()).copied())
                    .collect();
                let label = format!("others ({} endpoints)", names.len() - shown);
                out.push(Entry::merged(&label, &rest));
            }
            out
        })
        .collect()
}

/// Reads every run, applying `--label`s in order; duplicate labels get a suffix.
pub fn load_all(paths: &[String], labels: &[String]) -> anyhow::Result<Vec<Run>> {
    if labels.len() > paths.len() {
        return Err(records::bad_input(format!(
            "{} --label values for {} runs; give at most one per run",
            labels.len(),
            paths.len()
        )));
    }
    if paths.iter().filter(|p| p.as_str() == "-").count() > 1 {
        return Err(records::bad_input("stdin (`-`) can be read only once"));
    }
    let mut runs = Vec::with_capacity(paths.len());
    for (i, path) in paths.iter().enumerate() {
        let mut run = load(path).with_context(|| format!("reading run {}", i + 1))?;
        if let Some(label) = labels.get(i) {
            run.label = label.clone();
        }
        let base = run.label.clone();
        let mut n = 2;
        while runs.iter().any(|r: &Run| r.label == run.label) {
            run.label = format!("{base} ({n})");
            n += 1;
        }
        runs.push(run);
    }
    Ok(runs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use records::Stats;

    fn endpoint(name: &str, count: u64, latency_ms: u64) -> Entry {
        let mut h = records::hist::new_histogram();
        for _ in 0..count {
            records::hist::record(&mut h, latency_ms * 1_000_000);
        }
        Entry {
            stats: Stats {
                name: name.into(),
                count,
                errors: count / 10,
                rps: count as f64,
                latency: records::hist::latency(&h),
                ..Stats::default()
            },
            hist: h,
            service_hist: None,
        }
    }

    fn run(endpoints: Vec<Entry>) -> Run {
        let refs: Vec<&Entry> = endpoints.iter().collect();
        let total = Entry::merged(records::run::TOTAL, &refs);
        Run {
            path: "r.ndjson".into(),
            label: "r".into(),
            info: None,
            endpoints,
            flows: Vec::new(),
            total,
            intervals: Vec::new(),
            interval_hists: Vec::new(),
            thresholds: Vec::new(),
        }
    }

    #[test]
    fn hundreds_of_endpoints_become_top_n_and_others() {
        let r = run((0..300)
            .map(|i| endpoint(&format!("e{i}"), 300 - i, 1 + i))
            .collect());
        let top = top_endpoints(&r, 9);
        assert_eq!(top.len(), 10);
        assert_eq!(top[0].stats.name, "e0");
        let others = &top[9];
        assert_eq!(others.stats.name, "others (291 endpoints)");
        assert_eq!(others.stats.count, (1..=291).sum::<u64>());
        // Merged histograms: the slowest endpoint (e299, 300 ms) is the max.
        assert!(others.stats.latency.max_ns >= 299_000_000);
    }

    #[test]
    fn one_extra_endpoint_is_drawn_rather_than_grouped() {
        let r = run((0..10).map(|i| endpoint(&format!("e{i}"), 10, 1)).collect());
        let top = top_endpoints(&r, 9);
        assert_eq!(top.len(), 10);
        assert!(top.iter().all(|e| !e.stats.name.starts_with("others")));
    }

    #[test]
    fn runs_missing_an_endpoint_get_an_empty_row() {
        let a = run(vec![endpoint("x", 5, 1), endpoint("y", 3, 1)]);
        let b = run(vec![endpoint("y", 4, 1)]);
        let names = ranked_names(&[&a, &b]);
        assert_eq!(names, ["y", "x"]);
        let groups = group(&[&a, &b], &names, 8);
        assert_eq!(groups[1][1].stats.name, "x");
        assert_eq!(groups[1][1].stats.count, 0);
    }

    #[test]
    fn merging_nothing_is_empty_not_a_panic() {
        let e = Entry::merged("none", &[]);
        assert_eq!(e.stats.count, 0);
        assert!(e.hist.is_empty());
    }
}
