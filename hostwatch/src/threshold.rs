//! `--threshold` checks on the run: `[process:NAME:]metric<op>value`.
//!
//! Parsed before sampling starts, so a typo fails at once (exit 2); a broken
//! threshold ends the run with exit 1. How a metric is taken over the run:
//!
//! * `cpu`, `iowait`, `steal` (host) and `process:NAME:cpu`: the average of
//!   the samples; `cpu_peak`: the highest sample.
//! * gauges (`mem_used`, `mem_available`, `swap_used`, `load1`, and a
//!   process's `rss`, `threads`, `fds`): must hold at *every* sample, so the
//!   worst one is checked: the highest for `<`, `<=`, `==`, the lowest for
//!   `>`, `>=`.
//! * `process:NAME:rss_growth`: the Theil–Sen slope of RSS after the warm-up.

pub use records::threshold::ThresholdError;
use records::threshold::{non_negative, split_comparison, Op};
use records::{format_bytes, parse_bytes, ThresholdResult};

use crate::tally::{Range, Share, Tally};

/// What a threshold measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    Cpu,
    CpuPeak,
    Iowait,
    Steal,
    Load1,
    MemUsed,
    MemAvailable,
    SwapUsed,
    Rss,
    RssGrowth,
    Threads,
    Fds,
}

const HOST_METRICS: &[(&str, Metric)] = &[
    ("cpu", Metric::Cpu),
    ("cpu_peak", Metric::CpuPeak),
    ("iowait", Metric::Iowait),
    ("steal", Metric::Steal),
    ("load1", Metric::Load1),
    ("mem_used", Metric::MemUsed),
    ("mem_available", Metric::MemAvailable),
    ("swap_used", Metric::SwapUsed),
];

const PROCESS_METRICS: &[(&str, Metric)] = &[
    ("cpu", Metric::Cpu),
    ("cpu_peak", Metric::CpuPeak),
    ("rss", Metric::Rss),
    ("rss_growth", Metric::RssGrowth),
    ("threads", Metric::Threads),
    ("fds", Metric::Fds),
];

const ALL_OPS: &[Op] = &[Op::Lt, Op::Le, Op::Gt, Op::Ge, Op::Eq];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    /// Written `80%` (or a bare 80); kept in permille.
    Percent,
    Bytes,
    /// Written `10MB/h` (also /min, /s); kept in bytes per hour.
    BytesPerHour,
    /// A plain number (load average, threads, descriptors).
    Number,
}

impl Metric {
    fn unit(self) -> Unit {
        match self {
            Metric::Cpu | Metric::CpuPeak | Metric::Iowait | Metric::Steal => Unit::Percent,
            Metric::MemUsed | Metric::MemAvailable | Metric::SwapUsed | Metric::Rss => Unit::Bytes,
            Metric::RssGrowth => Unit::BytesPerHour,
            Metric::Load1 | Metric::Threads | Metric::Fds => Unit::Number,
        }
    }
}

/// One parsed `--threshold`.
#[derive(Clone, Debug, PartialEq)]
pub struct Threshold {
    pub expr: String,
    /// The `--pid`/`--process` label after `process:`; `None` for the host.
    pub process: Option<String>,
    pub metric_name: String,
    pub metric: Metric,
    pub op: Op,
    /// Permille, bytes, bytes per hour, or the number (load × 1000).
    pub limit: f64,
}

impl Threshold {
    pub fn parse(expr: &str) -> Result<Threshold, ThresholdError> {
        let text = expr.trim();
        let names =
            |list: &[(&str, Metric)]| list.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(" ");
        let fail = |why: String| {
            let expected = format!(
                "METRIC<OP>VALUE or \
                 process:NAME:METRIC<OP>VALUE such as 'cpu<80%', 'mem_available>500MB', \
                 'swap_used==0', 'process:tasktracker:cpu<80%' or \
                 'process:tasktracker:rss_growth<10MB/h' (host metrics: {}; process \
                 metrics: {}; ops: < <= > >= ==)",
                names(HOST_METRICS),
                names(PROCESS_METRICS)
            );
            ThresholdError::bad(expr, &why, &expected)
        };
        let (lhs, op, value) = split_comparison(text, ALL_OPS)
            .map_err(|why| fail(why.unwrap_or_else(|| "no comparison".into())))?;
        let (process, metric_name, list) = match lhs.strip_prefix("process:") {
            Some(rest) => {
                let (name, metric) = rest
                    .rsplit_once(':')
                    .ok_or_else(|| fail("`process:` needs NAME:METRIC".into()))?;
                if name.trim().is_empty() {
                    return Err(fail("the process name after `process:` is empty".into()));
                }
                (
                    Some(name.trim().to_string()),
                    metric.trim(),
                    PROCESS_METRICS,
                )
            }
            None => (None, lhs, HOST_METRICS),
        };
        let metric = list
            .iter()
            .find(|(n, _)| *n == metric_name)
            .map(|(_, m)| *m)
            .ok_or_else(|| {
                fail(format!(
                    "unknown {} metric `{metric_name}`",
                    if process.is_some() { "process" } else { "host" }
                ))
            })?;
        let mut limit = parse_limit(metric.unit(), value).map_err(fail)?;
        if metric == Metric::Load1 {
            // Samples keep the load × 1000; the limit is typed as people read it.
            limit *= 1000.0;
        }
        Ok(Threshold {
            expr: text.to_string(),
            process,
            metric_name: metric_name.to_string(),
            metric,
            op,
            limit,
        })
    }

    /// Evaluates on the run; also says what was measured, for people. The
    /// record's value is in base units: a ratio for CPU (0.8 = 80%), bytes,
    /// bytes per hour, or the number.
    pub fn check(&self, tally: &Tally) -> (ThresholdResult, String) {
        let broken = |shown: String| {
            (
                ThresholdResult {
                    expr: self.expr.clone(),
                    value: 0.0,
                    ok: false,
                },
                shown,
            )
        };
        let (value, how) = match &self.process {
            None => {
                if tally.samples == 0 {
                    return broken("no samples were taken".into());
                }
                match self.metric {
                    Metric::Cpu => average(&tally.cpu, tally.samples),
                    Metric::CpuPeak => peak(&tally.cpu, tally.samples),
                    Metric::Iowait => average(&tally.iowait, tally.samples),
                    Metric::Steal => average(&tally.steal, tally.samples),
                    Metric::Load1 => self.worst(tally.load1),
                    Metric::MemUsed => self.worst(tally.mem_used),
                    Metric::MemAvailable => self.worst(tally.mem_available),
                    Metric::SwapUsed => self.worst(tally.swap_used),
                    _ => unreachable!("host metrics only"),
                }
            }
            Some(name) => {
                let Some(group) = tally.group(name).filter(|g| g.samples > 0) else {
                    return broken(format!("no samples of process {name}"));
                };
                match self.metric {
                    Metric::Cpu => average(&group.cpu, group.samples),
                    Metric::CpuPeak => peak(&group.cpu, group.samples),
                    Metric::Rss => self.worst(group.rss),
                    Metric::Threads => self.worst(group.threads),
                    Metric::Fds => match group.fds {
                        None => return broken(format!("open files of {name} could not be read")),
                        some => self.worst(some),
                    },
                    Metric::RssGrowth => match tally.rss_growth(group) {
                        Some(slope) => (slope, "Theil–Sen slope after the warm-up".to_string()),
                        None => {
                            return broken(format!(
                                "too few samples of {name} after the warm-up for a slope (3 needed)"
                            ))
                        }
                    },
                    _ => unreachable!("process metrics only"),
                }
            }
        };
        let shown = format!(
            "{} = {} ({how}){}",
            self.metric_name,
            show(
                self.metric.unit(),
                if self.metric == Metric::Load1 {
                    value / 1000.0
                } else {
                    value
                }
            ),
            self.process
                .as_ref()
                .map(|p| format!(" of process {p}"))
                .unwrap_or_default()
        );
        let base = match self.metric.unit() {
            Unit::Percent => value / 1000.0,
            Unit::Number if self.metric == Metric::Load1 => value / 1000.0,
            _ => value,
        };
        let result = ThresholdResult {
            expr: self.expr.clone(),
            value: base,
            ok: self.op.holds(value, self.limit),
        };
        (result, shown)
    }

    /// The sample that decides a must-hold-always check.
    fn worst(&self, range: Option<Range>) -> (f64, String) {
        let Some(r) = range else {
            return (0.0, "no samples".into());
        };
        if self.op.caps() {
            (r.max as f64, "highest sample".into())
        } else {
            (r.min as f64, "lowest sample".into())
        }
    }
}

fn average(share: &Share, n: u64) -> (f64, String) {
    (share.mean(), format!("average of {n} samples"))
}

fn peak(share: &Share, n: u64) -> (f64, String) {
    (share.peak as f64, format!("highest of {n} samples"))
}

fn show(unit: Unit, value: f64) -> String {
    match unit {
        Unit::Percent => format!("{:.1}%", value / 10.0),
        Unit::Bytes => format_bytes(value),
        Unit::BytesPerHour => format!("{}/h", format_bytes(value)),
        Unit::Number => format!("{value}"),
    }
}

fn parse_limit(unit: Unit, text: &str) -> Result<f64, String> {
    match unit {
        Unit::Percent => {
            let n = text.strip_suffix('%').unwrap_or(text);
            let v = non_negative(n).ok_or_else(|| format!("`{text}` is not a percentage"))?;
            Ok(v * 10.0)
        }
        Unit::Bytes => parse_bytes(text),
        Unit::BytesPerHour => {
            let (size, per) = text
                .rsplit_once('/')
                .ok_or_else(|| format!("`{text}` needs a time unit, e.g. 10MB/h"))?;
            let hours = match per.trim() {
                "h" | "hour" => 1.0,
                "m" | "min" => 1.0 / 60.0,
                "s" => 1.0 / 3600.0,
                "d" | "day" => 24.0,
                other => {
                    return Err(format!(
                        "unknown time unit `/{other}`; use /h, /min, /s or /d"
                    ))
                }
            };
            let signed = size.trim();
            let (sign, size) = match signed.strip_prefix('-') {
                Some(s) => (-1.0, s),
                None => (1.0, signed),
            };
            Ok(sign * parse_bytes(size)? / hours)
        }
        Unit::Number => non_negative(text).ok_or_else(|| format!("`{text}` is not a number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use records::{HostSample, ProcessSample};

    fn parse(expr: &str) -> Threshold {
        Threshold::parse(expr).unwrap()
    }

    #[test]
    fn parses_the_issue_examples() {
        let t = parse("cpu<80%");
        assert_eq!(
            (t.process, t.metric, t.op, t.limit),
            (None, Metric::Cpu, Op::Lt, 800.0)
        );
        let t = parse("process:tasktracker:cpu<80%");
        assert_eq!(t.process.as_deref(), Some("tasktracker"));
        let t = parse("mem_available>500MB");
        assert_eq!(
            (t.metric, t.op, t.limit),
            (Metric::MemAvailable, Op::Gt, 500e6)
        );
        let t = parse("swap_used==0");
        assert_eq!((t.metric, t.op, t.limit), (Metric::SwapUsed, Op::Eq, 0.0));
        let t = parse("process:tasktracker:rss_growth<10MB/h");
        assert_eq!((t.metric, t.limit), (Metric::RssGrowth, 10e6));
        assert_eq!(parse("process:a:rss_growth<1MB/min").limit, 60e6);
        assert_eq!(parse("load1<2.5").limit, 2500.0);
        assert_eq!(
            parse("process:1234:fds<1000").process.as_deref(),
            Some("1234")
        );
    }

    #[test]
    fn refuses_what_it_cannot_check() {
        for bad in [
            "cpu",
            "cpu<",
            "cpu=80%",
            "cpux<80%",
            "rss<1MB",
            "process::cpu<1%",
            "process:x:mem_used<1MB",
            "process:x:rss_growth<10MB",
            "process:x:rss_growth<10MB/fortnight",
            "mem_available>lots",
            "cpu<-5%",
            "",
        ] {
            let err = Threshold::parse(bad).unwrap_err().to_string();
            assert!(err.contains("bad --threshold"), "{bad}: {err}");
        }
    }

    #[test]
    fn checks_averages_worst_samples_and_slopes() {
        let mut tally = Tally::new(vec!["app".into()], None);
        for (i, (cpu, avail, rss)) in [
            (500, 900e6, 10e6),
            (700, 400e6, 20e6),
            (900, 800e6, 30e6),
            (700, 800e6, 40e6),
        ]
        .into_iter()
        .enumerate()
        {
            let host = HostSample {
                ts: (i as u64 + 1) * 1_000_000_000,
                interval_ns: 1_000_000_000,
                cpu_permille: cpu,
                mem_available_bytes: avail as u64,
                ..HostSample::default()
            };
            let p = ProcessSample {
                ts: host.ts,
                watch: "app".into(),
                cpu_permille: cpu * 2,
                rss_bytes: rss as u64,
                ..ProcessSample::default()
            };
            tally.add(&host, &[p]);
        }
        let ok = |e: &str| parse(e).check(&tally).0.ok;
        assert!(ok("cpu<80%") && !ok("cpu<70%"));
        assert!(!ok("cpu_peak<90%") && ok("cpu_peak<=90%"));
        assert!(!ok("mem_available>500MB"), "the lowest sample decides");
        assert!(ok("mem_available>300MB"));
        assert!(ok("swap_used==0"));
        assert!(ok("process:app:cpu>=140%"));
        // 10 MB a second is 36 GB an hour.
        assert!(!ok("process:app:rss_growth<10MB/h"));
        assert!(ok("process:app:rss_growth<40GB/h"));
        let (r, shown) = parse("process:other:cpu<1%").check(&tally);
        assert!(
            !r.ok && shown.contains("no samples of process other"),
            "{shown}"
        );
        let (r, shown) = parse("cpu<80%").check(&tally);
        assert_eq!(r.value, 0.7);
        assert!(
            shown.contains("cpu = 70.0% (average of 4 samples)"),
            "{shown}"
        );
    }

    /// Every one-character edit of the examples parses or is refused, and
    /// what parses checks against extreme samples without a panic (the
    /// cargo-fuzz target `host_threshold` does this at random).
    #[test]
    fn edits_of_the_examples_never_panic() {
        let mut tally = Tally::new(vec!["a".into()], None);
        for i in 0..4u64 {
            let host = HostSample {
                ts: u64::MAX - i,
                interval_ns: u64::MAX,
                cpu_permille: u32::MAX,
                ..HostSample::default()
            };
            let p = ProcessSample {
                ts: host.ts,
                watch: "a".into(),
                cpu_permille: u32::MAX,
                rss_bytes: u64::MAX / (i + 1),
                ..ProcessSample::default()
            };
            tally.add(&host, &[p.clone(), p]);
        }
        let chars = [
            '<', '>', '=', ':', '%', '/', '-', '.', '0', '9', 'a', 'B', ' ', 'é',
        ];
        for example in [
            "cpu<80%",
            "process:a:cpu<80%",
            "mem_available>500MB",
            "swap_used==0",
            "process:a:rss_growth<10MB/h",
            "load1<=2.5",
        ] {
            let text: Vec<char> = example.chars().collect();
            for at in 0..=text.len() {
                let mut edits = Vec::new();
                if at < text.len() {
                    let mut cut = text.clone();
                    cut.remove(at);
                    edits.push(cut);
                }
                for c in chars {
                    let mut put = text.clone();
                    put.insert(at, c);
                    edits.push(put);
                }
                for edit in edits {
                    let edit: String = edit.into_iter().collect();
                    if let Ok(t) = Threshold::parse(&edit) {
                        let _ = t.check(&tally);
                    }
                }
            }
        }
    }
}
