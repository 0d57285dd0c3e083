//! `chart`: renders load-test summaries (aggregate's NDJSON) as PNG charts
//! and as `report.html` ([`report`]).
//!
//! One run gives latency and throughput over time, the percentile
//! distribution and a per-endpoint summary; two or more runs give the five
//! comparison charts and `summary_table.txt`. Text is drawn with DejaVu Sans from
//! the `dejavu` crate, so no system fonts are needed.

pub mod bars;
pub mod canvas;
pub mod comparison;
pub mod host;
pub mod lttb;
pub mod nines;
pub mod pg;
pub mod report;
pub mod run;
pub mod series;
pub mod single;
pub mod style;
pub mod table;
pub mod text;

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Parser;
use records::Exit;

use crate::run::Run;

/// Render load-test summaries as PNG charts and an interactive HTML report.
///
/// One RUN: latency over time, throughput over time, percentile distribution,
/// per-endpoint summary. Two or more RUNs: response time, throughput, failure
/// rate and percentile comparisons, a summary table and summary_table.txt (plus each
/// run's own charts in a subfolder named after its label). Beside them,
/// report.html: one self-contained page (no network needed to open it) with
/// the thresholds banner, a sortable endpoint table, zoomable time series, the
/// percentile spectrum, errors, compare's verdicts for several runs, and the
/// summary records embedded as JSON.
#[derive(Debug, Parser)]
#[command(
    name = "chart",
    version,
    after_help = concat!(
        "Examples:\n  \
        seed -s scenarios/tasktracker.toml | hammer -s scenarios/tasktracker.toml \\\n    \
        | aggregate --format ndjson > run.ndjson\n  \
        chart run.ndjson --out-dir charts/\n  \
        chart mono.ndjson micro.ndjson --label monolith --label microservices --out-dir compare/\n  \
        chart run.ndjson --pg pg.ndjson --out-dir charts/ --log-scale\n  \
        chart run.ndjson --host host.ndjson --out-dir charts/\n  \
        chart run.ndjson --html report.html          # the report alone\n\n",
        records::exit_status_help!()
    )
)]
pub struct Args {
    /// Summary files written by `aggregate --format ndjson` (`-` for stdin).
    #[arg(value_name = "RUN", required = true)]
    pub runs: Vec<String>,

    /// Name of each run, in order (default: the run record's `label`, else the file name).
    #[arg(long = "label", value_name = "NAME")]
    pub labels: Vec<String>,

    /// PgSamples from `pgwatch`, drawn on the run's time axis below its latency.
    #[arg(long, value_name = "FILE")]
    pub pg: Option<String>,

    /// Host and process samples from `hostwatch`: CPU and memory drawn on the run's time axis below its latency.
    #[arg(long, value_name = "FILE")]
    pub host: Option<String>,

    /// Directory the PNGs and report.html are written to (created if missing).
    #[arg(
        long = "out-dir",
        value_name = "DIR",
        required_unless_present_any = ["html", "output"]
    )]
    pub out: Option<PathBuf>,

    /// Write the interactive HTML report to FILE (one self-contained file, no
    /// network needed to open it); without --out-dir, only the report is written.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Not chart's flag: `-o`/`--output` is one FILE in every tool (seed's,
    /// hammer's); chart writes a directory, so it is an error naming --out-dir.
    #[arg(short = 'o', long = "output", value_name = "FILE", hide = true)]
    pub output: Option<PathBuf>,

    /// Image size in pixels.
    #[arg(long, value_name = "WIDTHxHEIGHT", default_value = "1280x720", value_parser = parse_size)]
    pub size: (u32, u32),

    /// Logarithmic latency axes (helps when a few slow requests dwarf the rest).
    #[arg(long)]
    pub log_scale: bool,
}

/// Resolved drawing settings.
#[derive(Clone, Debug)]
pub struct Options {
    pub width: u32,
    pub height: u32,
    pub log_scale: bool,
}

impl Options {
    /// Points per line after downsampling: about one per two pixels.
    pub fn max_points(&self) -> usize {
        (self.width as usize / 2).max(50)
    }
}

/// Parses `1280x720`; both sides between 200 and 8192 pixels.
pub fn parse_size(text: &str) -> Result<(u32, u32), String> {
    let (w, h) = text
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("`{text}` is not a size; expected WIDTHxHEIGHT, e.g. 1280x720"))?;
    let side = |s: &str| -> Result<u32, String> {
        let v: u32 = s
            .trim()
            .parse()
            .map_err(|_| format!("`{text}`: `{s}` is not a number of pixels"))?;
        if !(200..=8192).contains(&v) {
            return Err(format!("`{text}`: each side must be 200 to 8192 pixels"));
        }
        Ok(v)
    };
    Ok((side(w)?, side(h)?))
}

/// Runs the tool; prints `chart: wrote N charts to DIR` and each path on stderr.
pub fn run(args: Args) -> anyhow::Result<Exit> {
    if let Some(given) = &args.output {
        return Err(records::bad_input(format!(
            "-o {}: chart writes a directory of PNGs: give it as --out-dir DIR, or the \
             report alone as --html FILE (-o/--output is one FILE, in seed and hammer)",
            given.display()
        )));
    }
    let opts = Options {
        width: args.size.0,
        height: args.size.1,
        log_scale: args.log_scale,
    };
    let runs = run::load_all(&args.runs, &args.labels)?;
    let polls = match &args.pg {
        Some(path) => Some(pg::load(path)?),
        None => None,
    };
    let hosts = match &args.host {
        Some(path) => Some(host::load(path)?),
        None => None,
    };
    // Each run's samples: the ones that overlap its time window (all of
    // them for a single run, which warns when they miss it).
    let overlays: Vec<Overlays> = runs
        .iter()
        .map(|r| Overlays {
            polls: polls
                .as_deref()
                .filter(|p| runs.len() == 1 || pg::overlaps(p, r.start_ns(), r.end_ns())),
            hosts: hosts
                .as_ref()
                .filter(|h| runs.len() == 1 || host::overlaps(h, r.start_ns(), r.end_ns())),
        })
        .collect();
    if runs.len() > 1 {
        if hosts.is_some() && overlays.iter().all(|o| o.hosts.is_none()) {
            eprintln!("chart: warning: the --host samples overlap none of the runs' time windows; no host chart drawn");
        }
        if polls.is_some() && overlays.iter().all(|o| o.polls.is_none()) {
            eprintln!("chart: warning: the --pg samples overlap none of the runs' time windows; no pg chart drawn");
        }
    }
    let mut written = Vec::new();
    if let Some(out) = &args.out {
        records::ndjson::out_dir(out)?;
        if runs.len() == 1 {
            written.extend(run_charts(&runs[0], overlays[0], out, &opts)?);
        } else {
            written.extend(comparison::render(&runs, out, &opts)?);
            for (r, overlay) in runs.iter().zip(&overlays) {
                let dir = out.join(slug(&r.label));
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
                written.extend(run_charts(r, *overlay, &dir, &opts)?);
            }
        }
    }
    let html = args
        .html
        .clone()
        .or_else(|| args.out.as_ref().map(|d| d.join("report.html")));
    if let Some(path) = &html {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| records::bad_input(format!("cannot create {}: {e}", dir.display())))?;
        }
        report::write(&runs, &overlays, path)?;
        written.push(path.clone());
    }
    let place = args
        .out
        .as_ref()
        .map_or_else(|| ".".to_string(), |d| d.display().to_string());
    eprintln!(
        "chart: wrote {} charts{} to {place}",
        written.iter().filter(|p| is_png(p)).count(),
        if html.is_some() {
            " and report.html"
        } else {
            ""
        },
    );
    for path in &written {
        eprintln!("  {}", path.display());
    }
    Ok(Exit::Ok)
}

/// Samples drawn on a run's time axis, when given.
#[derive(Clone, Copy, Debug, Default)]
pub struct Overlays<'a> {
    /// pgwatch's (`--pg`): pg_activity.png.
    pub polls: Option<&'a [pg::Poll]>,
    /// hostwatch's (`--host`): host_activity.png.
    pub hosts: Option<&'a host::Samples>,
}

/// The four charts of one run, plus the pg and host overlays when samples are given.
pub fn run_charts(
    run: &Run,
    overlays: Overlays,
    dir: &Path,
    opts: &Options,
) -> anyhow::Result<Vec<PathBuf>> {
    type Draw = fn(&Run, &Path, &Options) -> anyhow::Result<()>;
    let charts: [(&str, Draw); 4] = [
        ("latency_over_time.png", single::latency_over_time),
        ("throughput_over_time.png", single::throughput_over_time),
        (
            "percentile_distribution.png",
            single::percentile_distribution,
        ),
        ("endpoint_summary.png", single::endpoint_summary),
    ];
    let mut out = Vec::new();
    for (name, draw) in charts {
        let path = dir.join(name);
        draw(run, &path, opts).with_context(|| format!("writing {}", path.display()))?;
        out.push(path);
    }
    if let Some(polls) = overlays.polls {
        if !pg::overlaps(polls, run.start_ns(), run.end_ns()) {
            eprintln!(
                "chart: warning: no --pg sample falls within run {:?}; pg_activity.png shows none",
                run.label
            );
        }
        let path = dir.join("pg_activity.png");
        single::pg_activity(run, polls, &path, opts)
            .with_context(|| format!("writing {}", path.display()))?;
        out.push(path);
    }
    if let Some(hosts) = overlays.hosts {
        if !host::overlaps(hosts, run.start_ns(), run.end_ns()) {
            eprintln!(
                "chart: warning: no --host sample falls within run {:?}; host_activity.png shows none",
                run.label
            );
        }
        let path = dir.join("host_activity.png");
        host::host_activity(run, hosts, &path, opts)
            .with_context(|| format!("writing {}", path.display()))?;
        out.push(path);
    }
    Ok(out)
}

fn is_png(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "png")
}

/// A label as a directory name: `mono (2)` → `mono-2`.
pub fn slug(label: &str) -> String {
    let mut out = String::new();
    for c in label.chars() {
        if c.is_alphanumeric() || c == '_' || c == '.' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches(['-', '.']).to_string();
    if out.is_empty() {
        "run".into()
    } else {
        style::truncate(&out, 60).replace('…', "")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_valid() {
        Args::command().debug_assert();
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("1280x720"), Ok((1280, 720)));
        assert_eq!(parse_size("640X480"), Ok((640, 480)));
        assert!(parse_size("1280").is_err());
        assert!(parse_size("10x10").is_err());
        assert!(parse_size("axb").is_err());
    }

    #[test]
    fn labels_become_safe_directory_names() {
        assert_eq!(slug("mono"), "mono");
        assert_eq!(slug("mono (2)"), "mono-2");
        assert_eq!(slug("../../etc"), "etc");
        assert_eq!(slug("///"), "run");
    }
}
