//! The accept loop. Our own (not `axum::serve`) for two reasons: `--drop-rate`
//! must close a connection without any response, which a hyper service error
//! does; and graceful shutdown must drain keep-alive connections.

use crate::faults::Faults;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by --drop-rate")
    }
}

impl std::error::Error for Dropped {}

/// Serves `router` on `listener` until `shutdown` resolves, then lets
/// in-flight requests finish (up to 5 s). HTTP/1.1 and HTTP/2 on every
/// connection: over TLS ALPN picks, in plain text hyper spots the h2
/// prior-knowledge preface. Upgraded connections (WebSockets) leave hyper's
/// hands, so draining them is their owner's job.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    faults: Option<Arc<Faults>>,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).keep_alive(true);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);
    let acceptor = tls.map(TlsAcceptor::from);
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: back off, keep serving.
                    eprintln!("tasktracker: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let faults = faults.clone();
        let service = hyper::service::service_fn(move |req: http::Request<Incoming>| {
            let router = router.clone();
            let faults = faults.clone();
            async move {
                if let Some(f) = &faults {
                    // /metrics is exempt from faults (see lib.rs).
                    if req.uri().path() != "/metrics" && f.drop_now() {
                        f.wait_stall().await;
                        // HTTP/1.1: the connection closes with no response; HTTP/2: the
                        // stream is reset, the connection's other streams go on.
                        return Err(Dropped);
                    }
                }
                let response = router
                    .oneshot(req.map(axum::body::Body::new))
                    .await
                    .unwrap_or_else(|e: Infallible| match e {});
                Ok(response)
            }
        });
        let builder = builder.clone();
        let watcher = graceful.watcher();
        match &acceptor {
            None => {
                tokio::spawn(async move {
                    let connection =
                        builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                    let _ = watcher.watch(connection).await;
                });
            }
            Some(acceptor) => {
                let accept = acceptor.accept(stream);
                tokio::spawn(async move {
                    // A client that never finishes its handshake must not hold a task forever.
                    let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, accept).await {
                        Ok(Ok(stream)) => stream,
                        // Failed handshakes (no client certificate, untrusted server) are
                        // the client's business; logging each would flood a load test.
                        _ => return,
                    };
                    let connection =
                        builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                    let _ = watcher.watch(connection).await;
                });
            }
        }
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(5)) => {}
    }
}

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Resolves on SIGINT or SIGTERM.
pub async fn signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
