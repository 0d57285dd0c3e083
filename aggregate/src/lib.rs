//! `aggregate`: Events in, statistics out.
//!
//! One statistics pass ([`events`] or [`merge`] into a [`tally::Tally`]),
//! then a [`report::Report`] that every renderer in [`render`] formats.

pub mod cli;
pub mod events;
pub mod interrupt;
pub mod merge;
pub mod render;
pub mod report;
pub mod tally;
pub mod threshold;

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context as _;
use records::{bad_input, ndjson, Exit};

use crate::cli::{Args, Format};
use crate::render::Render;
use crate::report::Report;
use crate::tally::Tally;
use crate::threshold::Threshold;

/// Runs the tool; the exit code says whether thresholds held.
pub fn run(args: Args) -> anyhow::Result<Exit> {
    // Everything that can be wrong with the flags fails before any input is read.
    let thresholds = args
        .threshold
        .iter()
        .map(|expr| Threshold::parse(expr))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad_input(e.to_string()))?;
    let labels = cli::parse_labels(&args.label).map_err(bad_input)?;
    let format = args.format.unwrap_or(if io::stdout().is_terminal() {
        Format::Table
    } else {
        Format::Ndjson
    });

    interrupt::watch()?;

    let interval = args.interval.unwrap_or(std::time::Duration::from_secs(1));
    let mut tally = Tally::new(interval.as_nanos() as u64);
    let mut interval_from_input = args.merge && args.interval.is_none();
    let mut shards = merge::Shards::default();
    let inputs = if args.files.is_empty() {
        vec!["-".to_string()]
    } else {
        args.files.clone()
    };
    for path in &inputs {
        let mut reader = ndjson::open(path)?.skip_invalid(args.skip_invalid);
        if args.merge {
            let seen = merge::read_summaries(
                &mut reader,
                &mut tally,
                &mut shards,
                &mut interval_from_input,
            )?;
            if seen.intervals_without_hist > 0 {
                eprintln!(
                    "aggregate: {}: {} interval records carry no histogram; \
                     their counts are merged, their percentiles are not",
                    reader.source_name(),
                    seen.intervals_without_hist
                );
            }
        } else {
            events::read_events(&mut reader, &mut tally)?;
        }
        if reader.skipped() > 0 {
            eprintln!(
                "aggregate: skipped {} invalid lines in {} (first: {})",
                reader.skipped(),
                reader.source_name(),
                reader.first_skip().unwrap_or("?")
            );
            tally.skipped_lines += reader.skipped();
        }
    }
    if tally.endpoints.is_empty() {
        let what = if args.merge {
            "no endpoint records"
        } else {
            "no events"
        };
        return Err(bad_input(format!(
            "{what} in {}: nothing to aggregate",
            inputs
                .iter()
                .map(|p| if p == "-" { "<stdin>" } else { p.as_str() })
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    if args.scenario.is_some() {
        tally.scenario = args.scenario.clone();
    }
    if args.merge {
        for warning in shards.check(args.expect_shards)? {
            eprintln!("aggregate: warning: {warning}");
        }
        if shards.runs.len() > 1 {
            eprintln!("aggregate: merged {} shards", shards.runs.len());
        }
    }

    let mut report =
        Report::build(&mut tally, &labels, args.slow.as_nanos() as u64).with_shards(shards.runs);
    for t in &thresholds {
        let (result, shown) = t.check(&report.endpoints, &report.flows, &report.total);
        if !result.ok {
            eprintln!("aggregate: threshold broken: {}: {shown}", t.expr);
        }
        report.thresholds.push(result);
        report.threshold_notes.push(shown);
    }

    if let Some(dir) = &args.out_dir {
        ndjson::out_dir(dir)?;
        let mut files = LOCUST_FILES.to_vec();
        files.extend(OWN_FILES);
        write_files(&files, |name| dir.join(name), &report)?;
    }
    if let Some(prefix) = &args.csv {
        let mut path = |name: &str| {
            let mut p = prefix.clone().into_os_string();
            p.push("_");
            p.push(name);
            std::path::PathBuf::from(p)
        };
        write_files(&LOCUST_FILES, &mut path, &report)?;
    }
    let renderer: &dyn Render = match format {
        Format::Table => &render::Table,
        Format::Ndjson => &render::Ndjson,
        Format::Json => &render::Json,
        Format::Csv => &render::Csv,
        Format::Locust => &render::LocustStats,
    };
    let stdout = io::stdout();
    let mut out = stdout.lock();
    renderer
        .render(&report, &mut out)
        .and_then(|()| out.flush())
        .context("writing to stdout")?;

    Ok(if report.broken_thresholds() > 0 {
        Exit::CheckFailed
    } else {
        Exit::Ok
    })
}

/// Locust's `--csv` files, named as Locust names them after its prefix.
const LOCUST_FILES: [(&str, &dyn Render); 4] = [
    ("stats.csv", &render::LocustStats),
    ("stats_history.csv", &render::LocustHistory),
    ("failures.csv", &render::LocustFailures),
    ("exceptions.csv", &render::LocustExceptions),
];

/// What `--out-dir` holds beside Locust's files.
const OWN_FILES: [(&str, &dyn Render); 2] = [
    ("summary.ndjson", &render::Ndjson),
    ("table.txt", &render::Table),
];

/// Writes each file (`path` of its name) with its renderer.
fn write_files(
    files: &[(&str, &dyn Render)],
    mut path: impl FnMut(&str) -> PathBuf,
    report: &Report,
) -> anyhow::Result<()> {
    for &(name, renderer) in files {
        let path = path(name);
        let mut file = io::BufWriter::new(
            File::create(&path).with_context(|| format!("cannot create {}", path.display()))?,
        );
        renderer
            .render(report, &mut file)
            .and_then(|()| file.flush())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
