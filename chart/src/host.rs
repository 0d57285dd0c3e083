//! Host and process samples from hostwatch (`chart --host`): CPU and memory
//! drawn under a run's latency on one time axis, so a latency spike lines up
//! with the CPU or the memory behind it.

use std::collections::BTreeMap;
use std::path::Path;

use plotters::prelude::*;
use records::Summary;

use crate::canvas::{self, draw_err, TimeAxis};
use crate::lttb::lttb;
use crate::run::Run;
use crate::single::under_latency;
use crate::style::{self, Fonts};
use crate::Options;

/// Processes drawn one by one; more would not tell apart in the legend.
pub const MAX_PROCESSES: usize = 4;

type Points = Vec<(f64, f64)>;

/// One watched group's lines: CPU on the left axis, RSS (dashed) on the right.
struct Line {
    name: String,
    color: RGBColor,
    cpu: Points,
    mem: Points,
}

/// One host sample, what the chart needs of it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tick {
    pub ts: u64,
    pub cpu_pct: f64,
    pub mem_used_bytes: u64,
}

/// One watched group (`--pid`/`--process`) at one sample, its processes summed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProcessTick {
    pub ts: u64,
    /// Of one core, as top shows it.
    pub cpu_pct: f64,
    pub rss_bytes: u64,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Samples {
    pub cpus: u32,
    pub host: Vec<Tick>,
    /// By the `watch` label, in the order first seen.
    pub processes: Vec<(String, Vec<ProcessTick>)>,
}

/// Reads `kind: host` and `kind: process` records from `path`; other kinds
/// are skipped. Bad lines name file and line (exit 2).
pub fn load(path: &str) -> anyhow::Result<Samples> {
    let mut out = Samples::default();
    let mut groups: BTreeMap<String, BTreeMap<u64, ProcessTick>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for record in records::ndjson::open(path)?.records::<Summary>() {
        match record? {
            Summary::Host(h) => {
                out.cpus = out.cpus.max(h.cpus);
                out.host.push(Tick {
                    ts: h.ts,
                    cpu_pct: h.cpu_permille as f64 / 10.0,
                    mem_used_bytes: h.mem_used_bytes,
                });
            }
            Summary::Process(p) => {
                if !groups.contains_key(&p.watch) {
                    order.push(p.watch.clone());
                }
                let t = groups
                    .entry(p.watch)
                    .or_default()
                    .entry(p.ts)
                    .or_insert(ProcessTick {
                        ts: p.ts,
                        ..ProcessTick::default()
                    });
                t.cpu_pct += p.cpu_permille as f64 / 10.0;
                t.rss_bytes = t.rss_bytes.saturating_add(p.rss_bytes);
            }
            _ => {}
        }
    }
    if out.host.is_empty() {
        return Err(records::bad_input(format!(
            "{path}: no host samples (expected `hostwatch` output, records with \"kind\":\"host\")"
        )));
    }
    out.host.sort_by_key(|t| t.ts);
    out.processes = order
        .into_iter()
        .map(|w| {
            let ticks = groups
                .remove(&w)
                .unwrap_or_default()
                .into_values()
                .collect();
            (w, ticks)
        })
        .collect();
    Ok(out)
}

/// A watched group's name in legends: a `--pid`'s samples are labelled with
/// the bare number.
pub fn process_name(watch: &str) -> String {
    if watch.bytes().all(|b| b.is_ascii_digit()) {
        format!("pid {watch}")
    } else {
        style::truncate(watch, 24)
    }
}

/// Whether any host sample falls within `[start, end]` (epoch ns).
pub fn overlaps(samples: &Samples, start: u64, end: u64) -> bool {
    samples.host.iter().any(|t| t.ts >= start && t.ts <= end)
}

/// Draws latency over time above host CPU, each watched process's CPU and
/// (right axis) its RSS, on one time axis. Without watched processes the
/// right axis shows the host's used memory.
pub fn host_activity(
    run: &Run,
    samples: &Samples,
    path: &Path,
    opts: &Options,
) -> anyhow::Result<()> {
    let fonts = Fonts::for_size(opts.width, opts.height);
    let root = canvas::canvas(path, (opts.width, opts.height))?;
    let title = format!("Latency, CPU and memory — {}", run.label);
    let bottom = under_latency(&root, run, &title, opts, &fonts)?;
    let start = run.start_ns() as f64;
    let axis = TimeAxis::for_duration(crate::run::axis_secs(run));
    let x_of = |ts: u64| axis.x((ts as f64 - start) / 1e9);
    let x_range = 0.0..axis.x(crate::run::axis_secs(run));
    let inside = |ts: u64| {
        let x = x_of(ts);
        x_range.contains(&x) || x == x_range.end
    };
    let thin = |all: Vec<(f64, f64)>| lttb(&all, opts.max_points());
    let host_cpu = thin(
        samples
            .host
            .iter()
            .filter(|t| inside(t.ts))
            .map(|t| (x_of(t.ts), t.cpu_pct))
            .collect(),
    );
    if host_cpu.is_empty() {
        canvas::no_data(
            &bottom,
            "no host samples fall within this run's time window",
            &fonts,
        )?;
        return root.present().map_err(draw_err(path));
    }
    let mb = |bytes: u64| bytes as f64 / 1e6;
    let mut lines: Vec<Line> = Vec::new();
    for (i, (watch, ticks)) in samples.processes.iter().take(MAX_PROCESSES).enumerate() {
        let mine: Vec<&ProcessTick> = ticks.iter().filter(|t| inside(t.ts)).collect();
        if mine.is_empty() {
            continue;
        }
        let name = process_name(watch);
        lines.push(Line {
            name,
            color: style::PALETTE[1 + i],
            cpu: thin(mine.iter().map(|t| (x_of(t.ts), t.cpu_pct)).collect()),
            mem: thin(mine.iter().map(|t| (x_of(t.ts), mb(t.rss_bytes))).collect()),
        });
    }
    let host_mem: Points = if lines.is_empty() {
        thin(
            samples
                .host
                .iter()
                .filter(|t| inside(t.ts))
                .map(|t| (x_of(t.ts), mb(t.mem_used_bytes)))
                .collect(),
        )
    } else {
        Vec::new()
    };
    let cpu_hi = canvas::upper(
        host_cpu
            .iter()
            .chain(lines.iter().flat_map(|l| l.cpu.iter()))
            .map(|p| p.1)
            .fold(100.0, f64::max),
    );
    let mem_hi = canvas::upper(
        lines
            .iter()
            .flat_map(|l| l.mem.iter())
            .chain(host_mem.iter())
            .map(|p| p.1)
            .fold(0.0, f64::max),
    )
    .max(1.0);
    // A machine at 100% and a process near 0 fill every corner: raise both
    // axes so the legend sits above the lines.
    let stretch = {
        let cpu = std::iter::once(&host_cpu).chain(lines.iter().map(|l| &l.cpu));
        let mem = lines
            .iter()
            .map(|l| &l.mem)
            .chain(std::iter::once(&host_mem));
        let fr: Vec<Points> = cpu
            .map(|p| canvas::fractions(p, x_range.clone(), 0.0..cpu_hi, false))
            .chain(mem.map(|p| canvas::fractions(p, x_range.clone(), 0.0..mem_hi, false)))
            .collect();
        let entries = 1 + 2 * lines.len().max(1);
        canvas::legend_headroom(
            &fr,
            canvas::legend_size(entries, 34, canvas::plot_estimate(&bottom), &fonts),
        )
    };
    let (cpu_hi, mem_hi) = (cpu_hi * stretch, mem_hi * stretch);
    let err = |e| anyhow::anyhow!("drawing host activity: {e:?}");
    let mut builder = ChartBuilder::on(&bottom);
    let mut chart = canvas::two_axes(&mut builder, x_range, cpu_hi, mem_hi, &fonts).map_err(err)?;
    canvas::time_mesh(&mut chart, &axis, "CPU %", &fonts)
        .draw()
        .map_err(err)?;
    let right = if lines.is_empty() {
        "host memory used (MB)"
    } else {
        "RSS (MB)"
    };
    canvas::right_axis(&mut chart, right, &fonts)
        .draw()
        .map_err(err)?;
    let solid = |chart: &mut ChartContext<_, _>, points: &Points, color, name: String| {
        canvas::line(chart, points, color, fonts.line(points.len()), name).map_err(err)
    };
    solid(
        &mut chart,
        &host_cpu,
        style::PALETTE[0],
        format!("host CPU % (of all {} cores)", samples.cpus.max(1)),
    )?;
    for l in &lines {
        solid(
            &mut chart,
            &l.cpu,
            l.color,
            format!("{} CPU % (of one core)", l.name),
        )?;
    }
    let dashed: Vec<(String, RGBColor, &Points)> = if lines.is_empty() {
        vec![(
            "host memory used MB (right axis)".into(),
            style::VUS,
            &host_mem,
        )]
    } else {
        lines
            .iter()
            .map(|l| (format!("{} RSS MB (right axis)", l.name), l.color, &l.mem))
            .collect()
    };
    let mut placed = vec![canvas::Placed {
        points: &host_cpu,
        y: 0.0..cpu_hi,
        log_y: false,
    }];
    let mut labels = vec![format!("host CPU % (of all {} cores)", samples.cpus.max(1))];
    for l in &lines {
        placed.push(canvas::Placed {
            points: &l.cpu,
            y: 0.0..cpu_hi,
            log_y: false,
        });
        labels.push(format!("{} CPU % (of one core)", l.name));
    }
    for (name, _, points) in &dashed {
        placed.push(canvas::Placed {
            points,
            y: 0.0..mem_hi,
            log_y: false,
        });
        labels.push(name.clone());
    }
    for (name, color, points) in dashed {
        // A short swatch: these are the dashed lines.
        canvas::dashed_right(&mut chart, points, color, name, 8, &fonts).map_err(err)?;
    }
    let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
    let plot = chart.plotting_area().dim_in_pixel();
    let corner = canvas::place_legend(&placed, chart.x_range(), &labels, plot, &fonts);
    canvas::legend_in(&mut chart, corner, &fonts).map_err(err)?;
    root.present().map_err(draw_err(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use records::{HostSample, ProcessSample};

    #[test]
    fn processes_of_one_watch_add_up_per_sample() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("host.ndjson");
        let mut w = records::ndjson::Writer::new(std::fs::File::create(&path).unwrap());
        for ts in [2, 1] {
            w.write(&Summary::Host(HostSample {
                ts,
                cpus: 2,
                cpu_permille: 500,
                ..HostSample::default()
            }))
            .unwrap();
            for pid in [10, 11] {
                w.write(&Summary::Process(ProcessSample {
                    ts,
                    watch: "app".into(),
                    pid,
                    cpu_permille: 250,
                    rss_bytes: 1000,
                    ..ProcessSample::default()
                }))
                .unwrap();
            }
        }
        w.flush().unwrap();
        drop(w);
        let s = load(path.to_str().unwrap()).unwrap();
        assert_eq!(s.cpus, 2);
        assert_eq!(s.host.iter().map(|t| t.ts).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(s.processes.len(), 1);
        let ticks = &s.processes[0].1;
        assert_eq!(ticks.len(), 2);
        assert_eq!((ticks[0].cpu_pct, ticks[0].rss_bytes), (50.0, 2000));
        assert!(overlaps(&s, 2, 5) && !overlaps(&s, 3, 5));
    }
}
