//! How a run ends: the phase every VU watches (running → stopping → abort),
//! and the signal handlers that move it along. Stopping means "start no new
//! request"; abort means "give up on the requests still in flight" (each
//! still becomes an event, marked as cancelled).

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

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
    /// When the run left `Running` (a stop, an abort, the end).
    stopped_at: std::sync::OnceLock<std::time::Instant>,
    tx: watch::Sender<Phase>,
}

impl Control {
    pub fn new() -> Arc<Control> {
        Arc::new(Control {
            now: AtomicU8::new(Phase::Running as u8),
            early: AtomicBool::new(false),
            stopped_at: std::sync::OnceLock::new(),
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
        if phase > Phase::Running {
            self.stopped_at.get_or_init(std::time::Instant::now);
        }
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

    /// When the run stopped running, if it has.
    pub fn stopped_at(&self) -> Option<std::time::Instant> {
        self.stopped_at.get().copied()
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

/// One worker thread's view of the abort, for the requests in flight on it.
///
/// Every request waits for the abort beside its response. Through the
/// watch channel that wait registers with, and leaves, the channel's
/// `Notify` (a lock and a list) on every request; here it is a slot in this
/// thread's list, and one task per worker ([`watch_abort`]) wakes them all.
#[derive(Default)]
struct AbortWatch {
    /// [`watch_abort`] runs on this thread.
    watched: Cell<bool>,
    aborted: Cell<bool>,
    waiters: RefCell<Vec<Option<Waker>>>,
    free: RefCell<Vec<usize>>,
}

thread_local! {
    static ABORT: AbortWatch = AbortWatch::default();
}

/// Starts this worker's abort watcher on its runtime (call inside it): at
/// the abort it wakes every [`aborted`] wait of the thread.
pub fn watch_abort(control: &Control) -> tokio::task::JoinHandle<()> {
    let mut rx = control.subscribe();
    ABORT.with(|a| a.watched.set(true));
    tokio::spawn(async move {
        reached(&mut rx, Phase::Abort).await;
        ABORT.with(|a| {
            a.aborted.set(true);
            let waiters = std::mem::take(&mut *a.waiters.borrow_mut());
            for waker in waiters.into_iter().flatten() {
                waker.wake();
            }
        });
    })
}

/// Resolves once the run is aborted: through this thread's watcher when
/// it has one ([`watch_abort`]), else through `rx`.
pub async fn aborted(rx: &mut watch::Receiver<Phase>) {
    if ABORT.with(|a| a.watched.get()) {
        AbortWait { slot: None }.await
    } else {
        reached(rx, Phase::Abort).await
    }
}

/// A wait in this thread's [`AbortWatch`]: its slot, once polled.
struct AbortWait {
    slot: Option<usize>,
}

impl Future for AbortWait {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        ABORT.with(|a| {
            if a.aborted.get() {
                return Poll::Ready(());
            }
            let mut waiters = a.waiters.borrow_mut();
            match this.slot {
                Some(i) => {
                    if let Some(waker) = &mut waiters[i] {
                        if !waker.will_wake(cx.waker()) {
                            *waker = cx.waker().clone();
                        }
                    }
                }
                None => {
                    let waker = Some(cx.waker().clone());
                    let i = match a.free.borrow_mut().pop() {
                        Some(i) => {
                            waiters[i] = waker;
                            i
                        }
                        None => {
                            waiters.push(waker);
                            waiters.len() - 1
                        }
                    };
                    this.slot = Some(i);
                }
            }
            Poll::Pending
        })
    }
}

impl Drop for AbortWait {
    fn drop(&mut self) {
        let Some(i) = self.slot else { return };
        // After the abort the list is gone; at thread exit, so is the watch.
        let _ = ABORT.try_with(|a| {
            if !a.aborted.get() {
                a.waiters.borrow_mut()[i] = None;
                a.free.borrow_mut().push(i);
            }
        });
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
    async fn an_abort_wakes_every_wait_of_the_worker() {
        let c = Control::new();
        let watcher = watch_abort(&c);
        let mut rx = c.subscribe();
        // A wait given up (a request answered) leaves its slot to the next.
        let gone =
            tokio::time::timeout(std::time::Duration::from_millis(5), aborted(&mut rx)).await;
        assert!(gone.is_err());
        let waits: Vec<_> = (0..3)
            .map(|_| {
                let mut rx = c.subscribe();
                tokio::spawn(async move { aborted(&mut rx).await })
            })
            .collect();
        tokio::task::yield_now().await;
        assert_eq!(
            ABORT.with(|a| a.waiters.borrow().iter().flatten().count()),
            3
        );
        c.advance(Phase::Abort);
        for wait in waits {
            tokio::time::timeout(std::time::Duration::from_secs(5), wait)
                .await
                .expect("woken by the abort")
                .unwrap();
        }
        // Waits after the abort end at once.
        aborted(&mut rx).await;
        watcher.await.unwrap();
    }

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
