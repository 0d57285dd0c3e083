//! A lean HTTP/1.1 client connection: hammer's hot path.
//!
//! hyper's client measured at well under wrk's speed here (a dispatcher
//! task, a channel and a request/response object per exchange); a load
//! generator only needs to write a request it already rendered and read one
//! response, so this writes the request bytes in one go and parses the
//! response head ([`crate::head`]) straight from the VU's read buffer.
//! Bodies: `Content-Length`, `chunked`, or until close. HTTP/2 goes
//! through the h2 crate (see `client.rs`).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use records::ErrorKind;
use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};

use crate::conn::{Failure, Response, Stream};
use crate::head::{self, Parsed};
use crate::stamp::Stamp;

/// Read buffer to start with; it grows for larger heads and chunks.
const INITIAL_BUF: usize = 4096;
/// A response head larger than this is refused.
const MAX_HEAD: usize = 64 * 1024;

/// A kept-alive connection idle this long is looked at before it is used.
const IDLE_CHECK_AFTER: Duration = Duration::from_millis(500);

/// A request as rendered, ready to encode.
#[derive(Clone, Copy, Debug)]
pub struct Outgoing<'a> {
    pub method: &'a str,
    pub path_and_query: &'a str,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
    /// When the VU started it: its timeout and its time to first byte
    /// count from here, the instant its event's latency counts from (one
    /// clock read for all three).
    pub started: Stamp,
    /// Set when these are the same bytes at every send (a literal request
    /// of the mix, rendered once for the run): its [`Prepared::id`], so a
    /// connection that encoded it last sends its bytes again unencoded.
    ///
    /// [`Prepared::id`]: crate::mix::Prepared::id
    pub literal: Option<u64>,
}

#[cfg(test)]
impl Outgoing<'static> {
    /// `GET /`, started now: the tests' plain request.
    pub fn get_root() -> Outgoing<'static> {
        Outgoing {
            method: "GET",
            path_and_query: "/",
            headers: &[],
            body: b"",
            started: Stamp::now(),
            literal: None,
        }
    }
}

impl Outgoing<'_> {
    /// Whether the request states its body's length: it has a body, or its
    /// method defines one (an empty POST says `Content-Length: 0`), over
    /// HTTP/1.1 and HTTP/2 alike.
    pub fn states_length(&self) -> bool {
        !self.body.is_empty() || matches!(self.method, "POST" | "PUT" | "PATCH")
    }
}

/// Why an exchange did not produce a response.
pub enum Trouble {
    /// A kept-alive connection turned out closed before anything came back:
    /// the request may go again on a new connection.
    Stale(Failure),
    Failed(Failure),
}

/// One HTTP/1.1 connection with its buffers.
pub struct H1Conn {
    io: Stream,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    wbuf: Vec<u8>,
    /// The literal request `wbuf` holds ([`Outgoing::literal`]); a
    /// connection speaks to one target with one keep-alive setting, so
    /// its bytes are the same at its next send.
    encoded: Option<u64>,
    last_used: Option<Stamp>,
    /// False once the connection must not be used again.
    pub open: bool,
    /// Whether the TLS session offered a client certificate (`--cert`),
    /// for the wording of a TLS alert that ends it.
    pub client_cert: bool,
    /// Whether the socket stamps arrivals ([`Stream::poll_read_stamped`]).
    stamping: bool,
    /// When the last bytes read reached the machine, if they were stamped
    /// and came after this request was sent.
    arrived: Option<Stamp>,
}

enum BodyKind {
    None,
    Length(u64),
    Chunked,
    UntilClose,
}

fn io_failure(e: &io::Error, during: &str, client_cert: bool) -> Failure {
    // A TLS alert after the handshake (a TLS 1.3 server refusing the
    // client certificate) comes as an I/O error around the rustls one.
    if let Some(tls) = records::tls::find_error(e) {
        let line = records::tls::describe(tls, "", client_cert);
        return (ErrorKind::Tls, format!("{during}: {line}"));
    }
    (crate::conn::io_kind(e.kind()), format!("{during}: {e}"))
}

fn closed(during: &str) -> Failure {
    (
        ErrorKind::Reset,
        format!("connection closed by the server {during}"),
    )
}

/// Whether header `name` is `lower` (lowercase letters and `-`), in any
/// case. Setting bit 5 lowercases a letter and keeps `-`; the only other
/// byte it makes `-` (CR) is not a token character (head names are
/// tokens), nor is any byte it makes a letter, so this is
/// `eq_ignore_ascii_case` in fewer steps.
fn is_named(name: &[u8], lower: &[u8]) -> bool {
    name.len() == lower.len()
        && name
            .iter()
            .zip(lower)
            .fold(true, |same, (a, &b)| same & (a | 0x20 == b))
}

/// `Content-Length`'s value: digits only (RFC 9110 §8.6).
fn content_length(value: &[u8]) -> Option<u64> {
    if value.is_empty() {
        return None;
    }
    value.iter().try_fold(0u64, |n, &b| {
        b.is_ascii_digit()
            .then_some(())
            .and_then(|()| n.checked_mul(10)?.checked_add(u64::from(b - b'0')))
    })
}

/// Which of the headers [`encode`] writes by itself the request sets: the
/// request's own is sent instead (one `Host` is what a server accepts,
/// RFC 9112 §3.2, and `-H 'Host: …'` is how a virtual host is reached by
/// address), as the HTTP/2 path does with `Content-Length`.
#[derive(Default)]
struct OwnHeaders {
    host: bool,
    /// `Content-Length` or `Transfer-Encoding`: the request frames its body.
    framing: bool,
    connection: bool,
}

impl OwnHeaders {
    fn of(headers: &[(String, String)]) -> OwnHeaders {
        let mut own = OwnHeaders::default();
        for (name, _) in headers {
            let name = name.as_bytes();
            match name.len() {
                4 => own.host |= is_named(name, b"host"),
                10 => own.connection |= is_named(name, b"connection"),
                14 => own.framing |= is_named(name, b"content-length"),
                17 => own.framing |= is_named(name, b"transfer-encoding"),
                _ => {}
            }
        }
        own
    }
}

/// Appends the request's bytes to `out`.
pub fn encode(out: &mut Vec<u8>, req: &Outgoing<'_>, host: &str, prefix: &str, keepalive: bool) {
    let own = OwnHeaders::of(req.headers);
    out.extend_from_slice(req.method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(prefix.as_bytes());
    out.extend_from_slice(req.path_and_query.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    if !own.host {
        out.extend_from_slice(b"Host: ");
        out.extend_from_slice(host.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    for (name, value) in req.headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if req.states_length() && !own.framing {
        out.extend_from_slice(b"Content-Length: ");
        out.extend_from_slice(itoa::Buffer::new().format(req.body.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !keepalive && !own.connection {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(req.body);
}

/// Whether a header name or value could break the request's framing.
pub fn check_headers(headers: &[(String, String)]) -> Result<(), Failure> {
    for (name, value) in headers {
        let bad_name = name.is_empty() || !name.bytes().all(head::is_token);
        if bad_name || value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
            return Err((
                ErrorKind::Request,
                format!("bad header `{name}`: names are tokens, values have no line breaks"),
            ));
        }
    }
    Ok(())
}

impl H1Conn {
    pub fn new(io: Stream) -> H1Conn {
        H1Conn {
            io,
            buf: vec![0; INITIAL_BUF],
            start: 0,
            end: 0,
            wbuf: Vec::with_capacity(512),
            encoded: None,
            last_used: None,
            open: true,
            client_cert: false,
            stamping: false,
            arrived: None,
        }
    }

    /// Times this connection's responses by the kernel's receive timestamps
    /// ([`Stream::poll_read_stamped`]); a no-op over TLS.
    pub fn stamp_arrivals(&mut self) {
        self.stamping = self.io.stamp_arrivals();
    }

    /// Reads more bytes into the buffer; 0 at end of stream.
    async fn fill(&mut self) -> io::Result<usize> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else {
                let len = self.buf.len() * 2;
                self.buf.resize(len, 0);
            }
        }
        let n = if self.stamping {
            let (io, room) = (&mut self.io, &mut self.buf[self.end..]);
            let (n, at) = std::future::poll_fn(|cx| io.poll_read_stamped(cx, room)).await?;
            // Bytes that came before the request went out are not its answer's time.
            self.arrived = at.filter(|&at| self.last_used.is_some_and(|sent| at >= sent));
            n
        } else {
            self.io.read(&mut self.buf[self.end..]).await?
        };
        self.end += n;
        Ok(n)
    }

    /// A connection idle for [`IDLE_CHECK_AFTER`] may have been closed by the server;
    /// look before sending on it, without waiting. Idle counts from the
    /// last send (`last_used`), so it is never under-estimated: after a
    /// response slower than the threshold the look is one spare `read`.
    fn closed_while_idle(&mut self, now: Stamp) -> bool {
        let Some(last) = self.last_used else {
            return false;
        };
        if now.nanos_since(last) < IDLE_CHECK_AFTER.as_nanos() as u64 {
            return false;
        }
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let mut probe = [0u8; 1];
        let mut rb = ReadBuf::new(&mut probe);
        // Pending: nothing to read, still open. Anything else (EOF, stray
        // bytes, an error) makes the connection unusable.
        !matches!(
            Pin::new(&mut self.io).poll_read(&mut cx, &mut rb),
            Poll::Pending
        )
    }

    /// Sends the request and reads the whole response.
    pub async fn round_trip(
        &mut self,
        req: &Outgoing<'_>,
        host: &str,
        prefix: &str,
        keepalive: bool,
        keep_body: bool,
        max_body: u64,
    ) -> Result<Response, Trouble> {
        let reused = self.last_used.is_some();
        // On a kept-alive connection the VU's start is the send (a clock
        // read saved); on a new one, time to first byte counts from after
        // the connection was made.
        let sending = if reused { req.started } else { Stamp::now() };
        if reused && self.closed_while_idle(sending) {
            self.open = false;
            return Err(Trouble::Stale(closed("while idle")));
        }
        self.last_used = Some(sending);
        self.arrived = None;
        if req.literal.is_none() || req.literal != self.encoded {
            self.wbuf.clear();
            encode(&mut self.wbuf, req, host, prefix, keepalive);
            self.encoded = req.literal;
        }
        if let Err(e) = self.io.send_all(&self.wbuf).await {
            self.open = false;
            let failure = io_failure(&e, "sending the request", self.client_cert);
            return Err(if reused && failure.0 == ErrorKind::Reset {
                Trouble::Stale(failure)
            } else {
                Trouble::Failed(failure)
            });
        }
        let mut out = self
            .read_head(keepalive, req.method == "HEAD", sending)
            .await?;
        let kind = std::mem::replace(&mut out.1, BodyKind::None);
        let mut resp = out.0;
        if let Err(failure) = self.read_body(kind, &mut resp, keep_body, max_body).await {
            self.open = false;
            resp.error = Some(failure);
        }
        // The last read's stamp: when the response's last bytes arrived.
        resp.arrived_after_ns = self
            .arrived
            .and_then(|at| u32::try_from(at.nanos_since(req.started)).ok())
            .and_then(std::num::NonZeroU32::new);
        Ok(resp)
    }

    /// Once the request is written, a close before the answer is the target's
    /// doing (or a drop we must report), never a reason to send it again: a
    /// retry would hide the failure and could repeat a non-idempotent request.
    async fn read_head(
        &mut self,
        keepalive: bool,
        head_request: bool,
        sending: Stamp,
    ) -> Result<(Response, BodyKind), Trouble> {
        // Bytes already buffered (none, unless the server answered early)
        // count as arrived now.
        let mut first_byte = (self.end > self.start).then(Stamp::now);
        loop {
            if self.end > self.start {
                let mut length = None;
                let mut bad_length = false;
                let mut chunked = false;
                let mut connection = None;
                let mut set_cookies = Vec::new();
                let parsed = head::parse(&self.buf[self.start..self.end], |name, value| {
                    if is_named(name, b"content-length") {
                        length = content_length(value);
                        bad_length |= length.is_none();
                    } else if is_named(name, b"transfer-encoding") {
                        chunked = value
                            .split(|&b| b == b',')
                            .next_back()
                            .is_some_and(|v| v.trim_ascii().eq_ignore_ascii_case(b"chunked"));
                    } else if is_named(name, b"connection") {
                        if value.eq_ignore_ascii_case(b"close") {
                            connection = Some(true);
                        } else if value.eq_ignore_ascii_case(b"keep-alive") {
                            connection = Some(false);
                        }
                    } else if is_named(name, b"set-cookie") {
                        // The parser does not check values; a cookie with a
                        // control byte would break every later request of
                        // the VU that sends it back, so it is not kept.
                        if let (true, Ok(v)) = (head::is_text(value), std::str::from_utf8(value)) {
                            set_cookies.push(v.to_string());
                        }
                    }
                });
                match parsed {
                    Ok(Parsed::Complete(head)) => {
                        let status = head.code;
                        if (100..200).contains(&status) && status != 101 {
                            // 100 Continue and friends: the real answer follows.
                            self.start += head.len;
                            continue;
                        }
                        if bad_length {
                            self.open = false;
                            return Err(Trouble::Failed((
                                ErrorKind::Other,
                                "bad response: unreadable Content-Length".into(),
                            )));
                        }
                        let resp = Response {
                            status,
                            ttfb_ns: first_byte.map(|t| t.nanos_since(sending)),
                            set_cookies,
                            ..Response::default()
                        };
                        // HTTP/1.0 closes unless told otherwise; so do we
                        // without keep-alive; a `Connection` header decides.
                        let mut close = match connection {
                            Some(true) => true,
                            Some(false) => !keepalive,
                            None => !keepalive || head.minor == 0,
                        };
                        self.start += head.len;
                        let kind = if head_request
                            || status == 204
                            || status == 304
                            || (100..200).contains(&status)
                        {
                            BodyKind::None
                        } else if chunked {
                            BodyKind::Chunked
                        } else if let Some(n) = length {
                            BodyKind::Length(n)
                        } else {
                            close = true;
                            BodyKind::UntilClose
                        };
                        if close {
                            self.open = false;
                        }
                        return Ok((resp, kind));
                    }
                    Ok(Parsed::Partial) => {
                        if self.end - self.start > MAX_HEAD {
                            self.open = false;
                            return Err(Trouble::Failed((
                                ErrorKind::Other,
                                format!("bad response: head longer than {MAX_HEAD} bytes"),
                            )));
                        }
                    }
                    Err(why) => {
                        self.open = false;
                        return Err(Trouble::Failed((
                            ErrorKind::Other,
                            format!("bad response: {why}"),
                        )));
                    }
                }
            }
            match self.fill().await {
                Ok(0) => {
                    self.open = false;
                    return Err(Trouble::Failed(closed("before the response")));
                }
                Ok(_) => {
                    first_byte.get_or_insert_with(|| self.arrived.unwrap_or_else(Stamp::now));
                }
                Err(e) => {
                    self.open = false;
                    return Err(Trouble::Failed(io_failure(
                        &e,
                        "reading the response",
                        self.client_cert,
                    )));
                }
            }
        }
    }

    /// Takes up to `want` body bytes from the buffer, reading when it is empty.
    async fn take(
        &mut self,
        want: u64,
        resp: &mut Response,
        keep: bool,
        max: u64,
    ) -> Result<u64, Failure> {
        if self.start == self.end {
            match self.fill().await {
                Ok(0) => return Err(closed("in the middle of the body")),
                Ok(_) => {}
                Err(e) => return Err(io_failure(&e, "reading the body", self.client_cert)),
            }
        }
        let n = want.min((self.end - self.start) as u64);
        let chunk = &self.buf[self.start..self.start + n as usize];
        resp.bytes_in += n;
        if resp.bytes_in > max {
            return Err((
                ErrorKind::Body,
                format!("body longer than --max-body {max} bytes"),
            ));
        }
        if keep {
            resp.body.extend_from_slice(chunk);
        }
        self.start += n as usize;
        Ok(n)
    }

    /// One line (without CRLF) from the buffer, for chunk sizes and trailers.
    async fn line(&mut self) -> Result<Vec<u8>, Failure> {
        loop {
            if let Some(at) = self.buf[self.start..self.end]
                .windows(2)
                .position(|w| w == b"\r\n")
            {
                let line = self.buf[self.start..self.start + at].to_vec();
                self.start += at + 2;
                return Ok(line);
            }
            if self.end - self.start > 4096 {
                return Err((ErrorKind::Body, "bad chunked body: line too long".into()));
            }
            match self.fill().await {
                Ok(0) => return Err(closed("in the middle of the body")),
                Ok(_) => {}
                Err(e) => return Err(io_failure(&e, "reading the body", self.client_cert)),
            }
        }
    }

    async fn read_body(
        &mut self,
        kind: BodyKind,
        resp: &mut Response,
        keep: bool,
        max: u64,
    ) -> Result<(), Failure> {
        match kind {
            BodyKind::None => Ok(()),
            BodyKind::Length(mut remaining) => {
                if remaining > max {
                    // Count what is read up to the limit, then give up.
                    while resp.bytes_in <= max {
                        remaining -= self.take(remaining, resp, keep, max).await?;
                    }
                }
                while remaining > 0 {
                    remaining -= self.take(remaining, resp, keep, max).await?;
                }
                Ok(())
            }
            BodyKind::UntilClose => loop {
                if self.start == self.end {
                    match self.fill().await {
                        Ok(0) => return Ok(()),
                        Ok(_) => {}
                        Err(e) => return Err(io_failure(&e, "reading the body", self.client_cert)),
                    }
                }
                let available = (self.end - self.start) as u64;
                self.take(available, resp, keep, max).await?;
            },
            BodyKind::Chunked => loop {
                let line = self.line().await?;
                let size_text = line.split(|&b| b == b';').next().unwrap_or(&[]);
                let size = std::str::from_utf8(size_text)
                    .ok()
                    .and_then(|s| u64::from_str_radix(s.trim(), 16).ok())
                    .ok_or_else(|| {
                        (
                            ErrorKind::Body,
                            "bad chunked body: bad chunk size".to_string(),
                        )
                    })?;
                if size == 0 {
                    // Trailers, up to the empty line.
                    while !self.line().await?.is_empty() {}
                    return Ok(());
                }
                let mut remaining = size;
                while remaining > 0 {
                    remaining -= self.take(remaining, resp, keep, max).await?;
                }
                if !self.line().await?.is_empty() {
                    return Err((
                        ErrorKind::Body,
                        "bad chunked body: no CRLF after a chunk".into(),
                    ));
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;
    use tokio::net::{TcpListener, TcpStream};

    #[test]
    fn header_names_match_in_any_case_only() {
        for name in ["content-length", "Content-Length", "CONTENT-LENGTH"] {
            assert!(is_named(name.as_bytes(), b"content-length"), "{name}");
        }
        for name in [
            "content-lengtH1",
            "content_length",
            "content-lengt",
            "contentXlength",
        ] {
            assert!(!is_named(name.as_bytes(), b"content-length"), "{name}");
        }
        assert!(is_named(b"Set-Cookie", b"set-cookie"));
        assert!(!is_named(b"Set-Cookie", b"connection"));
    }

    #[test]
    fn content_lengths_are_digits_only() {
        assert_eq!(content_length(b"0"), Some(0));
        assert_eq!(content_length(b"18446744073709551615"), Some(u64::MAX));
        for bad in [
            &b""[..],
            b"+5",
            b"-1",
            b"1 2",
            b"0x10",
            b"18446744073709551616",
        ] {
            assert_eq!(
                content_length(bad),
                None,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn encodes_requests() {
        let mut out = Vec::new();
        let headers = vec![("X-A".to_string(), "1".to_string())];
        let req = Outgoing {
            method: "POST",
            path_and_query: "/t?x=1",
            headers: &headers,
            body: b"{}",
            started: Stamp::now(),
            literal: None,
        };
        encode(&mut out, &req, "h:1", "/api", false);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "POST /api/t?x=1 HTTP/1.1\r\nHost: h:1\r\nX-A: 1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
        );
        assert!(check_headers(&headers).is_ok());
        assert!(check_headers(&[("X".into(), "a\r\nEvil: 1".into())]).is_err());
        assert!(check_headers(&[("X Y".into(), "a".into())]).is_err());
    }

    #[test]
    fn a_request_s_own_host_length_and_connection_headers_replace_hammer_s() {
        let headers: Vec<(String, String)> = [
            ("host", "api.example.com"),
            ("CONTENT-LENGTH", "2"),
            ("Connection", "keep-alive"),
        ]
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
        let req = Outgoing {
            method: "POST",
            path_and_query: "/t",
            headers: &headers,
            body: b"{}",
            started: Stamp::now(),
            literal: None,
        };
        let mut out = Vec::new();
        encode(&mut out, &req, "127.0.0.1:8080", "", false);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "POST /t HTTP/1.1\r\nhost: api.example.com\r\nCONTENT-LENGTH: 2\r\nConnection: keep-alive\r\n\r\n{}"
        );
        // A chunked body is the request's to frame: no Content-Length beside it.
        let chunked = [("Transfer-Encoding".to_string(), "chunked".to_string())];
        let mut out = Vec::new();
        encode(
            &mut out,
            &Outgoing {
                headers: &chunked,
                body: b"2\r\n{}\r\n0\r\n\r\n",
                ..req
            },
            "h",
            "",
            true,
        );
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("POST /t HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"),
            "{text}"
        );
        // Names that merely start alike are not hammer's.
        let near = [("Hosts".to_string(), "x".to_string())];
        let mut out = Vec::new();
        encode(
            &mut out,
            &Outgoing {
                headers: &near,
                body: b"",
                method: "GET",
                ..req
            },
            "h",
            "",
            true,
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "GET /t HTTP/1.1\r\nHost: h\r\nHosts: x\r\n\r\n"
        );
    }

    /// Serves `replies` one after the other on one connection.
    async fn server(
        replies: Vec<&'static [u8]>,
    ) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 65536];
            for reply in replies {
                let _ = s.read(&mut buf).await.unwrap();
                s.write_all(reply).await.unwrap();
            }
        });
        (addr, task)
    }

    async fn exchange(conn: &mut H1Conn, keep: bool, max: u64) -> Result<Response, Trouble> {
        conn.round_trip(&Outgoing::get_root(), "x", "", true, keep, max)
            .await
    }

    /// A response that arrives while the worker is busy elsewhere: with
    /// arrival stamps it ends when it arrived, without them when it was read.
    #[tokio::test(flavor = "current_thread")]
    async fn an_arrival_stamp_times_the_response_not_the_late_read() {
        // As the client does, so the first response is stamped on a
        // machine where nothing else had stamping on.
        let _stamping = crate::conn::hold_stamping().expect("the kernel stamps arrivals");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        // A server on its own thread: it answers while the runtime is blocked.
        let server = std::thread::spawn(move || {
            use std::io::{Read, Write};
            for _ in 0..2 {
                let (mut s, _) = listener.accept().unwrap();
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).unwrap();
                s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                    .unwrap();
            }
        });
        let busy = Duration::from_millis(40);
        let mut timed = Vec::new();
        for stamps in [true, false] {
            let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
            let mut conn = H1Conn::new(Stream::Plain(tcp));
            if stamps {
                conn.stamp_arrivals();
            }
            // Runs when the exchange first waits (for the response), and
            // holds the thread as other tasks' work would.
            let blocker = tokio::spawn(async move { std::thread::sleep(busy) });
            let req = Outgoing::get_root();
            let resp = conn.round_trip(&req, "x", "", true, false, 1 << 20).await;
            let resp = resp.ok().expect("a response");
            let read_after = Stamp::now().nanos_since(req.started);
            assert!(
                read_after >= busy.as_nanos() as u64,
                "read {read_after} ns after"
            );
            timed.push((
                resp.arrived_after_ns.map(|ns| u64::from(ns.get())),
                resp.ttfb_ns.unwrap(),
            ));
            blocker.await.unwrap();
        }
        server.join().unwrap();
        let (stamped, stamped_ttfb) = timed[0];
        let stamped = stamped.expect("the kernel stamped the response");
        assert!(
            stamped < 20_000_000,
            "{stamped} ns: the late read, not the arrival"
        );
        assert!(stamped_ttfb <= stamped);
        // Unstamped, the same late read is all there is to go by.
        let (unstamped, unstamped_ttfb) = timed[1];
        assert_eq!(unstamped, None);
        assert!(unstamped_ttfb >= busy.as_nanos() as u64);
    }

    #[tokio::test]
    async fn a_literal_request_goes_out_as_encoded_before_and_others_are_encoded_anew() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut heads = Vec::new();
            let mut buf = vec![0u8; 65536];
            for _ in 0..4 {
                let n = s.read(&mut buf).await.unwrap();
                heads.push(String::from_utf8(buf[..n].to_vec()).unwrap());
                s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                    .await
                    .unwrap();
            }
            heads
        });
        let mut conn = H1Conn::new(Stream::Plain(TcpStream::connect(addr).await.unwrap()));
        let literal = |path: &'static str, id| Outgoing {
            method: "GET",
            path_and_query: path,
            headers: &[],
            body: b"",
            started: Stamp::now(),
            literal: id,
        };
        for req in [
            literal("/a", Some(7)),
            literal("/a", Some(7)),
            literal("/b", None),
            literal("/c", Some(8)),
        ] {
            let r = conn.round_trip(&req, "x", "", true, false, 1 << 20).await;
            assert_eq!(r.ok().unwrap().status, 200);
        }
        let heads = server.await.unwrap();
        let paths: Vec<_> = heads.iter().map(|h| h.split(' ').nth(1).unwrap()).collect();
        assert_eq!(paths, ["/a", "/a", "/b", "/c"], "{heads:?}");
        assert_eq!(heads[0], heads[1]);
        assert_eq!(heads[0], "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
    }

    #[tokio::test]
    async fn reads_length_chunked_and_close_delimited_bodies() {
        let (addr, _task) = server(vec![
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\nSet-Cookie: s=1; Path=/\r\n\r\nhello",
            b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n",
            b"HTTP/1.1 204 No Content\r\n\r\n",
            b"HTTP/1.1 200 OK\r\n\r\nuntil close",
        ])
        .await;
        let mut conn = H1Conn::new(Stream::Plain(TcpStream::connect(addr).await.unwrap()));
        let r = exchange(&mut conn, true, 1 << 20).await.ok().unwrap();
        assert_eq!(
            (r.status, r.body.as_slice(), r.bytes_in),
            (200, &b"hello"[..], 5)
        );
        assert_eq!(r.set_cookies, vec!["s=1; Path=/".to_string()]);
        let r = exchange(&mut conn, true, 1 << 20).await.ok().unwrap();
        assert_eq!((r.status, r.body.as_slice()), (201, &b"abcde"[..]));
        let r = exchange(&mut conn, false, 1 << 20).await.ok().unwrap();
        assert_eq!((r.status, r.bytes_in), (204, 0));
        assert!(conn.open);
        let r = exchange(&mut conn, true, 1 << 20).await.ok().unwrap();
        assert_eq!(r.body, b"until close");
        assert!(!conn.open);
    }

    #[tokio::test]
    async fn a_body_over_the_limit_or_cut_short_keeps_the_status() {
        let (addr, _task) = server(vec![
            b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789",
        ])
        .await;
        let mut conn = H1Conn::new(Stream::Plain(TcpStream::connect(addr).await.unwrap()));
        let r = exchange(&mut conn, false, 5).await.ok().unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.error.unwrap().0, ErrorKind::Body);
        assert!(!conn.open);

        let (addr, task) = server(vec![
            b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789",
        ])
        .await;
        let mut conn = H1Conn::new(Stream::Plain(TcpStream::connect(addr).await.unwrap()));
        let read =
            tokio::spawn(async move { exchange(&mut conn, false, 1000).await.ok().unwrap() });
        task.await.unwrap(); // the server hangs up mid-body
        let r = read.await.unwrap();
        assert_eq!((r.status, r.bytes_in), (200, 10));
        assert_eq!(r.error.unwrap().0, ErrorKind::Reset);
    }

    #[tokio::test]
    async fn garbage_is_a_bad_response() {
        let (addr, _task) = server(vec![b"SMTP ready\r\n\r\n"]).await;
        let mut conn = H1Conn::new(Stream::Plain(TcpStream::connect(addr).await.unwrap()));
        match exchange(&mut conn, false, 1000).await {
            Err(Trouble::Failed((kind, detail))) => {
                assert_eq!(kind, ErrorKind::Other);
                assert!(detail.starts_with("bad response"), "{detail}");
            }
            _ => panic!("garbage accepted"),
        }
    }
}
