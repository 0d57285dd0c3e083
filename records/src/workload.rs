//! The workload values of a scenario and of hammer's flags, parsed in one
//! place: think time (`1s..3s`), stages (`30s:50,1m:50,10s:0`), rates and run
//! lengths. A scenario file's errors add its file and line; a flag's add the
//! flag's name. Zero and negative rates and lengths are refused here, so no
//! value from any source reaches hammer's clock arithmetic unchecked.

use std::time::Duration;

use rand::Rng;

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
        let target: f64 = target
            .trim()
            .trim_end_matches("/s")
            .parse()
            .ok()
            .filter(|t: &f64| t.is_finite() && *t >= 0.0)
            .ok_or_else(|| format!("stage `{part}`: `{target}` is not a non-negative number"))?;
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
