//! Measurement truth (issue 12), against the real tasktracker on loopback:
//! open-model sends leave on time, lag and service time mean what they say,
//! every arrival is accounted for, rates are per second of the load window,
//! and a starved generator says so.

mod common;

use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use common::*;
use records::testkit::{bin, Server};

/// One test at a time: these measure time, and a 10,000/s run beside a
/// precision run would measure the other test.
fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs an open-model hammer at `rate` for `duration` against `url`;
/// returns the lag and service-time medians, in ns.
fn open_run(url: &str, rate: &str, duration: &str) -> (u64, u64, u64) {
    let out = hammer(&["--url", url, "--rate", rate, "--duration", duration]);
    assert!(out.status.success(), "{}", stderr(&out));
    let events = events(&out.stdout);
    assert!(events.iter().all(|e| e.error.is_none()), "{}", stderr(&out));
    let mut lag: Vec<u64> = events.iter().map(|e| e.lag_ns).collect();
    let mut service: Vec<u64> = events.iter().map(|e| e.latency_ns).collect();
    let mut corrected: Vec<u64> = events.iter().map(|e| e.lag_ns + e.latency_ns).collect();
    (
        percentile(&mut lag, 0.5),
        percentile(&mut service, 0.5),
        percentile(&mut corrected, 0.5),
    )
}

#[test]
fn open_model_sends_within_microseconds_of_the_schedule() {
    let _serial = serial();
    let server = Server::start(&["--hash-cost", "4"]);
    let url = format!("{}/health", server.url);
    // tokio's 1 ms timer made the median lag ~1 ms whatever the box; a busy
    // CI box can still delay a wake-up now and then, so one run of three
    // within the bound shows the sends are precise (a millisecond timer
    // never gets there).
    let mut medians = Vec::new();
    for _ in 0..3 {
        let (lag, _, _) = open_run(&url, "200", "2s");
        medians.push(lag);
        if lag < 200_000 {
            return;
        }
    }
    panic!("lag_ns p50 of three runs: {medians:?} (bound 200 µs)");
}

#[test]
fn a_vu_whose_response_landed_is_free_for_the_next_arrival() {
    let _serial = serial();
    let server = Server::start(&["--hash-cost", "4"]);
    let url = format!("{}/health", server.url);
    // One VU, answered in ~0.1 ms, 5 ms between arrivals: it is free at each
    // one. (The pacer waits blocked, so a response may still be unread when
    // the next arrival is due: it must be read before that arrival is
    // called dropped.) A loaded box may really find it busy now and then:
    // with two CPU hogs beside it 5–11 of 400 were, and a CI run once saw
    // 17. Without that reading 150–158 were dropped.
    let out = hammer(&[
        "--url",
        &url,
        "--rate",
        "200",
        "--duration",
        "2s",
        "--max-vus",
        "1",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let arrivals = arrivals(&stderr(&out));
    assert_eq!(arrivals.scheduled, 400, "{arrivals:?}");
    assert!(arrivals.dropped <= 40, "{arrivals:?}");
    assert_eq!(events(&out.stdout).len() as u64, arrivals.sent);
}

#[test]
fn corrected_time_is_service_time_when_the_target_keeps_up() {
    let _serial = serial();
    let server = Server::start(&["--hash-cost", "4", "--delay", "5ms"]);
    let url = format!("{}/health", server.url);
    // tasktracker's delay sleeps on tokio's 1 ms timer, so its own service
    // time is 5–6 ms, plus its work and its wake-ups: up to 7.1 ms seen with
    // debug builds on a 2-core box at load average 6, hence the 8 ms bound.
    // The point is the corrected time: with sends on time it is the service
    // time (the old ~1 ms of timer lag made it ~1 ms more).
    let mut seen = Vec::new();
    for _ in 0..3 {
        let (lag, service, corrected) = open_run(&url, "100", "2s");
        seen.push((lag, service, corrected));
        assert!(
            (5_000_000..=8_000_000).contains(&service),
            "service p50 {service} ns, not 5–8 ms: (lag, service, corrected) {seen:?}"
        );
        if corrected.abs_diff(service) <= 500_000 {
            return;
        }
    }
    panic!("(lag, service, corrected) p50s: {seen:?}: corrected more than 0.5 ms off service");
}

#[test]
fn every_arrival_is_sent_dropped_or_cancelled_at_the_end_of_the_schedule() {
    let _serial = serial();
    let server = Server::start(&["--hash-cost", "4"]);
    let url = format!("{}/health", server.url);
    // 20 runs of 1 s at 10,000/s (the issue asks for 2 s each; 1 s keeps the
    // test near half a minute on a 2-core box, and the losses were at the
    // end of the run, whatever its length). Before the fix the arrivals due
    // in the last millisecond were lost in most runs.
    for run in 0..20 {
        let out = hammer(&["--url", &url, "--rate", "10000", "--duration", "1s"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let err = stderr(&out);
        let events = events(&out.stdout).len() as u64;
        let a = arrivals(&err);
        assert_eq!(a.scheduled, 10_000, "run {run}: {a:?}");
        // A hammer that keeps up sends its whole schedule; one that fell
        // behind (it says so) may run out of grace before its backlog.
        if !err.contains("CPU-bound") {
            assert_eq!(a.cancelled, 0, "run {run}: {err}");
        }
        assert_eq!(a.sent, events, "run {run}: {a:?}");
        assert_eq!(
            a.scheduled,
            events + a.dropped + a.cancelled,
            "run {run}: {a:?}"
        );
    }
}

#[test]
fn every_arrival_is_accounted_for_when_a_signal_stops_the_run() {
    let _serial = serial();
    let server = Server::start(&["--hash-cost", "4"]);
    let url = format!("{}/health", server.url);
    for (run, after_ms) in [300u64, 550, 800, 1050, 1300].into_iter().enumerate() {
        let child = spawn_hammer(&["--url", &url, "--rate", "5000", "--duration", "10s"]);
        std::thread::sleep(Duration::from_millis(after_ms));
        let signalled = Instant::now();
        interrupt(&child);
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(signalled.elapsed() < Duration::from_secs(6));
        let events = events(&out.stdout).len() as u64;
        let a = arrivals(&stderr(&out));
        assert_eq!(a.sent, events, "run {run}: {a:?}");
        assert_eq!(
            a.scheduled,
            events + a.dropped + a.cancelled,
            "run {run}: {a:?}"
        );
        // Stopped early: about as many arrivals came due as the time allowed.
        assert!(
            a.scheduled > 5 * after_ms / 2 && a.scheduled < 5 * (after_ms + 1000),
            "run {run}, signal after {after_ms} ms: {a:?}"
        );
    }
}

#[test]
fn rates_are_per_second_of_load_and_the_drain_is_reported_apart() {
    let _serial = serial();
    // Every request waits 100 ms, and the server stalls for 500 ms every
    // second: the last requests finish well after the schedule's end.
    let server = Server::start(&[
        "--hash-cost",
        "4",
        "--delay",
        "100ms",
        "--stall-every",
        "1s",
        "--stall-for",
        "500ms",
    ]);
    let url = format!("{}/health", server.url);
    let out = hammer(&["--url", &url, "--rate", "500", "--duration", "5s"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    let events = events(&out.stdout);
    assert_eq!(events.len(), 2500, "{err}");
    let (load, rate, drain) = window(&err);
    assert!((load - 5.0).abs() < 0.01, "{err}");
    assert!((rate - 500.0).abs() <= 5.0, "{err}");
    assert!(drain >= 0.09, "{err}");
    // The events' own times agree: the last send is within the load window,
    // the last completion after it, by about the drain.
    let first = events.iter().map(|e| e.ts - e.lag_ns).min().unwrap();
    let last_done = events.iter().map(|e| e.ts + e.latency_ns).max().unwrap();
    let span = (last_done - first) as f64 / 1e9;
    assert!((span - (load + drain)).abs() < 0.1, "{span} s: {err}");
}

/// A process burning core 0 until dropped.
struct Hog(Child);

impl Hog {
    fn start() -> Hog {
        Hog(Command::new("taskset")
            .args(["-c", "0", "sh", "-c", "while :; do :; done"])
            .stdout(Stdio::null())
            .spawn()
            .expect("taskset (util-linux) is needed for this test"))
    }
}

impl Drop for Hog {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_starved_generator_warns_that_it_is_cpu_bound() {
    let _serial = serial();
    let server = Server::start(&["--hash-cost", "4"]);
    let url = format!("{}/health", server.url);
    let hog = Hog::start();
    // One worker on the hog's core, asked for more than it can send.
    let out = Command::new("taskset")
        .args(["-c", "0"])
        .arg(bin("hammer"))
        .args([
            "--url",
            &url,
            "--rate",
            "50000",
            "--duration",
            "6s",
            "--threads",
            "1",
            "-o",
            "/dev/null",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("run taskset hammer");
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let warnings = err.matches("hammer is CPU-bound").count();
    assert_eq!(warnings, 1, "{err}");
    assert!(
        err.contains("use more --threads, machines or a lower rate"),
        "{err}"
    );

    drop(hog);

    // An idle generator does not warn.
    let calm = hammer(&["--url", &url, "--rate", "100", "--duration", "4s"]);
    assert!(!stderr(&calm).contains("CPU-bound"), "{}", stderr(&calm));
}

#[test]
fn vus_whose_turn_came_and_never_ran_are_counted_not_lost() {
    let _serial = serial();
    let server = Server::start(&["--hash-cost", "4"]);
    let url = format!("{}/health", server.url);
    // A spike to 2,000 VUs and back within 40 ms, on one thread: a VU near
    // the top has a turn shorter than tokio's 1 ms timer, wakes after it has
    // passed, and never runs; the lower ones run. Every VU the stages called
    // for either sent (it has events) or is counted as not started, in the
    // load record and on the closing line.
    let out = hammer(&[
        "--url",
        &url,
        "--stages",
        "20ms:2000,20ms:0,300ms:0",
        "--threads",
        "1",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let load = load_of(&out);
    let ran: std::collections::BTreeSet<u32> = events(&out.stdout).iter().map(|e| e.vu).collect();
    assert!(
        load.vus_not_started > 0 && !ran.is_empty(),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        ran.len() as u64 + load.vus_not_started,
        2000,
        "VUs that sent: {}, not started: {}",
        ran.len(),
        load.vus_not_started
    );
    assert!(
        stderr(&out).contains(&format!("{} VUs not started", load.vus_not_started)),
        "{}",
        stderr(&out)
    );
    // A steady run starts every VU: nothing to report.
    let steady = hammer(&["--url", &url, "--vus", "5", "--duration", "300ms"]);
    assert!(steady.status.success(), "{}", stderr(&steady));
    assert_eq!(load_of(&steady).vus_not_started, 0);
    assert!(!stderr(&steady).contains("not started"));
}

fn load_of(out: &std::process::Output) -> records::Load {
    load(&out.stdout).expect("a load record")
}

#[test]
fn a_stop_during_a_ramp_counts_no_vu_as_not_started() {
    let _serial = serial();
    let server = Server::start(&["--hash-cost", "4"]);
    let url = format!("{}/health", server.url);
    // 2,000 VUs a second ramping up, ^C after ~1 s: every VU still waiting
    // for its turn wakes and ends at once. Those whose turn falls after the
    // stop never had one; counting to each VU's own exit, not to the stop,
    // made dozens of them "not started".
    let child = spawn_hammer(&[
        "--url",
        &url,
        "--stages",
        "10s:20000",
        "--think",
        "1s",
        "--threads",
        "1",
    ]);
    std::thread::sleep(Duration::from_millis(1000));
    interrupt(&child);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let load = load_of(&out);
    assert!(!events(&out.stdout).is_empty(), "{}", stderr(&out));
    // A VU whose turn came in the last timer tick before the stop may
    // still be waking: a few, never dozens.
    assert!(
        load.vus_not_started <= 5,
        "{} VUs not started after a ^C: {}",
        load.vus_not_started,
        stderr(&out)
    );
}
