//! The pieces of a `--threshold` expression every tool reads alike: the
//! comparison (`<`, `<=`, `>`, `>=`, `==`) between a metric and its limit.
//! What the metrics are and how limits read is each tool's own.

use std::fmt;

/// A threshold's comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
}

impl Op {
    /// Whether `value` passes against `limit`.
    pub fn holds(self, value: f64, limit: f64) -> bool {
        match self {
            Op::Lt => value < limit,
            Op::Le => value <= limit,
            Op::Gt => value > limit,
            Op::Ge => value >= limit,
            Op::Eq => value == limit,
        }
    }

    /// Whether a larger value is the worse one (`<`, `<=`, `==`): for a
    /// check that must hold at every sample, the largest value is the one to
    /// test then, else the smallest.
    pub fn caps(self) -> bool {
        matches!(self, Op::Lt | Op::Le | Op::Eq)
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Eq => "==",
        })
    }
}

/// A `--threshold` that cannot be read; the message says why and what is
/// expected (each tool words its own).
#[derive(Debug, PartialEq)]
pub struct ThresholdError(pub String);

impl fmt::Display for ThresholdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ThresholdError {}

impl ThresholdError {
    /// `bad --threshold `EXPR`: WHY; expected EXPECTED`, the one way every
    /// tool words a threshold it cannot read.
    pub fn bad(expr: &str, why: &str, expected: &str) -> ThresholdError {
        ThresholdError(format!(
            "bad --threshold `{expr}`: {why}; expected {expected}"
        ))
    }
}

/// A limit's number: finite and not negative (surrounding blanks allowed).
pub fn non_negative(number: &str) -> Option<f64> {
    number
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
}

/// Splits `metric<op>value` at its comparison: `Ok((metric, op, value))`,
/// both sides trimmed. `None` when there is no comparison at all;
/// `Some(why)` when there is one but it is not a known one or the value is
/// missing. `allowed` lists the comparisons the tool accepts.
pub fn split_comparison<'a>(
    text: &'a str,
    allowed: &[Op],
) -> Result<(&'a str, Op, &'a str), Option<String>> {
    let op_at = text.find(['<', '>', '=', '!']).ok_or(None)?;
    let name = text[..op_at].trim();
    let rest = &text[op_at..];
    let (op, value) = [
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("==", Op::Eq),
        ("<", Op::Lt),
        (">", Op::Gt),
    ]
    .into_iter()
    .find_map(|(sign, op)| rest.strip_prefix(sign).map(|v| (op, v)))
    .filter(|(op, _)| allowed.contains(op))
    .ok_or_else(|| {
        let signs: Vec<String> = allowed.iter().map(Op::to_string).collect();
        Some(format!(
            "unknown comparison in `{rest}` (use {})",
            signs.join(", ")
        ))
    })?;
    let value = value.trim();
    if value.is_empty() {
        return Err(Some("no value after the comparison".into()));
    }
    Ok((name, op, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: &[Op] = &[Op::Lt, Op::Le, Op::Gt, Op::Ge, Op::Eq];

    #[test]
    fn splits_at_the_comparison() {
        assert_eq!(
            split_comparison("p95 < 500ms", ALL),
            Ok(("p95", Op::Lt, "500ms"))
        );
        assert_eq!(
            split_comparison("swap_used==0", ALL),
            Ok(("swap_used", Op::Eq, "0"))
        );
        assert_eq!(split_comparison("a>=1", ALL), Ok(("a", Op::Ge, "1")));
        assert_eq!(split_comparison("a<=1", ALL), Ok(("a", Op::Le, "1")));
        assert_eq!(split_comparison("p95", ALL), Err(None));
        assert!(split_comparison("a=1", ALL).unwrap_err().is_some());
        assert!(split_comparison("a!=1", ALL).unwrap_err().is_some());
        assert!(split_comparison("a<", ALL).unwrap_err().is_some());
        let err = split_comparison("a==1", &[Op::Lt, Op::Gt])
            .unwrap_err()
            .unwrap();
        assert!(err.contains("use <, >"), "{err}");
    }

    #[test]
    fn comparisons_hold() {
        assert!(Op::Lt.holds(1.0, 2.0) && !Op::Lt.holds(2.0, 2.0));
        assert!(Op::Le.holds(2.0, 2.0) && Op::Ge.holds(2.0, 2.0));
        assert!(Op::Eq.holds(0.0, 0.0) && !Op::Eq.holds(1.0, 0.0));
        assert!(Op::Gt.holds(3.0, 2.0) && !Op::Gt.holds(2.0, 2.0));
        assert!(Op::Eq.caps() && !Op::Gt.caps());
    }
}
