//! Sending rendered requests to the target, with bounded retries.
//!
//! One `reqwest::Client` (a keep-alive pool) serves every user; cookies are
//! kept per user by the caller, so the client has no cookie store. Redirects
//! are not followed: a form login answers 302 with the session cookie, and
//! following it would hide that answer.

use std::error::Error as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand::Rng;
use records::exchange::Rendered;

/// How the client talks to the target.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `http://host:port`, without a trailing slash.
    pub base_url: String,
    /// Retries after a connection error, a timeout or a 5xx answer.
    pub retries: u32,
    /// Per-request limit.
    pub timeout: Duration,
    /// First backoff; it doubles on every retry (with jitter), up to [`MAX_BACKOFF`].
    pub backoff: Duration,
    /// Idle connections kept per host: the number of users in flight.
    pub pool: usize,
    /// `--insecure`, `--ca-cert`, `--cert`/`--key`, files read.
    pub tls: records::tls::Tls,
}

/// The longest wait for a connection (TCP and TLS), within `--timeout`.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The protocols offered over TLS, as reqwest offers them by default.
const ALPN: &[&[u8]] = &[b"h2", b"http/1.1"];

/// Before any user is made, one TLS handshake with an https target (as
/// hammer's preflight does): a certificate problem ends seed with exit 3
/// and its one line instead of failing every user. A target that does not
/// answer at all is left to the first user's request, which says so.
pub fn check_tls(base_url: &str, tls: &records::tls::Tls, timeout: Duration) -> anyhow::Result<()> {
    let Ok(url) = reqwest::Url::parse(base_url) else {
        return Ok(());
    };
    if url.scheme() != "https" {
        return Ok(());
    }
    let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']);
    let Ok(addrs) = url.socket_addrs(|| Some(443)) else {
        return Ok(());
    };
    let Some(mut tcp) = addrs
        .iter()
        .find_map(|a| std::net::TcpStream::connect_timeout(a, timeout).ok())
    else {
        return Ok(());
    };
    records::tls::check_handshake(&mut tcp, host, tls, ALPN, timeout)
        .map_err(|problem| records::unreachable(records::tls::failure_line(base_url, &problem)))
}

/// Longest wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// An answer from the target.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    /// Every `Set-Cookie` header value.
    pub set_cookies: Vec<String>,
    pub body: Vec<u8>,
    pub latency: Duration,
}

/// Why no answer arrived.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// Nothing accepted the connection: the target is not there.
    #[error("cannot connect ({0})")]
    Connect(String),
    #[error("no answer within {0}")]
    Timeout(String),
    /// The connection broke, or the request could not be sent.
    #[error("{0}")]
    Broken(String),
    /// TLS with the target failed (a certificate problem): retrying will
    /// not help, and the target is as good as unreachable.
    #[error("TLS: {0}")]
    Tls(String),
}

/// The shared HTTP client.
pub struct Client {
    http: reqwest::Client,
    settings: Settings,
    /// HTTP requests sent, retries included.
    sent: AtomicU64,
}

impl Client {
    pub fn new(settings: Settings) -> anyhow::Result<Client> {
        // The same TLS configuration hammer connects with (records::tls).
        let tls = settings
            .tls
            .client_config(ALPN)
            .map_err(|e| records::bad_input(format!("TLS setup: {e}")))?;
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(settings.pool)
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(CONNECT_TIMEOUT))
            .tcp_nodelay(true)
            .user_agent(concat!("loadpipe-seed/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Client {
            http,
            settings,
            sent: AtomicU64::new(0),
        })
    }

    pub fn base_url(&self) -> &str {
        &self.settings.base_url
    }

    /// HTTP requests sent so far, retries included.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Sends `request`, retrying connection errors, timeouts and 5xx answers
    /// with exponential backoff. A 4xx answer is final: asking again would
    /// get the same answer. After the last retry the last 5xx answer (or the
    /// last error) is returned.
    pub async fn send(&self, request: &Rendered) -> Result<Reply, TransportError> {
        let mut attempt = 0;
        loop {
            let result = self.send_once(request).await;
            let transient = match &result {
                Ok(reply) => reply.status >= 500,
                Err(TransportError::Tls(_)) => false,
                Err(_) => true,
            };
            if !transient || attempt >= self.settings.retries {
                return result;
            }
            tokio::time::sleep(backoff(self.settings.backoff, attempt)).await;
            attempt += 1;
        }
    }

    async fn send_once(&self, request: &Rendered) -> Result<Reply, TransportError> {
        let method = reqwest::Method::from_bytes(request.method.as_bytes())
            .map_err(|_| TransportError::Broken(format!("bad method `{}`", request.method)))?;
        let url = format!("{}{}", self.settings.base_url, request.path_and_query);
        let mut builder = self.http.request(method, url);
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if !request.body.is_empty() {
            builder = builder.body(request.body.clone());
        }
        self.sent.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let response = builder.send().await.map_err(|e| self.classify(&e))?;
        let status = response.status().as_u16();
        let set_cookies = response
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect();
        let body = response.bytes().await.map_err(|e| self.classify(&e))?;
        Ok(Reply {
            status,
            set_cookies,
            body: body.to_vec(),
            latency: started.elapsed(),
        })
    }

    /// Turns a reqwest error into a short reason. reqwest's own message names
    /// the URL, which may carry templated values, so only the cause is kept.
    fn classify(&self, err: &reqwest::Error) -> TransportError {
        if let Some(tls) = records::tls::find_error(err) {
            let host = reqwest::Url::parse(&self.settings.base_url)
                .ok()
                .and_then(|u| u.host_str().map(|h| h.trim_matches(['[', ']']).to_string()))
                .unwrap_or_default();
            let has_cert = self.settings.tls.has_client_cert();
            return TransportError::Tls(records::tls::describe(tls, &host, has_cert));
        }
        if err.is_timeout() {
            return TransportError::Timeout(records::units::format_duration(self.settings.timeout));
        }
        let reason = cause(err);
        if err.is_connect() {
            TransportError::Connect(reason)
        } else {
            TransportError::Broken(reason)
        }
    }
}

/// The innermost cause of an error, in a few words.
fn cause(err: &reqwest::Error) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = err.source();
    let mut last = None;
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
                std::io::ErrorKind::ConnectionReset => "connection reset".into(),
                std::io::ErrorKind::ConnectionAborted => "connection aborted".into(),
                std::io::ErrorKind::TimedOut => "timed out".into(),
                _ => strip_os_error(&io.to_string()),
            };
        }
        last = Some(e);
        source = e.source();
    }
    match last {
        Some(e) => e.to_string(),
        None if err.is_body() => "the answer's body broke off".into(),
        None => "request failed".into(),
    }
}

/// `Connection refused (os error 111)` → `connection refused`.
fn strip_os_error(text: &str) -> String {
    let text = match text.find(" (os error") {
        Some(at) => &text[..at],
        None => text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Wait before retry `attempt` (0-based): `base * 2^attempt`, capped, with
/// jitter so that users which failed together do not retry together.
pub fn backoff(base: Duration, attempt: u32) -> Duration {
    let full = base
        .saturating_mul(1u32 << attempt.min(16))
        .min(MAX_BACKOFF);
    let jitter = rand::thread_rng().gen_range(0.5..=1.0);
    full.mul_f64(jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let base = Duration::from_millis(100);
        for attempt in 0..6 {
            let full = (base * (1 << attempt)).min(MAX_BACKOFF);
            let wait = backoff(base, attempt);
            assert!(wait <= full && wait >= full / 2, "{attempt}: {wait:?}");
        }
        assert!(backoff(base, 40) <= MAX_BACKOFF);
    }

    #[test]
    fn os_errors_read_as_words() {
        assert_eq!(
            strip_os_error("Connection refused (os error 111)"),
            "connection refused"
        );
        assert_eq!(strip_os_error("Broken pipe"), "broken pipe");
    }

    fn settings(base_url: String, retries: u32) -> Settings {
        Settings {
            base_url,
            retries,
            timeout: Duration::from_secs(5),
            backoff: Duration::from_millis(1),
            pool: 4,
            tls: records::tls::Tls::default(),
        }
    }

    fn get(path: &str) -> Rendered {
        Rendered {
            method: "GET".into(),
            path_and_query: path.into(),
            ..Rendered::default()
        }
    }

    /// A one-shot loopback server answering each connection with the next canned response.
    async fn canned(answers: Vec<&'static str>) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            for answer in answers {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let _ = socket.write_all(answer.as_bytes()).await;
                let _ = socket.shutdown().await;
            }
        });
        format!("http://{addr}")
    }

    const E500: &str =
        "HTTP/1.1 500 Internal Server Error\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
    const E404: &str = "HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
    const OK: &str = "HTTP/1.1 200 OK\r\nconnection: close\r\nset-cookie: session=abc; HttpOnly\r\ncontent-length: 2\r\n\r\nhi";

    #[tokio::test]
    async fn retries_5xx_until_an_answer() {
        let url = canned(vec![E500, E500, OK]).await;
        let client = Client::new(settings(url, 3)).unwrap();
        let reply = client.send(&get("/x")).await.unwrap();
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body, b"hi");
        assert_eq!(reply.set_cookies, vec!["session=abc; HttpOnly".to_string()]);
        assert_eq!(client.sent(), 3);
    }

    #[tokio::test]
    async fn gives_up_after_the_retries_and_never_retries_4xx() {
        let url = canned(vec![E500, E500, E404]).await;
        let client = Client::new(settings(url, 1)).unwrap();
        assert_eq!(client.send(&get("/x")).await.unwrap().status, 500);
        assert_eq!(client.sent(), 2);
        let reply = client.send(&get("/x")).await.unwrap();
        assert_eq!(reply.status, 404);
        assert_eq!(client.sent(), 3);
    }

    #[tokio::test]
    async fn a_closed_port_is_a_connect_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let client = Client::new(settings(url, 2)).unwrap();
        let err = client.send(&get("/x")).await.unwrap_err();
        assert_eq!(err, TransportError::Connect("connection refused".into()));
        assert_eq!(client.sent(), 3);
    }
}
