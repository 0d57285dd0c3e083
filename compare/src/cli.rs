//! The command line: flags as parsed, then resolved into what to do.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, ValueEnum};
use records::bad_input;

use crate::metric::Limits;
use crate::verdict::Settings;

const AFTER_HELP: &str = concat!(
    "\
Regression check (exit 1 when a metric is significantly AND practically worse):
  compare baseline.ndjson run.ndjson
  compare base.ndjson run.ndjson --max-increase p99=10% --max-increase error_rate=0.5pp
  compare base.ndjson run.ndjson --format markdown > comment.md

Side by side (two or more runs, each named with --label, or three or more files):
  compare --label mono mono.ndjson --label micro micro.ndjson --out-dir results/

Summaries come from the pipeline:
  S=scenarios/tasktracker.toml
  seed -s $S | hammer -s $S | aggregate --format ndjson > run.ndjson

Exit 1 means a regression was found.

",
    records::exit_status_help!()
);

/// Compare load-test summaries with sound statistics; fail CI on a real regression.
///
/// With two summaries, BASELINE then CURRENT, every endpoint and the total are
/// compared metric by metric. Latency distributions are tested with
/// Mann–Whitney U and Kolmogorov–Smirnov straight from the summaries'
/// histograms, error rates with a two-proportion z-test (Fisher's exact test
/// for few errors), with Holm's correction across endpoints. A metric is a
/// regression only when the change is significant and beyond its
/// --max-increase limit.
#[derive(Debug, Parser)]
#[command(name = "compare", version, after_help = AFTER_HELP)]
pub struct Args {
    /// Summary streams from `aggregate --format ndjson` (`-` for stdin): BASELINE CURRENT,
    /// or two or more runs to put side by side.
    #[arg(value_name = "SUMMARY", required = true, num_args = 1..)]
    pub files: Vec<String>,

    /// Names the SUMMARY that follows it and puts the runs side by side
    /// (architecture comparison) instead of checking for a regression.
    #[arg(long, value_name = "NAME")]
    pub label: Vec<String>,

    /// Side by side even for two unlabelled runs.
    #[arg(long)]
    pub side_by_side: bool,

    /// Family-wise significance level (Holm-corrected across the endpoints compared).
    #[arg(long, value_name = "P", default_value_t = 0.01)]
    pub alpha: f64,

    /// Practical limit for a metric: p50|p90|p95|p99|p999|mean|max=N%, error_rate=Npp
    /// (percentage points), rps=-N% (a throughput drop), or METRIC=off.
    /// Repeat for several; each overrides the defaults p95=20% and error_rate=1pp.
    #[arg(long = "max-increase", value_name = "METRIC=LIMIT")]
    pub max_increase: Vec<String>,

    /// Fewer requests than this on either side is "insufficient data", never a verdict.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub min_count: u64,

    /// Output format [default: table on a terminal, else ndjson].
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,

    /// Also write the report as DIR/summary.txt (and comparison.md for a regression check).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned text for people (benchstat-like).
    Table,
    /// A pull-request comment.
    Markdown,
    /// One `comparison` record per endpoint and metric.
    Ndjson,
}

/// What the command line asks for, resolved.
#[derive(Debug)]
pub struct Plan {
    pub mode: Mode,
    /// Each summary with the label the user gave it, if any.
    pub runs: Vec<(String, Option<String>)>,
    pub settings: Settings,
    pub format: Format,
    pub out_dir: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Regression,
    SideBySide,
}

pub fn command() -> clap::Command {
    Args::command()
}

/// Resolves parsed flags; a contradiction is bad usage (exit 2).
pub fn plan(matches: &ArgMatches) -> anyhow::Result<Plan> {
    let args = Args::from_arg_matches(matches).map_err(|e| bad_input(e.to_string()))?;
    let runs = pair_labels(matches, &args)?;
    let mode = if !args.label.is_empty() || args.side_by_side || runs.len() > 2 {
        Mode::SideBySide
    } else {
        Mode::Regression
    };
    if mode == Mode::SideBySide && runs.len() == 2 && !args.side_by_side {
        // Said aloud: two summaries with --label are not checked for a regression.
        eprintln!(
            "compare: --label puts the two runs side by side (no regression check, exit 0); \
             without --label, compare checks CURRENT against BASELINE"
        );
    }
    if runs.len() < 2 {
        return Err(bad_input(
            "need two summaries, BASELINE and CURRENT (or two or more with --label to put side by side)",
        ));
    }
    if runs.iter().filter(|(path, _)| path == "-").count() > 1 {
        return Err(bad_input("only one summary can come from stdin (`-`)"));
    }
    if !(args.alpha > 0.0 && args.alpha < 1.0) {
        return Err(bad_input(format!(
            "--alpha {}: must be between 0 and 1",
            args.alpha
        )));
    }
    let limits = Limits::with_flags(&args.max_increase).map_err(bad_input)?;
    let format = args.format.unwrap_or(if std::io::stdout().is_terminal() {
        Format::Table
    } else {
        Format::Ndjson
    });
    Ok(Plan {
        mode,
        runs,
        settings: Settings {
            alpha: args.alpha,
            limits,
            min_count: args.min_count.max(1),
        },
        format,
        out_dir: args.out_dir,
    })
}

/// Gives each `--label` to the summary named right after it on the command line.
fn pair_labels(matches: &ArgMatches, args: &Args) -> anyhow::Result<Vec<(String, Option<String>)>> {
    let file_at: Vec<usize> = matches
        .indices_of("files")
        .map(Iterator::collect)
        .unwrap_or_default();
    let label_at: Vec<usize> = matches
        .indices_of("label")
        .map(Iterator::collect)
        .unwrap_or_default();
    let mut runs: Vec<(String, Option<String>)> =
        args.files.iter().map(|f| (f.clone(), None)).collect();
    for (label, at) in args.label.iter().zip(label_at) {
        let next = file_at.iter().position(|&f| f > at);
        match next {
            Some(i) if runs[i].1.is_none() => runs[i].1 = Some(label.clone()),
            Some(i) => {
                return Err(bad_input(format!(
                    "--label {label}: {} already has the label {}; give one --label before each summary",
                    runs[i].0,
                    runs[i].1.as_deref().unwrap_or_default()
                )))
            }
            None => {
                return Err(bad_input(format!(
                    "--label {label} names no summary; write --label NAME FILE"
                )))
            }
        }
    }
    Ok(runs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_of(args: &[&str]) -> anyhow::Result<Plan> {
        let matches = command()
            .try_get_matches_from(std::iter::once("compare").chain(args.iter().copied()))?;
        plan(&matches)
    }

    #[test]
    fn the_clap_definition_is_consistent() {
        command().debug_assert();
    }

    #[test]
    fn two_files_are_a_regression_check() {
        let p = plan_of(&["a.ndjson", "b.ndjson"]).unwrap();
        assert_eq!(p.mode, Mode::Regression);
        assert_eq!(
            p.runs,
            vec![("a.ndjson".into(), None), ("b.ndjson".into(), None)]
        );
    }

    #[test]
    fn labels_or_three_files_are_side_by_side() {
        let p = plan_of(&[
            "--label", "mono", "m.ndjson", "--label", "micro", "u.ndjson",
        ])
        .unwrap();
        assert_eq!(p.mode, Mode::SideBySide);
        assert_eq!(
            p.runs,
            vec![
                ("m.ndjson".into(), Some("mono".into())),
                ("u.ndjson".into(), Some("micro".into()))
            ]
        );
        let p = plan_of(&["a", "--label", "x", "b", "c"]).unwrap();
        assert_eq!(p.mode, Mode::SideBySide);
        assert_eq!(p.runs[0].1, None);
        assert_eq!(p.runs[1].1.as_deref(), Some("x"));
        assert_eq!(
            plan_of(&["a", "b", "--side-by-side"]).unwrap().mode,
            Mode::SideBySide
        );
    }

    #[test]
    fn contradictions_are_usage_errors() {
        for (args, needle) in [
            (&["a"][..], "need two summaries"),
            (&["a", "b", "--label", "x"][..], "names no summary"),
            (
                &["--label", "x", "--label", "y", "a", "b"][..],
                "already has the label",
            ),
            (&["a", "b", "--alpha", "2"][..], "--alpha"),
            (&["a", "b", "--max-increase", "p97=1%"][..], "p97"),
            (&["-", "-"][..], "stdin"),
        ] {
            let err = plan_of(args).unwrap_err().to_string();
            assert!(err.contains(needle), "{args:?}: {err}");
        }
    }
}
