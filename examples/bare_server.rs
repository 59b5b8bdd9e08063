//! The bare server of `make throughput`: the webhook's own HTTPS stack (listener, connection
//! limits, rustls, hyper, axum: `server::start_with_router`) with one trivial handler that reads
//! the body and answers a fixed AdmissionReview, so that the throughput benchmark can tell what
//! the stack costs per request from what `/validate` adds to it.
//!
//! Usage: `bare_server LISTEN METRICS_LISTEN TLS_CERT TLS_KEY ANSWER_FILE`. Serves `POST
//! /validate` (any path) with the bytes of ANSWER_FILE as `application/json` until SIGTERM or
//! SIGINT. Not a product: it validates nothing.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use axum::Router;
use axum::body::Bytes;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::any;
use bgppeer_webhook::server::{self, Config};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bare_server: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [listen, metrics_listen, cert, key, answer] = args.as_slice() else {
        return Err("usage: bare_server LISTEN METRICS_LISTEN TLS_CERT TLS_KEY ANSWER_FILE".into());
    };
    let listen: SocketAddr = listen.parse().map_err(|err| format!("{listen}: {err}"))?;
    let metrics_listen: SocketAddr = metrics_listen
        .parse()
        .map_err(|err| format!("{metrics_listen}: {err}"))?;
    let answer = Bytes::from(std::fs::read(answer).map_err(|err| format!("{answer}: {err}"))?);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = Config {
        listen,
        metrics_listen,
        shutdown_delay: std::time::Duration::ZERO,
        drain_timeout: std::time::Duration::from_secs(1),
        ..Config::new(PathBuf::from(cert), PathBuf::from(key))
    };
    let router = Router::new().fallback(any(move |body: Bytes| {
        let answer = answer.clone();
        async move {
            drop(body);
            ([(header::CONTENT_TYPE, "application/json")], answer).into_response()
        }
    }));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| format!("cannot start the runtime: {err}"))?;
    runtime.block_on(async move {
        let running = server::start_with_router(config, router)
            .await
            .map_err(|err| err.to_string())?;
        println!("listening on {}", running.addr);
        let handle = running.shutdown_handle();
        tokio::spawn(async move {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(term) => term,
                    Err(_) => return handle.shutdown(),
                };
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            handle.shutdown();
        });
        running.wait().await;
        Ok(())
    })
}
