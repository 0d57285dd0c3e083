//! Fault switches, start-up failures and shutdown, against the real binary.

mod common;

use common::Api;
use records::testkit::{self, wait_bounded, Server};
use serde_json::json;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn fail_rate_one_answers_500_with_json() {
    for arch in ["mono", "micro"] {
        let server = Server::start(&["--arch", arch, "--fail-rate", "1"]);
        let api = Api::new(&server.url);
        for path in ["/health", "/api/v1/tasks/"] {
            let r = api.call("GET", path, None, None);
            assert_eq!(r.status, 500, "{arch} {path}: {}", r.text);
            assert!(r.detail().is_string());
        }
    }
}

#[test]
fn fail_rate_zero_point_five_fails_some() {
    let server = Server::start(&["--fail-rate", "0.5"]);
    let api = Api::new(&server.url);
    let statuses: Vec<u16> = (0..60)
        .map(|_| api.call("GET", "/health", None, None).status)
        .collect();
    let failed = statuses.iter().filter(|&&s| s == 500).count();
    // P(outside 10..=50 of 60 at p=0.5) is below 1e-7.
    assert!((10..=50).contains(&failed), "{failed} of 60 failed");
    assert!(statuses.iter().all(|&s| s == 200 || s == 500));
}

/// Sends one raw request and returns all bytes the server sent back.
fn raw_exchange(url: &str) -> std::io::Result<Vec<u8>> {
    let addr = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
    let mut got = Vec::new();
    stream.read_to_end(&mut got)?;
    Ok(got)
}

#[test]
fn drop_rate_one_closes_without_a_response() {
    for arch in ["mono", "micro"] {
        let server = Server::start(&["--arch", arch, "--drop-rate", "1"]);
        for _ in 0..3 {
            // A reset is as good as a close: either way no response.
            let got = raw_exchange(&server.url).unwrap_or_default();
            assert!(
                got.is_empty(),
                "{arch}: got a response: {:?}",
                String::from_utf8_lossy(&got)
            );
        }
    }
    // Without the switch the same exchange gets an answer.
    let server = Server::start(&[]);
    let got = raw_exchange(&server.url).unwrap();
    assert!(
        got.starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&got)
    );
}

#[test]
fn delay_adds_latency() {
    let server = Server::start(&["--delay", "50ms"]);
    let api = Api::new(&server.url);
    for _ in 0..3 {
        let start = Instant::now();
        assert_eq!(api.call("GET", "/health", None, None).status, 200);
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(50), "took only {took:?}");
    }
}

#[test]
fn stall_pauses_the_whole_server() {
    // Stalls of 600 ms at 1 s, 2 s...: three clients poll for 2.3 s; nobody
    // gets an answer during a stall, so the answers show a gap of nearly 600 ms.
    let server = Server::start(&["--stall-every", "1s", "--stall-for", "600ms"]);
    let start = Instant::now();
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let url = server.url.clone();
            std::thread::spawn(move || {
                let api = Api::new(&url);
                let mut done = Vec::new();
                let mut slowest = Duration::ZERO;
                while start.elapsed() < Duration::from_millis(2300) && done.len() < 5000 {
                    let sent = Instant::now();
                    assert_eq!(api.call("GET", "/health", None, None).status, 200);
                    slowest = slowest.max(sent.elapsed());
                    done.push(start.elapsed());
                }
                (done, slowest)
            })
        })
        .collect();
    let mut answers = Vec::new();
    let mut slowest = Duration::ZERO;
    for t in threads {
        let (done, slow) = t.join().unwrap();
        answers.extend(done);
        slowest = slowest.max(slow);
    }
    answers.sort();
    let widest_gap = answers.windows(2).map(|w| w[1] - w[0]).max().unwrap();
    assert!(answers.len() > 10, "only {} answers", answers.len());
    assert!(
        widest_gap >= Duration::from_millis(450),
        "widest gap {widest_gap:?}"
    );
    assert!(
        slowest >= Duration::from_millis(450),
        "slowest request {slowest:?}"
    );
}

#[test]
fn max_body_gives_413() {
    for arch in ["mono", "micro"] {
        let server = Server::start(&["--arch", arch, "--hash-cost", "4", "--max-body", "1KiB"]);
        let api = Api::new(&server.url);
        let big = json!({"email": common::unique_email("big"), "password": "x".repeat(2000)});
        let r = api.call("POST", "/api/v1/auth/register", None, Some(big));
        assert_eq!(r.status, 413, "{arch}: {}", r.text);
        assert!(r.detail().is_string(), "{arch}: {}", r.text);
        let u = api.user("small");
        let r = api.call(
            "POST",
            "/api/v1/tasks/",
            Some(&u.access),
            Some(json!({"title": "t", "description": "d".repeat(1500)})),
        );
        assert_eq!(r.status, 413, "{arch}: {}", r.text);
        let r = api.call(
            "POST",
            "/api/v1/tasks/",
            Some(&u.access),
            Some(json!({"title": "fits"})),
        );
        assert_eq!(r.status, 201, "{arch}: {}", r.text);
    }
}

fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn unreachable_database_exits_3_without_the_password() {
    let port = closed_port();
    let url = format!("postgres://loadpipe:s3cret-pa55@127.0.0.1:{port}/tasks");
    for arch in ["mono", "micro"] {
        let out = testkit::cmd("tasktracker")
            .args([
                "--listen",
                "127.0.0.1:0",
                "--arch",
                arch,
                "--database-url",
                &url,
            ])
            .env_remove("DATABASE_URL")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{stderr}");
        assert!(stderr.contains(&format!("127.0.0.1:{port}")), "{stderr}");
        assert!(!stderr.contains("s3cret-pa55"), "{stderr}");
        assert!(!stderr.contains("listening on"), "{stderr}");
    }
    // The URL may come from the environment too.
    let out = testkit::cmd("tasktracker")
        .args(["--listen", "127.0.0.1:0"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("s3cret-pa55"));
}

#[test]
fn bad_flags_exit_2() {
    for args in [
        vec!["--fail-rate", "2"],
        vec!["--delay", "soon"],
        vec!["--stall-every", "1s", "--stall-for", "2s"],
        vec!["--stall-every", "1s"],
        vec!["--db-schema", "Robert'); DROP TABLE x"],
        vec!["--hash-cost", "2"],
        vec!["--max-body", "lots"],
        vec!["--pool-size", "0"],
    ] {
        let out = testkit::cmd("tasktracker")
            .args(["--listen", "127.0.0.1:0"])
            .args(&args)
            .env_remove("DATABASE_URL")
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn help_and_version() {
    let out = testkit::cmd("tasktracker").arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--listen",
        "--arch",
        "--database-url",
        "--fail-rate",
        "--stall-every",
        "--drop-rate",
        "--max-body",
        "--tls",
        "--cert-out",
        "--cert",
        "--key",
        "--client-ca",
        "--ws-close-after",
        "--ws-mute",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
    for endpoint in ["/api/v1/ws", "/metrics"] {
        assert!(help.contains(endpoint), "{endpoint} missing from --help");
    }
    let out = testkit::cmd("tasktracker")
        .arg("--version")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("tasktracker "));
}

#[test]
fn sigterm_shuts_down_cleanly() {
    for signal in ["-TERM", "-INT"] {
        let mut child = testkit::cmd("tasktracker")
            .args(["--listen", "127.0.0.1:0"])
            .env_remove("DATABASE_URL")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let mut seen = String::new();
        let mut buf = [0u8; 256];
        while !seen.contains('\n') {
            let n = stderr.read(&mut buf).unwrap();
            assert!(n > 0, "no start-up line");
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        assert!(seen.contains("listening on http://127.0.0.1:"), "{seen}");
        let url = seen
            .split("listening on ")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap();
        assert_eq!(Api::new(url).call("GET", "/health", None, None).status, 200);
        let killed = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let status = wait_bounded(
            &mut child,
            Duration::from_secs(10),
            &format!("tasktracker after {signal}"),
        );
        assert_eq!(status.code(), Some(0), "{signal}");
    }
}
