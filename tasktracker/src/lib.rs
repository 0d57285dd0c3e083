//! The reference TaskTracker API that loadpipe load-tests (seed 000's system):
//! JWT auth, per-user tasks and stats, in memory or on PostgreSQL, as a
//! monolith or as a gateway plus services, with fault switches.
//!
//! See README.md for the endpoints and flags.

pub mod api;
pub mod cli;
pub mod error;
pub mod faults;
pub mod metrics;
pub mod micro;
pub mod model;
pub mod serve;
pub mod store;
pub mod tls;
pub mod token;
pub mod ws;

pub use cli::{Arch, Args};

use crate::api::{AuthMode, Inner, StatsSource};
use crate::faults::Faults;
use crate::metrics::Metrics;
use crate::store::{Postgres, PostgresConfig, Store};
use crate::token::Tokens;
use anyhow::Context;
use axum::extract::DefaultBodyLimit;
use records::Exit;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Runs the server until SIGINT/SIGTERM.
pub fn run(args: Args) -> anyhow::Result<Exit> {
    let faults = args.faults().map_err(records::bad_input)?;
    if !store::postgres::valid_schema(&args.db_schema) {
        return Err(records::bad_input(format!(
            "--db-schema `{}` must be a lowercase identifier (a-z, 0-9, _)",
            args.db_schema
        )));
    }
    if args.pool_size == 0 {
        return Err(records::bad_input("--pool-size must be at least 1"));
    }
    let identity = match (&args.cert, &args.key) {
        (Some(cert), Some(key)) => Some(tls::Identity::Files {
            cert: cert.clone(),
            key: key.clone(),
        }),
        _ if args.tls => Some(tls::Identity::SelfSigned {
            cert_out: args.cert_out.clone(),
        }),
        _ => None,
    };
    if args.client_ca.is_some() && identity.is_none() {
        return Err(records::bad_input(
            "--client-ca needs TLS: add --tls or --cert FILE --key FILE",
        ));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve_until_signal(args, faults, identity))
}

async fn open_store(args: &Args) -> anyhow::Result<Store> {
    match &args.database_url {
        None => Ok(Store::memory()),
        Some(url) => {
            let config = PostgresConfig {
                url: url.clone(),
                schema: args.db_schema.clone(),
                pool_size: args.pool_size,
            };
            Ok(Store::Postgres(Arc::new(Postgres::connect(&config).await?)))
        }
    }
}

async fn serve_until_signal(
    args: Args,
    fault_config: faults::FaultConfig,
    identity: Option<tls::Identity>,
) -> anyhow::Result<Exit> {
    let secret = args
        .jwt_secret
        .clone()
        .unwrap_or_else(token::random_token)
        .into_bytes();
    // Before anything starts, so a bad file fails fast; --cert-out's file
    // then exists before the "listening" line.
    let tls = match &identity {
        None => None,
        Some(identity) => Some(Arc::new(
            tls::server_config(identity, args.client_ca.as_deref()).map_err(records::bad_input)?,
        )),
    };
    let tokens = Arc::new(Tokens::new(&secret, args.token_ttl, args.refresh_ttl));
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|e| records::bad_input(format!("cannot listen on {}: {e}", args.listen)))?;
    let addr = listener.local_addr()?;
    let metrics = Arc::new(Metrics::default());
    let ws_config = ws::WsConfig {
        close_after: args.ws_close_after,
        mute: args.ws_mute,
    };
    let hub = ws::Hub::new(ws_config, metrics.clone());
    let proxies = Arc::new(ws::Live::default());

    let (router, storage) = match args.arch {
        Arch::Mono => {
            let store = open_store(&args).await?;
            let storage = store.kind();
            let state = Arc::new(Inner {
                store,
                tokens,
                auth: AuthMode::Local,
                stats: StatsSource::Store,
                hash_cost: args.hash_cost,
                hub: Some(hub.clone()),
            });
            let router = api::user_routes()
                .merge(api::task_routes())
                .merge(api::stats_routes())
                .with_state(state);
            (api::finish(router), storage)
        }
        Arch::Micro => {
            let user_store = open_store(&args).await?;
            let task_store = open_store(&args).await?;
            let storage = user_store.kind();
            let client = micro::client()?;
            let services = micro::start_services(
                user_store,
                task_store,
                tokens.clone(),
                args.hash_cost,
                args.max_body,
                client.clone(),
                hub.clone(),
            )
            .await?;
            let gateway = micro::Gateway {
                services,
                tokens,
                client,
                max_body: args.max_body,
                proxies: proxies.clone(),
            };
            (gateway.router(), storage)
        }
    };
    // route_layer reaches only the routes present, so it comes after the last.
    let mut router = router
        .route_layer(axum::middleware::from_fn(metrics::label_route))
        .layer(DefaultBodyLimit::max(args.max_body));
    let faults = fault_config.any().then(|| Faults::new(fault_config));
    if let Some(f) = &faults {
        router = router.layer(axum::middleware::from_fn_with_state(
            f.clone(),
            faults::layer,
        ));
    }
    // /metrics sits outside the fault layer: a test injecting faults still
    // watches the server through it. The counting layer is outermost, so the
    // answers faults make up are counted too.
    let router = metrics::routes(metrics.clone())
        .route_layer(axum::middleware::from_fn(metrics::label_route))
        .fallback_service(router)
        .layer(axum::middleware::from_fn_with_state(
            metrics.clone(),
            metrics::count,
        ));
    let scheme = if tls.is_some() { "https" } else { "http" };
    eprintln!(
        "tasktracker: listening on {scheme}://{addr} ({}, {storage})",
        args.arch.name()
    );
    let shutdown = {
        let hub = hub.clone();
        async move {
            serve::signal().await;
            // WebSockets are upgraded out of hyper's graceful drain: told here.
            hub.close_all();
        }
    };
    serve::serve(listener, router, faults, tls, shutdown).await;
    hub.live.wait_idle(Duration::from_secs(3)).await;
    proxies.wait_idle(Duration::from_secs(1)).await;
    eprintln!("tasktracker: stopped");
    Ok(Exit::Ok)
}
