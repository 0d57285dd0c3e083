//! The closing summary for people, on stderr.

use std::fmt::Write as _;
use std::time::Duration;

use records::units::format_duration;
use records::{format_bytes, HostSummary};

fn pct(permille: u32) -> String {
    format!("{:.1}%", permille as f64 / 10.0)
}

/// The summary as lines, thresholds last (`notes` pairs each with what it measured).
pub fn render(
    s: &HostSummary,
    interval: Duration,
    thresholds: &[(bool, String, String)],
) -> String {
    let mut out = String::new();
    let span = Duration::from_nanos(s.end.saturating_sub(s.start));
    let _ = writeln!(
        out,
        "hostwatch: {} samples over {} (every {})",
        s.samples,
        format_duration(span),
        format_duration(interval)
    );
    if s.samples > 0 {
        let _ = writeln!(
            out,
            "  cpu         avg {:>6}  peak {:>6}   ({} cores)",
            pct(s.cpu_avg_permille),
            pct(s.cpu_peak_permille),
            s.cores.len()
        );
        for c in &s.cores {
            let _ = writeln!(
                out,
                "    core {:<3}  avg {:>6}  peak {:>6}",
                c.core,
                pct(c.cpu_avg_permille),
                pct(c.cpu_peak_permille)
            );
        }
        let _ = writeln!(
            out,
            "  memory      used peak {}, available low {}, swap used peak {}",
            format_bytes(s.mem_used_peak_bytes as f64),
            format_bytes(s.mem_available_min_bytes as f64),
            format_bytes(s.swap_used_peak_bytes as f64)
        );
    }
    for p in &s.processes {
        let pids: Vec<String> = p.pids.iter().map(u32::to_string).collect();
        let growth = match p.rss_growth_bytes_per_h {
            Some(g) => format!(
                "{}{}/h",
                if g >= 0 { "+" } else { "" },
                format_bytes(g as f64)
            ),
            None => "n/a (too few samples)".into(),
        };
        let _ = writeln!(
            out,
            "  process {} (pid {}): {} samples, cpu avg {} peak {} (of one core), rss peak {}, rss growth {}",
            p.watch,
            if pids.is_empty() { "none".into() } else { pids.join(",") },
            p.samples,
            pct(p.cpu_avg_permille),
            pct(p.cpu_peak_permille),
            format_bytes(p.rss_peak_bytes as f64),
            growth
        );
        for e in &p.exited {
            let _ = writeln!(out, "    pid {} ({}) exited during the run", e.pid, e.name);
        }
    }
    for (ok, expr, shown) in thresholds {
        let _ = writeln!(
            out,
            "  threshold {}: {expr}: {shown}",
            if *ok { "ok" } else { "broken" }
        );
    }
    out
}
