//! The "nines" axis of HdrHistogram percentile plots.
//!
//! x = -log10(1 - q): 0 is the 0th percentile, 1 is 90%, 2 is 99%, 3 is
//! 99.9%... so the tail, where the trouble is, gets as much room as the body.

use hdrhistogram::Histogram;

/// Points per curve in the PNGs: smooth at any chart width, cheap to draw.
pub const STEPS: usize = 400;

/// The x coordinate of quantile `q` (0..1).
pub fn x_of(q: f64) -> f64 {
    -(1.0 - q.clamp(0.0, 1.0 - 1e-12)).log10()
}

/// The quantile at x coordinate `x`.
pub fn q_of(x: f64) -> f64 {
    1.0 - 10f64.powf(-x)
}

/// How far right the axis goes for `count` samples: beyond 1 - 1/count the
/// curve is flat at the maximum, so stop there (between 99% and 99.999%).
pub fn x_max(count: u64) -> f64 {
    let nines = (count.max(1) as f64).log10().ceil();
    nines.clamp(2.0, 5.0)
}

/// An axis label: `0%`, `90%`, `99%`, `99.9%` at the integers, a plain
/// percentile in between.
pub fn label(x: &f64) -> String {
    let x = *x;
    let nearest = x.round();
    if (x - nearest).abs() < 1e-6 && nearest >= 0.0 {
        let n = nearest as usize;
        return match n {
            0 => "0%".into(),
            1 => "90%".into(),
            2 => "99%".into(),
            _ => format!("99.{}%", "9".repeat(n - 2)),
        };
    }
    let pct = q_of(x) * 100.0;
    let decimals = (x.ceil() as usize).saturating_sub(1).min(6);
    format!("{pct:.decimals$}%")
}

/// The percentile curve of `hist` in milliseconds, `steps + 1` points from
/// 0 to `x_max`, computed in one pass over the recorded values.
pub fn curve(hist: &Histogram<u64>, x_max: f64, steps: usize) -> Vec<(f64, f64)> {
    let total = hist.len();
    if total == 0 {
        return Vec::new();
    }
    let steps = steps.max(1);
    let xs: Vec<f64> = (0..=steps)
        .map(|i| x_max * i as f64 / steps as f64)
        .collect();
    let targets: Vec<u64> = xs
        .iter()
        .map(|&x| ((q_of(x) * total as f64).ceil() as u64).clamp(1, total))
        .collect();
    let mut out = Vec::with_capacity(xs.len());
    let mut cumulative = 0u64;
    let mut next = 0;
    for v in hist.iter_recorded() {
        cumulative += v.count_at_value();
        let value = hist.highest_equivalent(v.value_iterated_to());
        while next < xs.len() && cumulative >= targets[next] {
            out.push((xs[next], ms(value as f64)));
            next += 1;
        }
    }
    let max = ms(hist.max() as f64);
    out.extend(xs[next..].iter().map(|&x| (x, max)));
    out
}

/// Nanoseconds to milliseconds, the unit every latency axis uses.
pub fn ms(ns: f64) -> f64 {
    ns / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_labels_read_as_nines() {
        assert_eq!(label(&0.0), "0%");
        assert_eq!(label(&1.0), "90%");
        assert_eq!(label(&2.0), "99%");
        assert_eq!(label(&3.0), "99.9%");
        assert_eq!(label(&5.0), "99.999%");
        assert_eq!(label(&0.5), "68%");
        assert!((x_of(0.999) - 3.0).abs() < 1e-9);
        assert!((q_of(2.0) - 0.99).abs() < 1e-12);
    }

    #[test]
    fn axis_length_follows_the_sample_count() {
        assert_eq!(x_max(0), 2.0);
        assert_eq!(x_max(1000), 3.0);
        assert_eq!(x_max(1001), 4.0);
        assert_eq!(x_max(u64::MAX), 5.0);
    }

    #[test]
    fn curve_matches_value_at_quantile() {
        let mut h = records::hist::new_histogram();
        for i in 1..=10_000u64 {
            records::hist::record(&mut h, i * 1_000);
        }
        let c = curve(&h, 4.0, STEPS);
        assert_eq!(c.len(), STEPS + 1);
        for &(x, y) in &c {
            let expected = ms(h.value_at_quantile(q_of(x)) as f64);
            assert!(
                (y - expected).abs() <= expected * 0.002 + 1e-9,
                "x={x}: {y} vs {expected}"
            );
        }
        assert!(c.windows(2).all(|w| w[0].1 <= w[1].1));
        assert!(curve(&records::hist::new_histogram(), 3.0, STEPS).is_empty());
    }
}
