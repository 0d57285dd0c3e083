//! pgwatch: PostgreSQL connection and query pressure during a load test.
//!
//! Polls `pg_stat_activity` and prints one [`records::PgSample`] per database
//! per poll as NDJSON (`{"kind":"pg",...}`, a [`records::Summary`] line), so
//! `chart --pg` can lay pool pressure over a run's latencies.

pub mod alarm;
pub mod cli;
pub mod redact;
pub mod session;
pub mod snapshot;
pub mod target;
pub mod watch;

use records::exit::{bad_input, Exit};

pub use cli::Args;

/// Runs pgwatch with parsed arguments.
pub fn run(args: Args) -> anyhow::Result<Exit> {
    // The value is not echoed: a PostgreSQL URL may hold a password.
    if args.url.is_some() {
        return Err(bad_input(
            "--url: --url is an HTTP URL in loadpipe (hammer's target); pgwatch's \
             PostgreSQL server is --database-url URL (or $DATABASE_URL), as for tasktracker",
        ));
    }
    let (target, _source) = target::Target::resolve(args.database_url.as_deref(), |name| {
        std::env::var(name).ok()
    })
    .map_err(bad_input)?;
    let settings = watch::Settings {
        interval: args.sampling.interval,
        until: args.sampling.until(),
        shape: snapshot::Shape {
            datnames: args.datname,
            top: args.top,
            query_chars: args.query_chars as usize,
            redact: args.redact,
        },
        warn_utilization: args.warn_utilization,
        pool_size: args.pool_size,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut out = records::ndjson::stdout();
    runtime.block_on(watch::watch(&target, &settings, &mut out))
}
