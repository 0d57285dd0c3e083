//! The command line: flags as typed ([`Args`]), checked before any input is read.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};

/// Turn hammer's Events into latency statistics, time series and CI checks.
///
/// Reads Events (NDJSON, one request a line) from FILEs or stdin; several
/// files are shards of one run and are combined. Latencies go into
/// HdrHistograms per endpoint, in total and per interval, in memory that does
/// not grow with the number of events. Summaries carry their histograms, so
/// `--merge` combines them exactly.
#[derive(Debug, Parser)]
#[command(
    name = "aggregate",
    version,
    after_help = concat!(
        "Examples:
  seed -s scenarios/tasktracker.toml | hammer -s scenarios/tasktracker.toml | aggregate > run.ndjson
  aggregate events.ndjson --format table --threshold 'p95<500ms' --threshold 'error_rate<1%'
  aggregate shard1.ndjson shard2.ndjson --out-dir results/run1
  aggregate --merge machine-a.ndjson machine-b.ndjson > run.ndjson

Exit 1 means a --threshold was broken.

",
        records::exit_status_help!()
    )
)]
pub struct Args {
    /// Event files (or summary files with --merge); `-` or none reads stdin.
    #[arg(value_name = "FILE")]
    pub files: Vec<String>,

    /// Output format [default: table when stdout is a terminal, else ndjson].
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,

    /// Also write stats.csv, stats_history.csv, failures.csv, exceptions.csv
    /// (Locust's files), summary.ndjson and table.txt into DIR (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,

    /// Also write Locust's four CSV files as Locust's `--csv PREFIX` names
    /// them: PREFIX_stats.csv, PREFIX_stats_history.csv, PREFIX_failures.csv,
    /// PREFIX_exceptions.csv (PREFIX may hold a directory, which must exist).
    #[arg(long, value_name = "PREFIX")]
    pub csv: Option<PathBuf>,

    /// Width of the time-series buckets [default: 1s; with --merge: the inputs'].
    #[arg(long, value_name = "DURATION", value_parser = positive_duration)]
    pub interval: Option<Duration>,

    /// A check that fails the run (exit 1) when broken: `[NAME:]METRIC<OP>VALUE`,
    /// e.g. 'p95<500ms', 'p99<1s', 'error_rate<1%', 'rps>100',
    /// 'GET /api/v1/tasks/{id}:p99<200ms', 'dropped<1'. Metrics: p50 p66 p75 p80
    /// p90 p95 p98 p99 p99.9 p99.99 mean min max count error_count error_rate
    /// rps failures_per_s dropped dropped_rate vus_not_started. Repeatable.
    #[arg(long, value_name = "EXPR")]
    pub threshold: Vec<String>,

    /// Inputs are summaries (aggregate's NDJSON output) to combine, not
    /// Events: the shards of one run, judged by --threshold as one whole. The
    /// merged summary counts its shards and breaks them down one per row; it
    /// warns when shards are missing or their load windows disagree, and
    /// refuses a shard of another run (scenario, N, time) or the same shard twice.
    #[arg(long)]
    pub merge: bool,

    /// With --merge: exactly N shards (0/N … N-1/N) must be there, or exit 2.
    #[arg(long, value_name = "N", requires = "merge", value_parser = clap::value_parser!(u64).range(1..))]
    pub expect_shards: Option<u64>,

    /// Skip and count malformed lines instead of stopping at the first one.
    #[arg(long)]
    pub skip_invalid: bool,

    /// Report endpoints whose p95 exceeds this (and those with more than 1% errors).
    #[arg(long, value_name = "DURATION", default_value = "500ms", value_parser = duration)]
    pub slow: Duration,

    /// A label for the run record: KEY=VALUE, or NAME for label=NAME
    /// (compare and chart name runs by it). Repeatable.
    #[arg(long, value_name = "KEY=VALUE")]
    pub label: Vec<String>,

    /// Scenario name to note in the run record.
    #[arg(long, value_name = "NAME")]
    pub scenario: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A readable table per endpoint and a total line.
    Table,
    /// Summary records, one JSON object a line (for compare and chart).
    Ndjson,
    /// One JSON document with the same records and the slow-endpoint report.
    Json,
    /// One CSV row per endpoint and the total, latencies in ms.
    Csv,
    /// Locust's stats.csv columns.
    Locust,
}

fn duration(text: &str) -> Result<Duration, String> {
    records::parse_duration(text)
}

fn positive_duration(text: &str) -> Result<Duration, String> {
    let d = records::parse_duration(text)?;
    if d < Duration::from_millis(1) {
        return Err("must be at least 1ms".into());
    }
    Ok(d)
}

/// `--label KEY=VALUE` and `--label NAME` (which means `label=NAME`).
pub fn parse_labels(flags: &[String]) -> Result<BTreeMap<String, String>, String> {
    let mut labels = BTreeMap::new();
    for flag in flags {
        let (key, value) = match flag.split_once('=') {
            Some((k, v)) => (k.trim(), v.trim()),
            None => ("label", flag.trim()),
        };
        if key.is_empty() || value.is_empty() {
            return Err(format!(
                "bad --label `{flag}`: expected KEY=VALUE or a NAME"
            ));
        }
        labels.insert(key.to_string(), value.to_string());
    }
    Ok(labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }

    #[test]
    fn threshold_help_lists_every_metric() {
        use clap::CommandFactory;
        let help = Args::command().render_long_help().to_string();
        // Words, whatever the wrapping; a trailing full stop is not the name's.
        let words: Vec<&str> = help
            .split_whitespace()
            .map(|w| w.trim_end_matches('.'))
            .collect();
        for metric in records::metric::ALL {
            assert!(
                words.contains(&metric.name()),
                "--threshold's help does not list {metric}"
            );
        }
    }

    #[test]
    fn labels_take_both_forms() {
        let labels = parse_labels(&["baseline".into(), "arch=micro".into()]).unwrap();
        assert_eq!(labels["label"], "baseline");
        assert_eq!(labels["arch"], "micro");
        assert!(parse_labels(&["=x".into()]).is_err());
    }
}
