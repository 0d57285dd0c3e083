//! One run's summary, as read from an `aggregate` NDJSON stream.

use std::collections::BTreeMap;
use std::path::Path;

use hdrhistogram::Histogram;
use records::ndjson::InputError;
use records::{RunInfo, Stats, Summary};

/// The name `aggregate` gives the total over all endpoints.
pub const TOTAL: &str = "Aggregated";

/// An endpoint's (or the total's) statistics with its decoded histogram.
#[derive(Clone, Debug)]
pub struct Entry {
    pub stats: Stats,
    pub hist: Histogram<u64>,
}

/// A summary stream: its endpoints in file order, and the total.
#[derive(Clone, Debug)]
pub struct Run {
    /// What the run is called in reports: `--label`, the run record's
    /// `label`, or the file name without `.ndjson`.
    pub label: String,
    pub path: String,
    pub info: Option<RunInfo>,
    pub endpoints: Vec<Entry>,
    pub total: Option<Entry>,
}

impl Run {
    /// Reads a summary stream (`-` for stdin). Errors name the file and line.
    pub fn load(path: &str, label: Option<&str>) -> Result<Run, InputError> {
        let mut records = records::ndjson::open(path)?.records::<Summary>();
        let mut info = None;
        let mut endpoints: Vec<Entry> = Vec::new();
        let mut total: Option<Entry> = None;
        let mut seen: BTreeMap<String, u64> = BTreeMap::new();
        while let Some(record) = records.next() {
            let record = record?;
            let reader = records.reader();
            let line = reader.line_number();
            match record {
                Summary::Run(run) if info.is_none() => info = Some(run),
                Summary::Endpoint(stats) => {
                    let key = format!("endpoint {}", stats.name);
                    if let Some(first) = seen.insert(key, line) {
                        return Err(reader.malformed(format!(
                            "endpoint `{}` appears twice (first on line {first}); \
                             combine summaries with `aggregate --merge` first",
                            stats.name
                        )));
                    }
                    endpoints.push(entry(stats, reader)?);
                }
                Summary::Total(stats) => {
                    if let Some(first) = seen.insert("total".into(), line) {
                        return Err(reader.malformed(format!(
                            "a second total record (first on line {first}); \
                             combine summaries with `aggregate --merge` first"
                        )));
                    }
                    total = Some(entry(stats, reader)?);
                }
                // Intervals, thresholds, comparisons, pg samples and kinds
                // from newer tools carry nothing to compare here.
                _ => {}
            }
        }
        if endpoints.is_empty() && total.is_none() {
            return Err(InputError::Malformed {
                source_name: records.reader().source_name().to_string(),
                line: records.reader().line_number(),
                message: "no endpoint or total records: is this a summary from \
                          `aggregate --format ndjson`?"
                    .into(),
            });
        }
        let label = label
            .map(str::to_string)
            .or_else(|| info.as_ref().and_then(|i| i.labels.get("label").cloned()))
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| default_label(path));
        Ok(Run {
            label,
            path: path.to_string(),
            info,
            endpoints,
            total,
        })
    }

    /// The endpoint called `name`, or the total for [`TOTAL`] when no endpoint has that name.
    pub fn find(&self, name: &str) -> Option<&Entry> {
        self.endpoints
            .iter()
            .find(|e| e.stats.name == name)
            .or_else(|| (name == TOTAL).then_some(self.total.as_ref()).flatten())
    }
}

fn entry<R>(stats: Stats, reader: &records::LineReader<R>) -> Result<Entry, InputError>
where
    R: std::io::BufRead,
{
    let hist = records::hist::decode(&stats.hist)
        .map_err(|e| reader.malformed(format!("field `hist` of `{}`: {e}", stats.name)))?;
    if stats.errors > stats.count {
        return Err(reader.malformed(format!(
            "`{}` has more errors ({}) than requests ({})",
            stats.name, stats.errors, stats.count
        )));
    }
    if !stats.rps.is_finite() || stats.rps < 0.0 {
        return Err(reader.malformed(format!("field `rps` of `{}` is not a rate", stats.name)));
    }
    Ok(Entry { stats, hist })
}

fn default_label(path: &str) -> String {
    if path == "-" {
        return "stdin".into();
    }
    let name = Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string());
    for ext in [".ndjson", ".jsonl", ".json"] {
        if let Some(stem) = name.strip_suffix(ext) {
            if !stem.is_empty() {
                return stem.to_string();
            }
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_default_to_the_file_name() {
        assert_eq!(default_label("out/mono.ndjson"), "mono");
        assert_eq!(default_label("base.json"), "base");
        assert_eq!(default_label("run"), "run");
        assert_eq!(default_label("-"), "stdin");
    }
}
