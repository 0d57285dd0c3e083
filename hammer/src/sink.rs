//! Events out: each worker thread serializes its events into a local buffer
//! and hands whole buffers (whole lines only) to one writer thread, so a
//! request costs no channel message and no lock, and stdout never sees half
//! a line.
//!
//! The serializer writes exactly what `serde_json` writes for
//! [`records::Event`] (the unit test below compares them), only without
//! building the struct: names and methods are JSON-encoded once per request
//! template, numbers with `itoa`.

use std::cell::RefCell;
use std::io::{self, Write};
use std::sync::mpsc;
use std::thread::JoinHandle;

use records::ErrorKind;

/// Batches are handed over when they reach this size (and on a timer).
const BATCH_BYTES: usize = 64 * 1024;

/// One event's fields, borrowed.
#[derive(Clone, Copy, Debug)]
pub struct EventParts<'a> {
    pub ts: u64,
    /// JSON string with its quotes.
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
}

/// Appends one event line (with its newline) to `out`.
pub fn write_event(out: &mut Vec<u8>, e: &EventParts<'_>) {
    let mut n = itoa::Buffer::new();
    out.extend_from_slice(b"{\"ts\":");
    out.extend_from_slice(n.format(e.ts).as_bytes());
    out.extend_from_slice(b",\"name\":");
    out.extend_from_slice(e.name_json);
    out.extend_from_slice(b",\"method\":");
    out.extend_from_slice(e.method_json);
    out.extend_from_slice(b",\"status\":");
    out.extend_from_slice(n.format(e.status).as_bytes());
    out.extend_from_slice(b",\"latency_ns\":");
    out.extend_from_slice(n.format(e.latency_ns).as_bytes());
    out.extend_from_slice(b",\"lag_ns\":");
    out.extend_from_slice(n.format(e.lag_ns).as_bytes());
    out.extend_from_slice(b",\"bytes_in\":");
    out.extend_from_slice(n.format(e.bytes_in).as_bytes());
    out.extend_from_slice(b",\"bytes_out\":");
    out.extend_from_slice(n.format(e.bytes_out).as_bytes());
    out.extend_from_slice(b",\"vu\":");
    out.extend_from_slice(n.format(e.vu).as_bytes());
    match e.error {
        None => out.extend_from_slice(b",\"error\":null"),
        Some(kind) => {
            out.extend_from_slice(b",\"error\":\"");
            out.extend_from_slice(kind.as_str().as_bytes());
            out.push(b'"');
        }
    }
    if let Some(detail) = e.detail {
        out.extend_from_slice(b",\"detail\":");
        serde_json::to_writer(&mut *out, detail).expect("strings serialize");
    }
    out.extend_from_slice(b"}\n");
}

struct Local {
    buf: Vec<u8>,
    tx: mpsc::Sender<Vec<u8>>,
}

thread_local! {
    static LOCAL: RefCell<Option<Local>> = const { RefCell::new(None) };
}

/// Makes this thread's events go to `tx`.
pub fn install(tx: mpsc::Sender<Vec<u8>>) {
    LOCAL.with(|l| {
        *l.borrow_mut() = Some(Local {
            buf: Vec::with_capacity(BATCH_BYTES + 4096),
            tx,
        })
    });
}

/// Records one event on this thread.
pub fn emit(e: &EventParts<'_>) {
    LOCAL.with(|l| {
        let mut l = l.borrow_mut();
        let local = l.as_mut().expect("sink::install runs on every worker");
        write_event(&mut local.buf, e);
        if local.buf.len() >= BATCH_BYTES {
            hand_over(local);
        }
    });
}

fn hand_over(local: &mut Local) {
    if local.buf.is_empty() {
        return;
    }
    let batch = std::mem::replace(&mut local.buf, Vec::with_capacity(BATCH_BYTES + 4096));
    // The writer only goes away after every worker has ended.
    let _ = local.tx.send(batch);
}

/// Hands this thread's pending events to the writer.
pub fn flush() {
    LOCAL.with(|l| {
        if let Some(local) = l.borrow_mut().as_mut() {
            hand_over(local);
        }
    });
}

/// How the writer ended.
#[derive(Debug, Default)]
pub struct Written {
    pub bytes: u64,
    /// stdout was closed by the reader (EPIPE): a normal end, output cut short.
    pub closed: bool,
}

/// Starts the writer thread; it ends when every sender is gone. `on_closed`
/// runs once if the output is closed under it, so the run can stop.
pub fn start(
    mut out: Box<dyn Write + Send>,
    on_closed: impl Fn() + Send + 'static,
) -> (mpsc::Sender<Vec<u8>>, JoinHandle<io::Result<Written>>) {
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let handle = std::thread::Builder::new()
        .name("hammer-writer".into())
        .spawn(move || {
            let mut written = Written::default();
            for batch in rx {
                if written.closed {
                    continue;
                }
                match out.write_all(&batch) {
                    Ok(()) => written.bytes += batch.len() as u64,
                    Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                        written.closed = true;
                        on_closed();
                    }
                    Err(e) => {
                        on_closed();
                        return Err(e);
                    }
                }
            }
            if !written.closed {
                match out.flush() {
                    Err(e) if e.kind() == io::ErrorKind::BrokenPipe => written.closed = true,
                    other => other?,
                }
            }
            Ok(written)
        })
        .expect("spawn the writer thread");
    (tx, handle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use records::Event;

    fn same_as_serde(event: &Event, kind: Option<ErrorKind>) {
        let name = serde_json::to_vec(&event.name).unwrap();
        let method = serde_json::to_vec(&event.method).unwrap();
        let mut ours = Vec::new();
        write_event(
            &mut ours,
            &EventParts {
                ts: event.ts,
                name_json: &name,
                method_json: &method,
                status: event.status,
                latency_ns: event.latency_ns,
                lag_ns: event.lag_ns,
                bytes_in: event.bytes_in,
                bytes_out: event.bytes_out,
                vu: event.vu,
                error: kind,
                detail: event.detail.as_deref(),
            },
        );
        let mut theirs = serde_json::to_vec(event).unwrap();
        theirs.push(b'\n');
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            String::from_utf8(theirs).unwrap()
        );
    }

    #[test]
    fn writes_what_serde_writes() {
        let mut e = Event {
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
        };
        same_as_serde(&e, None);
        e.name = "POST /\"odd\"\\name\n\u{1}é/".into();
        e.status = 0;
        e.lag_ns = u64::MAX;
        e.vu = u32::MAX;
        e.error = Some("timeout".into());
        e.detail = Some("timed out after 10s \"quoted\"\t".into());
        same_as_serde(&e, Some(ErrorKind::Timeout));
        for kind in ErrorKind::ALL {
            e.error = Some(kind.as_str().into());
            e.detail = None;
            same_as_serde(&e, Some(kind));
        }
    }

    #[test]
    fn batches_reach_the_writer_whole() {
        let (tx, handle) = start(Box::new(io::sink()), || {});
        install(tx);
        let name = br#""x""#;
        for i in 0..10_000 {
            emit(&EventParts {
                ts: i,
                name_json: name,
                method_json: br#""GET""#,
                status: 200,
                latency_ns: 1,
                lag_ns: 0,
                bytes_in: 0,
                bytes_out: 0,
                vu: 1,
                error: None,
                detail: None,
            });
        }
        flush();
        LOCAL.with(|l| *l.borrow_mut() = None);
        let written = handle.join().unwrap().unwrap();
        assert!(written.bytes > 10_000 * 100, "{written:?}");
        assert!(!written.closed);
    }
}
