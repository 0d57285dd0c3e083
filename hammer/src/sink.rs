//! Events out: each worker thread serializes its events into a local buffer
//! and hands whole buffers (whole lines only) to one writer thread, so a
//! request costs no channel message and no lock, and stdout never sees half
//! a line.
//!
//! The serializer is [`records::event_codec::write_event`]: exactly what
//! `serde_json` writes for [`records::Event`], only without building the
//! struct (names and methods are JSON-encoded once per request template).

use std::cell::RefCell;
use std::io::{self, Write};
use std::sync::mpsc;
use std::thread::JoinHandle;

use records::event_codec::write_event;
pub use records::event_codec::EventParts;

/// Batches are handed over when they reach this size (and on a timer).
const BATCH_BYTES: usize = 64 * 1024;

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

/// Writes one whole line (a stream record) on this thread, after the events
/// emitted before it.
pub fn emit_line(line: &[u8]) {
    LOCAL.with(|l| {
        let mut l = l.borrow_mut();
        let local = l.as_mut().expect("sink::install runs on every worker");
        local.buf.extend_from_slice(line);
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

/// Hands this thread's pending events to the writer and lets go of it, so
/// the writer can end once the other senders are gone too.
pub fn uninstall() {
    LOCAL.with(|l| {
        if let Some(mut local) = l.borrow_mut().take() {
            hand_over(&mut local);
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
                connect_ns: None,
                ttfb_ns: None,
                proto: None,
            });
        }
        flush();
        LOCAL.with(|l| *l.borrow_mut() = None);
        let written = handle.join().unwrap().unwrap();
        assert!(written.bytes > 10_000 * 100, "{written:?}");
        assert!(!written.closed);
    }
}
