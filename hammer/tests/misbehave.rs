//! Faults at the target (issue 8): a raw-TCP server inside the test that
//! misbehaves in one way per port. For each fault, hammer's error kinds are
//! the right ones, its `--timeout` and `--max-body` hold, it ends within
//! duration + grace, and every request it started is an event.

mod common;

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;

#[derive(Clone, Copy, Debug)]
enum Fault {
    Silent,
    CloseMidHeaders,
    Garbage,
    Trickle,
    Huge,
    Random5xx,
    Pause,
}

fn serve(mut s: TcpStream, fault: Fault, sent: Arc<AtomicU64>, n: u64) {
    let _ = s.set_write_timeout(Some(Duration::from_secs(10)));
    let mut k = n;
    while read_head(&mut s).is_some() {
        k += 1;
        let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        match fault {
            Fault::Silent => {
                std::thread::sleep(Duration::from_secs(20));
                return;
            }
            Fault::CloseMidHeaders => {
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Len");
                return;
            }
            Fault::Garbage => {
                let _ = s.write_all(b"\x00\x01 this is not HTTP at all\r\n\r\n");
                return;
            }
            Fault::Trickle => {
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
                for _ in 0..100 {
                    if s.write_all(b"x").is_err() {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
            Fault::Huge => {
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n");
                let chunk = vec![b'x'; 64 * 1024];
                // Lazily, until hammer stops reading (or 1 GB).
                for _ in 0..(1 << 30) / chunk.len() {
                    if s.write_all(&chunk).is_err() {
                        return;
                    }
                    sent.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                }
                return;
            }
            Fault::Random5xx => {
                let head: &[u8] = match k % 3 {
                    0 => b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 2\r\n\r\nno",
                    1 => b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\n\r\nno",
                    _ => ok,
                };
                if s.write_all(head).is_err() {
                    return;
                }
            }
            Fault::Pause => {
                std::thread::sleep(Duration::from_millis(1500));
                if s.write_all(ok).is_err() {
                    return;
                }
            }
        }
    }
}

/// Starts a misbehaving server; returns its URL and the body bytes it sent.
fn start(fault: Fault) -> (String, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/x", listener.local_addr().unwrap());
    let sent = Arc::new(AtomicU64::new(0));
    let counter = sent.clone();
    std::thread::spawn(move || {
        // Bounded: a handful of connections per fault.
        for (n, conn) in listener.incoming().take(64).enumerate() {
            let Ok(conn) = conn else { continue };
            let counter = counter.clone();
            std::thread::spawn(move || serve(conn, fault, counter, n as u64));
        }
    });
    (url, sent)
}

/// (fault, requests, allowed error kinds (None = success), extra flags)
type Case = (
    Fault,
    u64,
    &'static [Option<&'static str>],
    &'static [&'static str],
);

struct Row {
    fault: String,
    kinds: String,
    lost: i64,
    took: Duration,
}

#[test]
fn target_faults_give_the_right_error_kinds_and_lose_nothing() {
    let mut table = Vec::new();

    // Refused: a port just freed. The preflight says so (exit 3), no events.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/x");
    let t = Instant::now();
    let out = hammer(&["--url", &url, "--requests", "5", "--duration", "5s"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    table.push(Row {
        fault: "refused (closed port)".into(),
        kinds: "exit 3 at preflight".into(),
        lost: 0,
        took: t.elapsed(),
    });

    let cases: [Case; 7] = [
        (
            Fault::Silent,
            4,
            &[Some("timeout")],
            &["--timeout", "500ms"],
        ),
        (Fault::CloseMidHeaders, 10, &[Some("reset")], &[]),
        (Fault::Garbage, 10, &[Some("other")], &[]),
        (Fault::Trickle, 4, &[Some("timeout")], &["--timeout", "1s"]),
        (
            Fault::Huge,
            3,
            &[Some("body")],
            &["--max-body", "1M", "--timeout", "20s"],
        ),
        (Fault::Random5xx, 30, &[Some("status"), None], &[]),
        (Fault::Pause, 4, &[None], &["--timeout", "5s"]),
    ];
    let duration = Duration::from_secs(20);
    let grace = Duration::from_secs(2);
    for (fault, n, allowed, flags) in cases {
        let (url, sent) = start(fault);
        let t = Instant::now();
        let mut args = vec![
            "--url",
            &url,
            "--vus",
            "2",
            "--duration",
            "20s",
            "--grace",
            "2s",
        ];
        let n_text = n.to_string();
        args.extend(["--requests", &n_text]);
        args.extend(flags);
        let out = hammer(&args);
        let took = t.elapsed();
        assert!(out.status.success(), "{fault:?}: {}", stderr(&out));
        let events = events(&out.stdout);
        let summary = summary_requests(&stderr(&out));
        let mut kinds: Vec<String> = events
            .iter()
            .map(|e| e.error.clone().unwrap_or_else(|| "ok".into()))
            .collect();
        kinds.sort();
        kinds.dedup();
        for e in &events {
            assert!(
                allowed.contains(&e.error.as_deref()),
                "{fault:?}: {:?} ({:?})",
                e.error,
                e.detail
            );
        }
        let lost = n as i64 - events.len() as i64;
        assert_eq!(lost, 0, "{fault:?}: {} events of {n}", events.len());
        assert_eq!(summary, events.len() as u64, "{fault:?}");
        assert!(
            took < duration + grace + Duration::from_secs(5),
            "{fault:?}: {took:?}"
        );
        match fault {
            Fault::Silent | Fault::Trickle => {
                let limit = if matches!(fault, Fault::Silent) {
                    500
                } else {
                    1000
                };
                for e in &events {
                    let ms = e.latency_ns / 1_000_000;
                    assert!(
                        ms >= limit && ms < limit + 2000,
                        "{fault:?}: timed out after {ms} ms"
                    );
                }
            }
            Fault::Huge => {
                // Stopped at --max-body, not 1 GB (socket buffers aside).
                let bytes = sent.load(Ordering::Relaxed);
                assert!(bytes < 64 << 20, "{fault:?}: the server sent {bytes} bytes");
                for e in &events {
                    assert!(
                        e.status == 200 && e.bytes_in <= (1 << 20) + (64 << 10),
                        "{fault:?}: {} bytes, status {}",
                        e.bytes_in,
                        e.status
                    );
                }
            }
            Fault::Random5xx => {
                assert!(kinds.contains(&"status".to_string()), "{kinds:?}");
                assert!(events
                    .iter()
                    .filter(|e| e.error.is_some())
                    .all(|e| e.status == 500 || e.status == 503));
            }
            Fault::Pause => {
                assert!(events.iter().all(|e| e.latency_ns >= 1_400_000_000));
            }
            _ => {}
        }
        table.push(Row {
            fault: format!("{fault:?}"),
            kinds: kinds.join(", "),
            lost,
            took,
        });
    }
    eprintln!("| fault | error kinds seen | events lost | run time (limit: 20 s + 2 s grace) |");
    eprintln!("|---|---|---:|---:|");
    for r in &table {
        eprintln!(
            "| {} | {} | {} | {:.1?} |",
            r.fault, r.kinds, r.lost, r.took
        );
    }
}
