//! The summary table.
