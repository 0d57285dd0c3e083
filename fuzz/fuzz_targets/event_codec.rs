//! The Event line's two hand-written halves against the serde type that
//! defines the format (`records::event_codec`):
//! - for any line, the fast reader either declines or reads exactly what
//!   serde reads;
//! - for any event, what the fast writer writes is what serde writes, serde
//!   reads it back unchanged, and the fast reader takes it when the name
//!   needs no escapes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use records::event_codec::{scan, write_event, EventParts, EventRef};
use records::{ErrorKind, Event};

fuzz_target!(|data: &[u8]| {
    // Any bytes as a line.
    if let Some(fast) = scan(data) {
        let serde: EventRef = serde_json::from_slice(data)
            .unwrap_or_else(|e| panic!("fast reader took a line serde refuses: {e}"));
        assert_eq!(fast, serde, "fast and serde reads differ");
    }

    // The bytes as an event's fields.
    if data.len() < 40 {
        return;
    }
    let u64_at = |i: usize| u64::from_le_bytes(data[i..i + 8].try_into().unwrap());
    let text = String::from_utf8_lossy(&data[40..]);
    let (name, detail) = match text.split_once('\u{0}') {
        Some((n, d)) => (n.to_string(), Some(d.to_string())),
        None => (text.to_string(), None),
    };
    let error = ErrorKind::ALL
        .get(usize::from(data[32]) % (ErrorKind::ALL.len() + 1))
        .copied();
    let event = Event {
        ts: u64_at(0),
        name,
        method: ["GET", "POST", "PUT", "DELETE"][usize::from(data[33]) % 4].to_string(),
        status: u16::from_le_bytes([data[34], data[35]]),
        latency_ns: u64_at(8),
        lag_ns: u64_at(16),
        bytes_in: u64_at(24),
        bytes_out: u64::from(data[36]),
        vu: u32::from(data[37]),
        error: error.map(|k| k.as_str().to_string()),
        detail: detail.filter(|_| error.is_some()),
        connect_ns: (data[38] & 1 == 1).then(|| u64::from(data[38]) * 1000),
        ttfb_ns: (data[39] & 1 == 1).then(|| u64_at(8) / 2),
        proto: (data[39] & 2 == 2).then(|| "h2".to_string()),
    };
    let name_json = serde_json::to_vec(&event.name).unwrap();
    let method_json = serde_json::to_vec(&event.method).unwrap();
    let mut line = Vec::new();
    write_event(&mut line, &EventParts::of(&event, &name_json, &method_json));
    let mut serde_line = serde_json::to_vec(&event).unwrap();
    serde_line.push(b'\n');
    assert_eq!(line, serde_line, "fast writer differs from serde");
    let body = &line[..line.len() - 1];
    let back: Event = serde_json::from_slice(body).unwrap();
    assert_eq!(back, event, "serde read of the fast write is not the event");
    let plain = |s: &str| !s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20);
    if plain(&event.name) && event.detail.as_deref().is_none_or(plain) {
        assert!(scan(body).is_some(), "a plain line missed the fast path");
    }
});
