//! Streaming NDJSON: one JSON object a line.
//!
//! The reader names the source and line of every bad record and can skip and
//! count them instead (`--skip-invalid`). The writer hands whole lines to the
//! buffer, so a flush always ends on a line boundary and a killed pipeline
//! never leaves half a record behind.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::marker::PhantomData;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Longest line a reader accepts; longer ones are an error, so one bad line
/// cannot make a tool allocate without bound.
pub const DEFAULT_MAX_LINE: usize = 16 << 20;

/// A bad input line, or a failure to read the input at all.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{source_name}:{line}: {message}")]
    Malformed {
        source_name: String,
        line: u64,
        message: String,
    },
    #[error("{source_name}: {err}")]
    Io { source_name: String, err: io::Error },
    /// The whole input lacks what the reader needs (no records of its kind).
    #[error("{source_name}: {message}")]
    Missing {
        source_name: String,
        message: String,
    },
}

/// Reads NDJSON lines from a buffered source, keeping count of line numbers.
pub struct LineReader<R> {
    inner: R,
    source_name: String,
    line: u64,
    buf: Vec<u8>,
    max_line: usize,
    skip_invalid: bool,
    skipped: u64,
    first_skip: Option<String>,
    /// The stream the reader wants, so a line of another tool's says which.
    expects: Option<Stream>,
}

/// The record streams that pass between the tools, for errors that say
/// which one a refused line belongs to and which command makes the right one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Events,
    Summaries,
    Users,
    PgSamples,
    HostSamples,
}

impl Stream {
    fn name(self) -> &'static str {
        match self {
            Stream::Events => "an Event (hammer's output)",
            Stream::Summaries => "a summary (aggregate's output)",
            Stream::Users => "a User record (seed's output)",
            Stream::PgSamples => "a pg sample (pgwatch's output)",
            Stream::HostSamples => "a host sample (hostwatch's output)",
        }
    }

    fn made_by(self) -> &'static str {
        match self {
            Stream::Events => "`seed -s FILE | hammer -s FILE > events.ndjson` makes them",
            Stream::Summaries => "`aggregate events.ndjson > run.ndjson` makes one",
            Stream::Users => "`seed -s FILE -o users.ndjson` makes them",
            Stream::PgSamples => "`pgwatch --database-url URL > pg.ndjson` makes them",
            Stream::HostSamples => "`hostwatch > host.ndjson` makes them",
        }
    }

    /// The stream a line looks like it is from, if any.
    pub fn of_line(line: &[u8]) -> Option<Stream> {
        let value: serde_json::Value = serde_json::from_slice(line).ok()?;
        let object = value.as_object()?;
        match object.get("kind").and_then(|k| k.as_str()) {
            Some("run" | "endpoint" | "total" | "interval" | "threshold" | "comparison") => {
                Some(Stream::Summaries)
            }
            Some("load") => Some(Stream::Events),
            Some("pg") => Some(Stream::PgSamples),
            Some("host" | "process" | "host_summary") => Some(Stream::HostSamples),
            Some(_) => None,
            None if object.contains_key("latency_ns") => Some(Stream::Events),
            None if object.contains_key("user") => Some(Stream::Users),
            None => None,
        }
    }
}

/// Why a line a reader of `wanted` refused is not one, when it can tell: the
/// stream it is from instead, or CSV; with the command that makes `wanted`.
pub fn wrong_stream(line: &[u8], wanted: Stream) -> Option<String> {
    let text = String::from_utf8_lossy(line);
    let looks_csv = !text.trim_start().starts_with(['{', '[']) && text.contains(',');
    if looks_csv {
        return Some(format!(
            "this is CSV, not NDJSON: expected {}, one JSON object a line; {}",
            wanted.name(),
            wanted.made_by()
        ));
    }
    let found = Stream::of_line(line).filter(|&f| f != wanted)?;
    let hint = match (found, wanted) {
        (Stream::Summaries, Stream::Events) => {
            "to combine summaries, give --merge: `aggregate --merge FILE...`".to_string()
        }
        _ => wanted.made_by().to_string(),
    };
    Some(format!(
        "this is {}, not {}; {hint}",
        found.name(),
        wanted.name()
    ))
}

/// Opens `path`, or stdin when `path` is `-`.
pub fn open(path: &str) -> Result<LineReader<Box<dyn BufRead>>, InputError> {
    let inner: Box<dyn BufRead> = if path == "-" {
        Box::new(BufReader::with_capacity(1 << 16, io::stdin()))
    } else {
        let file = File::open(Path::new(path)).map_err(|err| InputError::Io {
            source_name: path.to_string(),
            err,
        })?;
        Box::new(BufReader::with_capacity(1 << 16, file))
    };
    let name = if path == "-" { "<stdin>" } else { path };
    Ok(LineReader::new(inner, name))
}

impl<R: BufRead> LineReader<R> {
    pub fn new(inner: R, source_name: impl Into<String>) -> Self {
        LineReader {
            inner,
            source_name: source_name.into(),
            line: 0,
            buf: Vec::with_capacity(1024),
            max_line: DEFAULT_MAX_LINE,
            skip_invalid: false,
            skipped: 0,
            first_skip: None,
            expects: None,
        }
    }

    /// Skip and count malformed lines instead of failing on the first one.
    pub fn skip_invalid(mut self, skip: bool) -> Self {
        self.skip_invalid = skip;
        self
    }

    pub fn max_line(mut self, bytes: usize) -> Self {
        self.max_line = bytes;
        self
    }

    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    /// Number of the line last returned (1-based).
    pub fn line_number(&self) -> u64 {
        self.line
    }

    /// Lines skipped as malformed so far.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// The error of the first skipped line, to show the user what was wrong.
    pub fn first_skip(&self) -> Option<&str> {
        self.first_skip.as_deref()
    }

    /// The next non-blank line's bytes (without the newline), or `None` at the end.
    pub fn next_line(&mut self) -> Option<Result<&[u8], InputError>> {
        loop {
            match self.fill_line() {
                Ok(false) => return None,
                Ok(true) => {}
                Err(err) => {
                    if self.skip_invalid && matches!(err, InputError::Malformed { .. }) {
                        self.note_skip(err.to_string());
                        continue;
                    }
                    return Some(Err(err));
                }
            }
            let trimmed = trim_ascii(&self.buf);
            if trimmed.is_empty() {
                continue;
            }
            let (start, end) = span_of(&self.buf, trimmed);
            return Some(Ok(&self.buf[start..end]));
        }
    }

    /// The next record, parsed as `T`.
    pub fn next_record<T: DeserializeOwned>(&mut self) -> Option<Result<T, InputError>> {
        let expects = self.expects;
        loop {
            let line = match self.next_line()? {
                Ok(line) => line,
                Err(err) => return Some(Err(err)),
            };
            match serde_json::from_slice::<T>(line) {
                Ok(record) => return Some(Ok(record)),
                Err(err) => {
                    let message = expects
                        .and_then(|wanted| wrong_stream(line, wanted))
                        .unwrap_or_else(|| json_message(&err));
                    let err = self.malformed(message);
                    if self.skip_invalid {
                        self.note_skip(err.to_string());
                        continue;
                    }
                    return Some(Err(err));
                }
            }
        }
    }

    /// Iterate over records of type `T`.
    pub fn records<T: DeserializeOwned>(self) -> Records<R, T> {
        Records {
            reader: self,
            _record: PhantomData,
        }
    }

    /// An error for the line last read, naming source and line number.
    pub fn malformed(&self, message: impl Into<String>) -> InputError {
        InputError::Malformed {
            source_name: self.source_name.clone(),
            line: self.line,
            message: message.into(),
        }
    }

    /// Count a line the caller found invalid after parsing (with `--skip-invalid`).
    pub fn note_skip(&mut self, message: String) {
        self.skipped += 1;
        if self.first_skip.is_none() {
            self.first_skip = Some(message);
        }
    }

    pub fn skipping_invalid(&self) -> bool {
        self.skip_invalid
    }

    /// Says the reader wants `stream`: a refused line from another tool's
    /// stream, or CSV, is then named as such ([`wrong_stream`]).
    pub fn expect(&mut self, stream: Stream) {
        self.expects = Some(stream);
    }

    /// Reads one line into `self.buf`; false at end of input.
    fn fill_line(&mut self) -> Result<bool, InputError> {
        self.buf.clear();
        let mut too_long = false;
        loop {
            let available = match self.inner.fill_buf() {
                Ok(bytes) => bytes,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => {
                    return Err(InputError::Io {
                        source_name: self.source_name.clone(),
                        err,
                    })
                }
            };
            if available.is_empty() {
                if self.buf.is_empty() && !too_long {
                    return Ok(false);
                }
                break;
            }
            let (chunk, done) = match memchr_newline(available) {
                Some(i) => (&available[..i], i + 1),
                None => (available, available.len()),
            };
            if !too_long {
                if self.buf.len() + chunk.len() > self.max_line {
                    too_long = true;
                    self.buf.clear();
                } else {
                    self.buf.extend_from_slice(chunk);
                }
            }
            let found_newline = done > chunk.len();
            self.inner.consume(done);
            if found_newline {
                break;
            }
        }
        self.line += 1;
        if too_long {
            return Err(self.malformed(format!(
                "line is longer than the {} byte limit",
                self.max_line
            )));
        }
        Ok(true)
    }
}

/// Iterator over typed records; see [`LineReader::records`].
pub struct Records<R, T> {
    reader: LineReader<R>,
    _record: PhantomData<T>,
}

impl<R, T> Records<R, T> {
    pub fn reader(&self) -> &LineReader<R> {
        &self.reader
    }
}

impl<R: BufRead, T: DeserializeOwned> Iterator for Records<R, T> {
    type Item = Result<T, InputError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.reader.next_record()
    }
}

/// serde_json's message without its "at line 1 column N" suffix, which would
/// contradict our own line number; the column stays.
pub fn json_message(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let message = match text.rfind(" at line ") {
        Some(i) => &text[..i],
        None => &text[..],
    };
    if err.column() > 0 {
        format!("column {}: {}", err.column(), message)
    } else {
        message.to_string()
    }
}

/// The first `\n`, eight bytes at a time (readers spend much of their time here).
fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    const NEWLINES: u64 = ONES * b'\n' as u64;
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().unwrap()) ^ NEWLINES;
        // A zero byte in `word` is a newline; the lowest flagged byte is exact.
        let zeros = word.wrapping_sub(ONES) & !word & HIGHS;
        if zeros != 0 {
            return Some(at + (zeros.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == b'\n')
        .map(|i| at + i)
}

fn trim_ascii(bytes: &[u8]) -> &[u8] {
    bytes.trim_ascii()
}

fn span_of(outer: &[u8], inner: &[u8]) -> (usize, usize) {
    let start = inner.as_ptr() as usize - outer.as_ptr() as usize;
    (start, start + inner.len())
}

/// Writes one record a line into a large buffer.
pub struct Writer<W: Write> {
    inner: io::BufWriter<W>,
    scratch: Vec<u8>,
}

/// A writer on stdout with a buffer suited to pipes.
pub fn stdout() -> Writer<io::Stdout> {
    Writer::new(io::stdout())
}

/// `--out-dir DIR`: made if missing; a file in its place is bad input
/// (exit 2) that says a directory is wanted, not the system's `File exists`.
pub fn out_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(crate::bad_input(format!(
            "--out-dir {}: is a file; --out-dir wants a directory (made if missing) \
             for the files it writes",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| {
        crate::bad_input(format!(
            "--out-dir {}: cannot create it: {e}",
            dir.display()
        ))
    })
}

/// A writer on stdout, or on `path` when given (created with mode 0600 when `private`).
pub fn create(path: Option<&Path>, private: bool) -> io::Result<Writer<Box<dyn Write + Send>>> {
    let sink: Box<dyn Write + Send> = match path {
        None => Box::new(io::stdout()),
        Some(path) => {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            if private {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let _ = private;
            Box::new(options.open(path)?)
        }
    };
    Ok(Writer::new(sink))
}

impl<W: Write> Writer<W> {
    pub fn new(inner: W) -> Self {
        Writer {
            inner: io::BufWriter::with_capacity(1 << 16, inner),
            scratch: Vec::with_capacity(512),
        }
    }

    /// Serializes `record` and appends it with its newline, as one piece.
    pub fn write<T: Serialize + ?Sized>(&mut self, record: &T) -> io::Result<()> {
        self.scratch.clear();
        serde_json::to_writer(&mut self.scratch, record).map_err(io::Error::other)?;
        self.scratch.push(b'\n');
        self.inner.write_all(&self.scratch)
    }

    /// Appends a line the caller already serialized (without its newline).
    pub fn write_raw_line(&mut self, line: &[u8]) -> io::Result<()> {
        self.scratch.clear();
        self.scratch.extend_from_slice(line);
        self.scratch.push(b'\n');
        self.inner.write_all(&self.scratch)
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }

    pub fn get_mut(&mut self) -> &mut W {
        self.inner.get_mut()
    }
}

/// Reads everything from `path` (or stdin for `-`) into records of type `T`.
pub fn read_all<T: DeserializeOwned>(
    path: &str,
    skip_invalid: bool,
) -> Result<(Vec<T>, u64), InputError> {
    let mut reader = open(path)?.skip_invalid(skip_invalid);
    let mut out = Vec::new();
    while let Some(record) = reader.next_record() {
        out.push(record?);
    }
    Ok((out, reader.skipped()))
}

/// Like [`read_all`] over any reader; for tests and in-memory input.
pub fn read_from<T: DeserializeOwned>(input: impl Read, name: &str) -> Result<Vec<T>, InputError> {
    LineReader::new(BufReader::new(input), name)
        .records()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_tools_line_is_named_with_the_command_that_makes_the_right_one() {
        let event = br#"{"ts":1,"name":"a","latency_ns":5}"#;
        let summary = br#"{"kind":"endpoint","name":"a","count":1}"#;
        let user = br#"{"user":"a@example.com","password":"p"}"#;
        let csv = b"Type,Name,Request Count";
        let said = |line: &[u8], wanted| wrong_stream(line, wanted).unwrap_or_default();
        assert!(said(summary, Stream::Events).contains("--merge"));
        assert!(
            said(event, Stream::Summaries).contains("an Event (hammer's output), not a summary")
        );
        assert!(said(event, Stream::Summaries).contains("`aggregate events.ndjson > run.ndjson`"));
        assert!(said(user, Stream::Events).starts_with("this is a User record"));
        assert!(said(csv, Stream::Summaries).starts_with("this is CSV, not NDJSON"));
        // a broken line of the right stream keeps serde's own message
        assert_eq!(wrong_stream(event, Stream::Events), None);
        assert_eq!(wrong_stream(br#"{"ts":1,"#, Stream::Events), None);

        let mut reader = LineReader::new(&event[..], "run.ndjson");
        reader.expect(Stream::Summaries);
        let err = reader.next_record::<crate::Summary>().unwrap().unwrap_err();
        assert!(
            err.to_string()
                .starts_with("run.ndjson:1: this is an Event"),
            "{err}"
        );
    }

    #[test]
    fn finds_newlines_anywhere() {
        for len in 0..40 {
            for at in 0..len {
                let mut bytes = vec![b'x'; len];
                bytes[at] = b'\n';
                if at + 1 < len {
                    bytes[len - 1] = b'\n';
                }
                assert_eq!(memchr_newline(&bytes), Some(at), "{len} {at}");
            }
            assert_eq!(memchr_newline(&vec![0x8a; len]), None);
            assert_eq!(memchr_newline(&vec![b'\x0b'; len]), None);
            assert_eq!(memchr_newline(&vec![0x0a ^ 0x80; len]), None);
        }
    }
}
