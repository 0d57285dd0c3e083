//! The command line, and the settings resolved from it.

use clap::Parser;
use records::watch::Sampling;

/// Watch PostgreSQL's connections and queries during a load test.
///
/// Polls pg_stat_activity at an interval and prints one PgSample per database
/// per poll on stdout (NDJSON, `{"kind":"pg",...}`): sessions by state, lock
/// waits, blocked sessions, connection utilization, the longest-running query
/// and transaction, and with --top the longest-running queries themselves.
/// Counts are of client backends only; pgwatch's own session is left out.
///
/// The server comes from --url, else DATABASE_URL, else the libpq variables
/// PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE.
#[derive(Debug, Parser)]
#[command(
    name = "pgwatch",
    version,
    after_help = concat!(
        "\
Examples:
  pgwatch --url postgres://postgres@127.0.0.1:5432/test --count 1 --top 5 --redact
  S=scenarios/tasktracker.toml
  pgwatch --duration 60s --warn-utilization 75% > pg.ndjson &
  seed -s $S | hammer -s $S --duration 60s | aggregate > run.ndjson
  wait; chart run.ndjson --pg pg.ndjson -o charts/

--warn-utilization only warns; exit 3 means PostgreSQL could not be reached at start.

",
        records::exit_status_help!()
    ),
    mut_arg("interval", |a| a.help("Time between polls")),
    mut_arg("count", |a| a.help("Stop after this many polls"))
)]
pub struct Args {
    /// PostgreSQL connection URL or key=value string (default: $DATABASE_URL, then PG* variables).
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,

    /// Not pgwatch's flag: `--url` is an HTTP URL (hammer's); given to
    /// pgwatch it is an error naming --database-url.
    #[arg(long, value_name = "URL", hide = true)]
    pub url: Option<String>,

    // --interval, --duration, --count.(their help reworded for polls above).
    #[command(flatten)]
    pub sampling: Sampling,

    /// Only these databases (repeatable); a sample is printed for each even when it has no sessions.
    #[arg(long, value_name = "NAME")]
    pub datname: Vec<String>,

    /// Also list the N longest-running queries of each database.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub top: u32,

    /// Cut query texts in --top to this many characters.
    #[arg(long, value_name = "CHARS", default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..))]
    pub query_chars: u32,

    /// Replace string and number literals in query texts with `?`.
    #[arg(long)]
    pub redact: bool,

    /// Warn on stderr when all client connections reach this share of
    /// max_connections (with --pool-size: when the busy connections reach
    /// this share of the pool).
    #[arg(long, value_name = "PERCENT", value_parser = parse_share)]
    pub warn_utilization: Option<f64>,

    /// The application's connection pool size: utilization becomes the
    /// sessions not idle (active or idle in transaction, in the watched
    /// databases) out of N, recorded in each sample as `pool_size`.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub pool_size: Option<u64>,
}

/// `75%`, `0.75` or `75` (a bare number above 1 is a percentage) as a fraction.
pub fn parse_share(text: &str) -> Result<f64, String> {
    let trimmed = text.trim();
    let (number, percent) = match trimmed.strip_suffix('%') {
        Some(n) => (n.trim(), true),
        None => (trimmed, false),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a percentage; expected e.g. 75%"))?;
    let share = if percent || value > 1.0 {
        value / 100.0
    } else {
        value
    };
    if !share.is_finite() || share <= 0.0 || share > 1.0 {
        return Err(format!("`{text}` must be between 0% and 100%"));
    }
    Ok(share)
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
    fn shares_read_as_percent_or_fraction() {
        assert_eq!(parse_share("75%"), Ok(0.75));
        assert_eq!(parse_share("0.5"), Ok(0.5));
        assert_eq!(parse_share("80"), Ok(0.8));
        assert!(parse_share("0%").is_err());
        assert!(parse_share("120%").is_err());
        assert!(parse_share("lots").is_err());
    }
}
