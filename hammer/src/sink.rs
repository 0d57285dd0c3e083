//! Events out: each worker thread serializes its events into a local buffer
//! and hands whole buffers (whole lines only) to one writer thread, so a
//! request costs no channel message and no lock, and stdout never sees half
//! a line.
//!
//! The serializer is [`records::event_codec::write_event_in`]: exactly what
//! `serde_json` writes for [`records::Event`], only without building the
//! struct (names and methods are JSON-encoded once per request template).

use std::cell::RefCell;
use std::io::{self, Write};
use std::sync::{mpsc, Mutex};
use std::thread::JoinHandle;

pub use records::event_codec::EventParts;
use records::event_codec::{room_for, write_event_in};

/// Batches are handed over when they reach this size (and on a timer).
/// Each hand-over wakes the writer, which in a pinned benchmark shares the
/// worker's core and preempts it: at 64 KiB that was ~450 extra context
/// switches a second at 80,000 requests/s; at 256 KiB a quarter of them.
const BATCH_BYTES: usize = 256 * 1024;

/// A worker's batch: a buffer zero-filled once when it is made, and how
/// much of it holds lines. Lines are written in place after `used`
/// ([`write_event_in`]), so an event costs no resize and no zero-fill.
struct Local {
    buf: Vec<u8>,
    used: usize,
    tx: mpsc::Sender<Vec<u8>>,
}

impl Local {
    fn new(tx: mpsc::Sender<Vec<u8>>) -> Local {
        Local {
            buf: fresh_batch(),
            used: 0,
            tx,
        }
    }

    /// Room for `len` more bytes after `used`: the batch is handed over
    /// first if it has too little left, and grown if even a fresh one
    /// is too small (a line with a huge `detail`).
    fn room(&mut self, len: usize) -> &mut [u8] {
        if self.buf.len() - self.used < len {
            self.hand_over();
            if self.buf.len() < len {
                self.buf.resize(len, 0);
            }
        }
        &mut self.buf[self.used..]
    }

    fn wrote(&mut self, len: usize) {
        self.used += len;
        if self.used >= BATCH_BYTES {
            self.hand_over();
        }
    }

    fn hand_over(&mut self) {
        if self.used == 0 {
            return;
        }
        let batch = if self.used >= BATCH_BYTES / 2 {
            let mut batch = std::mem::replace(&mut self.buf, fresh_batch());
            batch.truncate(self.used);
            batch
        } else {
            // Mostly empty (the timer's flush at a low rate): the lines are
            // copied out and the buffer stays. Swapped, it would come back
            // truncated to its few lines and be zero-filled whole again.
            self.buf[..self.used].to_vec()
        };
        self.used = 0;
        // The writer only goes away after every worker has ended.
        let _ = self.tx.send(batch);
    }
}

/// A batch's length: a batch's worth of lines and a usual line past it (a
/// longer one starts the next batch).
const FULL_BATCH: usize = BATCH_BYTES + 1024;

/// A buffer to fill: one the writer is done with when there is one (only
/// its tail past the lines it held is zero-filled again), else a new one.
fn fresh_batch() -> Vec<u8> {
    let spare = SPARE.lock().unwrap_or_else(|e| e.into_inner()).pop();
    match spare {
        Some(mut batch) => {
            batch.resize(FULL_BATCH, 0);
            batch
        }
        // calloc: a block this large comes zeroed from the kernel, no memset.
        None => vec![0; FULL_BATCH],
    }
}

/// Batches the writer has written, for the workers to fill again.
static SPARE: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// Keeps a written batch for reuse (a few: one per worker in flight);
/// copied-out lines are not worth keeping.
fn recycle(batch: Vec<u8>) {
    if batch.capacity() < FULL_BATCH {
        return;
    }
    let mut spare = SPARE.lock().unwrap_or_else(|e| e.into_inner());
    if spare.len() < 16 {
        spare.push(batch);
    }
}

thread_local! {
    static LOCAL: RefCell<Option<Local>> = const { RefCell::new(None) };
}

/// Makes this thread's events go to `tx`.
pub fn install(tx: mpsc::Sender<Vec<u8>>) {
    LOCAL.with(|l| *l.borrow_mut() = Some(Local::new(tx)));
}

/// Records one event on this thread.
pub fn emit(e: &EventParts<'_>) {
    LOCAL.with(|l| {
        let mut l = l.borrow_mut();
        let local = l.as_mut().expect("sink::install runs on every worker");
        // Nearly always the batch has room; when not, it is handed over
        // (or grown) first.
        let len = match write_event_in(&mut local.buf[local.used..], e) {
            Some(len) => len,
            None => write_event_in(local.room(room_for(e)), e).expect("room_for's room was made"),
        };
        local.wrote(len);
    });
}

/// Writes one whole line (a stream record) on this thread, after the events
/// emitted before it.
pub fn emit_line(line: &[u8]) {
    LOCAL.with(|l| {
        let mut l = l.borrow_mut();
        let local = l.as_mut().expect("sink::install runs on every worker");
        local.room(line.len())[..line.len()].copy_from_slice(line);
        local.wrote(line.len());
    });
}

/// Hands this thread's pending events to the writer.
pub fn flush() {
    LOCAL.with(|l| {
        if let Some(local) = l.borrow_mut().as_mut() {
            local.hand_over();
        }
    });
}

/// Hands this thread's pending events to the writer and lets go of it, so
/// the writer can end once the other senders are gone too.
pub fn uninstall() {
    LOCAL.with(|l| {
        if let Some(mut local) = l.borrow_mut().take() {
            local.hand_over();
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
                    Ok(()) => {
                        written.bytes += batch.len() as u64;
                        recycle(batch);
                    }
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

    /// A `Write` that keeps what it is given.
    #[derive(Clone, Default)]
    struct Kept(std::sync::Arc<Mutex<Vec<u8>>>);

    impl Write for Kept {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_reach_the_writer_in_order_whether_flushed_or_full() {
        let kept = Kept::default();
        let (tx, handle) = start(Box::new(kept.clone()), || {});
        install(tx);
        let mut want = Vec::new();
        for i in 0..20_000usize {
            // Mostly short lines, now and then one past a batch's slack.
            let len = if i % 997 == 0 { 3_000 } else { 20 + i % 150 };
            let mut line = format!("{i} ").into_bytes();
            line.resize(len - 1, b'x');
            line.push(b'\n');
            emit_line(&line);
            want.extend_from_slice(&line);
            // A flush now and then, as the 200 ms timer does, part-way
            // through a batch or right after a hand-over.
            if i % 1_234 == 0 || i % 3_001 == 1 {
                flush();
            }
        }
        uninstall();
        handle.join().unwrap().unwrap();
        assert!(*kept.0.lock().unwrap() == want);
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
