//! Render load-test summaries as PNG charts
