//! Counting users as they finish, and telling the person at the terminal:
//! a progress bar (only when stderr is a terminal), failure lines, and the
//! one-line summary at the end.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::account::{Failed, Made};

/// Failure lines printed in full; after that they are only counted.
pub const SHOWN_FAILURES: u64 = 10;

/// How much to say on stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verbosity {
    /// Failures only.
    Quiet,
    /// A progress bar when stderr is a terminal, and the summary.
    Normal,
    /// Progress even when stderr is not a terminal (a line a second).
    Progress,
}

/// Counts of users by outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub created: u64,
    pub existed: u64,
    pub failed: u64,
}

impl Counts {
    pub fn total(&self) -> u64 {
        self.created + self.existed + self.failed
    }
}

pub struct Tally {
    pub counts: Counts,
    expected: u64,
    verbosity: Verbosity,
    bar: Option<ProgressBar>,
    started: Instant,
    last_line: Instant,
}

impl Tally {
    pub fn new(expected: u64, verbosity: Verbosity) -> Tally {
        let terminal = std::io::stderr().is_terminal();
        let bar = (verbosity != Verbosity::Quiet && terminal && expected > 1).then(|| {
            let bar = ProgressBar::with_draw_target(Some(expected), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "seed: [{bar:30}] {pos}/{len} users, eta {eta}, {msg}",
                )
                .expect("valid progress template")
                .progress_chars("=> "),
            );
            bar
        });
        let now = Instant::now();
        Tally {
            counts: Counts::default(),
            expected,
            verbosity,
            bar,
            started: now,
            last_line: now,
        }
    }

    /// Counts a finished user; `sent` is the number of requests so far.
    pub fn record(&mut self, outcome: Result<Made, &Failed>, sent: u64) {
        match outcome {
            Ok(Made::Created) => self.counts.created += 1,
            Ok(Made::Existed) => self.counts.existed += 1,
            Err(failed) => {
                self.counts.failed += 1;
                if self.counts.failed <= SHOWN_FAILURES {
                    self.say(&format!("seed: failed: {failed}"));
                } else if self.counts.failed == SHOWN_FAILURES + 1 {
                    self.say("seed: further failures are counted but not shown");
                }
            }
        }
        if let Some(bar) = &self.bar {
            bar.inc(1);
            let mut message = format!("{} req/s", count_text(rate(sent, self.started.elapsed())));
            if self.counts.failed > 0 {
                message.push_str(&format!(", {} failed", self.counts.failed));
            }
            bar.set_message(message);
        } else if self.verbosity == Verbosity::Progress
            && self.last_line.elapsed() >= Duration::from_secs(1)
        {
            self.last_line = Instant::now();
            let line = format!(
                "seed: {}/{} users, {} req/s",
                self.counts.total(),
                self.expected,
                count_text(rate(sent, self.started.elapsed()))
            );
            self.say(&line);
        }
    }

    /// Clears the bar and prints the summary (unless quiet).
    pub fn finish(&mut self, sent: u64) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if self.verbosity != Verbosity::Quiet {
            eprintln!("{}", summary(&self.counts, self.started.elapsed(), sent));
        }
    }

    fn say(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }
}

/// `seed: 100 users (98 created, 2 existed, 0 failed) in 2.3 s, 4,300 req/s`
pub fn summary(counts: &Counts, elapsed: Duration, sent: u64) -> String {
    format!(
        "seed: {} users ({} created, {} existed, {} failed) in {:.1} s, {} req/s",
        count_text(counts.total()),
        count_text(counts.created),
        count_text(counts.existed),
        count_text(counts.failed),
        elapsed.as_secs_f64(),
        count_text(rate(sent, elapsed)),
    )
}

fn rate(count: u64, elapsed: Duration) -> u64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 {
        (count as f64 / secs).round() as u64
    } else {
        0
    }
}

/// A count with its digits grouped: `4,300`.
fn count_text(n: u64) -> String {
    records::units::thousands(n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_reads_as_documented() {
        let counts = Counts {
            created: 98,
            existed: 2,
            failed: 0,
        };
        assert_eq!(
            summary(&counts, Duration::from_millis(2300), 9890),
            "seed: 100 users (98 created, 2 existed, 0 failed) in 2.3 s, 4,300 req/s"
        );
    }
}
