//! hostwatch: the machine under test and chosen processes on it, sampled
//! from Linux's /proc during a load test.
//!
//! Prints [`records::HostSample`]s and [`records::ProcessSample`]s as NDJSON
//! (`{"kind":"host",...}`, `{"kind":"process",...}`, [`records::Summary`]
//! lines) and a closing [`records::HostSummary`], so `chart --host` can lay
//! CPU and memory over a run's latencies; `--threshold` checks the run for CI.
//!
//! # The leak check
//!
//! `process:NAME:rss_growth<10MB/h` takes the Theil–Sen estimator (the median
//! of the slopes between every pair of RSS samples) after a warm-up (the
//! first tenth of the run, or `--warmup`). Theil–Sen because RSS is spiky: a
//! GC cycle, a burst of requests or one large buffer moves a least-squares
//! line far more than a median of slopes, which shrugs off up to ~29% of
//! wild points. The warm-up because a process fills its caches, pools and
//! allocator arenas when it starts: a one-off step that a slope over the whole
//! run would read as growth, although it stops.

pub mod cli;
pub mod host;
pub mod procfs;
pub mod procs;
pub mod report;
pub mod tally;
pub mod threshold;
pub mod watch;

use anyhow::Context as _;
use records::exit::{bad_input, is_broken_pipe, Exit};
use records::Summary;

pub use cli::Args;

use crate::procs::Selector;
use crate::threshold::Threshold;

/// Runs hostwatch with parsed arguments.
pub fn run(args: Args) -> anyhow::Result<Exit> {
    let thresholds = args
        .threshold
        .iter()
        .map(|t| Threshold::parse(t).map_err(|e| bad_input(e.to_string())))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut selectors: Vec<Selector> = Vec::new();
    for s in args
        .pid
        .iter()
        .map(|&p| Selector::Pid(p))
        .chain(args.process.iter().map(|n| Selector::Name(n.clone())))
    {
        if !selectors.contains(&s) {
            selectors.push(s);
        }
    }
    let labels: Vec<String> = selectors.iter().map(Selector::label).collect();
    for t in &thresholds {
        if let Some(name) = &t.process {
            if !labels.contains(name) {
                return Err(bad_input(format!(
                    "--threshold `{}` names process {name}, which no --pid or --process watches",
                    t.expr
                )));
            }
        }
    }
    if args.children && selectors.is_empty() {
        return Err(bad_input("--children needs a --pid or --process"));
    }

    let proc = procfs::Proc::open(&args.proc_root).map_err(bad_input)?;
    let mut host = host::HostSampler::new(args.iface.clone());
    let missing = host.missing_ifaces(&proc)?;
    if !missing.is_empty() {
        return Err(bad_input(format!(
            "no network interface {} here (see /proc/net/dev)",
            missing.join(", ")
        )));
    }
    let mut procs = procs::Watcher::new(selectors, args.children);
    let mut tally = tally::Tally::new(labels, args.warmup);
    let settings = watch::Settings {
        interval: args.sampling.interval,
        until: args.sampling.until(),
        wait: args.wait,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut out = records::ndjson::stdout();
    let end = runtime.block_on(watch::watch(
        &proc, &mut host, &mut procs, &mut tally, &settings, &mut out,
    ))?;

    let pids: Vec<Vec<u32>> = procs
        .pids
        .iter()
        .map(|s| s.iter().copied().collect())
        .collect();
    let summary = tally.summary(&pids, &procs.exits);
    let mut results = Vec::new();
    let mut notes = Vec::new();
    for t in &thresholds {
        let (result, shown) = t.check(&tally);
        if !result.ok {
            eprintln!("hostwatch: threshold broken: {}: {shown}", t.expr);
        }
        notes.push((result.ok, t.expr.clone(), shown));
        results.push(result);
    }
    eprint!(
        "{}",
        report::render(&summary, args.sampling.interval, &notes)
    );

    if end != watch::End::StdoutClosed {
        let written = (|| -> std::io::Result<()> {
            for r in &results {
                out.write(&Summary::Threshold(r.clone()))?;
            }
            out.write(&Summary::HostSummary(summary))?;
            out.flush()
        })();
        if let Err(err) = written {
            let err = anyhow::Error::from(err);
            if !is_broken_pipe(&err) {
                return Err(err).context("writing the summary to stdout");
            }
        }
    }
    Ok(if results.iter().any(|r| !r.ok) {
        Exit::CheckFailed
    } else {
        Exit::Ok
    })
}
