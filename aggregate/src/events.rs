//! Streaming Events into a [`Tally`]: the hot loop.
//!
//! A line is parsed in place by [`records::event_codec`] (the endpoint name
//! and error kind are borrowed from the line buffer) and recorded into
//! histograms that exist already, so a steady stream allocates nothing per event.

use std::io::BufRead;

use records::event::StreamRecord;
use records::event_codec::{read_line, EventRef, Line};
use records::{ndjson, InputError, LineReader};

use crate::tally::{Tally, MAX_INTERVALS};

/// Reads every Event of `reader` into `tally`. Malformed lines are an error
/// naming source and line, or are skipped and counted when the reader skips.
pub fn read_events<R: BufRead>(
    reader: &mut LineReader<R>,
    tally: &mut Tally,
) -> Result<(), InputError> {
    loop {
        let line = match reader.next_line() {
            None => break,
            Some(Ok(line)) => line,
            Some(Err(err)) => return Err(err),
        };
        match read_line(line) {
            Ok(Line::Event(event)) => {
                if let Err(message) = record(tally, &event) {
                    return Err(reader.malformed(message));
                }
            }
            Ok(Line::Record(StreamRecord::Load(load))) => tally.add_load(&load),
            Ok(Line::Record(StreamRecord::Iteration(it))) => record_iteration(tally, &it),
            Err(err) => {
                let message = ndjson::wrong_stream(line, ndjson::Stream::Events)
                    .unwrap_or_else(|| ndjson::json_message(&err));
                let err = reader.malformed(message);
                if reader.skipping_invalid() {
                    reader.note_skip(err.to_string());
                } else {
                    return Err(err);
                }
            }
        }
    }
    tally.close_input();
    Ok(())
}

#[inline]
fn record(tally: &mut Tally, event: &EventRef) -> Result<(), String> {
    let response_ns = event.lag_ns.saturating_add(event.latency_ns);
    let done = event.ts.saturating_add(event.latency_ns);
    tally.start = tally.start.min(event.ts);
    tally.end = tally.end.max(done);
    tally.last_send = tally.last_send.max(event.ts);
    if event.lag_ns > 0 {
        tally.any_lag = true;
    }
    let failed = event.error.is_some();

    let Some(interval) = tally.interval(event.ts) else {
        return Err(format!(
            "more than {MAX_INTERVALS} time-series intervals; use a wider --interval"
        ));
    };
    interval.count += 1;
    interval.errors += u64::from(failed);
    interval.add_status(event.status, 1);
    interval.max_ns = interval.max_ns.max(response_ns);
    interval.bytes_in = interval.bytes_in.saturating_add(event.bytes_in);
    let _ = interval
        .hist
        .open()
        .record(response_ns.min(i64::MAX as u64 / 2));
    interval.see_vu(event.vu);

    let endpoint = tally.endpoint(&event.name);
    endpoint.count += 1;
    if let Some(kind) = &event.error {
        endpoint.add_error(kind, 1);
        endpoint.add_failure(kind, event.status, event.detail.as_deref(), 1, (done, done));
    }
    endpoint.add_status(event.status, 1);
    // Saturating: an event's byte counts are input, and may be absurd.
    endpoint.bytes_in = endpoint.bytes_in.saturating_add(event.bytes_in);
    endpoint.bytes_out = endpoint.bytes_out.saturating_add(event.bytes_out);
    endpoint.min_ns = endpoint.min_ns.min(response_ns);
    endpoint.max_ns = endpoint.max_ns.max(response_ns);
    endpoint.service_min_ns = endpoint.service_min_ns.min(event.latency_ns);
    endpoint.service_max_ns = endpoint.service_max_ns.max(event.latency_ns);
    endpoint.record_latency(event.latency_ns, event.lag_ns);
    if event.connect_ns.is_some() || event.ttfb_ns.is_some() {
        endpoint.record_phases(event.connect_ns, event.ttfb_ns);
    }
    if let Some(proto) = &event.proto {
        endpoint.add_protocol(proto, 1);
    }
    Ok(())
}

/// A flow iteration: one transaction of its flow, timed from its scheduled start.
fn record_iteration(tally: &mut Tally, it: &records::Iteration) {
    let flow = tally.flow(&it.flow);
    let response_ns = it.response_ns();
    flow.count += 1;
    if it.error.is_some() {
        flow.add_error(it.failed_step.as_deref().unwrap_or("?"), 1);
    }
    flow.min_ns = flow.min_ns.min(response_ns);
    flow.max_ns = flow.max_ns.max(response_ns);
    flow.service_min_ns = flow.service_min_ns.min(it.duration_ns);
    flow.service_max_ns = flow.service_max_ns.max(it.duration_ns);
    flow.record_latency(it.duration_ns, it.lag_ns);
    if it.lag_ns > 0 {
        tally.any_lag = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally_of(text: &str) -> Result<Tally, InputError> {
        let mut tally = Tally::new(1_000_000_000);
        let mut reader = LineReader::new(text.as_bytes(), "test");
        read_events(&mut reader, &mut tally)?;
        Ok(tally)
    }

    #[test]
    fn counts_one_event_everywhere() {
        let mut tally = tally_of(
            r#"{"ts":1000000000,"name":"GET /a","method":"GET","status":200,"latency_ns":5000,"lag_ns":0,"bytes_in":10,"bytes_out":2,"vu":3,"error":null}"#,
        )
        .unwrap();
        assert_eq!(tally.endpoints.len(), 1);
        let e = &tally.endpoints[0];
        assert_eq!((e.count, e.errors, e.bytes_in, e.bytes_out), (1, 0, 10, 2));
        assert_eq!(e.status, vec![(200, 1)]);
        assert_eq!((tally.start, tally.end), (1_000_000_000, 1_000_005_000));
        let intervals = tally.take_intervals();
        assert_eq!(intervals.len(), 1);
        assert_eq!(intervals[0].0, 1_000_000_000);
        assert_eq!(intervals[0].1.vus(), 1);
        assert!(!tally.any_lag);
    }

    #[test]
    fn escaped_names_and_errors_are_read() {
        let tally = tally_of(concat!(
            r#"{"ts":1,"name":"GET /a\"b","latency_ns":5,"error":"timeout","detail":"after 5s"}"#,
            "\n",
            r#"{"ts":2,"name":"GET /a\"b","latency_ns":5,"lag_ns":7,"error":"timeout"}"#
        ))
        .unwrap();
        let e = &tally.endpoints[0];
        assert_eq!(e.name, "GET /a\"b");
        assert_eq!(e.errors, 2);
        assert_eq!(e.error_kinds, vec![("timeout".to_string(), 2)]);
        assert_eq!(e.max_ns, 12);
        assert_eq!(e.service_max_ns, 5);
        assert!(tally.any_lag);
    }

    #[test]
    fn phases_are_tallied_where_events_carry_them() {
        let mut tally = tally_of(concat!(
            r#"{"ts":1,"name":"a","latency_ns":900,"connect_ns":300,"ttfb_ns":800}"#,
            "\n",
            r#"{"ts":2,"name":"a","latency_ns":500,"ttfb_ns":400}"#,
            "\n",
            r#"{"ts":3,"name":"a","latency_ns":500,"error":"reset"}"#,
            "\n",
            r#"{"kind":"load","start":1,"end":4,"scheduled":5,"sent":3,"dropped":2,"cancelled":0}"#,
        ))
        .unwrap();
        let e = &mut tally.endpoints[0];
        e.fold();
        let phases = e.phases.as_ref().unwrap();
        assert_eq!((phases.connect.len(), phases.ttfb.len()), (1, 2));
        assert_eq!(phases.ttfb.max(), 800);
        let load = tally.load.as_ref().unwrap();
        assert_eq!((load.start, load.end, load.dropped), (1, 4, 2));
    }

    #[test]
    fn a_bad_line_names_its_number() {
        let err =
            tally_of("{\"ts\":1,\"name\":\"a\",\"latency_ns\":1}\n{\"ts\":1,\"name\":\"a\"}\n")
                .err()
                .unwrap()
                .to_string();
        assert!(err.starts_with("test:2: "), "{err}");
        assert!(err.contains("latency_ns"), "{err}");
    }
}
