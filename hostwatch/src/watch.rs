//! The sampling loop: one host sample (and the watched processes' samples)
//! per tick, whole lines out and flushed together, until a count, a
//! duration, a signal, a closed stdout or the end of a piped stdin ends it.

use std::io::Write;
use std::time::Duration;

use records::exit::{bad_input, is_broken_pipe};
use records::ndjson::Writer;
use records::units::{following_tick, now_ns};
use records::watch::Signals;
pub use records::watch::Until;
use records::Summary;
use tokio::sync::oneshot;
use tokio::time::{sleep_until, Instant};

use crate::host::HostSampler;
use crate::procfs::Proc;
use crate::procs::Watcher;
use crate::tally::Tally;

/// Why sampling ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// --count or --duration reached.
    Done,
    Signal,
    StdinClosed,
    /// The reader of our stdout went away: nothing more can be written there.
    StdoutClosed,
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub interval: Duration,
    /// When to stop sampling (besides signals, stdout and stdin).
    pub until: Until,
    pub wait: bool,
}

/// Resolves when stdin, if it is a pipe or a socket, reaches its end; never
/// for a terminal, a file or /dev/null (a background job's usual stdin).
///
/// A plain thread reads it: a blocked read must not hold up the runtime's
/// shutdown, and the thread ends with the process.
fn stdin_end() -> oneshot::Receiver<()> {
    use std::io::Read;
    use std::os::fd::AsFd;
    use std::os::unix::fs::FileTypeExt;
    let (tx, rx) = oneshot::channel();
    let stdin = std::io::stdin();
    let piped = stdin
        .as_fd()
        .try_clone_to_owned()
        .ok()
        .map(std::fs::File::from)
        .and_then(|f| f.metadata().ok())
        .is_some_and(|m| m.file_type().is_fifo() || m.file_type().is_socket());
    if piped {
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            let mut input = stdin.lock();
            loop {
                match input.read(&mut buf) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            let _ = tx.send(());
        });
    } else {
        // Keep the sender alive forever: the receiver then never resolves.
        std::mem::forget(tx);
    }
    rx
}

/// Samples until done; every tick's lines are written and flushed together.
pub async fn watch<W: Write>(
    proc: &Proc,
    host: &mut HostSampler,
    procs: &mut Watcher,
    tally: &mut Tally,
    settings: &Settings,
    out: &mut Writer<W>,
) -> anyhow::Result<End> {
    let mut signals = Signals::new()?;
    let mut stdin = stdin_end();

    if !procs.is_empty() {
        let mut told = false;
        loop {
            let missing = procs.unmatched(proc);
            if missing.is_empty() {
                if told {
                    eprintln!("hostwatch: found them; sampling");
                }
                break;
            }
            let names: Vec<String> = missing.iter().map(|s| s.describe()).collect();
            if !settings.wait {
                return Err(bad_input(format!(
                    "{} {} no running process (--wait waits for it)",
                    names.join(", "),
                    if names.len() == 1 { "matches" } else { "match" }
                )));
            }
            if !told {
                eprintln!("hostwatch: waiting for {}", names.join(", "));
                told = true;
            }
            let wake = Instant::now() + settings.interval.min(Duration::from_millis(200));
            tokio::select! {
                _ = sleep_until(wake) => {}
                _ = signals.recv() => return Ok(End::Signal),
                _ = &mut stdin => return Ok(End::StdinClosed),
            }
        }
    }

    host.baseline(proc)?;
    procs.sample(proc, now_ns());
    let start = Instant::now();
    let mut last = start;
    let mut next = start + settings.interval;
    let mut samples: u64 = 0;
    loop {
        match settings.until {
            Until::Count(n) if samples >= n => return Ok(End::Done),
            Until::Elapsed(d) if next.duration_since(start) > d => return Ok(End::Done),
            _ => {}
        }
        tokio::select! {
            _ = sleep_until(next) => {}
            _ = signals.recv() => return Ok(End::Signal),
            _ = &mut stdin => return Ok(End::StdinClosed),
        }
        let at = Instant::now();
        let ts = now_ns();
        let sample = host.sample(proc, ts, at.duration_since(last).as_nanos() as u64)?;
        last = at;
        let processes = procs.sample(proc, ts);
        let written = (|| -> std::io::Result<()> {
            out.write(&Summary::Host(sample.clone()))?;
            for p in &processes {
                out.write(&Summary::Process(p.clone()))?;
            }
            // A live consumer (chart, a terminal, tail -f) should see each tick now.
            out.flush()
        })();
        if let Err(err) = written {
            let err = anyhow::Error::from(err);
            if is_broken_pipe(&err) {
                return Ok(End::StdoutClosed);
            }
            return Err(err.context("writing samples to stdout"));
        }
        tally.add(&sample, &processes);
        samples += 1;
        next = Instant::from_std(following_tick(
            start.into_std(),
            settings.interval,
            std::time::Instant::now(),
        ));
    }
}
