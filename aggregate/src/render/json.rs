use std::io::{self, Write};

use records::{Interval, RunInfo, ShardRun, Stats, ThresholdResult};
use serde::Serialize;

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
    intervals: Vec<&'a Interval>,
    thresholds: &'a [ThresholdResult],
    slow_limit_ns: u64,
    slow_endpoints: &'a [SlowEndpoint],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    shards: &'a [ShardRun],
}

impl Render for Json {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        let doc = Document {
            run: &report.run,
            endpoints: &report.endpoints,
            flows: &report.flows,
            total: &report.total,
            intervals: report.intervals.iter().map(|row| &row.record).collect(),
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
