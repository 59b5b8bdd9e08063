//! The admission endpoints on the TLS port: `POST /validate` and `POST /mutate`.
//!
//! Every decodable AdmissionReview gets HTTP 200 and a review back; what is not one gets a JSON
//! error with a status that says why (400 malformed, 413 too large, 415 wrong content type,
//! 404 unknown path, 405 wrong method). The apiserver's `?timeout=` is honoured by answering
//! within `BUDGET_FRACTION` of it.
//!
//! With cluster checks enabled, `/validate` decides with the [`Checker`]'s index as the cluster
//! view; when a filter must be confirmed missing, the live lookup gets the budget less
//! `CLUSTER_RESERVE_FRACTION` of it (see `review`). A skipped check is counted in
//! `bgppeer_webhook_cluster_checks_skipped_total`.
//!
//! Within the budget, a request first reserves room for its body (`BodyBytes`,
//! `--max-body-bytes-in-flight`), then decodes and decides it in a decision slot
//! (`ReviewSlots`, `--max-concurrent-reviews`); waiting at either limit past the budget is
//! answered 503 with `Retry-After`. A panic anywhere in this is answered 500 (see `handle`).

use std::any::Any;
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use futures::FutureExt;
use kube::core::DynamicObject;
use kube::core::admission::AdmissionRequest;
use serde_json::json;

use crate::cluster::Checker;
use bgppeer_core::admission::{self, Decision, DecodeError, NoCluster, Outcome, Webhook};

use super::body::{self, BodyBytes, BodyError, Reservation};
use super::duration;
use super::metrics::Metrics;
use super::slots::{Placement, ReviewSlots, StepError};
use super::throttle::{LOG_INTERVAL, LogThrottle};

/// Lines any client can cause once per request are written at most once per
/// [`LOG_INTERVAL`] each (with the number left out); the metrics count every event.
static MALFORMED_LOG: LogThrottle = LogThrottle::new(LOG_INTERVAL);
static AT_LIMIT_LOG: LogThrottle = LogThrottle::new(LOG_INTERVAL);
static TIMED_OUT_LOG: LogThrottle = LogThrottle::new(LOG_INTERVAL);
static MISROUTED_LOG: LogThrottle = LogThrottle::new(LOG_INTERVAL);
static SKIPPED_LOG: LogThrottle = LogThrottle::new(LOG_INTERVAL);

/// The share of the apiserver's timeout the webhook allows itself, leaving the rest for the
/// network and the apiserver.
pub(crate) const BUDGET_FRACTION: f64 = 0.8;

/// What the handlers need.
#[derive(Debug, Clone)]
pub(crate) struct WebhookState {
    /// Where requests and decisions are counted.
    pub(crate) metrics: Arc<Metrics>,
    /// The largest body accepted.
    pub(crate) max_body_bytes: usize,
    /// The timeout assumed when the request has no `?timeout=` (the apiserver's default, 10 s).
    pub(crate) default_timeout: Duration,
    /// The cluster checks `/validate` consults, when enabled.
    pub(crate) cluster: Option<Checker>,
    /// The decision slots (`--max-concurrent-reviews`).
    pub(crate) slots: ReviewSlots,
    /// The bound on body bytes held at once (`--max-body-bytes-in-flight`).
    pub(crate) body_bytes: BodyBytes,
    /// Test-only: see [`DecisionHook`].
    #[doc(hidden)]
    pub(crate) before_decision: Option<DecisionHook>,
}

/// The largest body whose review is decoded and decided right on the async worker
/// ([`Placement::Here`]); larger ones go to the blocking pool. Decoding and deciding take about
/// a microsecond per KiB (a recorded 2.7 KiB review: 2 us), so the work done in place stays
/// well under the ~100 us an async task should run between yields, and every review the
/// apiserver sends for an ordinary BGPPeer (3 KiB; 10 KiB with managedFields) qualifies.
pub(crate) const DECIDE_IN_PLACE_MAX_BODY_BYTES: usize = 32 * 1024;

impl WebhookState {
    /// Where the review of `body` is decoded and decided: in place when it is small, on the
    /// blocking pool when it is large or when a test hook (which may block) is set.
    fn placement(&self, body: &[u8]) -> Placement {
        if body.len() <= DECIDE_IN_PLACE_MAX_BODY_BYTES && self.before_decision.is_none() {
            Placement::Here
        } else {
            Placement::BlockingPool
        }
    }
}

/// Test-only: a function called with every decoded request on the blocking thread, right before
/// it is decided (it can panic or sleep, to prove panic containment and the concurrency limit
/// through the real server).
///
/// Safe in production because nothing outside Rust code can set it: it is a `#[doc(hidden)]`
/// field of [`super::Config`] that [`super::Config::new`] leaves empty, and `serve` builds its
/// configuration from `Config::new`; no flag, environment variable or request reaches it.
#[doc(hidden)]
#[derive(Clone)]
pub struct DecisionHook(Arc<HookFn>);

/// The function a [`DecisionHook`] holds.
type HookFn = dyn Fn(&AdmissionRequest<DynamicObject>) + Send + Sync;

impl DecisionHook {
    /// Wraps `hook`.
    pub fn new(hook: impl Fn(&AdmissionRequest<DynamicObject>) + Send + Sync + 'static) -> Self {
        Self(Arc::new(hook))
    }
}

impl fmt::Debug for DecisionHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DecisionHook(..)")
    }
}

/// The router of the TLS port.
pub(crate) fn router(state: WebhookState) -> Router {
    Router::new()
        .route(Webhook::Validate.path(), any(validate))
        .route(Webhook::Mutate.path(), any(mutate))
        .fallback(not_found)
        .with_state(state)
}

async fn validate(State(state): State<WebhookState>, request: Request) -> Response {
    handle(Webhook::Validate, &state, request).await
}

async fn mutate(State(state): State<WebhookState>, request: Request) -> Response {
    handle(Webhook::Mutate, &state, request).await
}

async fn not_found(request: Request) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!(
            "no such endpoint {}: the admission endpoints are POST /validate and POST /mutate",
            request.uri().path()
        ),
    )
}

/// Answers one request to a webhook endpoint and records it in the metrics.
///
/// This is also the one place where a panic in request handling becomes an answer: a panic in
/// the async handler is caught here by unwinding, and a panic in the decision (reported by
/// [`ReviewSlots::run`], in place or from its blocking task) is resumed into the handler so
/// that it arrives here too. [`panic_answer`] logs
/// it with the request's uid when the body had been decoded, counts it in
/// `bgppeer_webhook_panics_total` and answers 500; the latency and status are recorded like any
/// other answer's, and the process keeps serving.
///
/// (tower-http's `CatchPanicLayer` would catch the same panics one layer further out, but there
/// the webhook, the start time and the uid are no longer known.)
async fn handle(webhook: Webhook, state: &WebhookState, request: Request) -> Response {
    let started = Instant::now();
    let _in_flight = state.metrics.start_request(webhook);
    let uid = Arc::new(OnceLock::new());
    let answering = answer(webhook, state, request, started, uid.clone());
    let response = match AssertUnwindSafe(answering).catch_unwind().await {
        Ok(response) => response,
        Err(payload) => panic_answer(&state.metrics, webhook, uid.get(), payload.as_ref()),
    };
    state.metrics.observe_request(
        webhook,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// The answer to a panic in request handling (see [`handle`]): logged, counted, 500.
fn panic_answer(
    metrics: &Metrics,
    webhook: Webhook,
    uid: Option<&String>,
    payload: &(dyn Any + Send),
) -> Response {
    metrics.observe_panic();
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(the panic carries no message)");
    match uid {
        Some(uid) => tracing::error!(webhook = %webhook, uid = %Clipped(uid),
            panic = %Clipped(message), "request handling panicked; answered 500"),
        None => tracing::error!(webhook = %webhook, panic = %Clipped(message),
            "request handling panicked before the review was decoded; answered 500"),
    }
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "the webhook failed unexpectedly while deciding this request (an internal error, logged \
         by the webhook with this request's uid)"
            .to_owned(),
    )
}

async fn answer(
    webhook: Webhook,
    state: &WebhookState,
    request: Request,
    started: Instant,
    uid: Arc<OnceLock<String>>,
) -> Response {
    if request.method() != Method::POST {
        let mut response = error(
            StatusCode::METHOD_NOT_ALLOWED,
            format!(
                "{} {} is not supported: admission reviews are sent with POST",
                request.method(),
                webhook.path()
            ),
        );
        response
            .headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
        return response;
    }
    if let Err(message) = check_content_type(request.headers()) {
        return error(StatusCode::UNSUPPORTED_MEDIA_TYPE, message);
    }
    let budget = budget(request.uri().query(), state.default_timeout);
    let deadline = deadline_after(started, budget);
    let declared = content_length(request.headers());
    let Some(reservation) = state
        .body_bytes
        .reserve(declared, state.max_body_bytes, deadline)
        .await
    else {
        state
            .metrics
            .observe_review_rejected(super::metrics::LIMIT_BODY_BYTES);
        if let Some(suppressed) = AT_LIMIT_LOG.admit() {
            tracing::warn!(webhook = %webhook, budget_ms = budget.as_millis() as u64,
                max_body_bytes_in_flight = state.body_bytes.capacity(), suppressed,
                "no room for the request body within the time budget; answered 503");
        }
        return bodies_at_capacity(budget, state.body_bytes.capacity());
    };
    let reading = body::read_limited(request.into_body(), state.max_body_bytes, declared);
    let body = match tokio::time::timeout_at(deadline, reading).await {
        Ok(Ok(body)) => body,
        Ok(Err(BodyError::TooLarge { declared })) => {
            return too_large(declared, state.max_body_bytes);
        }
        Ok(Err(BodyError::Read(reason))) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("cannot read the request body: {reason}"),
            );
        }
        Err(_) => {
            return error(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request body did not arrive within {} ms",
                    budget.as_millis()
                ),
            );
        }
    };

    let cluster = state
        .cluster
        .clone()
        .filter(|_| webhook == Webhook::Validate);
    let cluster_deadline = deadline
        .checked_sub(budget.mul_f64(CLUSTER_RESERVE_FRACTION))
        .unwrap_or(deadline);
    let decided = review(
        webhook,
        (body, reservation),
        cluster,
        (cluster_deadline, deadline),
        state,
        uid,
    )
    .await;
    let decision = match decided {
        Ok(decision) => decision,
        Err(NoDecision::Malformed(decode_error)) => {
            if let Some(suppressed) = MALFORMED_LOG.admit() {
                tracing::warn!(webhook = %webhook, error = %Clipped(&decode_error.to_string()),
                    suppressed, "malformed admission request");
            }
            return error(StatusCode::BAD_REQUEST, decode_error.to_string());
        }
        Err(NoDecision::Step(StepError::Panicked(payload))) => {
            // Unwinds into `handle`, which answers every panic the same way.
            std::panic::resume_unwind(payload)
        }
        Err(NoDecision::Step(StepError::Busy)) => {
            if let Some(suppressed) = AT_LIMIT_LOG.admit() {
                tracing::warn!(webhook = %webhook, budget_ms = budget.as_millis() as u64,
                    max_concurrent_reviews = state.slots.limit(), suppressed,
                    "no decision slot freed up within the time budget; answered 503");
            }
            return at_capacity(budget, state.slots.limit());
        }
        Err(NoDecision::Step(StepError::Cancelled)) => {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the webhook is shutting down; the decision was cancelled".to_owned(),
            );
        }
        Err(NoDecision::Step(StepError::Expired | StepError::TimedOut)) => {
            if let Some(suppressed) = TIMED_OUT_LOG.admit() {
                tracing::error!(webhook = %webhook, budget_ms = budget.as_millis() as u64,
                    suppressed, "no admission decision within the time budget");
            }
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "no decision within {} ms, the share of the apiserver's timeout this webhook allows itself",
                    budget.as_millis()
                ),
            );
        }
    };

    let summary = &decision.summary;
    state.metrics.observe_decision(webhook, summary);
    if let Some(what) = &summary.misrouted
        && let Some(suppressed) = MISROUTED_LOG.admit()
    {
        tracing::warn!(webhook = %webhook, uid = %Clipped(&summary.uid),
            detail = %Clipped(what), suppressed,
            "request for a resource this webhook does not check");
    }
    tracing::info!(
        webhook = %webhook,
        uid = %Clipped(&summary.uid),
        kind = %Clipped(&summary.kind),
        name = %Clipped(&summary.name),
        operation = summary.operation,
        allowed = summary.allowed,
        dry_run = summary.dry_run,
        errors = summary.errors,
        warnings = summary.warnings,
        patch_operations = summary.patch_operations,
        latency_ms = latency_ms(started.elapsed()),
        "admission decision"
    );
    match decision.encode() {
        Ok(review) => (
            [(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("application/json"),
            )],
            review,
        )
            .into_response(),
        Err(err) => {
            tracing::error!(webhook = %webhook, error = %err, "cannot encode the admission response");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "cannot encode the admission response".to_owned(),
            )
        }
    }
}

/// A latency in milliseconds for the log, to the microsecond (`0.123`, not `0.12345678`): finer
/// digits are timer noise. The exact value goes to the latency histogram.
fn latency_ms(latency: Duration) -> f64 {
    // Rounded to the nearest microsecond; whole microseconds fit an f64 exactly for any latency
    // this server can see.
    let micros = latency.as_nanos().saturating_add(500) / 1000;
    micros as f64 / 1000.0
}

/// `started + budget`, or (should the sum not be representable) `started` plus the longest
/// budget a request can have, so that no budget can overflow the clock.
fn deadline_after(started: Instant, budget: Duration) -> tokio::time::Instant {
    let started = tokio::time::Instant::from_std(started);
    started
        .checked_add(budget)
        .or_else(|| started.checked_add(MAX_REQUEST_TIMEOUT))
        .unwrap_or(started)
}

/// The share of the budget kept back from the cluster checks for deciding and answering.
pub(crate) const CLUSTER_RESERVE_FRACTION: f64 = 0.1;

/// How many seconds a client refused at the concurrency limit is told to wait (`Retry-After`).
pub(crate) const BUSY_RETRY_AFTER_SECONDS: u64 = 1;

/// Why a review got no decision.
enum NoDecision {
    /// The body is not an AdmissionReview (400).
    Malformed(DecodeError),
    /// A blocking step did not run or did not finish (see [`StepError`]).
    Step(StepError),
}

impl From<StepError> for NoDecision {
    fn from(step: StepError) -> Self {
        NoDecision::Step(step)
    }
}

/// The answer when every decision slot stayed busy for the whole budget.
///
/// An HTTP 503 with `Retry-After`, not an AdmissionReview denial: the object was not judged at
/// all, and a non-200 answer lets the apiserver apply the webhook's `failurePolicy` (with `Fail`,
/// the write is refused with this message; with `Ignore`, it goes through unchecked, as the
/// operator chose), and counts as a webhook error in the apiserver's own metrics, where a
/// capacity problem belongs, instead of a denial that blames the object.
fn at_capacity(budget: Duration, limit: usize) -> Response {
    let mut response = error(
        StatusCode::SERVICE_UNAVAILABLE,
        format!(
            "the webhook is at its concurrency limit: all {limit} decision slots stayed busy for \
             this request's whole time budget of {} ms; retry shortly, and if this persists raise \
             --max-concurrent-reviews (Helm value server.maxConcurrentReviews) or add replicas",
            budget.as_millis()
        ),
    );
    response.headers_mut().insert(
        header::RETRY_AFTER,
        header::HeaderValue::from(BUSY_RETRY_AFTER_SECONDS),
    );
    response
}

/// The answer when no room for the request body freed up within the budget.
fn bodies_at_capacity(budget: Duration, capacity: usize) -> Response {
    let mut response = error(
        StatusCode::SERVICE_UNAVAILABLE,
        format!(
            "the webhook is at its limit of request body bytes held at once ({capacity} bytes): \
             no room for this body freed up within this request's whole time budget of {} ms; \
             retry shortly, and if this persists raise --max-body-bytes-in-flight (Helm value \
             server.maxBodyBytesInFlight) or add replicas",
            budget.as_millis()
        ),
    );
    response.headers_mut().insert(
        header::RETRY_AFTER,
        header::HeaderValue::from(BUSY_RETRY_AFTER_SECONDS),
    );
    response
}

/// What the blocking step of a review produced.
// The decision is the common case: boxing it would allocate on every request.
#[allow(clippy::large_enum_variant)]
enum Step {
    /// The decision.
    Decided(Decision),
    /// The decision waits for filters to be confirmed missing; the request is kept for it.
    Confirm(Box<admission::Request>, admission::Confirmation),
}

/// Decodes and decides a review in one step in a decision slot (so that at most
/// `--max-concurrent-reviews` decoded objects exist at once), in place or on the blocking pool
/// (see [`WebhookState::placement`]), not starting either part once the deadline has passed.
/// The body and its reservation are freed as soon as it is decoded.
///
/// With cluster checks, the decision reads the cluster index in that same step (a read lock, no
/// I/O). When it must confirm that filters missing from the index really do not exist, the
/// GETs run outside any decision slot, bounded by `cluster_deadline`, and the decision is
/// finished in a second slot. A skipped check is counted in the metrics by its reason.
async fn review(
    webhook: Webhook,
    body: (axum::body::Bytes, Reservation),
    cluster: Option<Checker>,
    (cluster_deadline, deadline): (tokio::time::Instant, tokio::time::Instant),
    state: &WebhookState,
    uid: Arc<OnceLock<String>>,
) -> Result<Decision, NoDecision> {
    let hook = state.before_decision.clone();
    let checker = cluster.clone();
    let placement = state.placement(&body.0);
    let step = state
        .slots
        .try_run(deadline, placement, move || {
            let request = admission::decode::request(&body.0).map_err(NoDecision::Malformed)?;
            let _ = uid.set(request.uid.clone());
            drop(body);
            if tokio::time::Instant::now() >= deadline {
                return Err(NoDecision::Step(StepError::Expired));
            }
            if let Some(hook) = &hook {
                (hook.0)(&request);
            }
            let outcome = match &checker {
                Some(checker) => admission::decide(webhook, &request, &*checker.view()),
                None => admission::decide(webhook, &request, &NoCluster),
            };
            Ok(match outcome {
                Outcome::Decided(decision) => Step::Decided(decision),
                Outcome::Confirm(confirmation) => Step::Confirm(Box::new(request), confirmation),
            })
        })
        .await?;
    let decision = match step {
        Step::Decided(decision) => decision,
        Step::Confirm(request, confirmation) => {
            let missing = match &cluster {
                Some(checker) => checker.confirm(&confirmation, cluster_deadline).await,
                // Without a cluster the decision never waits; should it, nothing is denied.
                None => Ok(Vec::new()),
            };
            state
                .slots
                .run(deadline, placement, move || {
                    confirmation.finish(&request, missing)
                })
                .await?
        }
    };
    if let Some(reason) = &decision.summary.cluster_skipped {
        state.metrics.observe_cluster_checks_skipped(reason.label());
        if let Some(suppressed) = SKIPPED_LOG.admit() {
            tracing::warn!(webhook = %webhook, uid = %Clipped(&decision.summary.uid),
                reason = reason.label(), suppressed, "cluster checks skipped: {reason}");
        }
    }
    Ok(decision)
}

/// A client-controlled string in a log field, cut to [`Clipped::MAX_CHARS`] characters so that
/// no request can make a log line arbitrarily long. (Control characters are escaped by the log
/// formatter itself: see `cmd::logging`.)
struct Clipped<'a>(&'a str);

impl Clipped<'_> {
    /// The most characters of a client string written to a log line.
    const MAX_CHARS: usize = 256;
}

impl fmt::Display for Clipped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.char_indices().nth(Self::MAX_CHARS) {
            None => f.write_str(self.0),
            Some((cut, _)) => write!(
                f,
                "{}...({} more bytes)",
                &self.0[..cut],
                self.0.len() - cut
            ),
        }
    }
}

/// `Ok` when the Content-Type is `application/json` (parameters such as `charset` allowed).
fn check_content_type(headers: &HeaderMap) -> Result<(), String> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Err(
            "Content-Type is missing; admission reviews must be sent as application/json"
                .to_owned(),
        );
    };
    let value = String::from_utf8_lossy(value.as_bytes());
    let media_type = value.split(';').next().unwrap_or_default().trim();
    if media_type.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        Err(format!(
            "Content-Type {value:?} is not supported; admission reviews must be sent as application/json"
        ))
    }
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The shortest `?timeout=` the apiserver sends (`timeoutSeconds` is at least 1).
pub(crate) const MIN_REQUEST_TIMEOUT: Duration = Duration::from_secs(1);

/// The longest `?timeout=` the apiserver sends (`timeoutSeconds` is at most 30).
pub(crate) const MAX_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The time allowed for a request: [`BUDGET_FRACTION`] of the `timeout` query parameter when it
/// is a duration the apiserver can send ([`MIN_REQUEST_TIMEOUT`] to [`MAX_REQUEST_TIMEOUT`]), or
/// of `default_timeout` otherwise (absent, 0, negative, out of range or not a duration): the
/// query is client input, and no value of it may stretch or overflow the request's deadline.
pub(crate) fn budget(query: Option<&str>, default_timeout: Duration) -> Duration {
    let timeout = query
        .into_iter()
        .flat_map(|query| query.split('&'))
        .filter_map(|pair| pair.strip_prefix("timeout="))
        .find_map(|value| duration::parse(value).ok())
        .filter(|timeout| (MIN_REQUEST_TIMEOUT..=MAX_REQUEST_TIMEOUT).contains(timeout))
        .unwrap_or(default_timeout);
    timeout.mul_f64(BUDGET_FRACTION)
}

fn too_large(length: Option<u64>, limit: usize) -> Response {
    let size = length
        .map(|length| format!(" ({length} bytes)"))
        .unwrap_or_default();
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "the request body{size} is larger than the limit of {limit} bytes (--max-body-bytes)"
        ),
    )
}

/// A JSON error answer: `{"code": 415, "error": "..."}`.
pub(crate) fn error(status: StatusCode, message: String) -> Response {
    (
        status,
        axum::Json(json!({"code": status.as_u16(), "error": message})),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_latency_is_rounded_to_the_microsecond() {
        assert_eq!(
            latency_ms(Duration::from_nanos(123_456_789)).to_string(),
            "123.457"
        );
        assert_eq!(
            latency_ms(Duration::from_nanos(123_456)).to_string(),
            "0.123"
        );
        assert_eq!(latency_ms(Duration::from_nanos(999)).to_string(), "0.001");
        assert_eq!(latency_ms(Duration::from_nanos(499)).to_string(), "0");
    }

    #[test]
    fn budget_follows_the_timeout_query() {
        let default = Duration::from_secs(10);
        assert_eq!(budget(Some("timeout=5s"), default), Duration::from_secs(4));
        assert_eq!(
            budget(Some("a=b&timeout=30s"), default),
            Duration::from_secs(24)
        );
        assert_eq!(budget(None, default), Duration::from_secs(8));
        assert_eq!(
            budget(Some("timeout=bogus"), default),
            Duration::from_secs(8)
        );
        assert_eq!(budget(Some("timeout=0"), default), Duration::from_secs(8));
    }

    #[test]
    fn budget_ignores_timeouts_the_apiserver_cannot_send() {
        let default = Duration::from_secs(10);
        assert_eq!(
            budget(Some("timeout=1s"), default),
            Duration::from_millis(800)
        );
        assert_eq!(
            budget(Some("timeout=30s"), default),
            Duration::from_secs(24)
        );
        for query in [
            "timeout=999ms",
            "timeout=31s",
            "timeout=-5s",
            "timeout=4000000000000000h",
            "timeout=9999999999999999999999999h",
            "timeout=1e400s",
            "timeout=NaN",
        ] {
            assert_eq!(
                budget(Some(query), default),
                Duration::from_secs(8),
                "{query}"
            );
        }
    }

    #[test]
    fn content_types() {
        let mut headers = HeaderMap::new();
        assert!(check_content_type(&headers).is_err());
        headers.insert(
            header::CONTENT_TYPE,
            "application/json; charset=utf-8".parse().unwrap(),
        );
        assert!(check_content_type(&headers).is_ok());
        headers.insert(header::CONTENT_TYPE, "text/plain".parse().unwrap());
        assert_eq!(
            check_content_type(&headers).unwrap_err(),
            "Content-Type \"text/plain\" is not supported; admission reviews must be sent as application/json"
        );
    }
}
