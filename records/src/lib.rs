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
//!   Optional `connect_ns` (connection set-up: TCP, plus TLS; only on requests
//!   that opened a connection) and `ttfb_ns` (send to first response byte,
//!   never more than `latency_ns`); readers of older events do without them.
//!   Optional `proto`: `"h2"` for a request sent over HTTP/2 (ALPN or h2c);
//!   absent for HTTP/1.1, so HTTP/1.1 lines are as they always were.
//!   The stream ends with hammer's [`Load`] record,
//!   `{"kind":"load","start":…,"end":…,"scheduled":2500,"sent":2500,"dropped":0,"cancelled":0,"cpu_bound":false}`:
//!   the load window every rate is divided by, and what became of every
//!   open-model arrival (arrivals never sent have no latency and no Event);
//!   `vus_not_started`, written when not 0: closed-model VUs whose turn came
//!   in the stages but that never ran.
//!   A shard of a many-machine run (`hammer --shard I/N`, see [`shard`])
//!   adds `"shard":"I/N"` to it; Events do not carry the shard.
//! * [`Summary`] (`aggregate` → `compare`, `chart`): records told apart by
//!   `kind`: `run`, `endpoint`, `total`, `interval`, `threshold`, plus
//!   `comparison` (from `compare`), `pg` ([`PgSample`], from `pgwatch`) and
//!   `host`, `process`, `host_summary` (from `hostwatch`, below).
//!   Endpoint and total records carry their latency histogram in `hist`
//!   (HdrHistogram V2 + deflate, base64; see [`hist`]), so summaries merge,
//!   and `connect`/`ttfb` phases when the events had them, `protocols`
//!   (requests per protocol, `{"h2":980,"http/1.1":20}`) when any event was
//!   not HTTP/1.1, and `failures`:
//!   each distinct error ([`ErrorGroup`]: kind, status, detail) with its
//!   count and `first_ns`/`last_ns`, the completion times of its first and
//!   last occurrence. The `run` record's
//!   `duration_ns` is the load window (hammer's schedule), `drain_ns` the time
//!   in-flight requests took after it, and `scheduled`/`dropped`/`cancelled`/
//!   `vus_not_started`/`cpu_bound` come from hammer's `load` record. An
//!   `interval`'s `rps` is per second of its `active_secs`, the part of it
//!   inside the load window.
//!   A shard's summary names its `shard` (`"I/N"`) in the run record; a
//!   merge of shards (`aggregate --merge`) says how many it holds in `shards`
//!   and adds one `shard` record per input ([`ShardRun`]), the per-shard breakdown.
//! * [`HostSample`] (`hostwatch`), one per interval: CPU shares in permille
//!   (total and per core), load average × 1000, memory in bytes, and what each
//!   network interface and disk moved during the interval.
//!   `{"kind":"host","ts":1764000001000000000,"interval_ns":1000000000,"cpus":2,"cpu_permille":415,"cpu_user_permille":300,"cpu_system_permille":110,"cpu_iowait_permille":5,"cpu_steal_permille":0,"cores":[{"core":0,"cpu_permille":830,"cpu_user_permille":600,"cpu_system_permille":220,"cpu_iowait_permille":10,"cpu_steal_permille":0}],"load1_milli":520,"load5_milli":410,"load15_milli":300,"mem_total_bytes":8331034624,"mem_used_bytes":1503238553,"mem_available_bytes":6442450944,"mem_cached_bytes":2147483648,"swap_total_bytes":0,"swap_used_bytes":0,"net":[{"iface":"lo","rx_bytes":52428800,"tx_bytes":52428800,"rx_packets":812,"tx_packets":812}],"disks":[{"device":"vda","read_bytes":0,"write_bytes":40960,"reads":0,"writes":3}]}`
//! * [`ProcessSample`] (`hostwatch --pid/--process`), one per watched process
//!   per interval; `cpu_permille` is a share of one core, as `top` shows it.
//!   `{"kind":"process","ts":1764000001000000000,"interval_ns":1000000000,"watch":"tasktracker","pid":4242,"ppid":1,"name":"tasktracker","cpu_permille":1830,"rss_bytes":31457280,"threads":5,"fds":42}`
//! * [`HostSummary`] (`kind: host_summary`), hostwatch's last line: average
//!   and peak CPU (host, cores, each watched process), peak RSS and its
//!   growth (a Theil–Sen slope after the warm-up, bytes per hour).
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
//! * [`shard`]: how a run splits over N shards (users, VUs, arrivals, counts).
//! * `tls` (the `tls` feature, for seed and hammer): the TLS flags, the PEM
//!   files, the client configuration and the certificate messages.
//!
//! The scenario language ([`scenario`], [`template`], [`exchange`],
//! [`workload`]) is behind the `scenario` feature: only the tools that send
//! requests (seed, hammer) compile it and its dependencies.
//! [`watch`] (the `watch` feature: clap and tokio) holds what the sampling
//! tools, hostwatch and pgwatch, share: `--interval`/`--duration`/`--count`,
//! when to stop, and the signals that stop them.

pub mod event;
pub mod event_codec;
#[cfg(feature = "scenario")]
pub mod exchange;
pub mod exit;
pub mod hist;
pub mod host;
#[cfg(feature = "scenario")]
pub mod lint;
pub mod metric;
pub mod ndjson;
pub mod pg;
pub mod run;
#[cfg(feature = "scenario")]
pub mod scenario;
pub mod shard;
pub mod summary;
#[cfg(feature = "scenario")]
pub mod template;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod threshold;
#[cfg(feature = "tls")]
pub mod tls;
pub mod units;
pub mod user;
#[cfg(feature = "watch")]
pub mod watch;
#[cfg(feature = "scenario")]
pub mod workload;

pub use event::{ErrorKind, Event, Iteration, Load};
pub use exit::{bad_input, fault, finish, get_matches, parse_args, unreachable, Exit, Failure};
pub use host::{
    CoreSample, CoreSummary, DiskSample, HostSample, HostSummary, NetSample, ProcessExit,
    ProcessSample, ProcessSummary,
};
pub use metric::Metric;
pub use ndjson::{InputError, LineReader};
pub use pg::{PgQuery, PgSample};
#[cfg(feature = "scenario")]
pub use scenario::Scenario;
pub use shard::Shard;
pub use summary::{
    Comparison, ErrorGroup, Interval, Latency, Phase, RunInfo, ShardRun, Stats, Summary,
    ThresholdResult,
};
pub use units::{format_bytes, format_ns, parse_bytes, parse_duration};
pub use user::{User, Var};
