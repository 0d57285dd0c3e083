//! Percentiles agree with exact percentiles of the raw latencies within the
//! histogram's precision (3 significant digits), on known distributions.

mod common;

use common::*;
use rand::{rngs::SmallRng, Rng, SeedableRng};

/// Nearest-rank percentile of sorted values: what HdrHistogram approximates.
fn exact(sorted: &[u64], q: f64) -> u64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).max(1);
    sorted[rank - 1]
}

fn check(label: &str, latencies: Vec<u64>) {
    let events: Vec<_> = latencies
        .iter()
        .enumerate()
        .map(|(i, &l)| event(T0 + i as u64 * 1_000_000, "GET /x", l))
        .collect();
    let records = summarize(&[], &to_ndjson(&events));
    let stats = &endpoints(&records)[0];
    let mut sorted = latencies;
    sorted.sort_unstable();
    let l = &stats.latency;
    let pairs = [
        (0.5, l.p50_ns),
        (0.66, l.p66_ns),
        (0.75, l.p75_ns),
        (0.8, l.p80_ns),
        (0.9, l.p90_ns),
        (0.95, l.p95_ns),
        (0.98, l.p98_ns),
        (0.99, l.p99_ns),
        (0.999, l.p999_ns),
        (0.9999, l.p9999_ns),
    ];
    for (q, got) in pairs {
        let want = exact(&sorted, q);
        let error = (got as f64 - want as f64).abs() / want.max(1) as f64;
        assert!(
            error <= 1e-3,
            "{label}: p{} = {got}, exact {want} (relative error {error:.5})",
            q * 100.0
        );
    }
    assert_eq!(l.min_ns, sorted[0], "{label}: min is exact");
    assert_eq!(l.max_ns, *sorted.last().unwrap(), "{label}: max is exact");
    let mean = sorted.iter().sum::<u64>() as f64 / sorted.len() as f64;
    assert!(
        (l.mean_ns - mean).abs() / mean <= 1e-3,
        "{label}: mean {} vs {mean}",
        l.mean_ns
    );
    assert_eq!(stats.count, sorted.len() as u64);
}

#[test]
fn uniform_latencies() {
    let mut rng = SmallRng::seed_from_u64(1);
    check(
        "uniform 100µs..100ms",
        (0..20_000)
            .map(|_| rng.gen_range(100_000..100_000_000))
            .collect(),
    );
}

#[test]
fn exponential_latencies() {
    let mut rng = SmallRng::seed_from_u64(2);
    check(
        "exponential mean 5ms",
        (0..20_000)
            .map(|_| (-(1.0 - rng.gen::<f64>()).ln() * 5e6) as u64 + 1_000)
            .collect(),
    );
}

#[test]
fn bimodal_latencies_with_a_long_tail() {
    let mut rng = SmallRng::seed_from_u64(3);
    check(
        "bimodal 1ms / 800ms + 2.5s tail",
        (0..20_000)
            .map(|i| {
                if i % 1000 == 0 {
                    2_500_000_000 + rng.gen_range(0..1_000_000)
                } else if rng.gen_bool(0.9) {
                    rng.gen_range(900_000..1_100_000)
                } else {
                    rng.gen_range(700_000_000..900_000_000)
                }
            })
            .collect(),
    );
}

#[test]
fn a_constant_latency_is_every_percentile() {
    check("constant", vec![1_843_000; 1000]);
}
