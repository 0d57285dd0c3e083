use std::io::{self, Write};

use records::{RunInfo, ShardRun, Stats, ThresholdResult};
use serde::{Serialize, Serializer};

use super::Render;
use crate::report::{Report, SlowEndpoint};

/// One JSON document: the same records as NDJSON, grouped, plus the
/// slow/error endpoint report.
pub struct Json;

#[derive(Serialize)]
struct Document<'a> {
    run: &'a RunInfo,
    endpoints: &'a [Stats],
    flows: &'a [Stats],
    total: &'a Stats,
    intervals: Intervals<'a>,
    thresholds: &'a [ThresholdResult],
    slow_limit_ns: u64,
    slow_endpoints: &'a [SlowEndpoint],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    shards: &'a [ShardRun],
}

/// The report's `interval` records, each made as it is written.
struct Intervals<'a>(&'a Report);

impl Serialize for Intervals<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.interval_records())
    }
}

impl Render for Json {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        let doc = Document {
            run: &report.run,
            endpoints: &report.endpoints,
            flows: &report.flows,
            total: &report.total,
            intervals: Intervals(report),
            thresholds: &report.thresholds,
            slow_limit_ns: report.slow_limit_ns,
            slow_endpoints: &report.slow,
            shards: &report.shards,
        };
        let mut out = io::BufWriter::new(out);
        serde_json::to_writer_pretty(&mut out, &doc).map_err(io::Error::other)?;
        out.write_all(b"\n")?;
        out.flush()
    }
}
