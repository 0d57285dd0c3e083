//! Workload models against the real tasktracker: stages ramp the VU count,
//! the open model keeps its rate and measures lateness, and coordinated
//! omission shows in the open model but hides in the closed one.

mod common;

use std::collections::BTreeSet;

use common::*;
use records::testkit::Server;

#[test]
fn stages_ramp_the_vu_count() {
    let server = Server::start(&["--hash-cost", "4"]);
    let url = format!("{}/health", server.url);
    // 0→8 over 2 s, hold 1 s, 8→0 over 2 s.
    let out = hammer(&[
        "--url",
        &url,
        "--stages",
        "2s:8,1s:8,2s:0",
        "--think",
        "20ms",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let events = events(&out.stdout);
    let start = events.iter().map(|e| e.ts).min().unwrap();
    let target = |t: f64| -> f64 {
        match t {
            t if t < 2.0 => 4.0 * t,
            t if t < 3.0 => 8.0,
            t if t < 5.0 => 8.0 - 4.0 * (t - 3.0),
            _ => 0.0,
        }
    };
    // The first event is sent a little after the run starts; a window of
    // 0.5 s then sees the VUs active at some point within it.
    for w in 0..10 {
        let (a, b) = (w as f64 * 0.5, (w + 1) as f64 * 0.5);
        let active: BTreeSet<u32> = events
            .iter()
            .filter(|e| {
                let t = (e.ts - start) as f64 / 1e9;
                t >= a && t < b
            })
            .map(|e| e.vu)
            .collect();
        let expected = target(a).max(target(b - 1e-9)).ceil() as usize;
        assert!(
            active.len() + 1 >= expected && active.len() <= expected + 1,
            "window {a}-{b}s: {} VUs active, expected {expected}",
            active.len()
        );
        // The VUs active are the lowest-numbered ones.
        assert!(
            active.iter().all(|&vu| vu as usize <= expected + 1),
            "{active:?}"
        );
    }
    let last = events.iter().map(|e| e.ts).max().unwrap();
    assert!(
        (last - start) as f64 / 1e9 < 5.2,
        "events after the stages ended"
    );
}

#[test]
fn locust_spawn_rate_starts_users_one_by_one() {
    let server = Server::start(&["--hash-cost", "4"]);
    let url = format!("{}/health", server.url);
    let out = hammer(&[
        "--url",
        &url,
        "--spawn-users",
        "4",
        "--spawn-rate",
        "2",
        "--duration",
        "3s",
        "--think",
        "50ms",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let events = events(&out.stdout);
    let start = events.iter().map(|e| e.ts).min().unwrap();
    for vu in 1..=4u32 {
        let first = events
            .iter()
            .filter(|e| e.vu == vu)
            .map(|e| e.ts)
            .min()
            .unwrap();
        let at = (first - start) as f64 / 1e9;
        let due = (vu - 1) as f64 / 2.0;
        assert!(
            (at - due).abs() < 0.35,
            "VU {vu} started at {at:.2}s, due {due}s"
        );
    }
}

#[test]
fn rates_per_minute_and_hour_are_per_second_rates() {
    let server = Server::start(&["--hash-cost", "4"]);
    let url = format!("{}/health", server.url);
    // 6000/m and 360000/h are both 100 a second: 200 arrivals in 2 s
    for rate in ["6000/m", "360000/h"] {
        let out = hammer(&["--url", &url, "--rate", rate, "--duration", "2s"]);
        assert!(out.status.success(), "{rate}: {}", stderr(&out));
        let n = events(&out.stdout).len();
        assert!((195..=205).contains(&n), "{rate}: {n} events");
    }
}

#[test]
fn open_model_keeps_its_rate_and_reports_lag() {
    let server = Server::start(&["--hash-cost", "4"]);
    let url = format!("{}/health", server.url);
    let out = hammer(&["--url", &url, "--rate", "200", "--duration", "5s"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let events = events(&out.stdout);
    assert!(
        (980..=1020).contains(&events.len()),
        "{} events",
        events.len()
    );
    assert!(events.iter().all(|e| e.error.is_none()));
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(text
        .lines()
        .filter(|l| !l.starts_with("{\"kind\":"))
        .all(|l| l.contains("\"lag_ns\":")));
    // Sends are on time on an idle target: the median lag is small.
    let mut lags: Vec<u64> = events.iter().map(|e| e.lag_ns).collect();
    assert!(percentile(&mut lags, 0.5) < 20_000_000);
    assert!(stderr(&out).contains(" 0 dropped"), "{}", stderr(&out));
}

#[test]
fn arrivals_beyond_the_in_flight_cap_are_counted_as_dropped() {
    let server = Server::start(&["--hash-cost", "4", "--delay", "500ms"]);
    let url = format!("{}/health", server.url);
    // 100/s for 1 s with 10 VUs that each take 0.5 s: about half can be sent.
    let out = hammer(&[
        "--url",
        &url,
        "--rate",
        "100",
        "--duration",
        "1s",
        "--max-vus",
        "10",
        "--threads",
        "1",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let sent = events(&out.stdout).len() as u64;
    let err = stderr(&out);
    let a = arrivals(&err);
    assert_eq!(sent, a.sent, "{err}");
    assert_eq!(a.scheduled, 100, "{err}");
    assert_eq!(sent + a.dropped, 100, "{err}");
    assert!(a.dropped >= 50, "{err}");
}

#[test]
fn coordinated_omission_shows_in_the_open_model_only() {
    let server = Server::start(&[
        "--hash-cost",
        "4",
        "--stall-every",
        "1s",
        "--stall-for",
        "300ms",
    ]);
    let url = format!("{}/health", server.url);
    let open = hammer(&["--url", &url, "--rate", "100", "--duration", "3s"]);
    assert!(open.status.success(), "{}", stderr(&open));
    let open = events(&open.stdout);
    let mut response: Vec<u64> = open.iter().map(|e| e.lag_ns + e.latency_ns).collect();
    let p99_open = percentile(&mut response, 0.99);
    assert!(p99_open >= 200_000_000, "open p99 {p99_open} ns");

    let closed = hammer(&[
        "--url",
        &url,
        "--vus",
        "1",
        "--think",
        "0s",
        "--duration",
        "3s",
    ]);
    assert!(closed.status.success(), "{}", stderr(&closed));
    let closed = events(&closed.stdout);
    let mut service: Vec<u64> = closed.iter().map(|e| e.latency_ns).collect();
    let max_closed = *service.iter().max().unwrap();
    let p99_closed = percentile(&mut service, 0.99);
    // The stall happened to the closed run too (its slowest request waited
    // it out), but with one request stuck per stall it vanishes from p99.
    assert!(max_closed >= 150_000_000, "closed max {max_closed} ns");
    assert!(p99_closed < 150_000_000, "closed p99 {p99_closed} ns");
    assert!(closed.iter().all(|e| e.lag_ns == 0));
}

#[test]
fn burst_and_iterations_stop_on_count() {
    let server = Server::start(&["--hash-cost", "4"]);
    let url = format!("{}/health", server.url);
    let out = hammer(&["--url", &url, "--vus", "4", "--requests", "500"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(events(&out.stdout).len(), 500);
    let out = hammer(&[
        "--url",
        &url,
        "--vus",
        "3",
        "--iterations",
        "7",
        "-X",
        "POST",
        "--body",
        "{}",
        "-H",
        "Content-Type: application/json",
    ]);
    let events = events(&out.stdout);
    assert_eq!(events.len(), 21);
    assert!(events
        .iter()
        .all(|e| e.name == "POST /health" && e.bytes_out == 2));
}

#[test]
fn client_options_body_limit_keepalive_and_live_line() {
    let server = Server::start(&["--hash-cost", "4"]);
    let url = format!("{}/health", server.url);
    let out = hammer(&["--url", &url, "--requests", "20", "--max-body", "5"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let limited = events(&out.stdout);
    assert!(
        limited
            .iter()
            .all(|e| e.error.as_deref() == Some("body") && e.status == 200),
        "{:?}",
        limited.first()
    );

    // A new connection per request works as well (tasktracker speaks
    // HTTP/1.1 only, so --http2 is checked by hand against nginx).
    let out = hammer(&[
        "--url",
        &url,
        "--vus",
        "2",
        "--requests",
        "50",
        "--no-keepalive",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let fresh = events(&out.stdout);
    assert_eq!(fresh.len(), 50);
    assert!(
        fresh.iter().all(|e| e.error.is_none()),
        "{:?}",
        fresh.iter().find(|e| e.error.is_some())
    );

    let out = hammer(&[
        "--url",
        &url,
        "--vus",
        "2",
        "--think",
        "10ms",
        "--duration",
        "2500ms",
        "--progress",
    ]);
    let err = stderr(&out);
    let live = err
        .lines()
        .filter(|l| l.contains(" VUs ") && l.contains(" req/s ") && l.contains("p99"))
        .count();
    assert!(live >= 2, "{err}");
    let quiet = hammer(&["--url", &url, "--requests", "5", "--quiet"]);
    assert!(quiet.stderr.is_empty(), "{}", stderr(&quiet));
}

#[test]
fn rate_stages_ramp_the_arrivals() {
    let server = Server::start(&["--hash-cost", "4"]);
    let url = format!("{}/health", server.url);
    // 0→100/s over 1 s (50 arrivals), then 100/s for 1 s (100 more).
    let out = hammer(&["--url", &url, "--rate-stages", "1s:100,1s:100"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let events = events(&out.stdout);
    assert!(
        (147..=151).contains(&events.len()),
        "{} events",
        events.len()
    );
    let start = events.iter().map(|e| e.ts - e.lag_ns).min().unwrap();
    let first_half = events
        .iter()
        .filter(|e| e.ts - e.lag_ns - start < 500_000_000)
        .count();
    // 0→50/s over the first half second: about 12 arrivals.
    assert!(
        (8..=17).contains(&first_half),
        "{first_half} in the first 0.5 s"
    );
}

#[test]
fn connect_time_on_new_connections_and_first_byte_within_latency() {
    let server = Server::start(&["--hash-cost", "4", "--delay", "2ms"]);
    let url = format!("{}/health", server.url);
    // Kept alive: each of the 2 VUs opens one connection, on its first request.
    let out = hammer(&["--url", &url, "--vus", "2", "--requests", "40"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let kept = events(&out.stdout);
    assert_eq!(kept.len(), 40);
    let opened: Vec<u32> = kept
        .iter()
        .filter(|e| e.connect_ns.is_some())
        .map(|e| e.vu)
        .collect();
    assert_eq!(opened.len(), 2, "connections opened: {opened:?}");
    // --no-keepalive: every request opens its own.
    let out = hammer(&[
        "--url",
        &url,
        "--vus",
        "2",
        "--requests",
        "20",
        "--no-keepalive",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let fresh = events(&out.stdout);
    assert!(fresh.iter().all(|e| e.connect_ns.is_some()), "{fresh:?}");
    for e in kept.iter().chain(&fresh) {
        let ttfb = e.ttfb_ns.expect("every answered request has a first byte");
        assert!(
            ttfb <= e.latency_ns,
            "ttfb {ttfb} > latency {}",
            e.latency_ns
        );
        // The 2 ms delay is spent before the first byte.
        assert!(ttfb >= 2_000_000, "ttfb {ttfb} under the target's delay");
        if let Some(connect) = e.connect_ns {
            assert!(connect + ttfb <= e.latency_ns, "{e:?}");
        }
    }
}
