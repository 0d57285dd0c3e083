//! Reading an HTTP/1.x response head in one pass over the read buffer.
//!
//! httparse validated and split the ~100 bytes of a typical head in ~950
//! instructions (callgrind): its per-header state machine, the status
//! line's reason and every value byte. A load generator needs the status,
//! the version and four headers' values; this finds each line with
//! `memchr` (SIMD), checks names and the status line as httparse does
//! (tokens; `HTTP/1.0` or `1.1`, three digits, a reason without control
//! bytes; empty lines before the status line skipped), and hands each
//! header to the caller as it goes, so no header array is filled and read
//! back. Values are not checked byte by
//! byte: like a browser, hammer takes what the server sent, and only the
//! values it interprets (`Content-Length`, `Transfer-Encoding`,
//! `Connection`, `Set-Cookie`) are read, each by its own rule.

/// The status line of a complete head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Status {
    /// The minor version: 1 for HTTP/1.1, 0 for HTTP/1.0.
    pub minor: u8,
    pub code: u16,
    /// The head's length in bytes, the blank line included.
    pub len: usize,
}

/// What the buffer holds.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    Complete(Status),
    /// Not the whole head yet: read more and parse again from the start.
    Partial,
}

/// Why a head is refused (the words follow "bad response: ").
pub type Refusal = &'static str;

/// More headers than this is refused, as httparse's 64 slots did.
pub const MAX_HEADERS: usize = 64;

/// Token characters (RFC 9110 §5.6.2): what a header name is made of.
const TOKEN: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            );
        b += 1;
    }
    table
};

/// Whether `b` may be in a header name (a token character); request
/// headers are held to the same rule ([`crate::h1::check_headers`]).
pub fn is_token(b: u8) -> bool {
    TOKEN[b as usize]
}

/// Whether `bytes` is field text: HTAB, SP, visible ASCII and obs-text,
/// no control byte (a reason phrase; a cookie value worth keeping).
pub fn is_text(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .all(|&b| b == b'\t' || (b >= b' ' && b != 0x7f))
}

/// Parses the head at the start of `buf`, calling `header(name, value)`
/// for each header in order (value without surrounding blanks). On
/// `Partial` some headers may have been handed over already: the caller
/// parses again from the start once more bytes came, so it must keep
/// nothing from an attempt that was not `Complete`. Lines end in CRLF or
/// a bare LF, as httparse accepts.
pub fn parse<'b>(
    buf: &'b [u8],
    mut header: impl FnMut(&'b [u8], &'b [u8]),
) -> Result<Parsed, Refusal> {
    // A stray CRLF a server left after a body precedes the next status
    // line (RFC 9112 §2.2 lets a reader skip it, and httparse does).
    let mut start = 0;
    loop {
        match &buf[start..] {
            [b'\n', ..] => start += 1,
            [b'\r', b'\n', ..] => start += 2,
            [] | [b'\r'] => return Ok(Parsed::Partial),
            _ => break,
        }
    }
    let Some(line_end) = memchr::memchr(b'\n', &buf[start..]).map(|n| start + n) else {
        return if could_start_status(&buf[start..]) {
            Ok(Parsed::Partial)
        } else {
            Err("not an HTTP/1.x status line")
        };
    };
    let (minor, code) = status_line(trim_cr(&buf[start..line_end]))?;
    let mut at = line_end + 1;
    let mut count = 0;
    loop {
        let rest = &buf[at..];
        let Some(end) = memchr::memchr(b'\n', rest) else {
            // The blank line's CR may have come without its LF yet.
            return Ok(Parsed::Partial);
        };
        let line = trim_cr(&rest[..end]);
        at += end + 1;
        if line.is_empty() {
            return Ok(Parsed::Complete(Status {
                minor,
                code,
                len: at,
            }));
        }
        count += 1;
        if count > MAX_HEADERS {
            return Err("too many headers");
        }
        let (name, value) = header_line(line)?;
        header(name, value);
    }
}

/// Whether `partial` (no LF yet) can still become a status line.
fn could_start_status(partial: &[u8]) -> bool {
    let prefix = b"HTTP/1.";
    let n = partial.len().min(prefix.len());
    partial[..n] == prefix[..n]
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// `HTTP/1.x SP DIGIT DIGIT DIGIT [SP reason]` → (x, code).
fn status_line(line: &[u8]) -> Result<(u8, u16), Refusal> {
    let bad = "not an HTTP/1.x status line";
    let [b'H', b'T', b'T', b'P', b'/', b'1', b'.', minor, b' ', c0, c1, c2, rest @ ..] = line
    else {
        return Err(bad);
    };
    if !matches!(minor, b'0' | b'1') {
        return Err(bad);
    }
    let digit = |c: u8| {
        c.is_ascii_digit()
            .then(|| u16::from(c - b'0'))
            .ok_or("bad status code")
    };
    let code = digit(*c0)? * 100 + digit(*c1)? * 10 + digit(*c2)?;
    // The reason is free text (obs-text allowed), but not control bytes.
    match rest {
        [] => {}
        [b' ', reason @ ..] if is_text(reason) => {}
        _ => return Err("bad reason phrase"),
    }
    Ok((minor - b'0', code))
}

/// `name: value` → (name, value with blanks trimmed).
fn header_line(line: &[u8]) -> Result<(&[u8], &[u8]), Refusal> {
    let Some(colon) = line.iter().position(|&b| !is_token(b)) else {
        return Err("header line without a colon");
    };
    if colon == 0 || line[colon] != b':' {
        return Err("bad header name");
    }
    let value = line[colon + 1..].trim_ascii();
    Ok((&line[..colon], value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(head: &[u8]) -> Result<(Parsed, Headers), Refusal> {
        let mut seen = Vec::new();
        let parsed = parse(head, |n, v| {
            seen.push((
                String::from_utf8_lossy(n).into_owned(),
                String::from_utf8_lossy(v).into_owned(),
            ))
        })?;
        Ok((parsed, seen))
    }

    type Headers = Vec<(String, String)>;

    /// What httparse makes of the same bytes, for the comparison.
    fn httparse_view(head: &[u8]) -> Result<Option<(Status, Headers)>, String> {
        let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut resp = httparse::Response::new(&mut slots);
        match resp.parse(head) {
            Ok(httparse::Status::Complete(len)) => Ok(Some((
                Status {
                    minor: resp.version.unwrap(),
                    code: resp.code.unwrap(),
                    len,
                },
                resp.headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_string(),
                            String::from_utf8_lossy(h.value).trim().to_string(),
                        )
                    })
                    .collect(),
            ))),
            Ok(httparse::Status::Partial) => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }

    #[test]
    fn reads_what_httparse_reads() {
        let heads: &[&[u8]] = &[
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 15\r\ndate: Fri, 04 Dec 2026 19:21:11 GMT\r\n\r\n{\"status\":\"ok\"}",
            b"HTTP/1.0 404 Not Found\r\n\r\n",
            b"HTTP/1.1 204 \r\n\r\n",
            b"HTTP/1.1 301 Moved\nLocation: /x\n\n",
            b"HTTP/1.1 200 OK\r\nX-Empty:\r\nX-Blanks:   a b  \r\nSet-Cookie: s=1; Path=/\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            b"HTTP/1.1 500 Internal \xe9rror\r\n\r\n",
            b"\r\n\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        ];
        for head in heads {
            let (parsed, ours) = headers(head).unwrap();
            let (status, theirs) = httparse_view(head).unwrap().expect("complete");
            assert_eq!(
                parsed,
                Parsed::Complete(status),
                "{}",
                String::from_utf8_lossy(head)
            );
            assert_eq!(ours, theirs);
            // Every prefix is partial for both, never refused.
            for cut in 0..status.len {
                assert_eq!(
                    headers(&head[..cut]).unwrap().0,
                    Parsed::Partial,
                    "cut at {cut}"
                );
                assert_eq!(httparse_view(&head[..cut]), Ok(None), "cut at {cut}");
            }
        }
    }

    #[test]
    fn refuses_what_httparse_refuses() {
        let bad: &[&[u8]] = &[
            b"SMTP ready\r\n\r\n",
            b"HTTP/2 200 OK\r\n\r\n",
            b"HTTP/1.2 200 OK\r\n\r\n",
            b"\r\r\nHTTP/1.1 200 OK\r\n\r\n",
            b"HTTP/1.1 2x0 OK\r\n\r\n",
            b"HTTP/1.1 200OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nbad name: x\r\n\r\n",
            b"HTTP/1.1 200 OK\r\n: empty name\r\n\r\n",
            b"HTTP/1.1 200 O\x01K\r\n\r\n",
            b"HTTP/1.1 200 OK\r\n a: folded\r\n\r\n",
        ];
        for head in bad {
            assert!(headers(head).is_err(), "{}", String::from_utf8_lossy(head));
            assert!(
                httparse_view(head).is_err(),
                "{}",
                String::from_utf8_lossy(head)
            );
        }
        // A stray start is refused before its line ends.
        assert!(headers(b"SMTP").is_err());
        assert_eq!(headers(b"HTTP/1.").unwrap().0, Parsed::Partial);
    }

    #[test]
    fn mutated_heads_agree_with_httparse() {
        // Valid heads with bytes flipped, dropped, doubled and cut: where
        // httparse reads a head, this reads the same one, and it refuses
        // nothing httparse reads. (It may read heads httparse refuses for
        // a control byte in a header value: values are not checked.)
        use rand::{Rng, SeedableRng};
        let seeds: &[&[u8]] = &[
            b"\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n",
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 15\r\n\r\n",
            b"HTTP/1.0 301 Moved\nLocation: /x\nSet-Cookie: a=b\n\n",
            b"HTTP/1.1 204 \r\nX-A:\r\nX-B:  v  \r\n\r\n",
        ];
        let alphabet = b"HTP/1. 029:\r\n\tx-\x01\x7f\xe9";
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        let mut lenient = 0;
        for round in 0..50_000 {
            let mut head = seeds[round % seeds.len()].to_vec();
            for _ in 0..rng.gen_range(1..4) {
                if head.is_empty() {
                    break;
                }
                let at = rng.gen_range(0..head.len());
                match rng.gen_range(0..4) {
                    0 => head[at] = alphabet[rng.gen_range(0..alphabet.len())],
                    1 => drop(head.remove(at)),
                    2 => head.insert(at, head[at]),
                    _ => head.truncate(at),
                }
            }
            let ours = headers(&head);
            let theirs = httparse_view(&head);
            let shown = String::from_utf8_lossy(&head);
            match (&ours, &theirs) {
                (Ok((Parsed::Complete(status), ours)), Ok(Some((their_status, theirs)))) => {
                    assert_eq!((status, ours), (their_status, theirs), "{shown:?}")
                }
                (Ok((Parsed::Partial, _)), Ok(None)) | (Err(_), Err(_)) => {}
                (Ok((Parsed::Complete(_), _)), Err(_)) => lenient += 1,
                // One of the two refuses a line before it ends, the other
                // once it has ended.
                (Err(_), Ok(None)) | (Ok((Parsed::Partial, _)), Err(_)) => {}
                _ => panic!("{shown:?}: ours {ours:?}, httparse {theirs:?}"),
            }
        }
        assert!(
            lenient < 5_000,
            "{lenient} heads read that httparse refuses"
        );
    }

    #[test]
    fn too_many_headers_are_refused() {
        let mut head = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..MAX_HEADERS {
            head.extend_from_slice(format!("x-{i}: {i}\r\n").as_bytes());
        }
        let mut full = head.clone();
        full.extend_from_slice(b"\r\n");
        assert!(matches!(headers(&full).unwrap().0, Parsed::Complete(_)));
        head.extend_from_slice(b"one-more: x\r\n\r\n");
        assert_eq!(headers(&head), Err("too many headers"));
    }
}
