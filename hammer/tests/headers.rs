//! What hammer puts on the wire, as a raw server inside the test reads it:
//! the Host line comes from the URL unless the request names its own, and
//! there is only ever one (two are a 400 at any strict server, RFC 9112 3.2).

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use common::*;

/// A server that answers every request 200 and keeps each request's head.
fn recording_server() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v", listener.local_addr().unwrap());
    let heads = Arc::new(Mutex::new(Vec::new()));
    let kept = heads.clone();
    std::thread::spawn(move || {
        // Bounded: hammer's preflight and a few kept-alive connections.
        for conn in listener.incoming().take(16) {
            let Ok(mut conn) = conn else { continue };
            let kept = kept.clone();
            std::thread::spawn(move || {
                while let Some(head) = read_head(&mut conn) {
                    kept.lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&head).into_owned());
                    let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
                    if conn.write_all(ok).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, heads)
}

fn host_lines(head: &str) -> Vec<&str> {
    head.split("\r\n")
        .filter_map(|line| line.split_once(':'))
        .filter(|(name, _)| name.eq_ignore_ascii_case("host"))
        .map(|(_, value)| value.trim())
        .collect()
}

#[test]
fn a_host_header_replaces_the_urls_and_is_sent_once() {
    let (url, heads) = recording_server();
    let authority = url.trim_start_matches("http://").trim_end_matches("/v");

    let out = hammer(&["--url", &url, "--vus", "1", "--requests", "3"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let sent: Vec<String> = heads.lock().unwrap().drain(..).collect();
    assert_eq!(sent.len(), 3, "{sent:?}");
    for head in &sent {
        assert_eq!(host_lines(head), [authority], "{head}");
    }

    // Any spelling of the name replaces the URL's Host, in place of it.
    let out = hammer(&[
        "--url",
        &url,
        "--vus",
        "1",
        "--requests",
        "3",
        "-H",
        "hOsT: api.example.test",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let events = events(&out.stdout);
    assert_eq!(events.len(), 3);
    assert!(events.iter().all(|e| e.status == 200 && e.error.is_none()));
    let sent: Vec<String> = heads.lock().unwrap().drain(..).collect();
    assert_eq!(sent.len(), 3, "{sent:?}");
    for head in &sent {
        assert_eq!(host_lines(head), ["api.example.test"], "{head}");
        assert!(head.starts_with("GET /v HTTP/1.1\r\n"), "{head}");
    }
}
