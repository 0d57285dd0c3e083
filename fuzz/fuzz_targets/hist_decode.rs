//! The histogram codec (base64 + deflate + HdrHistogram V2): hostile input,
//! decompression bombs included, is refused with bounded memory (run with
//! `-rss_limit_mb=256`). Raw bytes are also wrapped in a valid base64 +
//! cookie envelope so the fuzzer reaches the inflater and the header checks.
#![no_main]

use std::io::Write;

use flate2::{write::ZlibEncoder, Compression};
use libfuzzer_sys::fuzz_target;

const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(h) = records::hist::decode(text) {
            let _ = records::hist::encode(&h);
        }
    }
    // Cookie (V2 + deflate), then the length word, then the fuzzer's bytes.
    let mut raw = vec![0x1c, 0x84, 0x93, 0x14, 0, 0, 0, 0];
    raw.extend_from_slice(data);
    if let Ok(h) = records::hist::decode(&base64(&raw)) {
        let mut into = records::hist::new_histogram();
        records::hist::merge(&mut into, &h);
        let _ = records::hist::encode(&h);
    }
    // The fuzzer's bytes as the inflated payload: straight to the V2 header
    // checks and the deserializer.
    let mut raw = vec![0x1c, 0x84, 0x93, 0x14, 0, 0, 0, 0];
    let mut z = ZlibEncoder::new(&mut raw, Compression::fast());
    z.write_all(data).unwrap();
    z.finish().unwrap();
    if let Ok(h) = records::hist::decode(&base64(&raw)) {
        let _ = records::hist::encode(&h);
    }
});
