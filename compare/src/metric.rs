//! The metrics compared, and the practical limits (`--max-increase`) that
//! say how large a change has to be before it matters.

use std::collections::BTreeMap;

pub use records::Metric;

/// The rows of a comparison, in the order they are shown.
pub const ALL: [Metric; 9] = [
    Metric::P50,
    Metric::P90,
    Metric::P95,
    Metric::P99,
    Metric::P999,
    Metric::Mean,
    Metric::Max,
    Metric::ErrorRate,
    Metric::Rps,
];

/// How large a change must be to count, per metric: a fraction for latency
/// and throughput (0.2 = 20%), percentage points for the error rate.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits(BTreeMap<Metric, f64>);

impl Default for Limits {
    /// `p95=20%` (seed 003's CI gate) and `error_rate=1pp`.
    fn default() -> Self {
        Limits(BTreeMap::from([
            (Metric::P95, 0.20),
            (Metric::ErrorRate, 1.0),
        ]))
    }
}

impl Limits {
    /// The defaults overridden by `--max-increase` flags: `p99=10%`,
    /// `error_rate=0.5pp`, `rps=-10%`, or `p95=off` to drop a default.
    pub fn with_flags<S: AsRef<str>>(flags: &[S]) -> Result<Limits, String> {
        let mut limits = Limits::default();
        for flag in flags {
            let flag = flag.as_ref();
            let (metric, amount) =
                parse_flag(flag).map_err(|e| format!("--max-increase `{flag}`: {e}"))?;
            match amount {
                Some(amount) => limits.0.insert(metric, amount),
                None => limits.0.remove(&metric),
            };
        }
        Ok(limits)
    }

    pub fn get(&self, metric: Metric) -> Option<f64> {
        self.0.get(&metric).copied()
    }

    pub fn iter(&self) -> impl Iterator<Item = (Metric, f64)> + '_ {
        self.0.iter().map(|(m, a)| (*m, *a))
    }

    /// A limit as the user wrote it: `+20%`, `+1pp`, `-10%`.
    pub fn describe(metric: Metric, amount: f64) -> String {
        match metric {
            Metric::ErrorRate => format!("+{}pp", trim(amount)),
            Metric::Rps => format!("-{}%", trim(amount * 100.0)),
            _ => format!("+{}%", trim(amount * 100.0)),
        }
    }
}

fn trim(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn parse_flag(flag: &str) -> Result<(Metric, Option<f64>), String> {
    let (name, amount) = flag
        .split_once('=')
        .ok_or("expected METRIC=AMOUNT, e.g. p95=20%, error_rate=0.5pp, rps=-10%")?;
    let metric = Metric::parse(name)
        .filter(|m| ALL.contains(m))
        .ok_or_else(|| {
            format!(
                "unknown metric `{name}`; use {}",
                ALL.map(Metric::name).join(", ")
            )
        })?;
    let amount = amount.trim();
    if amount.eq_ignore_ascii_case("off") || amount.eq_ignore_ascii_case("none") {
        return Ok((metric, None));
    }
    let (number, unit) = match (amount.strip_suffix("pp"), amount.strip_suffix('%')) {
        (Some(n), _) => (n, "pp"),
        (None, Some(n)) => (n, "%"),
        (None, None) => {
            return Err(format!(
                "`{amount}` needs a unit: % for {metric}, pp (percentage points) for error_rate",
                metric = metric.name()
            ))
        }
    };
    let value: f64 = number
        .trim()
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite())
        .ok_or_else(|| format!("`{number}` is not a number"))?;
    match (metric, unit) {
        (Metric::ErrorRate, "pp") if value >= 0.0 => Ok((metric, Some(value))),
        (Metric::ErrorRate, _) => {
            Err("the error rate's limit is in percentage points, e.g. error_rate=0.5pp".into())
        }
        // A drop in throughput is the regression; accept the sign either way.
        (Metric::Rps, "%") if value.abs() < 100.0 => Ok((metric, Some(value.abs() / 100.0))),
        (Metric::Rps, _) => Err("the throughput limit is a drop in percent, e.g. rps=-10%".into()),
        (_, "%") if value >= 0.0 => Ok((metric, Some(value / 100.0))),
        (_, "%") => Err(format!(
            "a latency limit is an increase: {}=20%",
            metric.name()
        )),
        _ => Err(format!(
            "a latency limit is in percent: {}=20%",
            metric.name()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_defaults() {
        let limits =
            Limits::with_flags(&["p99=10%", "error_rate=0.5pp", "rps=-10%", "p95=off"]).unwrap();
        assert_eq!(limits.get(Metric::P99), Some(0.10));
        assert_eq!(limits.get(Metric::ErrorRate), Some(0.5));
        assert_eq!(limits.get(Metric::Rps), Some(0.10));
        assert_eq!(limits.get(Metric::P95), None);
        let defaults = Limits::with_flags::<&str>(&[]).unwrap();
        assert_eq!(defaults.get(Metric::P95), Some(0.20));
        assert_eq!(Limits::describe(Metric::P95, 0.2), "+20%");
        assert_eq!(Limits::describe(Metric::ErrorRate, 0.5), "+0.5pp");
        assert_eq!(Limits::describe(Metric::Rps, 0.1), "-10%");
        assert_eq!(
            Limits::with_flags(&["p99.9=5%"]).unwrap().get(Metric::P999),
            Some(0.05)
        );
    }

    #[test]
    fn bad_flags_say_what_is_wrong() {
        for (flag, needle) in [
            ("p95", "METRIC=AMOUNT"),
            ("p97=10%", "unknown metric `p97`"),
            ("p95=20", "needs a unit"),
            ("p95=x%", "not a number"),
            ("error_rate=1%", "percentage points"),
            ("p95=-5%", "is an increase"),
            ("rps=5pp", "drop in percent"),
        ] {
            let err = Limits::with_flags(&[flag]).unwrap_err();
            assert!(err.contains(needle) && err.contains(flag), "{flag}: {err}");
        }
    }
}
