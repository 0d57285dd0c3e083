//! CPU shares against the real machine: a busy loop pinned to core 0 and an
//! idle sleeper. A file of its own, so no other test of this crate runs
//! beside it (cargo runs test files one after another) to take core 0.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{parse, Helper};
use records::testkit::{cmd, run_bounded};

/// Time on CPU of a single-threaded process in ns, from the scheduler's own
/// accounting (/proc/PID/schedstat), which hostwatch does not read.
fn schedstat_ns(pid: u32) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/schedstat")).unwrap();
    text.split_whitespace().next().unwrap().parse().unwrap()
}

fn mean(values: impl Iterator<Item = u32>) -> f64 {
    let v: Vec<u32> = values.collect();
    assert!(!v.is_empty(), "no values to average");
    v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64
}

#[test]
fn a_pinned_busy_loop_reads_100_percent_of_its_core_and_a_sleeper_0() {
    // The machine may be shared with builds: as root the loop runs at nice
    // -20, so its share of core 0 really is ~100%; without the privilege it
    // runs as it can, and its figure is checked against the scheduler's.
    let niced = Command::new("nice")
        .args(["-n", "-20", "true"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let mut busy = Command::new("taskset");
    busy.args(["-c", "0"]);
    if niced {
        busy.args(["nice", "-n", "-20"]);
    } else {
        eprintln!("NOTE: cannot raise priority; the busy loop competes for core 0 as it is");
    }
    busy.args(["sh", "-c", "while :; do :; done"]);
    let busy = Helper::spawn(&mut busy);
    let sleeper = Helper::spawn(Command::new("sleep").arg("60"));
    std::thread::sleep(Duration::from_millis(200));

    let (b, s) = (busy.pid().to_string(), sleeper.pid().to_string());
    let before = (Instant::now(), schedstat_ns(busy.pid()));
    let out = run_bounded(
        cmd("hostwatch").args([
            "--pid",
            &b,
            "--pid",
            &s,
            "--interval",
            "100ms",
            "--count",
            "20",
        ]),
        Duration::from_secs(30),
    );
    let truth = (schedstat_ns(busy.pid()) - before.1) as f64 / before.0.elapsed().as_nanos() as f64
        * 1000.0;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let got = parse(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(got.hosts.len(), 20, "{stderr}");

    let busy_cpu = mean(
        got.processes
            .iter()
            .filter(|p| p.watch == b)
            .map(|p| p.cpu_permille),
    );
    let sleep_cpu = mean(
        got.processes
            .iter()
            .filter(|p| p.watch == s)
            .map(|p| p.cpu_permille),
    );
    let core0 = mean(got.hosts.iter().map(|h| h.cores[0].cpu_permille));
    eprintln!("busy loop {busy_cpu:.0}‰ (scheduler: {truth:.0}‰), sleeper {sleep_cpu:.0}‰, core 0 {core0:.0}‰");
    assert!(
        (busy_cpu - truth).abs() <= 50.0,
        "hostwatch says {busy_cpu:.0}‰, the scheduler {truth:.0}‰"
    );
    // ~100% when the loop really had core 0 to itself; on a machine busy
    // with other work (other sessions' builds share core 0 whatever our
    // nice), the scheduler's own count above is the truth it is held to.
    if truth >= 900.0 {
        assert!(
            (900.0..=1050.0).contains(&busy_cpu),
            "busy loop at {busy_cpu:.0}‰"
        );
    } else {
        eprintln!(
            "NOTE: other work took core 0: the loop had {truth:.0}‰ by the scheduler's count; \
             hostwatch was held to that instead of ~1000‰"
        );
    }
    assert!(sleep_cpu <= 10.0, "sleeper at {sleep_cpu:.0}‰");
    assert!(core0 >= 950.0, "core 0 at {core0:.0}‰");
    let summary = got.summary.expect("summary record");
    assert_eq!(summary.samples, 20);
    assert!(summary.cores[0].cpu_avg_permille >= 950);
    let p = summary.processes.iter().find(|p| p.watch == b).unwrap();
    assert!((p.cpu_avg_permille as f64 - busy_cpu).abs() <= 1.0);
    assert!(
        stderr.contains(&format!("process {b} (pid {b})")),
        "{stderr}"
    );
}
