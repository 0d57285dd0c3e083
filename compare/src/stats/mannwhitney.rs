//! The Mann–Whitney U test (Wilcoxon rank-sum), exactly, from tie groups.
//!
//! Walking the groups in ascending order, every current request in a group
//! is slower than all baseline requests below the group and tied with the
//! baseline requests inside it, so U accumulates in one pass with integer
//! arithmetic; the usual O(n log n) sort or O(n₁n₂) pair count over raw
//! samples is never needed. The p-value uses the normal approximation with
//! the tie correction of the variance and a continuity correction (as R's
//! `wilcox.test(exact = FALSE)` and SciPy's `mannwhitneyu` default), and the
//! survival function rather than `1 - cdf`, which underflows to 0 long before
//! the p-values that millions of requests produce.

use statrs::distribution::{ContinuousCDF, Normal};

use super::TieGroup;

/// The outcome of a Mann–Whitney U test of current against baseline.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MannWhitney {
    /// Requests in the baseline run.
    pub n1: u64,
    /// Requests in the current run.
    pub n2: u64,
    /// U of the current run: pairs (baseline, current) where the current
    /// request was slower, ties counting one half.
    pub u: f64,
    /// Standardized U (continuity-corrected); positive when current is slower.
    pub z: f64,
    /// Two-sided p-value.
    pub p_value: f64,
}

impl MannWhitney {
    /// Computes the test from tie groups in ascending value order.
    /// `None` when either run has no requests.
    pub fn from_groups<'a>(groups: impl IntoIterator<Item = &'a TieGroup>) -> Option<Self> {
        let mut below_baseline: u128 = 0;
        let mut n2: u128 = 0;
        // 2U, kept exact: with 10⁷ requests a side, U ~ 10¹⁴ and its half
        // units still fit comfortably in an integer.
        let mut twice_u: u128 = 0;
        // Σ (t³ − t) over tie groups, for the variance's tie correction.
        let mut ties: f64 = 0.0;
        for g in groups {
            let (a, b) = (g.baseline as u128, g.current as u128);
            twice_u += b * (2 * below_baseline + a);
            below_baseline += a;
            n2 += b;
            let t = (a + b) as f64;
            ties += t * t * t - t;
        }
        let n1 = below_baseline;
        if n1 == 0 || n2 == 0 {
            return None;
        }
        let (n1f, n2f) = (n1 as f64, n2 as f64);
        let n = n1f + n2f;
        let u = twice_u as f64 / 2.0;
        let mean = n1f * n2f / 2.0;
        let variance = n1f * n2f / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)));
        let (z, p_value) = if variance > 0.0 {
            let distance = ((u - mean).abs() - 0.5).max(0.0);
            let z = distance.copysign(u - mean) / variance.sqrt();
            (z, two_sided(z))
        } else {
            // Every request in one bucket: nothing tells the runs apart.
            (0.0, 1.0)
        };
        Some(MannWhitney {
            n1: n1 as u64,
            n2: n2 as u64,
            u,
            z,
            p_value,
        })
    }

    /// Probability of superiority: the chance that a random current request
    /// is slower than a random baseline request, ties counting one half.
    /// 0.5 means no shift; 0.56 is a small effect, 0.64 medium, 0.71 large
    /// (Vargha and Delaney).
    pub fn a(&self) -> f64 {
        self.u / (self.n1 as f64 * self.n2 as f64)
    }

    /// Cliff's δ = P(current slower) − P(current faster) = 2A − 1, in [−1, 1].
    pub fn cliffs_delta(&self) -> f64 {
        2.0 * self.a() - 1.0
    }
}

/// Two-sided p-value of a standard normal statistic, from the survival
/// function so that it stays accurate far into the tail.
pub fn two_sided(z: f64) -> f64 {
    let normal = Normal::standard();
    (2.0 * normal.sf(z.abs())).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(rows: &[(u64, u64, u64)]) -> Vec<TieGroup> {
        rows.iter()
            .map(|&(value, baseline, current)| TieGroup {
                value,
                baseline,
                current,
            })
            .collect()
    }

    #[test]
    fn textbook_example() {
        // baseline 1,2,3 ; current 4,5,6 : every current value is larger.
        let g = groups(&[
            (1, 1, 0),
            (2, 1, 0),
            (3, 1, 0),
            (4, 0, 1),
            (5, 0, 1),
            (6, 0, 1),
        ]);
        let mw = MannWhitney::from_groups(&g).unwrap();
        assert_eq!(mw.u, 9.0);
        assert_eq!(mw.a(), 1.0);
        assert_eq!(mw.cliffs_delta(), 1.0);
        // R: wilcox.test(c(4,5,6), c(1,2,3), exact=FALSE, correct=TRUE)$p.value
        // = 0.08085; z = (9 - 4.5 - 0.5) / sqrt(5.25) = 1.7457.
        assert!((mw.z - 4.0 / 5.25f64.sqrt()).abs() < 1e-12);
        assert!((mw.p_value - 0.080_86).abs() < 1e-4, "{}", mw.p_value);
    }

    #[test]
    fn all_tied_is_no_evidence() {
        let mw = MannWhitney::from_groups(&groups(&[(7, 30, 40)])).unwrap();
        assert_eq!(mw.p_value, 1.0);
        assert_eq!(mw.a(), 0.5);
    }

    #[test]
    fn empty_side_gives_no_test() {
        assert!(MannWhitney::from_groups(&groups(&[(7, 0, 40)])).is_none());
    }

    #[test]
    fn tiny_p_values_do_not_underflow() {
        // 10⁶ a side, fully separated: z ≈ 1225, far past where 1 − cdf is 0.
        let g = groups(&[(1, 1_000, 0), (2, 999_000, 0), (3, 0, 1_000_000)]);
        let mw = MannWhitney::from_groups(&g).unwrap();
        assert!(mw.p_value >= 0.0 && mw.p_value < 1e-300, "{}", mw.p_value);
        // z ≈ 12.06: 1 − cdf would be exactly 0; the survival function gives
        // 1.633e-33 (erfc(z/√2), computed independently).
        let g = groups(&[(1, 5_000, 4_150), (2, 5_000, 5_850)]);
        let mw = MannWhitney::from_groups(&g).unwrap();
        assert!((mw.z - 12.064_174).abs() < 1e-5, "{}", mw.z);
        assert!(
            (mw.p_value / 1.632_921e-33 - 1.0).abs() < 1e-4,
            "{}",
            mw.p_value
        );
        assert_eq!(1.0 - Normal::standard().cdf(mw.z), 0.0);
    }
}
