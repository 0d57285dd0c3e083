//! The command line, and the settings resolved from it.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use records::watch::Sampling;

/// Sample the machine under test, and chosen processes on it, from /proc.
///
/// Prints one host sample per interval on stdout (NDJSON, `{"kind":"host",...}`):
/// CPU shares in permille, total and per core (user, system, iowait, steal),
/// load average, memory, and what each network interface and disk moved; and
/// one `{"kind":"process",...}` sample per watched process: CPU (share of one
/// core), RSS, threads, open descriptors. The last line is a
/// `{"kind":"host_summary",...}` record; people get the same summary on stderr.
///
/// Runs until --count or --duration, SIGINT or SIGTERM, a closed stdout, or,
/// when stdin is a pipe, the end of stdin (so `producer | hostwatch` ends with
/// the producer).
#[derive(Debug, Parser)]
#[command(
    name = "hostwatch",
    version,
    after_help = concat!(
        "\
Examples:
  hostwatch --count 1 | jq .
  hostwatch --process tasktracker --interval 250ms > host.ndjson &
  S=scenarios/tasktracker.toml
  seed -s $S | hammer -s $S --duration 60s | aggregate > run.ndjson
  kill -INT %1; chart run.ndjson --host host.ndjson -o charts/
  hostwatch --pid 4242 --children --duration 1h \\
      --threshold 'process:4242:rss_growth<10MB/h' --threshold 'cpu<80%' > soak.ndjson

Thresholds: [process:NAME:]METRIC<OP>VALUE, OP one of < <= > >= ==.
  host: cpu, iowait, steal (run average, %), cpu_peak (%), load1,
        mem_used, mem_available, swap_used (every sample; sizes like 500MB, 2GiB)
  process:NAME (NAME as given to --process, or the --pid number):
        cpu (average, % of one core), cpu_peak, rss, threads, fds (every sample),
        rss_growth (Theil–Sen slope after --warmup, e.g. 10MB/h)

Also 0 when a piped stdin ends; 1 when a --threshold broke; 2 also for a
--pid/--process that matches nothing (without --wait), an unknown --iface, or
no /proc to read.

",
        records::exit_status_help!()
    )
)]
pub struct Args {
    /// Watch this process (repeatable).
    #[arg(long, value_name = "N")]
    pub pid: Vec<u32>,

    /// Watch every process with this name: its kernel name (comm) or the file name its command line starts with (repeatable).
    #[arg(long, value_name = "NAME")]
    pub process: Vec<String>,

    /// Also watch the descendants of the chosen processes.
    #[arg(long)]
    pub children: bool,

    /// Wait for every --pid/--process to match before sampling, instead of exit 2.
    #[arg(long)]
    pub wait: bool,

    /// Only these network interfaces (repeatable; default: all).
    #[arg(long, value_name = "NAME")]
    pub iface: Vec<String>,

    // --interval, --duration, --count.
    #[command(flatten)]
    pub sampling: Sampling,

    /// A check on the run; exit 1 when broken (repeatable), e.g. 'cpu<80%'.
    #[arg(long, value_name = "EXPR")]
    pub threshold: Vec<String>,

    /// RSS samples left out of the rss_growth slope at the start (default: the first tenth of the run).
    #[arg(long, value_name = "DURATION", value_parser = records::parse_duration)]
    pub warmup: Option<Duration>,

    /// Where /proc is mounted (for tests).
    #[arg(
        long = "proc",
        value_name = "DIR",
        default_value = "/proc",
        hide = true
    )]
    pub proc_root: PathBuf,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn pids_and_processes_repeat() {
        // --interval/--duration/--count are records::watch's, tested there.
        let a = Args::try_parse_from(["hostwatch", "--pid", "1", "--pid", "2", "--process", "x"])
            .unwrap();
        assert_eq!((a.pid, a.process), (vec![1, 2], vec!["x".to_string()]));
    }
}
