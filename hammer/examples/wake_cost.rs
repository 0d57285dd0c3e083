//! What one sleep-and-wake costs on this machine, with nothing else in the
//! loop: a thread waits on a periodic timerfd RATE times a second for
//! SECONDS and reports the CPU time it was charged per wake-up, and how late
//! it ran after each expiry (p50, p99, max). An open-model generator that
//! sends each arrival on its own time pays at least this CPU per arrival
//! (and again for the response's wake), and its sends are this late unless
//! it wakes early and spins, whatever it is written in; hammer/README.md
//! ("Fixed rate", "Send precision") sets hammer's figures beside it.
//!
//!   cargo run --release -p hammer --example wake_cost -- 1000 3
//!   taskset -c 0 target/release/examples/wake_cost 5000 3

use std::time::Duration;

use rustix::time::{
    timerfd_create, timerfd_settime, Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags,
    Timespec,
};

fn main() {
    let mut args = std::env::args().skip(1);
    let rate: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let seconds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);
    if rate == 0 || rate > 1_000_000 || seconds == 0 || seconds > 60 {
        eprintln!("wake_cost: usage: wake_cost [RATE 1..1000000] [SECONDS 1..60]");
        std::process::exit(2);
    }
    let period = Duration::from_nanos(1_000_000_000 / rate);
    let tick = Timespec {
        tv_sec: period.as_secs() as _,
        tv_nsec: period.subsec_nanos() as _,
    };
    let fd = timerfd_create(TimerfdClockId::Monotonic, TimerfdFlags::CLOEXEC)
        .unwrap_or_else(|e| fail("timerfd_create", e));
    let spec = Itimerspec {
        it_interval: tick,
        it_value: tick,
    };
    // Taken before the timer is armed: the expiries come no earlier than
    // start + k × period, so a wake-up's lateness is never under-counted.
    let start = std::time::Instant::now();
    timerfd_settime(&fd, TimerfdTimerFlags::empty(), &spec)
        .unwrap_or_else(|e| fail("timerfd_settime", e));
    let before = cpu_seconds();
    let mut wakes = 0u64;
    let mut expiries = 0u64;
    let mut late_ns = Vec::with_capacity((rate * seconds) as usize);
    while expiries < rate * seconds {
        let mut count = [0u8; 8];
        rustix::io::read(&fd, &mut count).unwrap_or_else(|e| fail("read", e));
        expiries += u64::from_ne_bytes(count);
        wakes += 1;
        // The latest expiry read was due at start + expiries × period.
        let due = period * expiries as u32;
        late_ns.push(start.elapsed().saturating_sub(due).as_nanos() as u64);
    }
    let cpu = cpu_seconds() - before;
    late_ns.sort_unstable();
    let us = |q: f64| late_ns[((late_ns.len() - 1) as f64 * q) as usize] as f64 / 1e3;
    println!(
        "{rate}/s for {seconds}s: {wakes} wake-ups ({} expiries), {:.1} CPU-µs per wake-up, \
         late by {:.1} µs p50, {:.1} p99, {:.1} max",
        expiries,
        cpu * 1e6 / wakes as f64,
        us(0.5),
        us(0.99),
        us(1.0)
    );
}

/// This process's CPU time so far (user and system, to the nanosecond).
fn cpu_seconds() -> f64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    t.tv_sec as f64 + t.tv_nsec as f64 / 1e9
}

fn fail(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("wake_cost: {what}: {e}");
    std::process::exit(1);
}
