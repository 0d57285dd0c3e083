//! What a connection is made of, shared by the client that opens
//! connections and the HTTP/1.1 layer that speaks on them, so neither
//! imports the other for its types.

use std::io;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::task::{Context, Poll};

use records::ErrorKind;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, Interest, ReadBuf};
use tokio::net::TcpStream;

use crate::stamp::Stamp;

/// What went wrong with a request, as an event records it.
pub type Failure = (ErrorKind, String);

/// The error kind of an I/O error on a connection, whichever protocol
/// met it: a reset, a timeout, a refusal, or `other`.
pub fn io_kind(kind: io::ErrorKind) -> ErrorKind {
    match kind {
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::UnexpectedEof
        | io::ErrorKind::NotConnected => ErrorKind::Reset,
        io::ErrorKind::TimedOut => ErrorKind::Timeout,
        io::ErrorKind::ConnectionRefused => ErrorKind::Connect,
        _ => ErrorKind::Other,
    }
}

/// A TCP or TLS stream.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl Stream {
    /// Writes all of `bytes` (and flushes TLS). In the clear, a request
    /// nearly always fits the socket's buffer: it goes in one `send(2)`
    /// made directly (rustix), without the write future and libc's
    /// cancellation-point wrapper (~150 instructions a request under
    /// callgrind); whatever the kernel did not take goes the usual way.
    pub async fn send_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Stream::Plain(tcp) => {
                let sent = tcp.try_io(Interest::WRITABLE, || {
                    rustix::net::send(&*tcp, bytes, rustix::net::SendFlags::NOSIGNAL)
                        .map_err(io::Error::from)
                });
                let sent = match sent {
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
                    Err(e) => return Err(e),
                };
                if sent < bytes.len() {
                    tcp.write_all(&bytes[sent..]).await?;
                }
                Ok(())
            }
            Stream::Tls(tls) => {
                tls.write_all(bytes).await?;
                tls.flush().await
            }
        }
    }

    /// Asks the kernel to stamp what arrives ([`Stream::poll_read_stamped`]);
    /// false over TLS, whose reads go through rustls.
    pub fn stamp_arrivals(&self) -> bool {
        match self {
            Stream::Plain(tcp) => ask_for_stamps(tcp),
            Stream::Tls(_) => false,
        }
    }

    /// Reads into `buf` (0 at end of stream), with the kernel's receive
    /// timestamp of the bytes when the socket stamps arrivals: when they
    /// reached the machine, not when this thread got to read them. A poll
    /// function, not an `async fn`, so the read future it is polled from
    /// stays as small as a plain read's (a larger one cost ~50
    /// instructions a request in moves, stamped or not).
    pub fn poll_read_stamped(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, Option<Stamp>)>> {
        match self {
            Stream::Plain(tcp) => loop {
                if let Err(e) = std::task::ready!(tcp.poll_read_ready(cx)) {
                    return Poll::Ready(Err(e));
                }
                // A read that leaves part of `buf` empty has drained the
                // socket: its readiness is cleared with it (by answering
                // WouldBlock to try_io, the one way to clear it), so the
                // next response is waited for, not first tried for by a
                // recvmsg that finds nothing. tokio's own reads do the same.
                let mut got = None;
                let read = tcp.try_io(Interest::READABLE, || {
                    let (n, at) = recv_stamped(tcp, buf)?;
                    got = Some((n, at));
                    if n > 0 && n < buf.len() {
                        Err(io::ErrorKind::WouldBlock.into())
                    } else {
                        Ok(())
                    }
                });
                if let Some(got) = got {
                    return Poll::Ready(Ok(got));
                }
                match read {
                    Err(e) if e.kind() != io::ErrorKind::WouldBlock => return Poll::Ready(Err(e)),
                    _ => continue,
                }
            },
            Stream::Tls(tls) => {
                let mut filled = ReadBuf::new(buf);
                std::task::ready!(Pin::new(tls.as_mut()).poll_read(cx, &mut filled))?;
                Poll::Ready(Ok((filled.filled().len(), None)))
            }
        }
    }
}

/// Turns the kernel's receive stamping on before any load, and keeps it on
/// while the returned socket lives. Linux turns stamping on for the whole
/// machine a moment after the first socket asks for it (a static key
/// flipped from a work queue), so on a machine where nothing else stamps,
/// the first responses of a run would otherwise come unstamped and be timed
/// by their read. Waits (at most ~200 ms) until a byte sent over loopback
/// TCP comes back stamped (UDP is stamped at the read when the kernel did
/// not, so it cannot tell); `None` if stamping cannot be had.
pub fn hold_stamping() -> Option<std::net::TcpStream> {
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").ok()?;
    let held = std::net::TcpStream::connect(listener.local_addr().ok()?).ok()?;
    let (mut peer, _) = listener.accept().ok()?;
    if !ask_for_stamps(&held) {
        return None;
    }
    for _ in 0..20 {
        peer.write_all(b"x").ok()?;
        match recv_stamped(&held, &mut [0u8; 64]) {
            Ok((_, Some(_))) => return Some(held),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(_) => return None,
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    None
}

/// Asks the kernel to stamp what arrives on `socket` (`SO_TIMESTAMPNS`);
/// false if it refused.
fn ask_for_stamps(socket: &impl std::os::fd::AsFd) -> bool {
    nix::sys::socket::setsockopt(socket, nix::sys::socket::sockopt::ReceiveTimestampns, &true)
        .is_ok()
}

/// One non-blocking `recvmsg`: the bytes read and, when the kernel stamped
/// them (`SO_TIMESTAMPNS`; for TCP, the stamp of the last segment read),
/// when they arrived.
fn recv_stamped(tcp: &impl AsRawFd, buf: &mut [u8]) -> io::Result<(usize, Option<Stamp>)> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    let mut space = nix::cmsg_space!(nix::sys::time::TimeSpec);
    let mut iov = [io::IoSliceMut::new(buf)];
    let msg = recvmsg::<()>(
        tcp.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_DONTWAIT,
    )
    .map_err(io::Error::from)?;
    let at = msg.cmsgs().ok().and_then(|mut all| {
        all.find_map(|c| match c {
            ControlMessageOwned::ScmTimestampns(t) => Some(Stamp::of_realtime(t)),
            _ => None,
        })
    });
    Ok((msg.bytes, at))
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Plain(s) => s.is_write_vectored(),
            Stream::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// A response as far as hammer needs it.
#[derive(Debug, Default)]
pub struct Response {
    pub status: u16,
    /// The body, when the caller asked to keep it.
    pub body: Vec<u8>,
    pub bytes_in: u64,
    pub set_cookies: Vec<String>,
    /// The status and headers came but the body failed (`body`, `reset`):
    /// the event keeps the status and this error.
    pub error: Option<Failure>,
    /// Set-up of the connection this request opened (TCP, and TLS when
    /// there is one); `None` on a kept-alive connection.
    pub connect_ns: Option<u64>,
    /// From the start of sending to the first byte of the response.
    pub ttfb_ns: Option<u64>,
    /// From the request's start ([`Outgoing::started`]) to when its last
    /// bytes reached the machine, by the kernel's receive timestamp, where
    /// there is one (the open model over plain HTTP/1.1) and it is under
    /// 4.3 s; otherwise the response ends when it was read. 32 bits, so the
    /// response stays small enough to be moved without a `memcpy` call
    /// (Option<u64> here cost ~230 instructions a request).
    ///
    /// [`Outgoing::started`]: crate::h1::Outgoing::started
    pub arrived_after_ns: Option<std::num::NonZeroU32>,
}

#[cfg(test)]
mod tests {
    /// Every exchange moves its result several times: past 128 bytes each
    /// move is a `memcpy` call (hammer/README.md, "Speed").
    #[test]
    fn a_response_is_moved_inline() {
        assert!(std::mem::size_of::<Result<super::Response, super::Failure>>() <= 128);
    }

    #[test]
    fn stamping_held_on_stamps_a_new_connections_first_bytes() {
        use std::io::Write;
        let _held = super::hold_stamping().expect("the kernel stamps TCP arrivals");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        assert!(super::ask_for_stamps(&client));
        server.write_all(b"first").unwrap();
        let mut buf = [0u8; 16];
        let read = (0..100).find_map(|_| match super::recv_stamped(&client, &mut buf) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(std::time::Duration::from_millis(1));
                None
            }
            other => Some(other.unwrap()),
        });
        let (n, at) = read.expect("the bytes arrive");
        assert_eq!(&buf[..n], b"first");
        assert!(at.is_some(), "the first bytes came unstamped");
    }

    #[tokio::test]
    async fn a_read_that_drains_the_socket_waits_for_the_next_bytes() {
        use super::Stream;
        use std::future::poll_fn;
        use std::task::Poll;
        use tokio::io::AsyncWriteExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = tokio::net::TcpStream::connect(listener.local_addr().unwrap());
        let (client, server) = tokio::join!(client, listener.accept());
        let (mut stream, mut server) = (Stream::Plain(client.unwrap()), server.unwrap().0);
        // As the client does, so the first bytes are stamped on a machine
        // where nothing else had stamping on.
        let _stamping = super::hold_stamping().expect("the kernel stamps arrivals");
        assert!(stream.stamp_arrivals());
        let mut buf = [0u8; 64];
        for response in [&b"HTTP/1.1 200 OK\r\n"[..], b"content-length: 0\r\n\r\n"] {
            server.write_all(response).await.unwrap();
            let (n, at) = poll_fn(|cx| stream.poll_read_stamped(cx, &mut buf))
                .await
                .unwrap();
            assert_eq!(&buf[..n], response);
            assert!(at.is_some());
            // Drained: the socket is not taken for readable (which would
            // cost a recvmsg that finds nothing before the next response).
            let Stream::Plain(tcp) = &stream else {
                unreachable!()
            };
            let ready = poll_fn(|cx| Poll::Ready(tcp.poll_read_ready(cx).is_ready())).await;
            assert!(!ready, "still marked readable after a read drained it");
        }
        // A read that fills the buffer leaves the rest to the next read.
        server.write_all(&[b'x'; 100]).await.unwrap();
        let mut got = 0;
        while got < 100 {
            let (n, _) = poll_fn(|cx| stream.poll_read_stamped(cx, &mut buf))
                .await
                .unwrap();
            got += n;
        }
        assert_eq!(got, 100);
    }
}
