//! Streaming Events into a [`Tally`]: the hot loop.
//!
//! A line is parsed in place ([`EventRef`] borrows the endpoint name and
//! error kind from the line buffer) and recorded into histograms that exist
//! already, so a steady stream allocates nothing per event.

use std::borrow::Cow;
use std::io::BufRead;

use records::{ndjson, InputError, LineReader};
use serde::Deserialize;

use crate::tally::{Tally, MAX_INTERVALS};

/// The fields of a [`records::Event`] aggregate needs, borrowed from the line.
/// Same required fields as `Event`, so both accept and refuse the same lines.
#[derive(Deserialize)]
struct EventRef<'a> {
    ts: u64,
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(default)]
    status: u16,
    latency_ns: u64,
    #[serde(default)]
    lag_ns: u64,
    #[serde(default)]
    bytes_in: u64,
    #[serde(default)]
    bytes_out: u64,
    #[serde(default)]
    vu: u32,
    #[serde(default, borrow)]
    error: Option<Cow<'a, str>>,
}

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
        let parsed = match scan(line) {
            Some(event) => Ok(event),
            None => serde_json::from_slice::<EventRef>(line),
        };
        match parsed {
            Ok(event) => {
                if let Err(message) = record(tally, &event) {
                    return Err(reader.malformed(message));
                }
            }
            Err(err) => {
                let err = reader.malformed(ndjson::json_message(&err));
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

/// A fast reader for the Event lines hammer writes: flat objects of plain
/// integers, `null`s and strings without escapes. Anything else (escapes,
/// unknown or repeated fields, other number forms, any syntax error) returns
/// `None` and the line goes through serde_json, which defines what is valid,
/// so this never accepts a line serde would refuse nor reads one differently.
fn scan(line: &[u8]) -> Option<EventRef<'_>> {
    let mut p = Scanner { s: line, i: 0 };
    p.ws();
    p.eat(b'{')?;
    let (mut ts, mut name, mut latency_ns) = (None, None, None);
    let mut event = EventRef {
        ts: 0,
        name: Cow::Borrowed(""),
        status: 0,
        latency_ns: 0,
        lag_ns: 0,
        bytes_in: 0,
        bytes_out: 0,
        vu: 0,
        error: None,
    };
    let mut seen = 0u16;
    p.ws();
    if p.peek()? != b'}' {
        loop {
            p.ws();
            let key = p.raw_string()?;
            p.ws();
            p.eat(b':')?;
            p.ws();
            let bit = match key {
                b"ts" => {
                    ts = Some(p.uint()?);
                    1
                }
                b"name" => {
                    name = Some(p.string()?);
                    2
                }
                b"latency_ns" => {
                    latency_ns = Some(p.uint()?);
                    4
                }
                b"status" => {
                    event.status = u16::try_from(p.uint()?).ok()?;
                    8
                }
                b"lag_ns" => {
                    event.lag_ns = p.uint()?;
                    16
                }
                b"bytes_in" => {
                    event.bytes_in = p.uint()?;
                    32
                }
                b"bytes_out" => {
                    event.bytes_out = p.uint()?;
                    64
                }
                b"vu" => {
                    event.vu = u32::try_from(p.uint()?).ok()?;
                    128
                }
                b"error" => {
                    event.error = if p.null() {
                        None
                    } else {
                        Some(Cow::Borrowed(p.string()?))
                    };
                    256
                }
                b"method" => {
                    p.string()?;
                    512
                }
                b"detail" => {
                    if !p.null() {
                        p.string()?;
                    }
                    1024
                }
                _ => return None,
            };
            if seen & bit != 0 {
                return None;
            }
            seen |= bit;
            p.ws();
            match p.next()? {
                b',' => continue,
                b'}' => break,
                _ => return None,
            }
        }
    } else {
        p.i += 1;
    }
    p.ws();
    if p.i != line.len() {
        return None;
    }
    event.ts = ts?;
    event.name = Cow::Borrowed(name?);
    event.latency_ns = latency_ns?;
    Some(event)
}

struct Scanner<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Scanner<'a> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    #[inline]
    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.i += 1;
        Some(b)
    }

    #[inline]
    fn eat(&mut self, want: u8) -> Option<()> {
        (self.next()? == want).then_some(())
    }

    #[inline]
    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    #[inline]
    fn null(&mut self) -> bool {
        if self.s[self.i..].starts_with(b"null") {
            self.i += 4;
            true
        } else {
            false
        }
    }

    /// A string without escapes or control characters.
    #[inline]
    fn string(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.raw_string()?).ok()
    }

    /// A string's bytes, unchecked (keys are compared with known ASCII names).
    #[inline]
    fn raw_string(&mut self) -> Option<&'a [u8]> {
        self.eat(b'"')?;
        let rest = &self.s[self.i..];
        let len = rest
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        if rest[len] != b'"' {
            return None;
        }
        self.i += len + 1;
        Some(&rest[..len])
    }

    /// A non-negative integer in JSON's form (no leading zeros, no sign,
    /// fraction or exponent), without overflow.
    #[inline]
    fn uint(&mut self) -> Option<u64> {
        let start = self.i;
        let mut value: u64 = 0;
        while let Some(b @ b'0'..=b'9') = self.peek() {
            value = value.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
            self.i += 1;
        }
        let digits = self.i - start;
        if digits == 0 || (digits > 1 && self.s[start] == b'0') {
            return None;
        }
        if matches!(self.peek(), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        Some(value)
    }
}

#[inline]
fn record(tally: &mut Tally, event: &EventRef) -> Result<(), String> {
    let response_ns = event.lag_ns.saturating_add(event.latency_ns);
    let done = event.ts.saturating_add(event.latency_ns);
    tally.start = tally.start.min(event.ts);
    tally.end = tally.end.max(done);
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
    interval.max_ns = interval.max_ns.max(response_ns);
    let _ = interval.hist.record(response_ns.min(i64::MAX as u64 / 2));
    interval.see_vu(event.vu);

    let endpoint = tally.endpoint(&event.name);
    endpoint.count += 1;
    if let Some(kind) = &event.error {
        endpoint.add_error(kind, 1);
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
    Ok(())
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
    fn the_fast_reader_agrees_with_serde() {
        let lines = [
            r#"{"ts":1,"name":"GET /a","method":"GET","status":200,"latency_ns":5,"lag_ns":0,"bytes_in":1,"bytes_out":2,"vu":3,"error":null}"#,
            r#" { "ts" : 1 , "name" : "a" , "latency_ns" : 0 , "error" : "timeout" , "detail" : "x" } "#,
            r#"{"ts":1,"name":"a","latency_ns":5,"extra":[1,2]}"#,
            r#"{"ts":1,"name":"a\u0041","latency_ns":5}"#,
            r#"{"ts":1,"name":"a","latency_ns":5,"detail":null}"#,
            r#"{"ts":18446744073709551615,"name":"a","latency_ns":5}"#,
            r#"{"ts":18446744073709551616,"name":"a","latency_ns":5}"#,
            r#"{"ts":01,"name":"a","latency_ns":5}"#,
            r#"{"ts":1.0,"name":"a","latency_ns":5}"#,
            r#"{"ts":-1,"name":"a","latency_ns":5}"#,
            r#"{"ts":1,"ts":2,"name":"a","latency_ns":5}"#,
            r#"{"ts":1,"name":"a","latency_ns":5,"status":70000}"#,
            r#"{"ts":1,"name":"a","latency_ns":5,"lag_ns":null}"#,
            r#"{"ts":1,"name":"a","latency_ns":5,}"#,
            r#"{"ts":1,"name":"a","latency_ns":5} x"#,
            r#"{"ts":1,"name":"a"}"#,
            r#"{"ts":1,"name":"é","latency_ns":5}"#,
            r#"{}"#,
            r#"[]"#,
            "",
        ];
        for line in lines {
            let fast = scan(line.as_bytes());
            let slow = serde_json::from_slice::<EventRef>(line.as_bytes());
            if let Some(fast) = &fast {
                let slow = slow
                    .as_ref()
                    .unwrap_or_else(|e| panic!("{line}: serde says {e}"));
                assert_eq!(
                    (
                        fast.ts,
                        &fast.name,
                        fast.status,
                        fast.latency_ns,
                        fast.lag_ns
                    ),
                    (
                        slow.ts,
                        &slow.name,
                        slow.status,
                        slow.latency_ns,
                        slow.lag_ns
                    ),
                    "{line}"
                );
                assert_eq!(
                    (fast.bytes_in, fast.bytes_out, fast.vu, &fast.error),
                    (slow.bytes_in, slow.bytes_out, slow.vu, &slow.error),
                    "{line}"
                );
            }
        }
        // the usual shapes take the fast path
        assert!(scan(lines[0].as_bytes()).is_some());
        assert!(scan(lines[1].as_bytes()).is_some());
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
