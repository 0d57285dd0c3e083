//! The HTTP client: one connection per VU, made here (TCP, TLS via rustls
//! when the URL is https). HTTP/1.1 goes through hammer's own lean
//! connection ([`crate::h1`]); HTTP/2 through the h2 crate's client (hyper's
//! adds a dispatcher task, a channel and a spawned task per request). No
//! pooled client: a VU's connection is its own, `--no-keepalive` means a new
//! one per request, and every failure gets an exact kind (refused →
//! `connect`, closed mid-response → `reset`, over `--max-body` → `body`).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, SET_COOKIE};
use records::tls::Tls;
use records::units::format_duration;
use records::ErrorKind;
use tokio::net::TcpStream;

use crate::conn::{Failure, Response, Stream};
use crate::h1::{check_headers, H1Conn, Outgoing, Trouble};
use crate::race;
use crate::timer::Watchdog;

/// Client settings from the command line.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub max_body: u64,
    pub keepalive: bool,
    pub http2: bool,
    /// `--insecure`, `--ca-cert`, `--cert`/`--key`, files read.
    pub tls: Tls,
    /// `--local-ips`: addresses new connections are made from, in turn.
    pub local_ips: Vec<std::net::IpAddr>,
    /// Time HTTP/1.1 responses in the clear by the kernel's receive
    /// timestamps (the open model: latency without the generator's wake-up).
    pub arrival_stamps: bool,
}

/// Where requests go: `http(s)://host:port[/prefix]`.
#[derive(Clone, Debug)]
pub struct Target {
    pub url: String,
    pub https: bool,
    pub host: String,
    pub port: u16,
    /// `host:port` as the Host header says it.
    pub authority: String,
    /// A path the target URL carries, prepended to every request path.
    pub prefix: String,
    pub addrs: Vec<SocketAddr>,
    /// The scheme and authority parsed once, for HTTP/2's request URIs
    /// (formatting and parsing the whole URL per request cost ~1,400
    /// instructions, half of what the rest of the request did).
    h2_scheme: http::uri::Scheme,
    h2_authority: http::uri::Authority,
}

impl Target {
    /// Parses and resolves a base URL (no path beyond a prefix, no query).
    pub fn parse(url: &str) -> Result<Target, String> {
        let uri: http::Uri = url
            .parse()
            .map_err(|e| format!("`{url}` is not a URL: {e}"))?;
        let https = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => return Err(format!("`{url}` must start with http:// or https://")),
        };
        let authority = uri
            .authority()
            .ok_or_else(|| format!("`{url}` has no host"))?
            .clone();
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = authority.port_u16().unwrap_or(if https { 443 } else { 80 });
        let prefix = uri.path().trim_end_matches('/').to_string();
        use std::net::ToSocketAddrs;
        let addrs: Vec<SocketAddr> = (host.as_str(), port)
            .to_socket_addrs()
            .map_err(|e| format!("`{url}`: cannot resolve `{host}`: {e}"))?
            .collect();
        if addrs.is_empty() {
            return Err(format!("`{url}`: `{host}` resolves to no address"));
        }
        Ok(Target {
            url: url.trim_end_matches('/').to_string(),
            https,
            host,
            port,
            authority: authority.as_str().to_string(),
            prefix,
            addrs,
            h2_scheme: if https {
                http::uri::Scheme::HTTPS
            } else {
                http::uri::Scheme::HTTP
            },
            h2_authority: authority,
        })
    }

    /// Connects once, to fail early with a clear message when nobody
    /// listens or (https) the TLS handshake fails: a certificate problem
    /// would fail every connection of the run the same way.
    pub fn preflight(&self, opts: &ClientOptions) -> Result<(), String> {
        let timeout = opts.connect_timeout;
        let mut last = None;
        for addr in &self.addrs {
            match std::net::TcpStream::connect_timeout(addr, timeout) {
                Ok(mut tcp) if self.https => {
                    return records::tls::check_handshake(
                        &mut tcp,
                        &self.host,
                        &opts.tls,
                        alpn(opts.http2),
                        timeout,
                    )
                    .map_err(|problem| records::tls::failure_line(&self.url, &problem))
                }
                Ok(_) => return Ok(()),
                Err(e) => last = Some(e),
            }
        }
        Err(format!(
            "cannot reach {}: {}",
            self.url,
            last.map(|e| e.to_string()).unwrap_or_default()
        ))
    }
}

/// One VU's connection.
pub enum Conn {
    H1(Box<H1Conn>),
    /// The h2 crate's client directly: hyper's adds a dispatcher, a
    /// channel and a spawned task per request on top of it.
    H2 {
        sender: h2::client::SendRequest<Bytes>,
        /// Set when the connection task ends (a GOAWAY, a drop).
        closed: Arc<std::sync::atomic::AtomicBool>,
    },
}

/// Makes connections and sends requests on them.
pub struct Client {
    pub opts: ClientOptions,
    pub target: Arc<Target>,
    tls: Option<(
        tokio_rustls::TlsConnector,
        rustls::pki_types::ServerName<'static>,
    )>,
    /// With `--http2` over TLS: a connector that offers only HTTP/1.1, for
    /// WebSocket upgrades.
    ws_tls: Option<(
        tokio_rustls::TlsConnector,
        rustls::pki_types::ServerName<'static>,
    )>,
    /// Which of `--local-ips` the next connection comes from.
    next_local: std::sync::atomic::AtomicUsize,
    /// Keeps the kernel's receive stamping on for the run
    /// ([`crate::conn::hold_stamping`]); `None` when responses are not
    /// timed by stamps, or the kernel would not stamp.
    stamping: Option<std::net::TcpStream>,
}

impl Client {
    pub fn new(target: Arc<Target>, opts: ClientOptions) -> Result<Client, String> {
        let tls = if target.https {
            let name = rustls::pki_types::ServerName::try_from(target.host.clone())
                .map_err(|e| format!("bad TLS server name `{}`: {e}", target.host))?;
            Some((tls_connector(&opts)?, name))
        } else {
            None
        };
        let ws_tls = match &tls {
            Some((_, name)) if opts.http2 => {
                let http1 = ClientOptions {
                    http2: false,
                    ..opts.clone()
                };
                Some((tls_connector(&http1)?, name.clone()))
            }
            _ => None,
        };
        let stamping = (opts.arrival_stamps && !target.https && !opts.http2)
            .then(crate::conn::hold_stamping)
            .flatten();
        Ok(Client {
            opts,
            target,
            tls,
            ws_tls,
            next_local: Default::default(),
            stamping,
        })
    }

    /// Whether responses are timed by the kernel's arrival stamps: asked
    /// for (the open model), HTTP/1.1 in the clear (TLS reads go through
    /// rustls, HTTP/2 through the h2 crate), and stamping held on by
    /// [`Client::new`]. When it is not, responses are timed by their read
    /// and the pacer does not wait blocked.
    pub fn stamps_arrivals(&self) -> bool {
        self.stamping.is_some()
    }

    /// Opens a connection.
    pub async fn connect(&self) -> Result<Conn, Failure> {
        let (stream, h2) = self.open_stream(self.tls.as_ref()).await?;
        if h2 {
            let (sender, conn) = h2::client::handshake(stream)
                .await
                .map_err(|e| classify_h2(&e, self.opts.tls.has_client_cert()))?;
            let closed = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let ended = closed.clone();
            tokio::spawn(async move {
                let _ = conn.await;
                ended.store(true, std::sync::atomic::Ordering::Relaxed);
            });
            Ok(Conn::H2 { sender, closed })
        } else {
            let mut conn = H1Conn::new(stream);
            conn.client_cert = self.opts.tls.has_client_cert();
            if self.stamps_arrivals() {
                conn.stamp_arrivals();
            }
            Ok(Conn::H1(Box::new(conn)))
        }
    }

    /// Opens a WebSocket (ws:// or wss:// as the target is http or https)
    /// to `path_and_query` under the target's prefix: TCP, TLS offering
    /// HTTP/1.1 only whatever `--http2` says (the upgrade is an HTTP/1.1
    /// request), then the handshake.
    pub async fn websocket(
        &self,
        path_and_query: &str,
        headers: &[(String, String)],
    ) -> Result<crate::ws::Opened, crate::ws::Refused> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let refused = |failure: Failure| crate::ws::Refused { status: 0, failure };
        let t = &self.target;
        let scheme = if t.https { "wss" } else { "ws" };
        let url = format!("{scheme}://{}{}{path_and_query}", t.authority, t.prefix);
        let mut request = url.as_str().into_client_request().map_err(|e| {
            refused((
                ErrorKind::Request,
                format!("bad WebSocket URL `{url}`: {e}"),
            ))
        })?;
        for (name, value) in headers {
            let bad = |e: &dyn std::fmt::Display| {
                refused((ErrorKind::Request, format!("bad header `{name}`: {e}")))
            };
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| bad(&e))?;
            let value = HeaderValue::from_str(value).map_err(|e| bad(&e))?;
            // The request's own Host replaces the URL's: one Host a request.
            if name == http::header::HOST {
                request.headers_mut().insert(name, value);
            } else {
                request.headers_mut().append(name, value);
            }
        }
        let opening = Instant::now();
        let tls = self.ws_tls.as_ref().or(self.tls.as_ref());
        let (stream, _) = self.open_stream(tls).await.map_err(refused)?;
        let connect_ns = opening.elapsed().as_nanos() as u64;
        match tokio_tungstenite::client_async_with_config(
            request,
            stream,
            Some(crate::ws::config()),
        )
        .await
        {
            Ok((stream, _)) => Ok(crate::ws::Opened { stream, connect_ns }),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                let status = response.status().as_u16();
                Err(crate::ws::Refused {
                    status,
                    failure: (
                        ErrorKind::Status,
                        format!("the WebSocket upgrade was answered with status {status}"),
                    ),
                })
            }
            Err(e) => Err(refused(crate::ws::failure(&e))),
        }
    }

    /// A TCP connection to the target, from the next of `--local-ips`
    /// when there are any (to the first target address of its family).
    async fn connect_tcp(&self) -> io::Result<TcpStream> {
        if self.opts.local_ips.is_empty() {
            return TcpStream::connect(&self.target.addrs[..]).await;
        }
        let n = self
            .next_local
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let local = self.opts.local_ips[n % self.opts.local_ips.len()];
        let Some(&to) = self
            .target
            .addrs
            .iter()
            .find(|a| a.is_ipv4() == local.is_ipv4())
        else {
            return Err(io::Error::new(
                io::ErrorKind::AddrNotAvailable,
                format!("--local-ips: the target has no address of {local}'s family"),
            ));
        };
        bound_socket(local)?.connect(to).await
    }

    /// TCP, then TLS with `tls` when the target is https; and whether ALPN
    /// chose HTTP/2 (or, on plain TCP, `--http2` asks for h2c).
    async fn open_stream(
        &self,
        tls: Option<&(
            tokio_rustls::TlsConnector,
            rustls::pki_types::ServerName<'static>,
        )>,
    ) -> Result<(Stream, bool), Failure> {
        let limit = self.opts.connect_timeout;
        let tcp = match tokio::time::timeout(limit, self.connect_tcp()).await {
            Err(_) => {
                return Err((
                    ErrorKind::Connect,
                    format!("connect timed out after {}", format_duration(limit)),
                ))
            }
            Ok(Err(e)) => return Err((ErrorKind::Connect, e.to_string())),
            Ok(Ok(tcp)) => tcp,
        };
        let _ = tcp.set_nodelay(true);
        Ok(match tls {
            None => (Stream::Plain(tcp), self.opts.http2),
            Some((connector, name)) => {
                let tls =
                    match tokio::time::timeout(limit, connector.connect(name.clone(), tcp)).await {
                        Err(_) => {
                            return Err((
                                ErrorKind::Tls,
                                format!("TLS handshake timed out after {}", format_duration(limit)),
                            ))
                        }
                        Ok(Err(e)) => {
                            return Err(tls_failure(&e, &self.target, &self.opts.tls)
                                .unwrap_or((ErrorKind::Tls, e.to_string())))
                        }
                        Ok(Ok(tls)) => tls,
                    };
                let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
                (Stream::Tls(Box::new(tls)), h2)
            }
        })
    }

    /// Sends `req` on the VU's connection (making one when it has none or it
    /// ended) and reads the response and its body, within the request timeout.
    pub async fn send(
        &self,
        slot: &mut Option<Conn>,
        req: Outgoing<'_>,
        keep_body: bool,
        proto: &mut Option<&'static str>,
        watchdog: &mut Watchdog,
    ) -> Result<Response, Failure> {
        let limit = self.opts.timeout;
        let due = req.started + limit;
        *proto = None;
        // Pinned where it is made: the race holds a pointer to it, rather
        // than the whole future moved in (a copy per request).
        let result = {
            let exchange = std::pin::pin!(self.exchange(slot, req, keep_body, proto));
            let expired = std::pin::pin!(watchdog.expire(due));
            race::first(exchange, expired).await.unwrap_or_else(|()| {
                Err((
                    ErrorKind::Timeout,
                    format!("no response within {}", format_duration(limit)),
                ))
            })
        };
        let keep = result.as_ref().is_ok_and(|r| r.error.is_none())
            && self.opts.keepalive
            && match slot {
                Some(Conn::H1(conn)) => conn.open,
                Some(Conn::H2 { closed, .. }) => !closed.load(std::sync::atomic::Ordering::Relaxed),
                None => false,
            };
        if !keep {
            *slot = None;
        }
        result
    }

    async fn exchange(
        &self,
        slot: &mut Option<Conn>,
        req: Outgoing<'_>,
        keep_body: bool,
        proto: &mut Option<&'static str>,
    ) -> Result<Response, Failure> {
        check_headers(req.headers)?;
        // A kept-alive connection the server closed meanwhile gets one more
        // try on a new connection.
        let mut connect_ns = None;
        for _ in 0..2 {
            if slot.is_none() {
                let opening = Instant::now();
                *slot = Some(Box::pin(self.connect()).await?);
                connect_ns = Some(opening.elapsed().as_nanos() as u64);
            }
            match slot.as_mut().expect("connected above") {
                Conn::H1(conn) => {
                    // A retry after a stale h2 connection may land on HTTP/1.1.
                    *proto = None;
                    let t = &self.target;
                    match conn
                        .round_trip(
                            &req,
                            &t.authority,
                            &t.prefix,
                            self.opts.keepalive,
                            keep_body,
                            self.opts.max_body,
                        )
                        .await
                    {
                        Ok(resp) => return Ok(Response { connect_ns, ..resp }),
                        Err(Trouble::Stale(_)) => {
                            *slot = None;
                            continue;
                        }
                        Err(Trouble::Failed(failure)) => return Err(failure),
                    }
                }
                Conn::H2 { sender, .. } => {
                    *proto = Some("h2");
                    let client_cert = self.opts.tls.has_client_cert();
                    // Polled in place: `ready()` takes the sender, so it
                    // would cost a clone (and its drop) every request.
                    let ready = futures_util::future::poll_fn(|cx| sender.poll_ready(cx)).await;
                    if ready.is_err() {
                        *slot = None;
                        continue;
                    }
                    let request = self.h2_request(&req)?;
                    let end = req.body.is_empty();
                    let sending = Instant::now();
                    let (response, mut body_tx) = match sender.send_request(request, end) {
                        Ok(sent) => sent,
                        Err(e) => return Err(classify_h2(&e, client_cert)),
                    };
                    if !end {
                        // h2 buffers what the peer's window does not take yet.
                        body_tx
                            .send_data(Bytes::copy_from_slice(req.body), true)
                            .map_err(|e| classify_h2(&e, client_cert))?;
                    }
                    return match response.await {
                        Ok(resp) => {
                            // The head has come: as near the first byte as h2 lets us see.
                            let ttfb_ns = Some(sending.elapsed().as_nanos() as u64);
                            read_h2(resp, keep_body, self.opts.max_body, client_cert)
                                .await
                                .map(|r| Response {
                                    connect_ns,
                                    ttfb_ns,
                                    ..r
                                })
                        }
                        Err(e) => Err(classify_h2(&e, client_cert)),
                    };
                }
            }
        }
        Err((
            ErrorKind::Reset,
            "the connection closed before the request could be sent".into(),
        ))
    }

    fn h2_request(&self, req: &Outgoing<'_>) -> Result<http::Request<()>, Failure> {
        let bad = |what: &str, e: &dyn std::fmt::Display| {
            (ErrorKind::Request, format!("bad {what}: {e}"))
        };
        let path = if self.target.prefix.is_empty() {
            http::uri::PathAndQuery::try_from(req.path_and_query)
        } else {
            http::uri::PathAndQuery::try_from(
                [self.target.prefix.as_str(), req.path_and_query].concat(),
            )
        }
        .map_err(|e| bad("path", &e))?;
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(self.target.h2_scheme.clone());
        parts.authority = Some(self.target.h2_authority.clone());
        parts.path_and_query = Some(path);
        let uri = http::Uri::from_parts(parts).map_err(|e| bad("path", &e))?;
        let method =
            http::Method::from_bytes(req.method.as_bytes()).map_err(|e| bad("method", &e))?;
        let mut request = http::Request::new(());
        *request.uri_mut() = uri;
        let headers = request.headers_mut();
        for (name, value) in req.headers {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| bad("header", &e))?;
            // HTTP/2 has no connection-specific headers (RFC 9113 8.2.2):
            // dropped, as hyper drops them, rather than refused by h2.
            if is_connection_specific(&name, value) {
                continue;
            }
            let value = HeaderValue::from_str(value).map_err(|e| bad("header value", &e))?;
            headers.append(name, value);
        }
        if req.states_length() && !headers.contains_key(http::header::CONTENT_LENGTH) {
            headers.insert(
                http::header::CONTENT_LENGTH,
                HeaderValue::from(req.body.len()),
            );
        }
        *request.method_mut() = method;
        Ok(request)
    }
}

/// A header HTTP/2 forbids: `Connection` and those it names by custom
/// (`Keep-Alive`, `Proxy-Connection`, `Transfer-Encoding`, `Upgrade`), and
/// `TE` other than `trailers`.
fn is_connection_specific(name: &HeaderName, value: &str) -> bool {
    use http::header::{CONNECTION, TE, TRANSFER_ENCODING, UPGRADE};
    *name == CONNECTION
        || *name == TRANSFER_ENCODING
        || *name == UPGRADE
        || name.as_str() == "keep-alive"
        || name.as_str() == "proxy-connection"
        || (*name == TE && !value.eq_ignore_ascii_case("trailers"))
}

/// Reads an HTTP/2 response's body, giving its bytes back to the flow
/// control window as they are read.
async fn read_h2(
    resp: http::Response<h2::RecvStream>,
    keep: bool,
    max: u64,
    client_cert: bool,
) -> Result<Response, Failure> {
    let status = resp.status().as_u16();
    let set_cookies = resp
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect();
    let mut body = resp.into_body();
    let mut out = Response {
        status,
        set_cookies,
        ..Response::default()
    };
    while let Some(data) = body.data().await {
        let data = match data {
            Ok(data) => data,
            Err(e) => {
                let (kind, detail) = classify_h2(&e, client_cert);
                let kind = if kind == ErrorKind::Other {
                    ErrorKind::Body
                } else {
                    kind
                };
                out.error = Some((kind, format!("reading the body: {detail}")));
                return Ok(out);
            }
        };
        let _ = body.flow_control().release_capacity(data.len());
        out.bytes_in += data.len() as u64;
        if out.bytes_in > max {
            out.error = Some((
                ErrorKind::Body,
                format!("body longer than --max-body {max} bytes"),
            ));
            return Ok(out);
        }
        if keep {
            out.body.extend_from_slice(&data);
        }
    }
    Ok(out)
}

/// A socket bound to `local` whose port is chosen at connect, not at bind.
/// A plain `bind(local, 0)` must find a port free for every destination:
/// it scans the ephemeral range (slower with every port taken) and fails
/// with EADDRINUSE once the range is used up, TIME_WAIT included, where
/// `connect` only needs the whole 4-tuple to be unused
/// (`IP_BIND_ADDRESS_NO_PORT`, which also serves IPv6 sockets).
fn bound_socket(local: std::net::IpAddr) -> io::Result<tokio::net::TcpSocket> {
    let socket = if local.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    nix::sys::socket::setsockopt(
        &socket,
        nix::sys::socket::sockopt::IpBindAddressNoPort,
        &true,
    )
    .map_err(io::Error::from)?;
    socket
        .bind(SocketAddr::new(local, 0))
        .map_err(|e| io::Error::new(e.kind(), format!("cannot bind to {local}: {e}")))?;
    Ok(socket)
}

/// The error kind and a short description of an h2 error.
pub fn classify_h2(e: &h2::Error, client_cert: bool) -> Failure {
    if let Some(tls) = records::tls::find_error(e) {
        return (ErrorKind::Tls, records::tls::describe(tls, "", client_cert));
    }
    let mut detail = e.to_string();
    if let Some(io) = e.get_io() {
        let kind = crate::conn::io_kind(io.kind());
        let cause = io.to_string();
        if !detail.contains(&cause) {
            detail.push_str(": ");
            detail.push_str(&cause);
        }
        return (kind, detail);
    }
    let kind = if e.is_reset() || e.is_go_away() || e.is_remote() {
        ErrorKind::Reset
    } else {
        ErrorKind::Other
    };
    (kind, detail)
}

fn tls_connector(opts: &ClientOptions) -> Result<tokio_rustls::TlsConnector, String> {
    let config = opts
        .tls
        .client_config(alpn(opts.http2))
        .map_err(|e| format!("TLS setup: {e}"))?;
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// The protocols offered over TLS: h2 first when asked for, HTTP/1.1 always,
/// so a server without HTTP/2 still gets the load.
fn alpn(http2: bool) -> &'static [&'static [u8]] {
    if http2 {
        &[b"h2", b"http/1.1"]
    } else {
        &[b"http/1.1"]
    }
}

/// A TLS failure's kind and one-line description, when `err` is one.
pub fn tls_failure(
    err: &(dyn std::error::Error + 'static),
    target: &Target,
    tls: &Tls,
) -> Option<Failure> {
    records::tls::find_error(err).map(|e| {
        (
            ErrorKind::Tls,
            records::tls::describe(e, &target.host, tls.has_client_cert()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_with_ports_and_prefixes() {
        let t = Target::parse("http://127.0.0.1:8080/api/").unwrap();
        assert_eq!((t.port, t.prefix.as_str()), (8080, "/api"));
        assert_eq!(t.authority, "127.0.0.1:8080");
        assert!(!t.https);
        let t = Target::parse("https://[::1]").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 443));
        assert!(Target::parse("ftp://x").is_err());
        assert!(Target::parse("127.0.0.1:80").is_err());
    }

    #[tokio::test]
    async fn refused_connections_are_connect_errors() {
        // Bind then drop, so nothing listens on the port.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let target = Arc::new(Target::parse(&format!("http://127.0.0.1:{port}")).unwrap());
        let opts = ClientOptions {
            timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(1),
            max_body: 1 << 20,
            keepalive: true,
            http2: false,
            tls: Tls::default(),
            local_ips: Vec::new(),
            arrival_stamps: false,
        };
        assert!(target.preflight(&opts).is_err());
        let client = Client::new(target, opts).unwrap();
        let req = Outgoing::get_root();
        let mut slot = None;
        let err = client
            .send(&mut slot, req, false, &mut None, &mut Watchdog::default())
            .await
            .unwrap_err();
        assert_eq!(err.0, ErrorKind::Connect, "{err:?}");
        assert!(slot.is_none());
    }

    #[tokio::test]
    async fn a_local_address_takes_its_port_at_connect() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let local = "127.0.0.3".parse().unwrap();
        let socket = bound_socket(local).unwrap();
        // Bound to the address, no port reserved yet.
        assert_eq!(socket.local_addr().unwrap(), SocketAddr::new(local, 0));
        let stream = socket
            .connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let from = stream.local_addr().unwrap();
        assert_eq!(from.ip(), local);
        assert_ne!(from.port(), 0);
    }
}
