//! `--local-ips`: connections come from each of the given addresses in
//! turn (seen by a server that records its peers), and an address the
//! machine does not have is refused before any load.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{IpAddr, TcpListener};
use std::sync::{Arc, Mutex};

use common::*;

/// A server that answers every request with an empty 200 and closes,
/// counting connections by their source address.
fn peer_counting_server() -> (String, Arc<Mutex<BTreeMap<IpAddr, u32>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let peers = Arc::new(Mutex::new(BTreeMap::new()));
    let seen = peers.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let peer = stream.peer_addr().unwrap().ip();
            *seen.lock().unwrap().entry(peer).or_insert(0) += 1;
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                match stream.read(&mut byte) {
                    Ok(1) => head.push(byte[0]),
                    _ => break,
                }
            }
            if !head.is_empty() {
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        }
    });
    (url, peers)
}

#[test]
fn connections_come_from_each_local_address_in_turn() {
    let (url, peers) = peer_counting_server();
    let out = hammer(&[
        "--url",
        &url,
        "--local-ips",
        "127.0.0.2-127.0.0.4",
        "--vus",
        "3",
        "--requests",
        "60",
        "--no-keepalive",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let events = events(&out.stdout);
    assert_eq!(events.len(), 60);
    assert!(events.iter().all(|e| e.error.is_none()), "{:?}", events[0]);
    let peers = peers.lock().unwrap().clone();
    // the preflight's connection comes from the default address
    for last in 2..=4u8 {
        let n = peers[&IpAddr::from([127, 0, 0, last])];
        assert_eq!(n, 20, "{peers:?}");
    }
}

#[test]
fn an_address_the_machine_lacks_is_refused_before_the_load() {
    let (url, peers) = peer_counting_server();
    // TEST-NET-1: never a local address
    let out = hammer(&["--url", &url, "--local-ips", "192.0.2.1", "--requests", "5"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--local-ips: cannot open connections from 192.0.2.1"),
        "{}",
        stderr(&out)
    );
    assert!(peers.lock().unwrap().is_empty());
    let out = hammer(&[
        "--url",
        &url,
        "--local-ips",
        "127.0.0.9-127.0.0.1",
        "--requests",
        "5",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("ends before it starts"),
        "{}",
        stderr(&out)
    );
}
