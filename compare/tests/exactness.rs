//! The rank tests computed from two histograms in one pass must equal the
//! same tests computed the slow, obvious way from the raw samples.

mod common;

use common::{choice, lognormal};
use compare::stats::{tie_groups, KolmogorovSmirnov, MannWhitney};
use records::hist::{new_histogram, record};
use statrs::distribution::{ContinuousCDF, Normal};

struct Reference {
    u: f64,
    z: f64,
    p: f64,
}

/// Mann–Whitney from raw samples: sort, give tied values their mid-rank, sum
/// the current run's ranks; tie-corrected variance, continuity correction.
fn reference(baseline: &[u64], current: &[u64]) -> Reference {
    let mut all: Vec<(u64, bool)> = baseline
        .iter()
        .map(|&v| (v, false))
        .chain(current.iter().map(|&v| (v, true)))
        .collect();
    all.sort_unstable();
    let (n1, n2) = (baseline.len() as f64, current.len() as f64);
    let n = n1 + n2;
    let mut rank_sum_current = 0.0;
    let mut ties = 0.0;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j < all.len() && all[j].0 == all[i].0 {
            j += 1;
        }
        // Positions i..j (0-based) share ranks i+1..=j: their mean.
        let midrank = (i + 1 + j) as f64 / 2.0;
        rank_sum_current += midrank * all[i..j].iter().filter(|(_, cur)| *cur).count() as f64;
        let t = (j - i) as f64;
        ties += t * t * t - t;
        i = j;
    }
    let u = rank_sum_current - n2 * (n2 + 1.0) / 2.0;
    let mean = n1 * n2 / 2.0;
    let sd = (n1 * n2 / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)))).sqrt();
    let z = ((u - mean).abs() - 0.5).max(0.0) / sd * (u - mean).signum();
    let p = (2.0 * Normal::new(0.0, 1.0).unwrap().sf(z.abs())).min(1.0);
    Reference { u, z, p }
}

/// U by its definition: pairs where current is slower, ties counting half.
fn pair_count(baseline: &[u64], current: &[u64]) -> f64 {
    let mut u = 0.0;
    for &y in current {
        for &x in baseline {
            if y > x {
                u += 1.0;
            } else if y == x {
                u += 0.5;
            }
        }
    }
    u
}

fn ks_reference(baseline: &[u64], current: &[u64]) -> f64 {
    let mut values: Vec<u64> = baseline.iter().chain(current).copied().collect();
    values.sort_unstable();
    values.dedup();
    let cdf = |s: &[u64], v: u64| s.iter().filter(|&&x| x <= v).count() as f64 / s.len() as f64;
    values
        .iter()
        .map(|&v| (cdf(baseline, v) - cdf(current, v)).abs())
        .fold(0.0, f64::max)
}

fn from_histograms(baseline: &[u64], current: &[u64]) -> (MannWhitney, KolmogorovSmirnov) {
    let (mut a, mut b) = (new_histogram(), new_histogram());
    baseline.iter().for_each(|&v| record(&mut a, v));
    current.iter().for_each(|&v| record(&mut b, v));
    // Through the wire format, as compare reads them.
    let a = records::hist::decode(&records::hist::encode(&a)).unwrap();
    let b = records::hist::decode(&records::hist::encode(&b)).unwrap();
    let groups = tie_groups(&a, &b);
    (
        MannWhitney::from_groups(&groups).unwrap(),
        KolmogorovSmirnov::from_groups(&groups).unwrap(),
    )
}

fn assert_same(baseline: &[u64], current: &[u64]) -> MannWhitney {
    let (mw, ks) = from_histograms(baseline, current);
    let r = reference(baseline, current);
    assert_eq!(mw.u, r.u, "U");
    assert_eq!(mw.u, pair_count(baseline, current), "U by pair count");
    assert!(
        (mw.z - r.z).abs() <= 1e-9 * r.z.abs().max(1.0),
        "z {} vs {}",
        mw.z,
        r.z
    );
    assert!(
        (mw.p_value - r.p).abs() <= 1e-9 * r.p.max(1e-300),
        "p {} vs {}",
        mw.p_value,
        r.p
    );
    assert!(
        (ks.d - ks_reference(baseline, current)).abs() < 1e-12,
        "KS D"
    );
    mw
}

#[test]
fn distinct_values_give_the_exact_u_and_p() {
    // Below 2048 a 3-digit histogram keeps every integer exactly.
    let mut baseline = choice(1, 37, &(1..2000).collect::<Vec<_>>());
    let current = choice(2, 45, &(300..2000).collect::<Vec<_>>());
    let mw = assert_same(&baseline, &current);
    assert!(mw.a() > 0.5, "current was drawn from higher values");
    // And the other way round, the statistic mirrors.
    baseline.reverse();
    let back = assert_same(&current, &baseline);
    assert!((back.u - (37.0 * 45.0 - mw.u)).abs() < 1e-9);
}

#[test]
fn heavy_ties_from_a_handful_of_latencies() {
    let ms = 1_000_000;
    let values = [ms, 2 * ms, 5 * ms, 10 * ms, 50 * ms];
    // The same five latencies on both sides: nothing but ties.
    let a = choice(3, 400, &values);
    let b = choice(4, 300, &values);
    let mw = assert_same(&a, &b);
    assert!(mw.p_value > 0.01, "{}", mw.p_value);
    // Shifted: the current run lost its fastest value and gained a slow one.
    let c = choice(5, 350, &[2 * ms, 5 * ms, 10 * ms, 50 * ms, 100 * ms]);
    let mw = assert_same(&a, &c);
    assert!(mw.p_value < 1e-6, "{}", mw.p_value);
    // A lopsided tie structure: one value holds almost everything.
    let mut d = vec![3 * ms; 500];
    d.extend(choice(6, 7, &values));
    let mut e = vec![3 * ms; 480];
    e.extend(choice(7, 25, &[ms, 50 * ms]));
    assert_same(&d, &e);
    // Tiny samples, all tied but one.
    assert_same(&[5, 5, 5], &[5, 5, 6]);
}

#[test]
fn continuous_latencies_match_at_the_histograms_resolution() {
    let a = lognormal(8, 1500, 20.0, 0.6, 1.0);
    let b = lognormal(9, 1200, 20.0, 0.6, 1.05);
    // The histogram keeps 3 significant digits: the exact reference is the
    // raw samples rounded to their bucket...
    let h = new_histogram();
    let bucket = |s: &[u64]| {
        s.iter()
            .map(|&v| h.highest_equivalent(v))
            .collect::<Vec<_>>()
    };
    let mw = assert_same(&bucket(&a), &bucket(&b));
    // ...and the raw samples themselves differ only by ties within 0.1%.
    let raw = reference(&a, &b);
    assert!((mw.u - raw.u).abs() / raw.u < 1e-3, "{} vs {}", mw.u, raw.u);
    assert!(
        (mw.p_value - raw.p).abs() < 1e-3,
        "{} vs {}",
        mw.p_value,
        raw.p
    );
}
