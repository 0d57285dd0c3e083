use std::io::{self, Write};

use super::Render;
use crate::report::Report;

/// The summary records, one a line: `run`, `endpoint`s (by name), `total`,
/// `interval`s (by time), `threshold`s.
pub struct Ndjson;

impl Render for Ndjson {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        let mut writer = records::ndjson::Writer::new(out);
        for record in report.records() {
            writer.write(&record)?;
        }
        writer.flush()
    }
}
