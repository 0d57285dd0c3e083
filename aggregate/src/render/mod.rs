//! Renderers: one per output format, each only formats a finished
//! [`Report`]; none of them computes statistics.

mod csv;
mod json;
mod locust;
mod ndjson;
mod table;

use std::io::{self, Write};

pub use self::csv::Csv;
pub use self::json::Json;
pub use self::locust::{
    locust_ms, LocustExceptions, LocustFailures, LocustHistory, LocustStats, LOCUST_STATS_HEADER,
};
pub use self::ndjson::Ndjson;
pub use self::table::Table;

use crate::report::Report;

/// Formats a report onto a byte stream.
pub trait Render {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()>;
}

/// Nanoseconds as milliseconds for CSV: three decimals (µs resolution).
pub(crate) fn ms(ns: f64) -> String {
    format!("{:.3}", ns / 1e6)
}
