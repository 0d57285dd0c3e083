//! `compare`: baseline-versus-current regression checks with sound
//! statistics, and side-by-side comparisons of two or more runs (e.g. a
//! monolith against microservices).
//!
//! The work is split by concern: [`records::run`] reads summaries, [`stats`] holds the
//! tests, [`verdict`] decides, [`sidebyside`] lays several runs next to each
//! other, and [`render`] only formats.

pub mod cli;
pub mod metric;
pub mod render;
pub mod sidebyside;
pub mod stats;
pub mod verdict;

use std::io::Write;

use anyhow::Context as _;
use clap::ArgMatches;
use records::Exit;

use cli::{Format, Mode, Plan};
pub use records::run;
use run::Run;

/// Runs the command line `matches` describe.
pub fn run(matches: &ArgMatches) -> anyhow::Result<Exit> {
    let plan = cli::plan(matches)?;
    let runs = plan
        .runs
        .iter()
        .map(|(path, label)| {
            let mut run = Run::load(path)?;
            if let Some(label) = label.as_deref().filter(|l| !l.is_empty()) {
                run.label = label.to_string();
            }
            Ok(run)
        })
        .collect::<Result<Vec<_>, records::InputError>>()?;
    match plan.mode {
        Mode::Regression => regression(&plan, &runs[0], &runs[1]),
        Mode::SideBySide => side_by_side(&plan, &runs),
    }
}

fn regression(plan: &Plan, baseline: &Run, current: &Run) -> anyhow::Result<Exit> {
    let report = verdict::compare(baseline, current, &plan.settings);
    let text = match plan.format {
        Format::Table => render::table::report(&report),
        Format::Markdown => render::markdown::report(&report),
        Format::Ndjson => render::ndjson::report(&report)?,
    };
    emit(&text)?;
    if let Some(dir) = &plan.out_dir {
        write_file(dir, "summary.txt", &render::table::report(&report))?;
        write_file(dir, "comparison.md", &render::markdown::report(&report))?;
    }
    Ok(if report.has_regression() {
        Exit::CheckFailed
    } else {
        Exit::Ok
    })
}

fn side_by_side(plan: &Plan, runs: &[Run]) -> anyhow::Result<Exit> {
    let table = sidebyside::SideBySide::new(runs, &plan.settings);
    let text = match plan.format {
        Format::Table => render::table::side_by_side(&table),
        Format::Markdown => render::markdown::side_by_side(&table),
        Format::Ndjson => render::ndjson::side_by_side(&table)?,
    };
    emit(&text)?;
    if let Some(dir) = &plan.out_dir {
        write_file(dir, "summary.txt", &render::table::side_by_side(&table))?;
    }
    Ok(Exit::Ok)
}

fn emit(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .context("writing the report")?;
    out.flush().context("writing the report")?;
    Ok(())
}

fn write_file(dir: &std::path::Path, name: &str, text: &str) -> anyhow::Result<()> {
    records::ndjson::out_dir(dir)?;
    let path = dir.join(name);
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!("compare: wrote {}", path.display());
    Ok(())
}
