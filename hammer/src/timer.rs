//! Waking the open model's pacer on time.
//!
//! tokio's timer wheel has a 1 ms resolution and rounds every deadline up to
//! the next tick, so an arrival due at 2.0001 s is sent at ~2.001 s: 0.5–1.5 ms
//! of lag that is the generator's own, not the target's. The pacer therefore
//! waits on a Linux `timerfd` registered in the worker's own reactor: the
//! kernel's high-resolution timer (a timerfd has no timer slack) wakes the
//! epoll the runtime already parks in, so a due arrival is handed to a VU a
//! few microseconds after its time, with no extra thread.
//!
//! A woken thread does not run at once: on this project's VMs the wake-up
//! itself takes ~40 µs (± a few), and a core shared with other processes
//! adds the scheduler's delay. The timer therefore keeps a running estimate
//! of its wake-ups' lateness — the 75th percentile, tracked by fixed steps,
//! so a one-off stall of milliseconds moves it by one step, not by the
//! stall — and arms the timerfd that much before the due time (at most
//! [`MAX_LEAD`]; a shorter wait is spun whole). Three wake-ups in four then
//! land a few µs early and spin the rest (yielding to the worker's other
//! tasks); the fourth is late by its excess over the estimate. (Twice a moving
//! average, as before, aimed past the typical lateness, and one stall kept
//! it at its cap for ~20 arrivals: hammer/README.md, "Send precision".)
//!
//! A worker whose responses are all timed by the kernel's arrival stamps
//! (plain HTTP/1.1, one request per arrival: [`Timer::new`]'s `blocking`)
//! waits out a short gap blocked in `poll` on the timerfd instead of in the
//! runtime's epoll, so a response landing meanwhile does not wake it: it is
//! read at the next arrival's wake-up, its latency already fixed by its
//! stamp. One wake-up per arrival instead of two: 11–25% less CPU per
//! request from 500 to 10,000/s (hammer/README.md, "Send precision").
//!
//! The other mechanisms stay selectable (`HAMMER_PACER_TIMER=tokio|spin|
//! thread|timerfd-plain`, a measurement knob, not a flag) so the choice can be
//! re-measured; see hammer/README.md, "Send precision".

use std::io;
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags};
use rustix::time::{
    timerfd_create, timerfd_settime, Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags,
    Timespec,
};
use tokio::io::unix::AsyncFd;

use crate::stamp::Stamp;

/// How the pacer waits for the next arrival.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TimerKind {
    /// A timerfd in the worker's reactor, woken early by its own measured
    /// lateness, then a short spin (the default).
    #[default]
    Timerfd,
    /// A timerfd, no early wake-up and no spin.
    TimerfdPlain,
    /// tokio's timer (1 ms ticks): the old behaviour, lag ≈ 1 ms.
    Tokio,
    /// tokio's timer to 2 ms before the due time, then `yield_now` until it:
    /// precise, but the worker spins through the last 2 ms of every gap.
    Spin,
    /// A timer thread per worker: `std::thread::sleep` (nanosleep, 50 µs of
    /// timer slack) to 100 µs before the due time, a spin to it, then a
    /// cross-thread wake of the worker.
    Thread,
}

impl TimerKind {
    /// From `HAMMER_PACER_TIMER` (`timerfd`, `timerfd-plain`, `tokio`, `spin`
    /// or `thread`); the default otherwise.
    pub fn from_env() -> TimerKind {
        match std::env::var("HAMMER_PACER_TIMER").as_deref() {
            Ok("tokio") => TimerKind::Tokio,
            Ok("spin") => TimerKind::Spin,
            Ok("thread") => TimerKind::Thread,
            Ok("timerfd-plain") => TimerKind::TimerfdPlain,
            _ => TimerKind::Timerfd,
        }
    }
}

/// How long before the due time `Spin` stops sleeping: more than tokio's
/// timer can be late by.
const SPIN_WINDOW: Duration = Duration::from_millis(2);

/// How long before the due time `Thread` stops sleeping: more than
/// nanosleep's default timer slack (50 µs).
const THREAD_SPIN_WINDOW: Duration = Duration::from_micros(100);

type Wake = (Instant, tokio::sync::oneshot::Sender<()>);

/// The timerfd's early wake-up is at most this long before the due time: a
/// core so contended that its wake-ups are later than this pays the excess
/// as lag rather than as spinning.
const MAX_LEAD: Duration = Duration::from_micros(150);

/// The running estimate of a wake-up's lateness: a quantile tracked by
/// fixed steps (up `UP_NS` when a wake-up is later than it, down `DOWN_NS`
/// when not), so it settles where `DOWN_NS / (UP_NS + DOWN_NS)` of
/// wake-ups are later: one in four. Steps of a few µs follow a change of load within tens of
/// arrivals.
#[derive(Debug, Default, Clone, Copy)]
struct Lateness {
    estimate_ns: u64,
}

impl Lateness {
    const UP_NS: u64 = 3_000;
    const DOWN_NS: u64 = 1_000;

    fn lead(&self) -> Duration {
        Duration::from_nanos(self.estimate_ns)
    }

    fn observe(&mut self, late_ns: u64) {
        self.estimate_ns = if late_ns > self.estimate_ns {
            (self.estimate_ns + Self::UP_NS).min(MAX_LEAD.as_nanos() as u64)
        } else {
            self.estimate_ns.saturating_sub(Self::DOWN_NS)
        };
    }
}

/// The longest wait a blocking timer spends blocked: what a response, a
/// timeout or a signal can wait for the worker (longer gaps, at rates
/// below 100/s, wait in the reactor, where their CPU matters little).
const MAX_BLOCK: Duration = Duration::from_millis(10);

/// A timerfd registered in the worker's reactor.
pub struct FdTimer {
    fd: AsyncFd<OwnedFd>,
    /// Wake early and spin (see the module's documentation).
    adaptive: bool,
    /// Wait short gaps blocked on the timerfd, outside the reactor.
    blocking: bool,
    late: Lateness,
}

/// One worker's pacing timer.
pub enum Timer {
    Fd(FdTimer),
    Tokio,
    Spin,
    /// Due times to the timer thread, which ends when this is dropped.
    Thread(std::sync::mpsc::Sender<Wake>),
}

impl Timer {
    /// Must be called inside the worker's runtime (a timerfd registers with
    /// it). `blocking`: nothing else on this worker needs it before the next
    /// arrival (see the module's documentation); only the default timerfd
    /// acts on it.
    pub fn new(kind: TimerKind, blocking: bool) -> io::Result<Timer> {
        Ok(match kind {
            TimerKind::Tokio => Timer::Tokio,
            TimerKind::Spin => Timer::Spin,
            TimerKind::Thread => {
                let (tx, rx) = std::sync::mpsc::channel::<Wake>();
                std::thread::Builder::new()
                    .name("hammer-timer".into())
                    .spawn(move || {
                        for (at, wake) in rx {
                            if let Some(early) = at.checked_sub(THREAD_SPIN_WINDOW) {
                                let now = Instant::now();
                                if early > now {
                                    std::thread::sleep(early - now);
                                }
                            }
                            while Instant::now() < at {
                                std::hint::spin_loop();
                            }
                            let _ = wake.send(());
                        }
                    })?;
                Timer::Thread(tx)
            }
            TimerKind::Timerfd | TimerKind::TimerfdPlain => {
                let fd = timerfd_create(
                    TimerfdClockId::Monotonic,
                    TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
                )?;
                // `AsyncFd::new` is deprecated because a `T` that only
                // borrows its descriptor could close it under the reactor;
                // here the AsyncFd owns the descriptor (`OwnedFd`), so it is
                // deregistered before it is closed (`register`, the
                // replacement, is `unsafe`, which this crate forbids).
                #[allow(deprecated)]
                let fd = AsyncFd::new(fd)?;
                Timer::Fd(FdTimer {
                    fd,
                    adaptive: kind == TimerKind::Timerfd,
                    blocking: blocking && kind == TimerKind::Timerfd,
                    late: Lateness::default(),
                })
            }
        })
    }

    /// Resolves at `at` (at once if it has passed). Cancel-safe: dropping the
    /// future leaves the timer to be re-armed by the next call.
    pub async fn sleep_until(&mut self, at: Instant) {
        match self {
            Timer::Tokio => tokio::time::sleep_until(at.into()).await,
            Timer::Spin => {
                if let Some(early) = at.checked_sub(SPIN_WINDOW) {
                    if early > Instant::now() {
                        tokio::time::sleep_until(early.into()).await;
                    }
                }
                while Instant::now() < at {
                    tokio::task::yield_now().await;
                }
            }
            Timer::Thread(tx) => {
                if at <= Instant::now() {
                    return;
                }
                let (wake, woken) = tokio::sync::oneshot::channel();
                if tx.send((at, wake)).is_err() {
                    return tokio::time::sleep_until(at.into()).await;
                }
                let _ = woken.await;
            }
            Timer::Fd(timer) => timer.sleep_until(at).await,
        }
    }
}

impl FdTimer {
    async fn sleep_until(&mut self, at: Instant) {
        let now = Instant::now();
        if at <= now {
            return;
        }
        // A wait no longer than the lead is spun whole: a timer that short
        // would wake late anyway, and its wake-up costs about as much CPU as
        // the spin (at high rates, where the wait after a response is short,
        // this also keeps the worker polling, so responses are read at once).
        let lead = if self.adaptive {
            self.late.lead().min(at - now)
        } else {
            Duration::ZERO
        };
        let wake_at = at - lead;
        if wake_at > now {
            if self.blocking && wake_at - now <= MAX_BLOCK {
                // The responses that landed meanwhile are read in the spin
                // below or after the send (their stamps fix their latency);
                // a lead that covered reading them too spun ~2× longer for
                // ~2 µs of lag.
                self.block(wake_at);
            } else {
                self.wait(wake_at).await;
            }
            if self.adaptive {
                let late = Instant::now().saturating_duration_since(wake_at);
                self.late.observe(late.as_nanos() as u64);
            }
        }
        // Yielding, not a bare spin: responses that arrive meanwhile are
        // still read at once, so the spin never adds to a measured latency.
        while Instant::now() < at {
            tokio::task::yield_now().await;
        }
    }

    /// Blocks the thread on the timerfd until `at`, outside the reactor.
    fn block(&mut self, at: Instant) {
        let fd = self.fd.get_ref();
        if !arm(fd, at) {
            return std::thread::sleep(at.saturating_duration_since(Instant::now()));
        }
        let mut ready = [PollFd::new(fd, PollFlags::IN)];
        while let Err(rustix::io::Errno::INTR) = rustix::event::poll(&mut ready, None) {}
        // The expiry is left unread: the next arming (timerfd_settime)
        // resets it, and `wait` reads before it trusts the reactor's edge.
    }

    /// Waits on the timerfd in the reactor until `at` (which is in the future).
    async fn wait(&mut self, at: Instant) {
        let fd = &self.fd;
        // Re-arming also clears an expiry a cancelled wait left behind.
        if !arm(fd.get_ref(), at) {
            return tokio::time::sleep_until(at.into()).await;
        }
        loop {
            let Ok(mut guard) = fd.readable().await else {
                return tokio::time::sleep_until(at.into()).await;
            };
            let mut ticks = [0u8; 8];
            match guard
                .try_io(|fd| rustix::io::read(fd.get_ref(), &mut ticks).map_err(io::Error::from))
            {
                Ok(Ok(_)) => {
                    // The read took every expiry: the next wait is for the
                    // next edge, not a read that finds none.
                    guard.clear_ready();
                    return;
                }
                Ok(Err(_)) => return tokio::time::sleep_until(at.into()).await,
                // A stale readiness (EAGAIN): wait for the expiry.
                Err(_) => continue,
            }
        }
    }
}

/// Sets the timerfd to expire at `at` (once); false if the kernel refused.
fn arm(fd: &OwnedFd, at: Instant) -> bool {
    let wait = at.saturating_duration_since(Instant::now());
    let spec = Itimerspec {
        it_interval: Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        },
        it_value: Timespec {
            tv_sec: wait.as_secs() as _,
            // A zero it_value disarms the timer: wait at least 1 ns.
            tv_nsec: wait.subsec_nanos().max(u32::from(wait.as_secs() == 0)) as _,
        },
    };
    timerfd_settime(fd, TimerfdTimerFlags::empty(), &spec).is_ok()
}

/// A VU's request timeout, kept armed from one request to the next.
///
/// `tokio::time::timeout` around each request puts an entry in the timer
/// wheel and takes it out again: a few hundred instructions a request,
/// for a timeout that almost never fires. This timer's deadline only ever
/// lags the current request's (an earlier request's start + the limit), so
/// it fires no later than due; when it fires early it is set again to the
/// current request's deadline. So the wheel is touched about once per
/// `limit` per VU, and a request that does overrun still ends at its time.
/// Due times are [`Stamp`]s, converted to the timer's `Instant` only when
/// it is set (each conversion is ~27 instructions).
#[derive(Default)]
pub struct Watchdog {
    /// The timer and the due time it is set to.
    sleep: Option<(Pin<Box<tokio::time::Sleep>>, Stamp)>,
}

impl Watchdog {
    /// Resolves once `due` has passed. Cancel-safe (the timer stays armed
    /// for the next request). Must be polled inside a runtime with a timer.
    pub async fn expire(&mut self, due: Stamp) {
        let (sleep, set_to) = self.sleep.get_or_insert_with(|| {
            (
                Box::pin(tokio::time::sleep_until(due.instant().into())),
                due,
            )
        });
        loop {
            if *set_to > due {
                sleep.as_mut().reset(due.instant().into());
                *set_to = due;
            }
            sleep.as_mut().await;
            if Stamp::now() >= due {
                return;
            }
            sleep.as_mut().reset(due.instant().into());
            *set_to = due;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_watchdog_fires_at_each_due_time_never_before() {
        let mut dog = Watchdog::default();
        let ms = Duration::from_millis;
        // Requests that end in time leave it armed at an older deadline...
        for _ in 0..3 {
            let due = Stamp::now() + ms(40);
            let quick = tokio::time::timeout(ms(5), dog.expire(due)).await;
            assert!(quick.is_err(), "fired 35 ms early");
        }
        // ...which fires before this request's due time: it must not end it.
        tokio::time::sleep(ms(30)).await;
        let due = Stamp::now() + ms(60);
        dog.expire(due).await;
        let now = Stamp::now();
        assert!(now >= due);
        let late = now.nanos_since(due);
        assert!(late < 30_000_000, "{late} ns late");
        // A due time before the armed deadline is kept too.
        let far = Stamp::now() + ms(500);
        let _ = tokio::time::timeout(ms(1), dog.expire(far)).await;
        let near = Stamp::now() + ms(20);
        dog.expire(near).await;
        assert!(Stamp::now() < near + ms(30));
    }

    #[test]
    fn the_lead_settles_where_one_wake_up_in_four_is_later_and_shrugs_off_a_stall() {
        // Wake-ups 36–45 µs late, evenly spread: a quarter are later than ~42.7 µs.
        let mut late = Lateness::default();
        let sample = |k: u64| 36_000 + (k * 7_919) % 9_001;
        let (mut later, mut lead_sum) = (0, 0);
        for k in 0..10_000 {
            let wake = sample(k);
            if k >= 1_000 {
                later += u64::from(wake > late.estimate_ns);
                lead_sum += late.estimate_ns;
            }
            late.observe(wake);
        }
        assert!(
            (2_000..=2_500).contains(&later),
            "{later} of 9,000 later than the lead"
        );
        let mean_lead = lead_sum / 9_000;
        assert!((40_000..=44_000).contains(&mean_lead), "{mean_lead} ns");
        // A 5 ms stall moves it by one step, and any number of them no further than the cap.
        let before = late.lead();
        late.observe(5_000_000);
        assert!(late.lead() <= before + Duration::from_micros(3));
        for _ in 0..1_000 {
            late.observe(5_000_000);
        }
        assert_eq!(late.lead(), MAX_LEAD);
    }

    /// How many times this thread has gone to sleep.
    fn voluntary_switches() -> u64 {
        let status = std::fs::read_to_string("/proc/thread-self/status").unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
            .and_then(|n| n.trim().parse().ok())
            .unwrap()
    }

    #[tokio::test]
    async fn a_blocking_timer_wakes_on_time_and_what_lands_meanwhile_does_not_wake_it() {
        use tokio::io::AsyncReadExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let writer = std::thread::spawn(move || {
            let mut peer = std::net::TcpStream::connect(addr).unwrap();
            for _ in 0..20 {
                std::thread::sleep(Duration::from_millis(2));
                std::io::Write::write_all(&mut peer, b"x").unwrap();
            }
        });
        let (mut conn, _) = listener.accept().await.unwrap();
        let read = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = read.clone();
        let reader = tokio::spawn(async move {
            let mut byte = [0u8; 1];
            while conn.read(&mut byte).await.unwrap_or(0) == 1 {
                counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        });
        let mut timer = Timer::new(TimerKind::Timerfd, true).unwrap();
        let mut late = Vec::new();
        let mut seen = 0;
        let sleeps_before = voluntary_switches();
        while seen < 20 {
            // 4 ms gaps: a byte lands in each while the thread is blocked.
            let at = Instant::now() + Duration::from_millis(4);
            timer.sleep_until(at).await;
            late.push(Instant::now() - at);
            // What landed during the block is read once the runtime runs
            // (as the open model's pacer yields after each arrival).
            tokio::task::yield_now().await;
            tokio::task::yield_now().await;
            let now_seen = read.load(std::sync::atomic::Ordering::Relaxed);
            if seen < 19 && late.len() > 1 {
                assert!(now_seen > seen, "nothing read after wake {}", late.len());
            }
            seen = now_seen;
            assert!(late.len() < 100, "only {seen} of 20 bytes read");
        }
        // One sleep per wait: the bytes landing did not wake the thread.
        let sleeps = voluntary_switches() - sleeps_before;
        assert!(
            sleeps <= late.len() as u64 + 3,
            "{sleeps} sleeps in {} waits",
            late.len()
        );
        writer.join().unwrap();
        reader.await.unwrap();
        late.sort();
        assert!(
            late[late.len() / 2] < Duration::from_micros(300),
            "{late:?}"
        );
    }

    #[tokio::test]
    async fn a_timerfd_wakes_within_a_fraction_of_a_millisecond() {
        let mut timer = Timer::new(TimerKind::Timerfd, false).unwrap();
        let mut late = Vec::new();
        for _ in 0..50 {
            let at = Instant::now() + Duration::from_micros(700);
            timer.sleep_until(at).await;
            late.push(Instant::now() - at);
        }
        late.sort();
        // tokio's timer would be ~0.3–1.3 ms late; even a loaded box wakes a
        // timerfd well within that.
        assert!(late[25] < Duration::from_micros(300), "{late:?}");
        // Cancelled waits leave nothing behind that wakes the next one early.
        let at = Instant::now() + Duration::from_millis(1);
        let _ = tokio::time::timeout(Duration::from_micros(100), timer.sleep_until(at)).await;
        let next = Instant::now() + Duration::from_millis(3);
        timer.sleep_until(next).await;
        assert!(Instant::now() >= next);
    }
}
