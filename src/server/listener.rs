//! The TLS accept loop and the life of each connection.
//!
//! Each accepted socket gets a bounded time to complete the TLS handshake (a client that opens
//! connections and sends nothing cannot pile them up); plaintext HTTP sent to this port is
//! answered with a short 400 and closed, as Go's servers do. A connection then serves HTTP/1.1
//! or HTTP/2 (chosen with ALPN) with a request-header timeout, and is closed gracefully once it
//! has been idle for the idle timeout. On shutdown the loop stops accepting, asks every
//! connection to finish its in-flight requests and close, and waits for them (bounded).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tower::ServiceExt;

/// How long an HTTP/2 keep-alive ping may go unanswered before the connection is closed.
const H2_PING_TIMEOUT: Duration = Duration::from_secs(20);

/// The first byte of every TLS connection (a handshake record).
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

/// What a plaintext HTTP client gets, the same answer Go's HTTPS servers give.
const PLAINTEXT_ANSWER: &[u8] = b"HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";

/// The per-connection time limits.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionTimeouts {
    /// Time allowed from accept to a completed TLS handshake.
    pub handshake: Duration,
    /// Time allowed to receive a request's headers (HTTP/1.1). hyper also applies it while an
    /// HTTP/1.1 connection waits for its next request.
    pub header_read: Duration,
    /// An open connection with no request in flight for this long is closed gracefully.
    pub idle: Duration,
}

/// Accepts TLS connections until `stop` turns true, then drains them for at most `drain`.
pub async fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    router: Router,
    timeouts: ConnectionTimeouts,
    drain: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    let connection_stop = stop.clone();
    loop {
        tokio::select! {
            _ = super::stopped(&mut stop) => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    connections.spawn(connection(
                        tcp,
                        peer,
                        acceptor.clone(),
                        router.clone(),
                        timeouts,
                        connection_stop.clone(),
                    ));
                }
                Err(err) => {
                    // Usually out of file descriptors: back off instead of spinning.
                    tracing::warn!(error = %err, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
    drop(listener);
    let open = connections.len();
    tracing::info!(
        connections = open,
        "stopped accepting; draining open connections"
    );
    let drained = tokio::time::timeout(drain, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            connections = connections.len(),
            drain_ms = drain.as_millis() as u64,
            "closing connections that did not finish in time"
        );
        connections.shutdown().await;
    }
}

/// Serves one connection from handshake to close.
async fn connection(
    tcp: TcpStream,
    peer: SocketAddr,
    acceptor: TlsAcceptor,
    router: Router,
    timeouts: ConnectionTimeouts,
    mut stop: watch::Receiver<bool>,
) {
    let tls = match tokio::time::timeout(timeouts.handshake, handshake(tcp, acceptor)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(err)) => {
            tracing::debug!(%peer, error = %err, "TLS handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!(%peer, "TLS handshake timed out");
            return;
        }
    };

    let activity = Arc::new(Activity::new());
    let service_activity = activity.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let busy = service_activity.begin();
        let router = router.clone();
        async move {
            let response = router.oneshot(request.map(axum::body::Body::new)).await;
            drop(busy);
            response
        }
    });

    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.header_read)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(timeouts.idle / 2))
        .keep_alive_timeout(H2_PING_TIMEOUT);
    let connection = builder.serve_connection(TokioIo::new(tls), service);
    tokio::pin!(connection);

    let mut closing = false;
    loop {
        let idle_deadline = activity.idle_deadline(timeouts.idle);
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(err) = result {
                    tracing::debug!(%peer, error = %err, "connection closed with an error");
                }
                return;
            }
            _ = super::stopped(&mut stop), if !closing => {
                closing = true;
                connection.as_mut().graceful_shutdown();
            }
            _ = tokio::time::sleep_until(idle_deadline), if !closing => {
                if activity.is_idle_for(timeouts.idle) {
                    tracing::debug!(%peer, "closing an idle connection");
                    closing = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// Completes the TLS handshake, or answers plaintext HTTP with a 400 and closes.
async fn handshake(tcp: TcpStream, acceptor: TlsAcceptor) -> std::io::Result<TlsStream<TcpStream>> {
    let mut first = [0u8; 1];
    let read = tcp.peek(&mut first).await?;
    if read == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "closed before the handshake",
        ));
    }
    if first[0] != TLS_HANDSHAKE_RECORD {
        let mut tcp = tcp;
        // The client may already be gone; the connection is closed either way.
        let _ = tcp.write_all(PLAINTEXT_ANSWER).await;
        let _ = tcp.shutdown().await;
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "plaintext HTTP sent to the TLS port",
        ));
    }
    acceptor.accept(tcp).await
}

/// Requests in flight on one connection and when it was last busy, to tell when it is idle.
#[derive(Debug)]
struct Activity {
    in_flight: AtomicUsize,
    last_active: Mutex<Instant>,
}

impl Activity {
    fn new() -> Self {
        Self {
            in_flight: AtomicUsize::new(0),
            last_active: Mutex::new(Instant::now()),
        }
    }

    /// Marks a request as started; the guard marks it finished.
    fn begin(self: &Arc<Self>) -> Busy {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.touch();
        Busy {
            activity: self.clone(),
        }
    }

    fn touch(&self) {
        *self
            .last_active
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Instant::now();
    }

    fn last_active(&self) -> Instant {
        *self
            .last_active
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// When to check next whether the connection is idle: `idle` after it was last busy, or
    /// `idle` from now while a request is in flight.
    fn idle_deadline(&self, idle: Duration) -> Instant {
        if self.in_flight.load(Ordering::SeqCst) > 0 {
            Instant::now() + idle
        } else {
            self.last_active() + idle
        }
    }

    fn is_idle_for(&self, idle: Duration) -> bool {
        self.in_flight.load(Ordering::SeqCst) == 0 && self.last_active().elapsed() >= idle
    }
}

/// A request in flight on a connection.
struct Busy {
    activity: Arc<Activity>,
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.activity.touch();
        self.activity.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}
