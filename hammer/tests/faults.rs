//! Faults on the target and ends of the run: injected errors, stalls, a
//! target killed mid-run, SIGINT, and a reader that goes away.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::time::{Duration, Instant};

use common::*;
use records::testkit::Server;

#[test]
fn injected_failures_are_status_errors() {
    let server = Server::start(&["--hash-cost", "4", "--fail-rate", "0.2"]);
    let url = format!("{}/health", server.url);
    let out = hammer(&["--url", &url, "--vus", "4", "--requests", "2000"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let events = events(&out.stdout);
    assert_eq!(events.len(), 2000);
    let status = events
        .iter()
        .filter(|e| e.error.as_deref() == Some("status"))
        .count();
    assert!(
        (300..=500).contains(&status),
        "{status} status errors of 2000"
    );
    assert!(events.iter().all(|e| e.error.is_none() || e.status == 500));
}

#[test]
fn a_stalled_server_gives_timeouts_and_the_run_ends_on_time() {
    let server = Server::start(&["--hash-cost", "4", "--delay", "10s"]);
    let url = format!("{}/health", server.url);
    let started = Instant::now();
    let out = hammer(&[
        "--url",
        &url,
        "--vus",
        "3",
        "--duration",
        "2s",
        "--timeout",
        "500ms",
    ]);
    let took = started.elapsed();
    assert!(out.status.success(), "{}", stderr(&out));
    let events = events(&out.stdout);
    assert!(events.len() >= 6, "{} events", events.len());
    assert!(events
        .iter()
        .all(|e| e.error.as_deref() == Some("timeout") && e.status == 0));
    assert!(took < Duration::from_secs(4), "took {took:?}");
}

#[test]
fn killing_the_target_gives_connect_or_reset_errors() {
    let mut server = Server::start(&["--hash-cost", "4"]);
    let url = format!("{}/health", server.url);
    let child = spawn_hammer(&[
        "--url",
        &url,
        "--vus",
        "4",
        "--think",
        "10ms",
        "--duration",
        "3s",
    ]);
    std::thread::sleep(Duration::from_millis(1000));
    server.kill();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let events = events(&out.stdout);
    let ok = events.iter().filter(|e| e.error.is_none()).count();
    let broken = events
        .iter()
        .filter(|e| matches!(e.error.as_deref(), Some("connect") | Some("reset")))
        .count();
    assert!(ok > 0 && broken > 0, "{ok} ok, {broken} connect/reset");
    assert_eq!(
        ok + broken,
        events.len(),
        "other errors: {:?}",
        names(&events)
    );
}

#[test]
fn dropped_connections_are_resets() {
    let server = Server::start(&["--hash-cost", "4", "--drop-rate", "0.3"]);
    let url = format!("{}/health", server.url);
    let out = hammer(&["--url", &url, "--vus", "2", "--requests", "300"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let events = events(&out.stdout);
    let resets = events
        .iter()
        .filter(|e| e.error.as_deref() == Some("reset"))
        .count();
    // Every dropped request is reported, none retried away: 300 × 0.3 = 90,
    // binomial σ ≈ 8, so 55..=125 is over 4σ either side.
    assert_eq!(events.len(), 300);
    assert!(
        (55..=125).contains(&resets),
        "{resets} resets of {}",
        events.len()
    );
    assert!(events
        .iter()
        .all(|e| e.error.is_none() || e.error.as_deref() == Some("reset")));
}

#[test]
fn sigint_ends_the_run_with_every_request_accounted_for() {
    let server = Server::start(&["--hash-cost", "4", "--delay", "200ms"]);
    let url = format!("{}/health", server.url);
    let child = spawn_hammer(&["--url", &url, "--vus", "5", "--duration", "30s"]);
    std::thread::sleep(Duration::from_millis(1100));
    let sent = Instant::now();
    interrupt(&child);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(sent.elapsed() < Duration::from_secs(3));
    let events = events(&out.stdout);
    // The requests in flight at the signal finished within the grace period
    // and were written: the summary counts exactly the events on stdout.
    assert_eq!(summary_requests(&stderr(&out)), events.len() as u64);
    assert!(events.len() >= 10, "{}", events.len());
    assert!(
        events.iter().all(|e| e.error.is_none()),
        "{:?}",
        names(&events)
    );
}

#[test]
fn requests_still_in_flight_after_the_grace_are_written_as_cancelled() {
    let server = Server::start(&["--hash-cost", "4", "--delay", "5s"]);
    let url = format!("{}/health", server.url);
    let child = spawn_hammer(&[
        "--url",
        &url,
        "--vus",
        "3",
        "--duration",
        "30s",
        "--grace",
        "300ms",
    ]);
    std::thread::sleep(Duration::from_millis(800));
    interrupt(&child);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let events = events(&out.stdout);
    assert_eq!(events.len(), 3, "{:?}", names(&events));
    assert!(events.iter().all(|e| e.error.as_deref() == Some("other")
        && e.detail.as_deref().unwrap_or("").contains("cancelled")));
    assert!(
        stderr(&out).contains("3 aborted in flight"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_closed_stdout_ends_the_run_quietly() {
    let server = Server::start(&["--hash-cost", "4"]);
    let url = format!("{}/health", server.url);
    let mut child = spawn_hammer(&["--url", &url, "--vus", "2", "--duration", "30s"]);
    let started = Instant::now();
    {
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        serde_json::from_str::<records::Event>(&line).unwrap();
    } // the reader goes away
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(!err.contains("error"), "{err}");
}
