//! The histogram codec: HdrHistogram V2 with deflate, in base64.
//!
//! Decoding is bounded: the base64 text, the inflated payload and the
//! histogram's range are all limited before anything is allocated, so a
//! hostile summary (a decompression bomb) is refused rather than obeyed.

use std::cell::RefCell;
use std::io::Read;

use base64::Engine as _;
use flate2::{Decompress, FlushDecompress, Status};
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;

use crate::summary::Latency;

/// Significant digits every loadpipe histogram keeps.
pub const SIGFIG: u8 = 3;

/// Largest encoded histogram accepted, in base64 characters.
pub const MAX_ENCODED: usize = 8 << 20;
/// Largest inflated payload accepted. The largest histogram a summary can
/// hold (1 ns to i64::MAX, 3 digits, every count slot at its widest varint)
/// is well under 1 MB (see the test); anything bigger is a bomb, refused
/// before it grows.
pub const MAX_INFLATED: usize = 1 << 20;

const V2_COMPRESSED_COOKIE: u32 = 0x1c84_9304 | 0x10;
const V2_COOKIE: u32 = 0x1c84_9303 | 0x10;

#[derive(Debug, thiserror::Error)]
#[error("bad histogram: {0}")]
pub struct HistError(String);

/// A latency histogram in nanoseconds, 3 significant digits, growing as needed.
pub fn new_histogram() -> Histogram<u64> {
    let mut h = Histogram::new_with_bounds(1, 60 * 1_000_000_000, SIGFIG)
        .expect("constant bounds are valid");
    h.auto(true);
    h
}

/// Records `value`, clamping to the largest value a histogram can hold.
pub fn record(h: &mut Histogram<u64>, value: u64) {
    // auto-resize covers everything below u64::MAX / 2; clamp the absurd rest.
    let value = value.min(i64::MAX as u64 / 2);
    h.record(value)
        .expect("auto-resizing histogram accepts clamped values");
}

/// Encodes a histogram for the `hist` field of a summary record.
pub fn encode(h: &Histogram<u64>) -> String {
    base64_of(&encode_raw(h))
}

/// The bytes [`encode`] writes in base64 (HdrHistogram V2 with deflate):
/// a compact form to keep a histogram in memory and print it later as is.
pub fn encode_raw(h: &Histogram<u64>) -> Vec<u8> {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new()
        .serialize(h, &mut bytes)
        .expect("serializing into memory cannot fail");
    bytes
}

/// The `hist` field for bytes from [`encode_raw`].
pub fn base64_of(raw: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(raw)
}

/// Decodes bytes this process made with [`encode_raw`]. Unlike [`decode`],
/// nothing is bounded: these bytes are never input. The inflater and its
/// buffer are kept for the next call: setting up a new one (tens of KB
/// zeroed) costs more than inflating a bucket's few hundred bytes.
pub fn decode_raw(raw: &[u8]) -> Result<Histogram<u64>, HistError> {
    thread_local! {
        static INFLATE: RefCell<(Decompress, Vec<u8>)> =
            RefCell::new((Decompress::new(true), Vec::new()));
    }
    let bad = |why: &str| HistError(why.to_string());
    if raw.len() < 8 || u32::from_be_bytes(raw[0..4].try_into().unwrap()) != V2_COMPRESSED_COOKIE {
        return Err(bad("not an HdrHistogram V2 deflate encoding"));
    }
    INFLATE.with(|cell| {
        let (inflater, plain) = &mut *cell.borrow_mut();
        inflater.reset(true);
        plain.clear();
        loop {
            plain.reserve(raw.len() * 4);
            let read = inflater.total_in() as usize;
            let status = inflater
                .decompress_vec(&raw[8 + read..], plain, FlushDecompress::Finish)
                .map_err(|e| HistError(format!("cannot inflate: {e}")))?;
            match status {
                Status::StreamEnd => break,
                // out of room (or input): more room, unless no input is left
                _ if 8 + inflater.total_in() as usize >= raw.len()
                    && plain.len() < plain.capacity() =>
                {
                    return Err(bad("truncated deflate stream"));
                }
                _ => {}
            }
        }
        Deserializer::new()
            .deserialize::<u64, _>(&mut &plain[..])
            .map_err(|e| HistError(format!("{e:?}")))
    })
}

/// Decodes a `hist` field, refusing oversized or malicious input.
pub fn decode(text: &str) -> Result<Histogram<u64>, HistError> {
    if text.len() > MAX_ENCODED {
        return Err(HistError(format!(
            "encoded histogram longer than {MAX_ENCODED} bytes"
        )));
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| HistError(format!("not base64: {e}")))?;
    if raw.len() < 8 || u32::from_be_bytes(raw[0..4].try_into().unwrap()) != V2_COMPRESSED_COOKIE {
        return Err(HistError("not an HdrHistogram V2 deflate encoding".into()));
    }
    let mut inflated = Vec::new();
    flate2::read::ZlibDecoder::new(&raw[8..])
        .take(MAX_INFLATED as u64 + 1)
        .read_to_end(&mut inflated)
        .map_err(|e| HistError(format!("cannot inflate: {e}")))?;
    if inflated.len() > MAX_INFLATED {
        return Err(HistError(format!(
            "inflates to more than {MAX_INFLATED} bytes"
        )));
    }
    check_header(&inflated)?;
    Deserializer::new()
        .deserialize::<u64, _>(&mut &inflated[..])
        .map_err(|e| HistError(format!("{e:?}")))
}

/// Checks the V2 header's range and precision so the counts array it implies
/// is small (at most a few MB) before the deserializer allocates it.
fn check_header(bytes: &[u8]) -> Result<(), HistError> {
    if bytes.len() < 40 {
        return Err(HistError("truncated header".into()));
    }
    let u32_at = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap());
    let u64_at = |i: usize| u64::from_be_bytes(bytes[i..i + 8].try_into().unwrap());
    if u32_at(0) != V2_COOKIE {
        return Err(HistError("bad V2 cookie".into()));
    }
    let payload_len = u32_at(4) as usize;
    if payload_len > bytes.len() - 40 {
        return Err(HistError("payload length exceeds the data".into()));
    }
    let sigfig = u32_at(12);
    let lowest = u64_at(16);
    let highest = u64_at(24);
    if !(1..=3).contains(&sigfig) {
        return Err(HistError(format!(
            "{sigfig} significant digits (at most 3 accepted)"
        )));
    }
    if lowest == 0 || highest / 2 < lowest || highest > i64::MAX as u64 {
        return Err(HistError("implausible value range".into()));
    }
    Ok(())
}

/// The quantiles every latency record reports, in [`Latency`] field order
/// (p50, p66, p75, p80, p90, p95, p98, p99, p99.9, p99.99).
pub const QUANTILES: [f64; 10] = [0.5, 0.66, 0.75, 0.8, 0.9, 0.95, 0.98, 0.99, 0.999, 0.9999];

/// The [`Latency`] of a histogram, from its own min and max.
pub fn latency(h: &Histogram<u64>) -> Latency {
    latency_within(h, h.min(), h.max())
}

/// The [`Latency`] of a histogram whose exact min and max are known apart
/// from it: percentiles and mean are clamped into `[min_ns, max_ns]`, so
/// p99.99 never exceeds the slowest request actually seen.
pub fn latency_within(h: &Histogram<u64>, min_ns: u64, max_ns: u64) -> Latency {
    if h.is_empty() {
        return Latency::default();
    }
    let [p50, p66, p75, p80, p90, p95, p98, p99, p999, p9999] =
        QUANTILES.map(|q| h.value_at_quantile(q).clamp(min_ns, max_ns));
    Latency {
        min_ns,
        mean_ns: h.mean().clamp(min_ns as f64, max_ns as f64),
        stdev_ns: h.stdev(),
        max_ns,
        p50_ns: p50,
        p66_ns: p66,
        p75_ns: p75,
        p80_ns: p80,
        p90_ns: p90,
        p95_ns: p95,
        p98_ns: p98,
        p99_ns: p99,
        p999_ns: p999,
        p9999_ns: p9999,
    }
}

/// Adds `other` into `into`; both are auto-resizing so this cannot fail.
pub fn merge(into: &mut Histogram<u64>, other: &Histogram<u64>) {
    into.add(other).expect("auto-resizing histograms merge");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let mut h = new_histogram();
        for v in [0, 1, 999, 1_843_000, 5_000_000_000, 120_000_000_000] {
            record(&mut h, v);
        }
        let back = decode(&encode(&h)).unwrap();
        assert_eq!(back, h);
        assert_eq!(back.len(), 6);
        let raw = encode_raw(&h);
        assert_eq!(base64_of(&raw), encode(&h));
        assert_eq!(decode_raw(&raw).unwrap(), h);
    }

    #[test]
    fn refuses_garbage_and_bombs() {
        assert!(decode("not base64!").is_err());
        assert!(decode("AAAA").is_err());
        // 100 MB of zeros deflates to ~100 KB: a bomb must be refused, bounded.
        let mut bomb = V2_COMPRESSED_COOKIE.to_be_bytes().to_vec();
        bomb.extend_from_slice(&0u32.to_be_bytes());
        let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut enc, &vec![0u8; 100 << 20]).unwrap();
        bomb.extend(enc.finish().unwrap());
        let text = base64::engine::general_purpose::STANDARD.encode(bomb);
        let err = decode(&text).unwrap_err().to_string();
        assert!(err.contains("more than"), "{err}");
    }

    /// A V2 header with the given range, deflated and wrapped as `decode` expects.
    fn header_only(lowest: u64, highest: u64) -> String {
        let mut header = V2_COOKIE.to_be_bytes().to_vec();
        header.extend_from_slice(&0u32.to_be_bytes()); // payload length
        header.extend_from_slice(&0u32.to_be_bytes()); // normalizing offset
        header.extend_from_slice(&3u32.to_be_bytes()); // significant digits
        header.extend_from_slice(&lowest.to_be_bytes());
        header.extend_from_slice(&highest.to_be_bytes());
        header.extend_from_slice(&1f64.to_be_bytes()); // integer-to-double ratio
        let mut raw = V2_COMPRESSED_COOKIE.to_be_bytes().to_vec();
        raw.extend_from_slice(&0u32.to_be_bytes());
        let mut enc = flate2::write::ZlibEncoder::new(raw, flate2::Compression::fast());
        std::io::Write::write_all(&mut enc, &header).unwrap();
        base64::engine::general_purpose::STANDARD.encode(enc.finish().unwrap())
    }

    /// Found by fuzzing (hist_decode): a lowest value above u64::MAX / 2
    /// overflowed the range check and panicked.
    #[test]
    fn refuses_a_huge_lowest_value_without_overflow() {
        let err = decode(&header_only(u64::MAX, i64::MAX as u64)).unwrap_err();
        assert!(err.to_string().contains("implausible value range"), "{err}");
        let err = decode(&header_only(1 << 62, i64::MAX as u64)).unwrap_err();
        assert!(err.to_string().contains("implausible value range"), "{err}");
        assert!(decode(&header_only(1, 1000)).is_ok());
    }

    /// The widest legitimate histogram still fits under `MAX_INFLATED`
    /// (fuzzing found the old 16 MB cap let a bomb take ~300 MB under ASan).
    #[test]
    fn widest_histogram_fits_the_inflate_cap() {
        let mut h = Histogram::<u64>::new_with_bounds(1, i64::MAX as u64, SIGFIG).unwrap();
        let mut v = 1u64;
        while v < i64::MAX as u64 / 2 {
            h.record_n(v, u64::MAX / 4).unwrap();
            v += v / 2048 + 1;
        }
        let mut payload = Vec::new();
        hdrhistogram::serialization::V2Serializer::new()
            .serialize(&h, &mut payload)
            .unwrap();
        eprintln!("widest payload: {} bytes", payload.len());
        assert!(payload.len() < MAX_INFLATED, "{} bytes", payload.len());
        let back = decode(&encode(&h)).unwrap();
        assert_eq!(back.len(), h.len());
    }
}
