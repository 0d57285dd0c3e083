//! The two-sample Kolmogorov–Smirnov test from tie groups.
//!
//! D is the largest gap between the two empirical distribution functions,
//! read off the cumulative bucket counts. Where Mann–Whitney asks "is one run
//! generally slower?", D also sees a change of spread or a fatter tail with
//! the same median. The p-value is the asymptotic one (Kolmogorov's limiting
//! distribution at √(n₁n₂/(n₁+n₂))·D); with tied (bucketed) data it is
//! conservative.

use super::TieGroup;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KolmogorovSmirnov {
    /// sup |F_baseline − F_current|, in [0, 1].
    pub d: f64,
    /// Asymptotic two-sided p-value.
    pub p_value: f64,
}

impl KolmogorovSmirnov {
    /// `None` when either run has no requests.
    pub fn from_groups(groups: &[TieGroup]) -> Option<Self> {
        let n1: u64 = groups.iter().map(|g| g.baseline).sum();
        let n2: u64 = groups.iter().map(|g| g.current).sum();
        if n1 == 0 || n2 == 0 {
            return None;
        }
        let (mut c1, mut c2) = (0u64, 0u64);
        let mut d: f64 = 0.0;
        for g in groups {
            c1 += g.baseline;
            c2 += g.current;
            d = d.max((c1 as f64 / n1 as f64 - c2 as f64 / n2 as f64).abs());
        }
        let (n1, n2) = (n1 as f64, n2 as f64);
        let lambda = (n1 * n2 / (n1 + n2)).sqrt() * d;
        Some(KolmogorovSmirnov {
            d,
            p_value: kolmogorov_sf(lambda),
        })
    }
}

/// P(K > λ) for Kolmogorov's distribution K.
///
/// Two series for the same function: the alternating one converges fast for
/// large λ and the Jacobi-transformed one for small λ, so each is used where
/// a handful of terms is exact to double precision.
pub fn kolmogorov_sf(lambda: f64) -> f64 {
    if lambda.is_nan() || lambda <= 0.0 {
        return 1.0;
    }
    let p = if lambda < 1.18 {
        // 1 − √(2π)/λ · Σ_{j≥1} exp(−(2j−1)²π²/(8λ²))
        let k = -std::f64::consts::PI * std::f64::consts::PI / (8.0 * lambda * lambda);
        let mut sum = 0.0;
        for j in 1..=100 {
            let odd = (2 * j - 1) as f64;
            let term = (odd * odd * k).exp();
            sum += term;
            if term < 1e-17 * sum.max(f64::MIN_POSITIVE) {
                break;
            }
        }
        1.0 - (2.0 * std::f64::consts::PI).sqrt() / lambda * sum
    } else {
        // 2 Σ_{j≥1} (−1)^{j−1} exp(−2j²λ²)
        let mut sum = 0.0;
        for j in 1..=100 {
            let jf = j as f64;
            let term = (-2.0 * jf * jf * lambda * lambda).exp();
            sum += if j % 2 == 1 { term } else { -term };
            if term < 1e-17 * sum.abs().max(f64::MIN_POSITIVE) {
                break;
            }
        }
        2.0 * sum
    };
    p.clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kolmogorov_distribution_matches_tables() {
        // Reference values of 1 − K(λ) (e.g. SciPy's kstwobign.sf).
        for (lambda, expected) in [
            (0.3, 0.999_990_6),
            (0.5, 0.963_945_3),
            (1.0, 0.269_999_9),
            (1.1, 0.177_718_1),
            (1.2, 0.112_249_7),
            (1.358_1, 0.050_000),
            (2.0, 0.000_670_9),
        ] {
            let got = kolmogorov_sf(lambda);
            assert!(
                (got - expected).abs() < 2e-6,
                "λ={lambda}: {got} vs {expected}"
            );
        }
        assert_eq!(kolmogorov_sf(0.0), 1.0);
        // Both series agree where they meet.
        let below = kolmogorov_sf(1.18 - 1e-12);
        let above = kolmogorov_sf(1.18);
        assert!((below - above).abs() < 1e-10);
    }

    #[test]
    fn d_is_the_largest_cdf_gap() {
        let g = [
            TieGroup {
                value: 1,
                baseline: 5,
                current: 0,
            },
            TieGroup {
                value: 2,
                baseline: 5,
                current: 5,
            },
            TieGroup {
                value: 3,
                baseline: 0,
                current: 5,
            },
        ];
        let ks = KolmogorovSmirnov::from_groups(&g).unwrap();
        assert!((ks.d - 0.5).abs() < 1e-12);
        let same = [TieGroup {
            value: 1,
            baseline: 5,
            current: 7,
        }];
        assert_eq!(KolmogorovSmirnov::from_groups(&same).unwrap().d, 0.0);
    }
}
