//! loadpipe's shared library: the records that pass between the tools, the
//! NDJSON reader and writer, the histogram codec, scenario files and the
//! template engine, durations and exit codes.
//!
//! # Format
//!
//! Every stream is NDJSON: one JSON object per line, `\n`-terminated. Times
//! are integers: fields ending in `_ns` are nanoseconds and `ts`/`start`/`end`
//! are Unix epoch nanoseconds. Readers ignore fields they do not know, so
//! records may grow; a malformed line is an error naming its line number (or,
//! with `--skip-invalid`, is skipped and counted).
//!
//! * [`User`] (`seed` → `hammer`): one per virtual user.
//!   `{"user":"loadtest1@example.com","password":"…","token":"eyJ…","refresh_token":"…","expires_at":1764000000,"vars":{"task_ids":["17","18"]},"cookies":{"session":"…"}}`
//! * [`Event`] (`hammer` → `aggregate`): one per request.
//!   `{"ts":1764000000000000000,"name":"GET /api/v1/tasks/{id}","method":"GET","status":200,"latency_ns":1843000,"lag_ns":0,"bytes_in":512,"bytes_out":0,"vu":17,"error":null}`
//!   `error` is `null` or one of [`ErrorKind`]'s names, with an optional `detail`.
//! * [`Summary`] (`aggregate` → `compare`, `chart`): records told apart by
//!   `kind`: `run`, `endpoint`, `total`, `interval`, `threshold`, plus
//!   `comparison` (from `compare`) and `pg` ([`PgSample`], from `pgwatch`).
//!   Endpoint and total records carry their latency histogram in `hist`
//!   (HdrHistogram V2 + deflate, base64; see [`hist`]), so summaries merge.
//!
//! # One decision in one place
//!
//! * [`run`]: the one summary reader and its validation policy (compare,
//!   chart and `aggregate --merge`), the total's name and the default label.
//! * [`metric`]: the one list of metrics: names and aliases, how each is read,
//!   its unit, which way is worse, how a change is expressed.
//! * [`units`]: durations, latencies, percents, rates, thousands and text
//!   table columns, as every tool prints them.
//! * [`event_codec`]: the Event line's fast writer (hammer) and fast reader
//!   (aggregate), held to the serde type.
//! * [`exit`]: exit codes and the `--help` section that documents them.
//!
//! The scenario language ([`scenario`], [`template`], [`exchange`],
//! [`workload`]) is behind the `scenario` feature: only the tools that send
//! requests (seed, hammer) compile it and its dependencies.

pub mod event;
pub mod event_codec;
#[cfg(feature = "scenario")]
pub mod exchange;
pub mod exit;
pub mod hist;
pub mod metric;
pub mod ndjson;
pub mod pg;
pub mod run;
#[cfg(feature = "scenario")]
pub mod scenario;
pub mod summary;
#[cfg(feature = "scenario")]
pub mod template;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod units;
pub mod user;
#[cfg(feature = "scenario")]
pub mod workload;

pub use event::{ErrorKind, Event, Load};
pub use exit::{bad_input, fault, finish, unreachable, Exit, Failure};
pub use metric::Metric;
pub use ndjson::{InputError, LineReader};
pub use pg::{PgQuery, PgSample};
#[cfg(feature = "scenario")]
pub use scenario::Scenario;
pub use summary::{Comparison, Interval, Latency, RunInfo, Stats, Summary, ThresholdResult};
pub use units::{format_ns, parse_duration};
pub use user::{User, Var};
