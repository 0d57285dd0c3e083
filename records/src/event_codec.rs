//! The Event line on the hot paths: hammer writes it without building an
//! [`Event`], aggregate reads it without allocating. Both live here, beside
//! the serde type that defines the format, and are held to it:
//!
//! - [`write_event`] writes exactly what `serde_json` writes for the same
//!   [`Event`] (unit tests, and the `event_codec` fuzz target);
//! - [`scan`] reads a line exactly as serde reads it into [`EventRef`], or
//!   declines (`None`) and [`read_line`] hands the line to serde; it never
//!   accepts a line serde would refuse nor reads one differently (the fuzz
//!   target checks both for any input);
//! - the lines hammer writes take the fast path (a test runs the real binary).
//!
//! Adding a field to [`Event`] means adding it to [`EventParts`],
//! [`write_event`], [`EventRef`] and [`scan`]; the tests and the fuzz target
//! catch whichever is forgotten.
//!
//! [`Event`]: crate::Event

use std::borrow::Cow;
use std::cell::Cell;

use serde::Deserialize;

use crate::ErrorKind;

/// One event's fields, borrowed, for [`write_event`].
#[derive(Clone, Copy, Debug)]
pub struct EventParts<'a> {
    pub ts: u64,
    /// JSON string with its quotes (encoded once per request template).
    pub name_json: &'a [u8],
    /// JSON string with its quotes.
    pub method_json: &'a [u8],
    pub status: u16,
    pub latency_ns: u64,
    pub lag_ns: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub vu: u32,
    pub error: Option<ErrorKind>,
    pub detail: Option<&'a str>,
    pub connect_ns: Option<u64>,
    pub ttfb_ns: Option<u64>,
    /// `h2`; `None` for HTTP/1.1.
    pub proto: Option<&'a str>,
}

impl<'a> EventParts<'a> {
    /// An [`Event`](crate::Event)'s fields, given its name and method
    /// already JSON-encoded (tests and the fuzz target compare with serde).
    pub fn of(event: &'a crate::Event, name_json: &'a [u8], method_json: &'a [u8]) -> Self {
        EventParts {
            ts: event.ts,
            name_json,
            method_json,
            status: event.status,
            latency_ns: event.latency_ns,
            lag_ns: event.lag_ns,
            bytes_in: event.bytes_in,
            bytes_out: event.bytes_out,
            vu: event.vu,
            error: event.error.as_deref().and_then(ErrorKind::parse),
            detail: event.detail.as_deref(),
            connect_ns: event.connect_ns,
            ttfb_ns: event.ttfb_ns,
            proto: event.proto.as_deref(),
        }
    }
}

/// Appends one event line (with its newline) to `out`: the bytes
/// `serde_json::to_vec(&event)` gives, plus `\n`.
pub fn write_event(out: &mut Vec<u8>, e: &EventParts<'_>) {
    let start = out.len();
    out.resize(start + room_for(e), 0);
    let len = write_event_in(&mut out[start..], e).expect("room_for makes room for the line");
    out.truncate(start + len);
}

/// The room [`write_event_in`] needs for `e`'s line: its fixed pieces and
/// numbers (under 320 bytes), its name and method, and its `detail` and
/// `proto` escaped at worst (`\u00XX`, six bytes a byte).
pub fn room_for(e: &EventParts<'_>) -> usize {
    let escaped = |s: Option<&str>| s.map_or(0, |s| s.len() * 6 + 16);
    LINE_ROOM + e.name_json.len() + e.method_json.len() + escaped(e.detail) + escaped(e.proto)
}

const LINE_ROOM: usize = 320;

/// Writes `e`'s line (what [`write_event`] appends) at the start of `room`
/// and says how long it is, or `None` (nothing meant) when `room` is
/// shorter than [`room_for`]. For a writer that keeps a buffer filled once
/// and a cursor in it, so a line costs no resize and no zero-fill.
///
/// Fixed pieces are copies of known length and numbers are copied as
/// fixed-size windows of digits, with no capacity check or `memcpy` call
/// per piece: a line costs ~530 instructions under callgrind, where
/// appending it piece by piece to a `Vec` cost ~720. Only the rare strings
/// that need escaping (`detail`, `proto`) go through serde.
pub fn write_event_in(room: &mut [u8], e: &EventParts<'_>) -> Option<usize> {
    if room.len() < room_for(e) {
        return None;
    }
    let mut w = LineWriter { out: room, at: 0 };
    w.put(b"{\"ts\":");
    w.ts(e.ts);
    w.put(b",\"name\":");
    w.bytes(e.name_json);
    w.put(b",\"method\":");
    w.bytes(e.method_json);
    w.put(b",\"status\":");
    w.num(u64::from(e.status));
    w.put(b",\"latency_ns\":");
    w.num(e.latency_ns);
    w.put(b",\"lag_ns\":");
    w.num(e.lag_ns);
    w.put(b",\"bytes_in\":");
    w.num(e.bytes_in);
    w.put(b",\"bytes_out\":");
    w.num(e.bytes_out);
    w.put(b",\"vu\":");
    w.num(u64::from(e.vu));
    match e.error {
        None => w.put(b",\"error\":null"),
        Some(kind) => {
            w.put(b",\"error\":\"");
            w.bytes(kind.as_str().as_bytes());
            w.put(b"\"");
        }
    }
    if let Some(detail) = e.detail {
        w.put(b",\"detail\":");
        w.bytes(&serde_json::to_vec(detail).expect("strings serialize"));
    }
    if let Some(connect) = e.connect_ns {
        w.put(b",\"connect_ns\":");
        w.num(connect);
    }
    if let Some(ttfb) = e.ttfb_ns {
        w.put(b",\"ttfb_ns\":");
        w.num(ttfb);
    }
    if let Some(proto) = e.proto {
        w.put(b",\"proto\":");
        w.bytes(&serde_json::to_vec(proto).expect("strings serialize"));
    }
    w.put(b"}\n");
    Some(w.at)
}

/// Writes pieces one after the other into room made beforehand.
struct LineWriter<'a> {
    out: &'a mut [u8],
    at: usize,
}

impl LineWriter<'_> {
    #[inline(always)]
    fn put<const N: usize>(&mut self, piece: &[u8; N]) {
        self.out[self.at..self.at + N].copy_from_slice(piece);
        self.at += N;
    }

    #[inline(always)]
    fn bytes(&mut self, piece: &[u8]) {
        self.out[self.at..self.at + piece.len()].copy_from_slice(piece);
        self.at += piece.len();
    }

    /// An event's `ts` (nanoseconds since the epoch: 19 digits) in decimal,
    /// as [`LineWriter::num`] writes it. Its seconds change once a second,
    /// so this thread keeps their digits from the line before and makes
    /// only the nine of the nanoseconds: ~50 instructions a line fewer.
    #[inline(always)]
    fn ts(&mut self, ts: u64) {
        thread_local! {
            /// Seconds, and their ten digits, of the last `ts` written here.
            static SECONDS: Cell<(u64, [u8; 10])> = const { Cell::new((0, [0; 10])) };
        }
        let (secs, nanos) = (ts / 1_000_000_000, ts % 1_000_000_000);
        // Ten-digit seconds: 2001-09-09 to 2286-11-20; any other ts (a
        // test's, a clock gone wrong) goes the general way.
        if !(1_000_000_000..10_000_000_000).contains(&secs) {
            return self.num(ts);
        }
        let digits = SECONDS.with(|cached| {
            let (seen, digits) = cached.get();
            if seen == secs {
                return digits;
            }
            let mut digits = [0u8; 10];
            let mut rest = secs;
            for d in digits.iter_mut().rev() {
                *d = b'0' + (rest % 10) as u8;
                rest /= 10;
            }
            cached.set((secs, digits));
            digits
        });
        self.put(&digits);
        // The nanoseconds, zero-padded to nine digits.
        let (high, low) = ((nanos / 10_000) as usize, (nanos % 10_000) as usize);
        let mut nine = [0u8; 9];
        nine[0] = b'0' + (high / 10_000) as u8;
        nine[1..5].copy_from_slice(&four_digits(high % 10_000));
        nine[5..9].copy_from_slice(&four_digits(low));
        self.put(&nine);
    }

    /// `n` in decimal, as serde writes it. The digits are made right-aligned
    /// in `scratch[..20]` and the 20 bytes from the first digit are copied
    /// whole (a fixed-length copy, no `memcpy` call) with the zeros after
    /// them: the cursor moves past the digits only, so the next piece
    /// overwrites the zeros (the line always ends in a piece).
    #[inline(always)]
    fn num(&mut self, mut n: u64) {
        let mut scratch = [0u8; 40];
        let mut start = 20;
        while n >= 10_000 {
            let rest = (n % 10_000) as usize;
            n /= 10_000;
            start -= 4;
            scratch[start..start + 4].copy_from_slice(&four_digits(rest));
        }
        let mut n = n as usize;
        if n >= 100 {
            let low = n % 100 * 2;
            n /= 100;
            start -= 2;
            scratch[start..start + 2].copy_from_slice(&DIGIT_PAIRS[low..low + 2]);
        }
        if n >= 10 {
            start -= 2;
            scratch[start..start + 2].copy_from_slice(&DIGIT_PAIRS[n * 2..n * 2 + 2]);
        } else {
            start -= 1;
            scratch[start] = b'0' + n as u8;
        }
        self.out[self.at..self.at + 20].copy_from_slice(&scratch[start..start + 20]);
        self.at += 20 - start;
    }
}

/// `n` (below 10,000) as exactly four digits, zero-padded.
#[inline(always)]
fn four_digits(n: usize) -> [u8; 4] {
    let (high, low) = (n / 100 * 2, n % 100 * 2);
    [
        DIGIT_PAIRS[high],
        DIGIT_PAIRS[high + 1],
        DIGIT_PAIRS[low],
        DIGIT_PAIRS[low + 1],
    ]
}

/// "00" to "99", two bytes each.
const DIGIT_PAIRS: [u8; 200] = {
    let mut pairs = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        pairs[2 * i] = b'0' + (i / 10) as u8;
        pairs[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    pairs
};

/// The fields of an [`crate::Event`] a reader of many events needs, borrowed
/// from the line. Same required fields as `Event`, so both accept and refuse
/// the same lines.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct EventRef<'a> {
    pub ts: u64,
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    #[serde(default)]
    pub status: u16,
    pub latency_ns: u64,
    #[serde(default)]
    pub lag_ns: u64,
    #[serde(default)]
    pub bytes_in: u64,
    #[serde(default)]
    pub bytes_out: u64,
    #[serde(default)]
    pub vu: u32,
    #[serde(default, borrow)]
    pub error: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub detail: Option<Cow<'a, str>>,
    #[serde(default)]
    pub connect_ns: Option<u64>,
    #[serde(default)]
    pub ttfb_ns: Option<u64>,
    #[serde(default, borrow)]
    pub proto: Option<Cow<'a, str>>,
}

/// One line of an event stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line<'a> {
    Event(EventRef<'a>),
    /// A record with a `kind` (hammer's closing [`crate::event::Load`]).
    Record(crate::event::StreamRecord),
}

/// Reads one event-stream line: the fast path when it can, serde otherwise;
/// a line with a `kind` is one of the stream's other records.
#[inline]
pub fn read_line(line: &[u8]) -> Result<Line<'_>, serde_json::Error> {
    if let Some(event) = scan(line) {
        return Ok(Line::Event(event));
    }
    // An Event has no `kind`, so only a line serde refuses as one is looked
    // at again; its error is then the record's own.
    match serde_json::from_slice(line) {
        Ok(event) => Ok(Line::Event(event)),
        Err(_) if has_kind(line) => serde_json::from_slice(line).map(Line::Record),
        Err(err) => Err(err),
    }
}

/// Whether the line is an object with a top-level `kind` (a cheap look, not a parse).
fn has_kind(line: &[u8]) -> bool {
    serde_json::from_slice::<KindOnly>(line).is_ok_and(|k| k.kind.is_some())
}

#[derive(Deserialize)]
struct KindOnly {
    kind: Option<String>,
}

/// The fast reader: flat objects of plain integers, `null`s, booleans and
/// strings without escapes, in any order; fields it does not know are skipped
/// when their value is one of those. Anything else (escapes, repeated
/// fields, nested values, other number forms, any syntax error) returns
/// `None`, and the line goes through serde_json, which defines what is valid.
#[inline]
pub fn scan(line: &[u8]) -> Option<EventRef<'_>> {
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
        detail: None,
        connect_ns: None,
        ttfb_ns: None,
        proto: None,
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
                b"connect_ns" => {
                    event.connect_ns = if p.null() { None } else { Some(p.uint()?) };
                    512
                }
                b"ttfb_ns" => {
                    event.ttfb_ns = if p.null() { None } else { Some(p.uint()?) };
                    1024
                }
                b"detail" => {
                    event.detail = if p.null() {
                        None
                    } else {
                        Some(Cow::Borrowed(p.string()?))
                    };
                    2048
                }
                b"proto" => {
                    event.proto = if p.null() {
                        None
                    } else {
                        Some(Cow::Borrowed(p.string()?))
                    };
                    4096
                }
                // Fields the reader does not need, `method` among them:
                // skipped, as serde ignores them (repeats too).
                _ => {
                    // serde refuses a key that is not UTF-8 (found by fuzzing).
                    std::str::from_utf8(key).ok()?;
                    p.scalar()?;
                    0
                }
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
    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    #[inline(always)]
    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.i += 1;
        Some(b)
    }

    #[inline(always)]
    fn eat(&mut self, want: u8) -> Option<()> {
        (self.next()? == want).then_some(())
    }

    #[inline(always)]
    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    #[inline(always)]
    fn word(&mut self, word: &[u8]) -> bool {
        if self.s[self.i..].starts_with(word) {
            self.i += word.len();
            true
        } else {
            false
        }
    }

    #[inline(always)]
    fn null(&mut self) -> bool {
        self.word(b"null")
    }

    /// A string without escapes or control characters.
    #[inline(always)]
    fn string(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.raw_string()?).ok()
    }

    /// A string's bytes, unchecked (keys are compared with known ASCII names).
    #[inline(always)]
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
    #[inline(always)]
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

    /// Skips the value of a field the reader does not need: a plain
    /// integer, string, `null`, `true` or `false`.
    #[inline(always)]
    fn scalar(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'0'..=b'9' => self.uint().map(drop),
            _ => (self.null() || self.word(b"true") || self.word(b"false")).then_some(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Event;

    fn same_as_serde(event: &Event) {
        let name = serde_json::to_vec(&event.name).unwrap();
        let method = serde_json::to_vec(&event.method).unwrap();
        let mut ours = Vec::new();
        write_event(&mut ours, &EventParts::of(event, &name, &method));
        let mut theirs = serde_json::to_vec(event).unwrap();
        theirs.push(b'\n');
        assert_eq!(
            String::from_utf8(ours.clone()).unwrap(),
            String::from_utf8(theirs).unwrap()
        );
        let line = &ours[..ours.len() - 1];
        let serde: EventRef = serde_json::from_slice(line).unwrap();
        assert_eq!(read_line(line).unwrap(), Line::Event(serde));
    }

    fn sample() -> Event {
        Event {
            ts: 1_764_000_000_000_000_000,
            name: "GET /api/v1/tasks/{id}".into(),
            method: "GET".into(),
            status: 200,
            latency_ns: 1_843_000,
            lag_ns: 0,
            bytes_in: 512,
            bytes_out: 0,
            vu: 17,
            error: None,
            detail: None,
            connect_ns: None,
            ttfb_ns: None,
            proto: None,
        }
    }

    #[test]
    fn writes_what_serde_writes() {
        let mut e = sample();
        same_as_serde(&e);
        e.name = "POST /\"odd\"\\name\n\u{1}é/".into();
        e.status = 0;
        e.lag_ns = u64::MAX;
        e.vu = u32::MAX;
        e.error = Some("timeout".into());
        e.detail = Some("timed out after 10s \"quoted\"\t".into());
        same_as_serde(&e);
        e.connect_ns = Some(41_000);
        e.ttfb_ns = Some(u64::MAX);
        same_as_serde(&e);
        e.proto = Some("h2".into());
        same_as_serde(&e);
        e.proto = Some("odd \"proto\"".into());
        same_as_serde(&e);
        for kind in ErrorKind::ALL {
            e.error = Some(kind.as_str().into());
            e.detail = None;
            same_as_serde(&e);
        }
        // every digit count, each side of each power of ten
        let mut edges = vec![0, u64::MAX, u64::MAX - 1];
        let mut p = 1u64;
        while let Some(next) = p.checked_mul(10) {
            edges.extend([p - 1, p, p + 1, next - 1]);
            p = next;
        }
        edges.push(p);
        for v in edges {
            e.ts = v;
            e.latency_ns = v;
            e.bytes_in = v / 3;
            e.connect_ns = Some(v);
            e.ttfb_ns = (v % 2 == 0).then_some(v);
            same_as_serde(&e);
        }
    }

    #[test]
    fn lines_written_in_place_follow_each_other_and_too_little_room_is_refused() {
        let (name, method) = (br#""GET /x""#, br#""GET""#);
        let mut e = sample();
        let mut room = vec![7u8; 4096];
        let mut used = 0;
        let mut want = Vec::new();
        for k in 0..5u64 {
            e.latency_ns = 10u64.pow(k as u32 * 4);
            e.detail = (k == 3).then(|| "bad \"body\"\n".into());
            let parts = EventParts::of(&e, name, method);
            used += write_event_in(&mut room[used..], &parts).unwrap();
            write_event(&mut want, &parts);
        }
        assert_eq!(&room[..used], &want[..]);
        let parts = EventParts::of(&e, name, method);
        let short = room_for(&parts) - 1;
        assert_eq!(write_event_in(&mut vec![0; short], &parts), None);
    }

    #[test]
    fn timestamps_are_right_when_their_seconds_repeat_change_and_come_back() {
        let mut e = sample();
        let base = 1_764_000_000_000_000_000u64;
        for ts in [
            base,
            base + 1,
            base + 999_999_999,
            base + 1_000_000_000,
            base + 5,
            base + 1_000_000_007,
            1_000_000_000_000_000_000,
            9_999_999_999_999_999_999,
            999_999_999_999_999_999,
            u64::MAX,
            base + 123_456_789,
        ] {
            e.ts = ts;
            same_as_serde(&e);
        }
    }

    #[test]
    fn what_hammer_writes_takes_the_fast_path() {
        let e = sample();
        let (name, method) = (br#""GET /x""#, br#""GET""#);
        let mut line = Vec::new();
        write_event(&mut line, &EventParts::of(&e, name, method));
        line.pop();
        assert!(scan(&line).is_some(), "{}", String::from_utf8_lossy(&line));
        let mut with_detail = Vec::new();
        let mut e = sample();
        e.error = Some("status".into());
        e.detail = Some("expected 200".into());
        write_event(&mut with_detail, &EventParts::of(&e, name, method));
        with_detail.pop();
        assert!(scan(&with_detail).is_some());
        let mut h2 = Vec::new();
        let mut e = sample();
        e.proto = Some("h2".into());
        write_event(&mut h2, &EventParts::of(&e, name, method));
        h2.pop();
        assert!(String::from_utf8_lossy(&h2).ends_with(r#","proto":"h2"}"#));
        assert_eq!(scan(&h2).expect("fast path").proto.as_deref(), Some("h2"));
    }

    #[test]
    fn http1_events_are_written_as_before() {
        // No `proto` for HTTP/1.1: old readers and old lines stay the same.
        let mut line = Vec::new();
        write_event(
            &mut line,
            &EventParts::of(&sample(), br#""x""#, br#""GET""#),
        );
        assert!(!String::from_utf8_lossy(&line).contains("proto"));
        let old = br#"{"ts":1,"name":"x","latency_ns":2}"#;
        assert_eq!(scan(old).unwrap().proto, None);
        let twice = br#"{"ts":1,"name":"x","latency_ns":2,"proto":"h2","proto":"h2"}"#;
        assert!(scan(twice).is_none());
    }

    #[test]
    fn new_fields_keep_the_fast_path() {
        let line =
            br#"{"ts":1,"name":"x","latency_ns":2,"connect_ns":5,"ttfb_ns":1,"tag":"a","ok":true,"z":null}"#;
        let fast = scan(line).expect("unknown scalar fields are skipped");
        assert_eq!(fast, serde_json::from_slice::<EventRef>(line).unwrap());
    }

    #[test]
    fn declines_what_it_does_not_read_as_serde_does() {
        for line in [
            &br#"{"ts":1,"name":"a\"b","latency_ns":2}"#[..],
            br#"{"ts":1,"name":"x","latency_ns":2,"extra":{"a":1}}"#,
            br#"{"ts":1.0,"name":"x","latency_ns":2}"#,
            br#"{"ts":1,"ts":2,"name":"x","latency_ns":2}"#,
            b"{\"ts\":1,\"name\":\"x\",\"latency_ns\":2,\"erro\xf9\":1}",
            br#"{"ts":-1,"name":"x","latency_ns":2}"#,
            br#"{"ts":1,"name":"x"}"#,
            br#"{"ts":1,"name":"x","latency_ns":2,"status":70000}"#,
        ] {
            assert!(scan(line).is_none(), "{}", String::from_utf8_lossy(line));
            let serde = serde_json::from_slice::<EventRef>(line).ok();
            assert_eq!(read_line(line).ok(), serde.map(Line::Event));
        }
    }

    #[test]
    fn the_fast_reader_agrees_with_serde_on_odd_lines() {
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
            r#"{"ts":1,"name":"a","latency_ns":5,"proto":"h2"}"#,
            r#"{"ts":1,"name":"a","latency_ns":5,"proto":null}"#,
            r#"{"ts":1,"name":"a","latency_ns":5,"proto":2}"#,
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
                assert_eq!(fast.detail, slow.detail, "{line}");
                assert_eq!(fast.proto, slow.proto, "{line}");
            }
        }
        // the usual shapes take the fast path, unknown fields included
        assert!(scan(lines[0].as_bytes()).is_some());
        assert!(scan(lines[1].as_bytes()).is_some());
        assert!(scan(lines[4].as_bytes()).is_some());
    }

    #[test]
    fn the_closing_load_record_is_told_apart() {
        let load = br#"{"kind":"load","start":1,"end":5,"scheduled":3,"sent":2,"dropped":1,"cancelled":0,"cpu_bound":false}"#;
        match read_line(load).unwrap() {
            Line::Record(crate::event::StreamRecord::Load(l)) => {
                assert_eq!((l.start, l.end, l.scheduled, l.dropped), (1, 5, 3, 1));
            }
            other => panic!("{other:?}"),
        }
        let event = br#"{"ts":1,"name":"x","latency_ns":2}"#;
        assert!(matches!(read_line(event).unwrap(), Line::Event(_)));
        let err = read_line(br#"{"kind":"load","start":1}"#).unwrap_err();
        assert!(err.to_string().contains("end"), "{err}");
        let err = read_line(br#"{"kind":"endpoint","name":"x"}"#).unwrap_err();
        assert!(err.to_string().contains("endpoint"), "{err}");
    }
}
