//! How a run ends: the phase every VU watches (running → stopping → abort),
//! and the signal handlers that move it along. Stopping means "start no new
//! request"; abort means "give up on the requests still in flight" (each
//! still becomes an event, marked as cancelled).

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;

use tokio::sync::watch;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    Running = 0,
    Stopping = 1,
    Abort = 2,
}

/// The run's phase, shared by the control thread and every worker.
#[derive(Debug)]
pub struct Control {
    /// Mirror of the watch value, for the cheap check before each request.
    now: AtomicU8,
    /// The run was stopped before the end of its schedule (a signal, a
    /// closed output), not by reaching it.
    early: AtomicBool,
    tx: watch::Sender<Phase>,
}

impl Control {
    pub fn new() -> Arc<Control> {
        Arc::new(Control {
            now: AtomicU8::new(Phase::Running as u8),
            early: AtomicBool::new(false),
            tx: watch::channel(Phase::Running).0,
        })
    }

    pub fn phase(&self) -> Phase {
        match self.now.load(Ordering::Relaxed) {
            0 => Phase::Running,
            1 => Phase::Stopping,
            _ => Phase::Abort,
        }
    }

    pub fn running(&self) -> bool {
        self.phase() == Phase::Running
    }

    /// Moves to `phase` unless the run is already further along.
    pub fn advance(&self, phase: Phase) {
        if self.now.fetch_max(phase as u8, Ordering::SeqCst) < phase as u8 {
            self.tx.send_if_modified(|p| {
                if *p < phase {
                    *p = phase;
                    true
                } else {
                    false
                }
            });
        }
    }

    /// Stops the run before the end of its schedule (a signal, a closed
    /// output): open-model arrivals that came due and were not sent are
    /// cancelled, where at the end of the schedule they are still sent.
    pub fn interrupt(&self) {
        self.early.store(true, Ordering::SeqCst);
        self.advance(Phase::Stopping);
    }

    /// Whether [`Control::interrupt`] stopped the run.
    pub fn interrupted(&self) -> bool {
        self.early.load(Ordering::SeqCst)
    }

    pub fn subscribe(&self) -> watch::Receiver<Phase> {
        self.tx.subscribe()
    }
}

/// Resolves once the phase is at least `phase`.
pub async fn reached(rx: &mut watch::Receiver<Phase>, phase: Phase) {
    // The sender lives as long as the Control, which outlives every worker.
    if rx.wait_for(|p| *p >= phase).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Resolves once the run is interrupted (a signal, a closed output).
pub async fn interrupted(control: &Control, rx: &mut watch::Receiver<Phase>) {
    // `interrupt` sets the flag before it moves the phase on, and an
    // interrupt after the end of the schedule no longer matters here.
    reached(rx, Phase::Stopping).await;
    if !control.interrupted() {
        std::future::pending::<()>().await;
    }
}

/// Handles SIGINT and SIGTERM: the first stops the run, a second SIGINT aborts it.
pub async fn listen(control: Arc<Control>, grace: std::time::Duration, quiet: bool) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return;
    };
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
    }
    if !quiet {
        eprintln!(
            "\nhammer: stopping; waiting up to {} for what is in flight (Ctrl-C again to abort)",
            records::units::format_duration(grace)
        );
    }
    control.interrupt();
    int.recv().await;
    control.advance(Phase::Abort);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn phases_only_move_forward() {
        let c = Control::new();
        let mut rx = c.subscribe();
        assert!(c.running());
        c.advance(Phase::Abort);
        c.advance(Phase::Stopping);
        assert_eq!(c.phase(), Phase::Abort);
        reached(&mut rx, Phase::Stopping).await;
        assert_eq!(*rx.borrow(), Phase::Abort);
    }
}
