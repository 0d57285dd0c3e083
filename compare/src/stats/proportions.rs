//! Did the error rate change? Two proportions, two tests.
//!
//! With enough failures on both sides the pooled two-proportion z-test is
//! accurate. When an expected cell of the 2×2 table is below 5 (few errors,
//! the usual case for a healthy service) the normal approximation is not, and
//! Fisher's exact test is used instead: the hypergeometric probability of
//! every table with the same margins, summed over those no more likely than
//! the one observed.

use statrs::function::gamma::ln_gamma;

use super::mannwhitney::two_sided;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProportionMethod {
    ZTest,
    Fisher,
}

impl ProportionMethod {
    pub fn name(self) -> &'static str {
        match self {
            ProportionMethod::ZTest => "z-test",
            ProportionMethod::Fisher => "Fisher",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProportionTest {
    pub p_value: f64,
    pub method: ProportionMethod,
}

/// Tests `errors1` of `n1` against `errors2` of `n2`, two-sided.
/// `None` when a run has no requests.
pub fn compare(errors1: u64, n1: u64, errors2: u64, n2: u64) -> Option<ProportionTest> {
    if n1 == 0 || n2 == 0 || errors1 > n1 || errors2 > n2 {
        return None;
    }
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let failures = (errors1 + errors2) as f64;
    let n = n1f + n2f;
    let pooled = failures / n;
    let smallest_expected = [
        n1f * pooled,
        n2f * pooled,
        n1f * (1.0 - pooled),
        n2f * (1.0 - pooled),
    ]
    .into_iter()
    .fold(f64::INFINITY, f64::min);
    if smallest_expected < 5.0 {
        return Some(ProportionTest {
            p_value: fisher_exact(errors1, n1, errors2, n2),
            method: ProportionMethod::Fisher,
        });
    }
    let se = (pooled * (1.0 - pooled) * (1.0 / n1f + 1.0 / n2f)).sqrt();
    let z = (errors2 as f64 / n2f - errors1 as f64 / n1f) / se;
    Some(ProportionTest {
        p_value: two_sided(z),
        method: ProportionMethod::ZTest,
    })
}

/// Fisher's exact test, two-sided, for the table
/// `[[errors1, n1 − errors1], [errors2, n2 − errors2]]`.
pub fn fisher_exact(errors1: u64, n1: u64, errors2: u64, n2: u64) -> f64 {
    let n = n1 + n2;
    let failures = errors1 + errors2;
    // Tables with these margins: errors in run 1 from lo to hi.
    let lo = n1.saturating_sub(n - failures);
    let hi = failures.min(n1);
    let ln_choose = |a: u64, b: u64| {
        ln_gamma(a as f64 + 1.0) - ln_gamma(b as f64 + 1.0) - ln_gamma((a - b) as f64 + 1.0)
    };
    let ln_total = ln_choose(n, n1);
    let ln_p = |k: u64| ln_choose(failures, k) + ln_choose(n - failures, n1 - k) - ln_total;
    let observed = ln_p(errors1);
    // Tables "as or less likely", with R's relative tolerance for rounding.
    let cutoff = observed + 1e-7_f64.ln_1p();
    let p: f64 = (lo..=hi)
        .map(ln_p)
        .filter(|&l| l <= cutoff)
        .map(f64::exp)
        .sum();
    p.min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fisher_matches_r() {
        // R: fisher.test(matrix(c(3,1,1,3), 2))$p.value = 0.4857143 (the tea test)
        assert!((fisher_exact(3, 4, 1, 4) - 0.485_714_3).abs() < 1e-6);
        // R: fisher.test(matrix(c(1,9,11,3), 2))$p.value = 0.002759456
        assert!((fisher_exact(1, 12, 9, 12) - 0.002_759_456).abs() < 1e-8);
        // Identical tables are no evidence at all.
        assert!((fisher_exact(0, 100, 0, 100) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn small_counts_use_fisher_and_large_use_z() {
        let t = compare(1, 1000, 3, 1000).unwrap();
        assert_eq!(t.method, ProportionMethod::Fisher);
        assert!(t.p_value > 0.3);
        let t = compare(10, 10_000, 500, 10_000).unwrap();
        assert_eq!(t.method, ProportionMethod::ZTest);
        assert!(t.p_value < 1e-50, "{}", t.p_value);
        // R: prop.test(c(50, 80), c(1000, 1000), correct=FALSE)$p.value = 0.0065066
        let t = compare(50, 1000, 80, 1000).unwrap();
        assert_eq!(t.method, ProportionMethod::ZTest);
        assert!((t.p_value - 0.006_506_6).abs() < 1e-6, "{}", t.p_value);
    }

    #[test]
    fn nonsense_counts_give_no_test() {
        assert!(compare(5, 0, 1, 10).is_none());
        assert!(compare(11, 10, 1, 10).is_none());
    }
}
