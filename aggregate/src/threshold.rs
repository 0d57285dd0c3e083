//! `--threshold` expressions: `[NAME:]metric<op>value`, k6-style CI checks.
//!
//! Expressions are parsed before any input is read, so a typo fails fast
//! (exit 2) instead of after a long run; a broken threshold exits 1.

use records::metric::Unit;
pub use records::threshold::ThresholdError;
use records::threshold::{non_negative, split_comparison};
use records::{parse_duration, Metric, Stats, ThresholdResult};

/// The comparisons, shared with hostwatch's thresholds.
pub use records::threshold::Op;

/// What aggregate's thresholds compare with (no `==` on measured latencies).
const OPS: &[Op] = &[Op::Lt, Op::Le, Op::Gt, Op::Ge];

/// One parsed `--threshold`.
#[derive(Clone, Debug, PartialEq)]
pub struct Threshold {
    /// The expression as given, echoed in the results.
    pub expr: String,
    /// `None` for the total over all endpoints.
    pub endpoint: Option<String>,
    pub metric_name: String,
    pub metric: Metric,
    pub op: Op,
    /// The limit in the metric's base unit.
    pub limit: f64,
}

impl Threshold {
    /// Parses `[NAME:]metric<op>value`. Endpoint names may hold `:` themselves,
    /// so the name ends at the last `:` that is followed by a known metric.
    pub fn parse(expr: &str) -> Result<Threshold, ThresholdError> {
        let text = expr.trim();
        let fail = |why: String| {
            let expected = format!(
                "[NAME:]METRIC<OP>VALUE such as \
                 'p95<500ms', 'error_rate<1%', 'rps>100' or 'GET /api/v1/tasks:p99<200ms' \
                 (metrics: {}; ops: < <= > >=)",
                Metric::names()
            );
            ThresholdError::bad(expr, &why, &expected)
        };
        let mut candidates: Vec<(Option<&str>, &str)> = text
            .char_indices()
            .filter(|&(_, c)| c == ':')
            .rev()
            .map(|(i, _)| (Some(text[..i].trim()), &text[i + 1..]))
            .collect();
        candidates.push((None, text));
        let mut first_error = None;
        for (endpoint, rest) in candidates {
            match parse_comparison(rest) {
                Ok((metric_name, metric, op, limit)) => {
                    if endpoint == Some("") {
                        return Err(fail("the endpoint name before `:` is empty".into()));
                    }
                    return Ok(Threshold {
                        expr: text.to_string(),
                        endpoint: endpoint.map(str::to_string),
                        metric_name: metric_name.to_string(),
                        metric,
                        op,
                        limit,
                    });
                }
                Err(Some(why)) => {
                    first_error.get_or_insert(why);
                }
                Err(None) => {}
            }
        }
        Err(fail(
            first_error.unwrap_or_else(|| "no known metric".into()),
        ))
    }

    /// Evaluates the threshold on a report's endpoint, flow or total stats;
    /// also says what was measured, for people.
    pub fn check(
        &self,
        endpoints: &[Stats],
        flows: &[Stats],
        total: &Stats,
    ) -> (ThresholdResult, String) {
        let stats = match &self.endpoint {
            None => Some(total),
            Some(name) => endpoints.iter().chain(flows).find(|s| &s.name == name),
        };
        let Some(stats) = stats else {
            let shown = format!(
                "no requests to endpoint, and no iterations of flow, `{}`",
                self.endpoint.as_deref().unwrap_or_default()
            );
            let result = ThresholdResult {
                expr: self.expr.clone(),
                value: 0.0,
                ok: false,
            };
            return (result, shown);
        };
        let value = self.metric.value(stats);
        let shown = format!(
            "{} = {} on {}",
            self.metric_name,
            self.metric.show(value),
            self.endpoint.as_deref().unwrap_or("all endpoints")
        );
        let result = ThresholdResult {
            expr: self.expr.clone(),
            value,
            ok: self.op.holds(value, self.limit),
        };
        (result, shown)
    }
}

/// `metric<op>value`. `Err(None)` when the text does not start with a known
/// metric (so the caller tries another `:` split); `Err(Some)` when it does but
/// the rest is wrong.
fn parse_comparison(text: &str) -> Result<(&str, Metric, Op, f64), Option<String>> {
    let text = text.trim();
    let op_at = text.find(['<', '>', '=', '!']).ok_or(None)?;
    let name = text[..op_at].trim();
    let metric = Metric::parse(name).ok_or_else(|| {
        // Report an unknown metric only when it looks like one was meant.
        (!name.is_empty() && !name.contains([' ', '/', ':']))
            .then(|| format!("unknown metric `{name}`"))
    })?;
    let (_, op, value_text) = split_comparison(text, OPS)?;
    let limit = parse_limit(metric, value_text).map_err(Some)?;
    Ok((name, metric, op, limit))
}

fn parse_limit(metric: Metric, text: &str) -> Result<f64, String> {
    if metric.is_latency() {
        if text.parse::<f64>().is_ok() && text != "0" {
            return Err(format!("`{text}` needs a unit, e.g. {text}ms"));
        }
        return parse_duration(text).map(|d| d.as_nanos() as f64);
    }
    let number = |t: &str| non_negative(t).ok_or_else(|| format!("`{text}` is not a number"));
    match metric.unit() {
        Unit::Ratio => match text.strip_suffix('%') {
            Some(percent) => Ok(number(percent)? / 100.0),
            None => {
                let ratio = number(text)?;
                if ratio > 1.0 {
                    Err(format!(
                        "error_rate `{text}` is a ratio (0..1); write {text}% for a percentage"
                    ))
                } else {
                    Ok(ratio)
                }
            }
        },
        _ => number(text.strip_suffix("/s").unwrap_or(text)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_issue_examples() {
        let t = Threshold::parse("p95<500ms").unwrap();
        assert_eq!(
            (t.endpoint, t.metric, t.op, t.limit),
            (None, Metric::P95, Op::Lt, 5e8)
        );
        let t = Threshold::parse("p99<1s").unwrap();
        assert_eq!(t.limit, 1e9);
        let t = Threshold::parse("error_rate<1%").unwrap();
        assert_eq!((t.metric, t.limit), (Metric::ErrorRate, 0.01));
        let t = Threshold::parse("rps>100").unwrap();
        assert_eq!((t.metric, t.op, t.limit), (Metric::Rps, Op::Gt, 100.0));
        let t = Threshold::parse("GET /api/v1/tasks/{id}:p99<200ms").unwrap();
        assert_eq!(t.endpoint.as_deref(), Some("GET /api/v1/tasks/{id}"));
        assert_eq!((t.metric, t.limit), (Metric::P99, 2e8));
        let t = Threshold::parse("p99.9<=2s").unwrap();
        assert_eq!((t.metric, t.op), (Metric::P999, Op::Le));
    }

    #[test]
    fn names_may_hold_colons() {
        let t = Threshold::parse("GET http://x:8080/a:b:max>=1ms").unwrap();
        assert_eq!(t.endpoint.as_deref(), Some("GET http://x:8080/a:b"));
        assert_eq!(t.metric, Metric::Max);
    }

    #[test]
    fn refuses_what_it_cannot_check() {
        for bad in [
            "p97<1s",
            "p95",
            "p95<",
            "p95<500",
            "p95=500ms",
            "p95<fast",
            "error_rate<5",
            "rps>lots",
            ":p95<1s",
            "",
        ] {
            let err = Threshold::parse(bad).unwrap_err().to_string();
            assert!(err.contains("bad --threshold"), "{bad}: {err}");
        }
        let err = Threshold::parse("p97<1s").unwrap_err().to_string();
        assert!(err.contains("unknown metric `p97`"), "{err}");
    }

    #[test]
    fn checks_against_stats() {
        let mut total = Stats {
            name: records::run::TOTAL.into(),
            count: 100,
            errors: 2,
            rps: 50.0,
            ..Stats::default()
        };
        total.latency.p95_ns = 400_000_000;
        let ok = |expr: &str| Threshold::parse(expr).unwrap().check(&[], &[], &total).0.ok;
        assert!(ok("p95<500ms"));
        assert!(!ok("p95<400ms"));
        assert!(ok("p95<=400ms"));
        assert!(!ok("error_rate<1%"));
        assert!(ok("error_rate<=0.02"));
        assert!(ok("rps>=50"));
        assert!(!ok("count>100"));
        let (result, shown) = Threshold::parse("GET /x:p95<1s")
            .unwrap()
            .check(&[], &[], &total);
        assert!(!result.ok);
        assert!(
            shown.contains("no requests to endpoint, and no iterations of flow, `GET /x`"),
            "{shown}"
        );
    }
}
