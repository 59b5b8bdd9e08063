//! The accept loop and the life of each connection, shared by both ports: the TLS port
//! ([`TlsHandshake`]) and the plain-HTTP operations port ([`PlainHandshake`]).
//!
//! - **Cap.** A port holds at most [`PortLimits::max_connections`] connections. At the cap, a
//!   new connection takes the place of the oldest *silent* one (no request started yet, see
//!   [`super::connections`]); when every open connection has served requests the loop stops
//!   accepting until one closes, and the kernel's backlog holds the rest. Each port has its own
//!   cap, so idle clients of one port cannot use up the file descriptors the other needs.
//! - **Handshake.** Each accepted socket gets `handshake` to complete its TLS handshake;
//!   plaintext HTTP sent to the TLS port is answered with a short 400 and closed, as Go's servers
//!   do. ALPN picks HTTP/2 or HTTP/1.1; without ALPN (and on the plain port) the first bytes do.
//! - **Silent connections.** A connection on which no request has started within
//!   `header_read` of its handshake is closed. hyper's own header timeout does not cover it:
//!   it starts only once hyper's HTTP/1.1 parser runs, which is after the protocol has been
//!   detected from the first bytes, and HTTP/2 has none.
//! - **Header read.** hyper cuts an HTTP/1.1 request whose headers take longer than
//!   `header_read`; its timer restarts when a response is finished, so an HTTP/1.1 keep-alive
//!   connection waiting that long for its next request is closed too.
//! - **Idle.** A connection with no request in flight for `idle` is closed gracefully (HTTP/2
//!   connections are also pinged every `idle / 2`).
//! - **Shutdown.** Once `draining` turns true (the shutdown delay), every HTTP/1.1 response
//!   carries `Connection: close`, so that clients stop reusing connections while they are still
//!   served. When `stop` turns true the loop stops accepting and asks every connection to finish
//!   its in-flight requests and close (idle ones close at once; HTTP/2 ones get a GOAWAY), and
//!   waits for them (bounded by the drain timeout). An HTTP/1.1 connection accepted but not yet
//!   asked anything is the exception: its first request may already be on the wire, so it is
//!   answered (with `Connection: close`) rather than cut off.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, Version, header};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tower::ServiceExt;

use super::connections::{Activity, Admission, Slot, Slots};
use super::metrics::PortMetrics;
use super::protocol_errors::JsonProtocolErrors;

/// How long an HTTP/2 keep-alive ping may go unanswered before the connection is closed.
const H2_PING_TIMEOUT: Duration = Duration::from_secs(20);

/// The first byte of every TLS connection (a handshake record).
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

/// What a plaintext HTTP client gets, the same answer Go's HTTPS servers give.
const PLAINTEXT_ANSWER: &[u8] = b"HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";

/// At most one "cannot accept" warning per port in this long (they come in bursts when the
/// process is out of file descriptors).
const ACCEPT_ERROR_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// The per-connection time limits.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionTimeouts {
    /// Time allowed from accept to a completed TLS handshake (the TLS port only).
    pub handshake: Duration,
    /// Time allowed to receive a request's headers, and for the first request to start after
    /// the handshake. hyper also applies it while an HTTP/1.1 connection waits for its next
    /// request.
    pub header_read: Duration,
    /// An open connection with no request in flight for this long is closed gracefully.
    pub idle: Duration,
}

/// The limits of one port.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PortLimits {
    /// Per-connection time limits.
    pub(crate) timeouts: ConnectionTimeouts,
    /// Most connections open at once.
    pub(crate) max_connections: usize,
}

/// The signals of the shutdown sequence, as seen by one port.
#[derive(Debug, Clone)]
pub(crate) struct Signals {
    /// True from the start of the shutdown delay: HTTP/1.1 responses announce `Connection: close`.
    pub(crate) draining: watch::Receiver<bool>,
    /// True when the port must stop accepting and close its connections.
    pub(crate) stop: watch::Receiver<bool>,
}

/// Which HTTP versions a connection may speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protocol {
    /// HTTP/1.1 (ALPN `http/1.1`).
    Http1,
    /// HTTP/2 (ALPN `h2`).
    Http2,
    /// Either, told apart by the first bytes (no ALPN, or plain HTTP).
    Detect,
}

/// Turns an accepted TCP socket into the byte stream HTTP is spoken over.
pub(crate) trait Handshake: Clone + Send + Sync + 'static {
    /// The stream HTTP runs over.
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    /// Completes the handshake (unbounded: the caller applies the timeout).
    fn handshake(
        &self,
        tcp: TcpStream,
    ) -> impl Future<Output = io::Result<(Self::Stream, Protocol)>> + Send;
}

/// The TLS port: a TLS handshake, plaintext HTTP refused, hyper's own HTTP/1.1 error answers
/// given JSON bodies.
#[derive(Clone)]
pub(crate) struct TlsHandshake {
    /// The acceptor with the server's rustls configuration.
    pub(crate) acceptor: TlsAcceptor,
}

impl Handshake for TlsHandshake {
    type Stream = JsonProtocolErrors<TlsStream<TcpStream>>;

    async fn handshake(&self, tcp: TcpStream) -> io::Result<(Self::Stream, Protocol)> {
        let tls = tls_handshake(tcp, self.acceptor.clone()).await?;
        let protocol = match tls.get_ref().1.alpn_protocol() {
            Some(b"h2") => Protocol::Http2,
            Some(b"http/1.1") => Protocol::Http1,
            _ => Protocol::Detect,
        };
        Ok((
            JsonProtocolErrors::new(tls, protocol != Protocol::Http2),
            protocol,
        ))
    }
}

/// The plain-HTTP operations port: no handshake.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PlainHandshake;

impl Handshake for PlainHandshake {
    type Stream = TcpStream;

    async fn handshake(&self, tcp: TcpStream) -> io::Result<(TcpStream, Protocol)> {
        Ok((tcp, Protocol::Detect))
    }
}

/// One port: where it listens, how connections start, what it serves and within which limits.
pub(crate) struct Port<H> {
    /// The port's name in logs and metrics (`webhook`, `operations`).
    pub(crate) name: &'static str,
    /// The bound listener.
    pub(crate) listener: TcpListener,
    /// How an accepted socket becomes an HTTP byte stream.
    pub(crate) handshake: H,
    /// The HTTP routes.
    pub(crate) router: Router,
    /// Connection cap and timeouts.
    pub(crate) limits: PortLimits,
    /// How long open connections get to finish once accepting stops.
    pub(crate) drain: Duration,
    /// The port's connection series.
    pub(crate) metrics: PortMetrics,
}

/// Accepts connections on the port until `signals.stop` turns true, then drains them for at
/// most the port's drain time.
pub(crate) async fn serve<H: Handshake>(port: Port<H>, signals: Signals) {
    let Port {
        name: port,
        listener,
        handshake,
        router,
        limits,
        drain,
        metrics,
    } = port;
    let slots = Slots::new(limits.max_connections, metrics);
    let mut connections = JoinSet::new();
    let mut stop = signals.stop.clone();
    let mut last_accept_error: Option<Instant> = None;
    loop {
        let room = slots.has_room();
        tokio::select! {
            _ = super::stopped(&mut stop) => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept(), if room => match accepted {
                Ok((tcp, peer)) => {
                    let slot = match slots.admit() {
                        Admission::Admitted(slot) => slot,
                        Admission::Evicted(slot) => {
                            tracing::debug!(port, %peer, max = limits.max_connections,
                                "at the connection limit: closing the oldest silent connection");
                            slot
                        }
                        Admission::Full => {
                            tracing::debug!(port, %peer, max = limits.max_connections,
                                "at the connection limit: closing a new connection");
                            continue;
                        }
                    };
                    connections.spawn(connection(
                        tcp,
                        peer,
                        handshake.clone(),
                        router.clone(),
                        limits.timeouts,
                        slot,
                        signals.clone(),
                    ));
                }
                Err(err) => {
                    // Usually out of file descriptors: back off instead of spinning, and say so
                    // once in a while, not once per attempt.
                    if last_accept_error.is_none_or(|at| at.elapsed() >= ACCEPT_ERROR_LOG_INTERVAL) {
                        tracing::warn!(port, error = %err, open = slots.open(),
                            "cannot accept a connection");
                        last_accept_error = Some(Instant::now());
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
    drop(listener);
    let open = connections.len();
    tracing::info!(
        port,
        connections = open,
        "stopped accepting; draining open connections"
    );
    let drained = tokio::time::timeout(drain, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            port,
            connections = connections.len(),
            drain_ms = drain.as_millis() as u64,
            "closing connections that did not finish in time"
        );
        connections.shutdown().await;
    }
}

/// Serves one connection from handshake to close; `slot` is its place on the port.
async fn connection<H: Handshake>(
    tcp: TcpStream,
    peer: SocketAddr,
    handshake: H,
    router: Router,
    timeouts: ConnectionTimeouts,
    slot: Slot,
    signals: Signals,
) {
    let activity = slot.activity().clone();
    let handshaking = tokio::time::timeout(timeouts.handshake, handshake.handshake(tcp));
    let (stream, protocol) = tokio::select! {
        handshaken = handshaking => match handshaken {
            Ok(Ok(handshaken)) => handshaken,
            Ok(Err(err)) => {
                tracing::debug!(%peer, error = %err, "handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!(%peer, "handshake timed out");
                return;
            }
        },
        _ = activity.evicted() => {
            tracing::debug!(%peer, "closing a silent connection to make room for a new one");
            return;
        }
    };
    let first_request_deadline = Instant::now() + timeouts.header_read;

    let service_activity = activity.clone();
    let draining = signals.draining.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let busy = service_activity.begin();
        let router = router.clone();
        let http1 = request.version() < Version::HTTP_2;
        let draining = draining.clone();
        async move {
            let mut response = router.oneshot(request.map(axum::body::Body::new)).await;
            if http1
                && *draining.borrow()
                && let Ok(response) = &mut response
            {
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            drop(busy);
            response
        }
    });

    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder = match protocol {
        Protocol::Http1 => builder.http1_only(),
        Protocol::Http2 => builder.http2_only(),
        Protocol::Detect => builder,
    };
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
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);

    let mut stop = signals.stop;
    let mut closing = false;
    // Accepting stopped before an HTTP/1.1 client sent its first request: its request may be on
    // the wire already, and closing now would lose it. It is served instead (its answer says
    // `Connection: close`), or the connection closes at the first-request deadline.
    let mut awaiting_first_request = false;
    loop {
        let deadline = next_deadline(&activity, first_request_deadline, timeouts.idle);
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(err) = result {
                    tracing::debug!(%peer, error = %err, "connection closed with an error");
                }
                return;
            }
            _ = super::stopped(&mut stop), if !closing && !awaiting_first_request => {
                if activity.has_started() || protocol == Protocol::Http2 {
                    closing = true;
                    connection.as_mut().graceful_shutdown();
                } else {
                    awaiting_first_request = true;
                }
            }
            // A connection whose first request started just as it was chosen for eviction keeps
            // serving it: the request matters more than one connection over the cap.
            _ = activity.evicted(), if !activity.has_started() => {
                tracing::debug!(%peer, "closing a silent connection to make room for a new one");
                return;
            }
            _ = tokio::time::sleep_until(deadline), if !closing => {
                if !activity.has_started() {
                    tracing::debug!(%peer, "closing a connection that sent no request in time");
                    return;
                }
                if activity.is_idle_for(timeouts.idle) {
                    tracing::debug!(%peer, "closing an idle connection");
                    closing = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// When to look next at whether a connection should close: `first_request` until a request
/// has started on it, then when it would have been idle for `idle`.
fn next_deadline(activity: &Activity, first_request: Instant, idle: Duration) -> Instant {
    if activity.has_started() {
        activity.idle_deadline(idle)
    } else {
        first_request
    }
}

/// Completes the TLS handshake, or answers plaintext HTTP with a 400 and closes.
async fn tls_handshake(tcp: TcpStream, acceptor: TlsAcceptor) -> io::Result<TlsStream<TcpStream>> {
    let mut first = [0u8; 1];
    let read = tcp.peek(&mut first).await?;
    if read == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "closed before the handshake",
        ));
    }
    if first[0] != TLS_HANDSHAKE_RECORD {
        let mut tcp = tcp;
        // The client may already be gone; the connection is closed either way.
        let _ = tcp.write_all(PLAINTEXT_ANSWER).await;
        let _ = tcp.shutdown().await;
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "plaintext HTTP sent to the TLS port",
        ));
    }
    acceptor.accept(tcp).await
}
