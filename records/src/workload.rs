//! The workload values of a scenario and of hammer's flags, parsed in one
//! place: think time (`1s..3s`), stages (`30s:50,1m:50,10s:0`), rates and run
//! lengths. A scenario file's errors add its file and line; a flag's add the
//! flag's name. Zero and negative rates and lengths are refused here, so no
//! value from any source reaches hammer's clock arithmetic unchecked.

use std::time::Duration;

use rand::Rng;
use serde::Deserialize;

use crate::units::parse_duration;

/// Think time between a VU's requests: a fixed pause or a uniform range.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Think {
    pub min: Duration,
    pub max: Duration,
}

impl Think {
    /// `1s..3s`, `2s` or `0s`.
    pub fn parse(text: &str) -> Result<Think, String> {
        let think = match text.split_once("..") {
            Some((a, b)) => Think {
                min: parse_duration(a)?,
                max: parse_duration(b)?,
            },
            None => {
                let d = parse_duration(text)?;
                Think { min: d, max: d }
            }
        };
        if think.min > think.max {
            return Err(format!("think time `{text}`: the range is empty"));
        }
        Ok(think)
    }

    pub fn sample<R: Rng>(&self, rng: &mut R) -> Duration {
        if self.min == self.max {
            self.min
        } else {
            Duration::from_nanos(
                rng.gen_range(self.min.as_nanos() as u64..=self.max.as_nanos() as u64),
            )
        }
    }
}

/// One stage: ramp linearly to `target` over `length`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stage {
    pub length: Duration,
    pub target: f64,
}

/// Parses `30s:50,1m:50,10s:0`: ramp to 50 over 30 s, hold 50 for a minute,
/// ramp down to 0 over 10 s. The stages must last longer than zero and reach
/// a target above zero.
pub fn parse_stages(text: &str) -> Result<Vec<Stage>, String> {
    let mut stages = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (length, target) = part
            .split_once(':')
            .ok_or_else(|| format!("stage `{part}` should read DURATION:TARGET, e.g. 30s:50"))?;
        let length = parse_duration(length).map_err(|e| format!("stage `{part}`: {e}"))?;
        let target = per_second(target)
            .filter(|t| *t >= 0.0)
            .ok_or_else(|| {
                format!(
                    "stage `{part}`: `{target}` is not a non-negative number (per second, or with /s, /m, /h)"
                )
            })?;
        stages.push(Stage { length, target });
    }
    if stages.is_empty() {
        return Err(format!(
            "`{text}` has no stages; write e.g. 30s:50,1m:50,10s:0"
        ));
    }
    if stages.iter().all(|s| s.length.is_zero()) {
        return Err(format!("`{text}`: the stages last 0s; give them a length"));
    }
    if stages.iter().all(|s| s.target == 0.0) {
        return Err(format!("`{text}`: every stage's target is 0"));
    }
    Ok(stages)
}

/// `500`, `500/s`, `30000/m`, `10000/h` (`10,000/h` too: thousands
/// separators are dropped) as a number per second; `None` when it is not one.
fn per_second(text: &str) -> Option<f64> {
    let text = text.trim();
    let (number, seconds) = match text.rsplit_once('/') {
        None => (text, 1.0),
        Some((number, unit)) => {
            let seconds = match unit.trim() {
                "s" | "sec" | "second" => 1.0,
                "m" | "min" | "minute" => 60.0,
                "h" | "hour" => 3600.0,
                _ => return None,
            };
            (number, seconds)
        }
    };
    let number: f64 = number.trim().replace(['_', ','], "").parse().ok()?;
    number.is_finite().then_some(number / seconds)
}

/// A rate as people write it: a bare number is per second, or with a unit,
/// `500/s`, `30000/m`, `10000/h`; it must be above zero.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    match per_second(text) {
        Some(rate) => {
            positive_rate(rate).map_err(|_| format!("`{text}`: the rate must be above 0"))
        }
        None => Err(format!(
            "`{text}` is not a rate; write e.g. 500 or 500/s, 30000/m, 10000/h"
        )),
    }
}

/// A scenario file's rate: a TOML number (per second) or a string with a unit.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum RateValue {
    Number(f64),
    Text(String),
}

impl RateValue {
    /// The rate per second, checked as [`parse_rate`] checks a flag's.
    pub fn per_second(&self) -> Result<f64, String> {
        match self {
            RateValue::Number(n) => positive_rate(*n),
            RateValue::Text(text) => parse_rate(text),
        }
    }
}

/// A rate (requests or users per second) that must be a positive number.
pub fn positive_rate(value: f64) -> Result<f64, String> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(format!(
            "`{value}` is not a rate; expected a positive number per second"
        ))
    }
}

/// A run length that must be longer than zero: `30s`, `5m`.
pub fn run_length(text: &str) -> Result<Duration, String> {
    let length = parse_duration(text)?;
    if length.is_zero() {
        return Err(format!("`{text}` is no time; give a length such as 30s"));
    }
    Ok(length)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn think_times() {
        assert_eq!(
            Think::parse("1s..3s").unwrap(),
            Think {
                min: Duration::from_secs(1),
                max: Duration::from_secs(3)
            }
        );
        assert_eq!(Think::parse("0s").unwrap(), Think::default());
        for bad in ["slow", "3s..1s", "1s..", ""] {
            assert!(Think::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn stages() {
        let s = parse_stages("30s:50, 1m:50,10s:0").unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!(s[1].length, Duration::from_secs(60));
        assert_eq!(parse_stages("10s:500/s").unwrap()[0].target, 500.0);
        for (bad, needle) in [
            ("x", "DURATION:TARGET"),
            ("", "no stages"),
            ("0s:10", "last 0s"),
            ("10s:0", "target is 0"),
            ("10s:-1", "non-negative"),
            ("10s:NaN", "non-negative"),
            ("ten:1", "stage `ten:1`"),
        ] {
            let err = parse_stages(bad).unwrap_err();
            assert!(err.contains(needle), "{bad}: {err}");
        }
    }

    #[test]
    fn rates_take_units() {
        for (text, per_s) in [
            ("500", 500.0),
            ("500/s", 500.0),
            (" 2.5 / s ", 2.5),
            ("30000/m", 500.0),
            ("10000/h", 10_000.0 / 3600.0),
            ("10,000/h", 10_000.0 / 3600.0),
            ("90/min", 1.5),
        ] {
            assert_eq!(parse_rate(text), Ok(per_s), "{text}");
        }
        for bad in [
            "0", "0/m", "-5/s", "fast", "500/d", "/s", "500/", "NaN/s", "inf",
        ] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
        let s = parse_stages("10s:6000/m,30s:36000/h").unwrap();
        assert_eq!((s[0].target, s[1].target), (100.0, 10.0));
        assert!(parse_stages("10s:5/day").is_err());
        assert_eq!(RateValue::Text("120/m".into()).per_second(), Ok(2.0));
        assert_eq!(RateValue::Number(7.0).per_second(), Ok(7.0));
        assert!(RateValue::Number(0.0).per_second().is_err());
    }

    #[test]
    fn rates_and_lengths() {
        assert_eq!(positive_rate(2.5), Ok(2.5));
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(positive_rate(bad).is_err(), "{bad}");
        }
        assert_eq!(run_length("2s"), Ok(Duration::from_secs(2)));
        assert!(run_length("0s").is_err());
        assert!(run_length("-1s").is_err());
    }
}
