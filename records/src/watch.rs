//! What the tools that sample until stopped (hostwatch, pgwatch) share: the
//! `--interval`, `--duration` and `--count` flags, when to stop, and the
//! signals that stop them. Behind the `watch` feature (clap and tokio).

use std::time::Duration;

use tokio::signal::unix::{signal, Signal, SignalKind};

/// `--interval`, `--duration` and `--count`, flattened into a tool's flags.
/// The help speaks of samples; a tool that calls them otherwise rewords it
/// with `mut_arg` (pgwatch: polls).
#[derive(Clone, Debug, PartialEq, clap::Args)]
pub struct Sampling {
    /// Time between samples.
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = crate::units::parse_interval)]
    pub interval: Duration,

    /// Stop after this long (default: run until stopped).
    #[arg(long, value_name = "DURATION", value_parser = crate::parse_duration, conflicts_with = "count")]
    pub duration: Option<Duration>,

    /// Stop after this many samples.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
}

/// When to stop (besides signals and what else the tool watches).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Until {
    Stopped,
    Elapsed(Duration),
    /// After this many samples (or polls).
    Count(u64),
}

impl Sampling {
    /// `--duration` wins over `--count` (clap lets only one through anyway).
    pub fn until(&self) -> Until {
        match (self.duration, self.count) {
            (Some(d), _) => Until::Elapsed(d),
            (None, Some(n)) => Until::Count(n),
            (None, None) => Until::Stopped,
        }
    }
}

/// SIGINT and SIGTERM, caught so the tool ends between lines.
pub struct Signals {
    interrupt: Signal,
    terminate: Signal,
}

impl Signals {
    /// Installs the handlers; call inside a tokio runtime.
    pub fn new() -> std::io::Result<Signals> {
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    /// Resolves at the next SIGINT or SIGTERM.
    pub async fn recv(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Args {
        #[command(flatten)]
        sampling: Sampling,
    }

    #[test]
    fn count_and_duration_exclude_each_other() {
        let err = Args::try_parse_from(["t", "--count", "2", "--duration", "1s"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
        assert!(Args::try_parse_from(["t", "--interval", "1ms"]).is_err());
        assert!(Args::try_parse_from(["t", "--count", "0"]).is_err());
        let until = |args: &[&str]| Args::try_parse_from(args).unwrap().sampling.until();
        assert_eq!(until(&["t"]), Until::Stopped);
        assert_eq!(until(&["t", "--count", "3"]), Until::Count(3));
        assert_eq!(
            until(&["t", "--duration", "2s"]),
            Until::Elapsed(Duration::from_secs(2))
        );
    }
}
