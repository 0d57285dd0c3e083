//! The command line.

use std::path::PathBuf;

use clap::Parser;

/// Create, log in and set up test users; print one User record (NDJSON) each.
///
/// Reads the `[seed]` section of a scenario file: for each user it registers
/// (an "already exists" answer is fine), logs in, captures the token or session
/// cookie, runs the setup steps (e.g. create 20 tasks and keep their IDs), and
/// prints the user as one JSON line, in user-number order. A one-line summary
/// goes to stderr.
#[derive(Debug, Parser)]
#[command(
    name = "seed",
    version,
    after_help = concat!(
        "\
Examples:
  seed -s scenarios/tasktracker.toml --target http://127.0.0.1:8080 > users.ndjson
  seed -s scenarios/tasktracker.toml --users 1000 | hammer -s scenarios/tasktracker.toml | aggregate

Exit 1 means some users could not be made (0 with --allow-partial).

",
        records::exit_status_help!()
    )
)]
pub struct Args {
    /// Scenario file (TOML) with a [seed] section.
    #[arg(short = 's', long = "scenario", value_name = "FILE")]
    pub scenario: PathBuf,

    /// Base URL of the system under test; overrides the scenario's base_url.
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,

    /// Number of users to make [default: the scenario's seed.users].
    #[arg(long, value_name = "N")]
    pub users: Option<u64>,

    /// Number of the first user (the n of the templates) [default: the scenario's seed.first, else 1].
    #[arg(long, value_name = "N")]
    pub first: Option<u64>,

    /// Users made at the same time [default: the scenario's seed.concurrency, else 16].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub concurrency: Option<u32>,

    /// Retries of a request after a connection error or a 5xx answer [default: seed.retries, else 3].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=20))]
    pub retries: Option<u32>,

    /// Give up on a request after this long (e.g. 500ms, 30s); 10s as in hammer.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = records::parse_duration)]
    pub timeout: std::time::Duration,

    /// Write the User records to FILE (created with mode 0600: it holds passwords and tokens).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Exit 0 even when some users could not be made (only the good ones are printed).
    #[arg(long)]
    pub allow_partial: bool,

    /// No progress and no summary on stderr; failures are still reported.
    #[arg(short = 'q', long, conflicts_with = "progress")]
    pub quiet: bool,

    /// Show progress even when stderr is not a terminal (one line a second).
    #[arg(long)]
    pub progress: bool,

    /// Make shard I of N (from 0) of the users: user numbers first + I,
    /// first + I + N, … (disjoint across shards; --users stays the total),
    /// the users `hammer --shard I/N` plays.
    #[arg(long, value_name = "I/N", conflicts_with = "shards")]
    pub shard: Option<String>,

    /// Make one of N shards, its index I from $JOB_COMPLETION_INDEX (a
    /// Kubernetes Indexed Job's).
    #[arg(long, value_name = "N")]
    pub shards: Option<u64>,

    /// Run the scenario's [[teardown]] steps (a logout) once for each user in
    /// FILE (seed's output, after their run), instead of making users; exit 1
    /// if a step fails for any user.
    #[arg(long, value_name = "USERS_FILE", conflicts_with_all = ["dry_run", "shard", "shards"])]
    pub teardown: Option<PathBuf>,

    /// Check the scenario without a target: parse it, render every template
    /// with placeholder values, and report problems with file and line
    /// (exit 2), as `hammer --dry-run` does.
    #[arg(long)]
    pub dry_run: bool,

    /// Last, as its help heading holds for the flags after it.
    #[command(flatten)]
    pub tls: records::tls::TlsArgs,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        super::Args::command().debug_assert();
    }
}
