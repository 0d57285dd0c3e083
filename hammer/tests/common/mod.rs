//! Helpers for hammer's integration tests: run the real binaries against the
//! real tasktracker on loopback, and read the events back strictly.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

use records::testkit::{cmd, WireEvent};
use records::Event;

pub const SCENARIO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/tasktracker.toml");

/// hammer's closing `load` record, when the stream has one: its last line.
pub fn load(stdout: &[u8]) -> Option<records::Load> {
    let text = std::str::from_utf8(stdout).expect("UTF-8 output");
    let last = text.lines().last()?;
    match serde_json::from_str::<records::event::StreamRecord>(last) {
        Ok(records::event::StreamRecord::Load(load)) => Some(load),
        _ => None,
    }
}

/// Whether a line is a flow's `iteration` record.
fn is_iteration(line: &str) -> bool {
    line.starts_with(r#"{"kind":"iteration""#)
}

/// The flows' `iteration` records of hammer's stdout, in order.
pub fn iterations(stdout: &[u8]) -> Vec<records::Iteration> {
    let text = std::str::from_utf8(stdout).expect("UTF-8 output");
    text.lines()
        .filter(|l| is_iteration(l))
        .map(
            |l| match serde_json::from_str::<records::event::StreamRecord>(l) {
                Ok(records::event::StreamRecord::Iteration(it)) => it,
                other => panic!("not an iteration record: {other:?}: {l}"),
            },
        )
        .collect()
}

/// Parses hammer's stdout: every line a complete event, ending in a newline,
/// but the closing `load` record, which may only be the last line.
pub fn events(stdout: &[u8]) -> Vec<Event> {
    if !stdout.is_empty() {
        assert_eq!(stdout.last(), Some(&b'\n'), "output ends in half a line");
    }
    let text = std::str::from_utf8(stdout).expect("UTF-8 output");
    let lines: Vec<&str> = text.lines().collect();
    let events = match load(stdout) {
        Some(_) => &lines[..lines.len() - 1],
        None => &lines[..],
    };
    events
        .iter()
        .enumerate()
        .filter(|(_, line)| !is_iteration(line))
        .map(|(i, line)| {
            serde_json::from_str::<WireEvent>(line)
                .unwrap_or_else(|e| panic!("line {}: {e}: {line}", i + 1));
            // What hammer writes takes aggregate's fast reader (lines with
            // escapes, which only odd names and details need, may not).
            assert!(
                line.contains('\\') || records::event_codec::scan(line.as_bytes()).is_some(),
                "line {} would miss aggregate's fast path: {line}",
                i + 1
            );
            let event: Event = serde_json::from_str(line).unwrap();
            if let Some(kind) = &event.error {
                assert!(
                    records::ErrorKind::ALL.iter().any(|k| k.as_str() == kind),
                    "unknown error kind {kind}"
                );
            }
            event
        })
        .collect()
}

/// Seeds `n` users on the server and returns the file holding them.
pub fn seed_users(url: &str, n: u32) -> tempfile::NamedTempFile {
    seed_users_with(url, n, &[])
}

/// [`seed_users`] with more flags for seed (`--ca-cert FILE`).
pub fn seed_users_with(url: &str, n: u32, extra: &[&str]) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    let out = cmd("seed")
        .args(["-s", SCENARIO, "--target", url, "--users", &n.to_string()])
        .args(extra)
        .stdout(Stdio::from(file.reopen().unwrap()))
        .stderr(Stdio::piped())
        .output()
        .expect("run seed");
    assert!(
        out.status.success(),
        "seed failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    file
}

/// Runs hammer to the end with `args`.
pub fn hammer(args: &[&str]) -> Output {
    let out = Command::new(records::testkit::bin("hammer"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("run hammer");
    out
}

/// Starts hammer with `args` and its output piped, for a test that
/// signals it or closes its stdout.
pub fn spawn_hammer(args: &[&str]) -> Child {
    Command::new(records::testkit::bin("hammer"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start hammer")
}

/// Sends SIGINT (through kill(1): the workspace forbids unsafe code).
pub fn interrupt(child: &Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -INT {}", child.id());
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The number of requests hammer's closing summary line reports.
pub fn summary_requests(stderr: &str) -> u64 {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("hammer: ") && l.contains(" req/s), "))
        .unwrap_or_else(|| panic!("no summary line in: {stderr}"));
    line["hammer: ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// hammer's closing summary line.
pub fn summary_line(stderr: &str) -> &str {
    stderr
        .lines()
        .find(|l| l.starts_with("hammer: ") && l.contains(" req/s), "))
        .unwrap_or_else(|| panic!("no summary line in: {stderr}"))
}

/// The open model's arrival counts in the closing line:
/// `N scheduled = S sent + D dropped + C cancelled`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arrivals {
    pub scheduled: u64,
    pub sent: u64,
    pub dropped: u64,
    pub cancelled: u64,
}

pub fn arrivals(stderr: &str) -> Arrivals {
    let line = summary_line(stderr);
    let count = |word: &str| -> u64 {
        let at = line
            .find(&format!(" {word}"))
            .unwrap_or_else(|| panic!("no `{word}` in: {line}"));
        line[..at]
            .rsplit(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap_or_else(|e| panic!("`{word}` in {line}: {e}"))
    };
    Arrivals {
        scheduled: count("scheduled ="),
        sent: count("sent +"),
        dropped: count("dropped +"),
        cancelled: count("cancelled"),
    }
}

/// The load window, rate and drain of the closing line (`… in 5.00s (500.0 req/s), drain 1.20s, …`), in seconds and per second.
pub fn window(stderr: &str) -> (f64, f64, f64) {
    let line = summary_line(stderr);
    let after = |word: &str| {
        line.split(word)
            .nth(1)
            .unwrap_or_else(|| panic!("no `{word}` in: {line}"))
    };
    let secs = |text: &str| {
        records::parse_duration(text)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .as_secs_f64()
    };
    let load = secs(after(" in ").split(' ').next().unwrap());
    let rate: f64 = after(" (").split(' ').next().unwrap().parse().unwrap();
    let drain = secs(after(", drain ").split(',').next().unwrap());
    (load, rate, drain)
}

/// The percentile `q` (0–1) of `values`.
pub fn percentile(values: &mut [u64], q: f64) -> u64 {
    values.sort_unstable();
    let i = ((values.len() as f64 * q).ceil() as usize).clamp(1, values.len()) - 1;
    values[i]
}

pub fn names(events: &[Event]) -> BTreeSet<String> {
    events.iter().map(|e| e.name.clone()).collect()
}

pub fn path(file: &tempfile::NamedTempFile) -> PathBuf {
    file.path().to_path_buf()
}

/// One HTTP/1.1 request over a plain socket (`Connection: close`), for
/// checking the server's state in tests: the status and the body.
pub fn http(method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> (u16, Vec<u8>) {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut stream = std::net::TcpStream::connect(authority).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body.as_bytes()).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("a response");
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    let status_line = String::from_utf8_lossy(&answer[..split]);
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    let head_text = status_line.to_ascii_lowercase();
    let mut payload = answer[split + 4..].to_vec();
    if head_text.contains("transfer-encoding: chunked") {
        let mut plain = Vec::new();
        let mut rest = &payload[..];
        loop {
            let end = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let size = usize::from_str_radix(std::str::from_utf8(&rest[..end]).unwrap().trim(), 16)
                .unwrap();
            if size == 0 {
                break;
            }
            plain.extend_from_slice(&rest[end + 2..end + 2 + size]);
            rest = &rest[end + 4 + size..];
        }
        payload = plain;
    }
    (status, payload)
}

/// One HTTP request head (up to the blank line), read byte by byte by a raw
/// server inside a test; None at the end of the stream or past 64 KiB.
pub fn read_head(s: &mut std::net::TcpStream) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte) {
            Ok(1) => buf.push(byte[0]),
            _ => return None,
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
    }
    Some(buf)
}
