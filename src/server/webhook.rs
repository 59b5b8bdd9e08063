//! The admission endpoints on the TLS port: `POST /validate` and `POST /mutate`.
//!
//! Every decodable AdmissionReview gets HTTP 200 and a review back; what is not one gets a JSON
//! error with a status that says why (400 malformed, 413 too large, 415 wrong content type,
//! 404 unknown path, 405 wrong method). The apiserver's `?timeout=` is honoured by answering
//! within [`BUDGET_FRACTION`] of it.
//!
//! With cluster checks enabled, `/validate` decodes the review, asks the [`Checker`] about its
//! BGPPeer within the budget (less [`CLUSTER_RESERVE_FRACTION`] of it), and decides with what it
//! found; a skipped check is counted in `bgppeer_webhook_cluster_checks_skipped_total`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::json;

use crate::admission::{self, Decision, DecodeError, Webhook};
use crate::cluster::{Checker, Findings, SkipReason};

use super::body::{self, BodyError};
use super::duration;
use super::metrics::Metrics;

/// The share of the apiserver's timeout the webhook allows itself, leaving the rest for the
/// network and the apiserver.
pub const BUDGET_FRACTION: f64 = 0.8;

/// What the handlers need.
#[derive(Debug, Clone)]
pub struct WebhookState {
    /// Where requests and decisions are counted.
    pub metrics: Arc<Metrics>,
    /// The largest body accepted.
    pub max_body_bytes: usize,
    /// The timeout assumed when the request has no `?timeout=` (the apiserver's default, 10 s).
    pub default_timeout: Duration,
    /// The cluster checks `/validate` consults, when enabled.
    pub cluster: Option<Checker>,
}

/// The router of the TLS port.
pub fn router(state: WebhookState) -> Router {
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
async fn handle(webhook: Webhook, state: &WebhookState, request: Request) -> Response {
    let started = Instant::now();
    let _in_flight = state.metrics.start_request(webhook);
    let response = answer(webhook, state, request, started).await;
    state.metrics.observe_request(
        webhook,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

async fn answer(
    webhook: Webhook,
    state: &WebhookState,
    request: Request,
    started: Instant,
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
    let deadline = tokio::time::Instant::from_std(started + budget);
    let declared = content_length(request.headers());
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
    let cluster_deadline = deadline - budget.mul_f64(CLUSTER_RESERVE_FRACTION);
    let decided = async {
        match cluster {
            Some(checker) => {
                review_with_cluster(webhook, body, checker, cluster_deadline, &state.metrics).await
            }
            None => tokio::task::spawn_blocking(move || admission::review(webhook, &body)).await,
        }
    };
    let decision = match tokio::time::timeout_at(deadline, decided).await {
        Ok(Ok(Ok(decision))) => decision,
        Ok(Ok(Err(decode_error))) => {
            tracing::warn!(webhook = %webhook, error = %decode_error, "malformed admission request");
            return error(StatusCode::BAD_REQUEST, decode_error.to_string());
        }
        Ok(Err(join_error)) => {
            tracing::error!(webhook = %webhook, error = %join_error, "the admission decision failed");
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the admission decision failed unexpectedly".to_owned(),
            );
        }
        Err(_) => {
            tracing::error!(webhook = %webhook, budget_ms = budget.as_millis() as u64,
                "no admission decision within the time budget");
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
    if let Some(what) = &summary.misrouted {
        tracing::warn!(webhook = %webhook, uid = %summary.uid, "{what}");
    }
    tracing::info!(
        webhook = %webhook,
        uid = %summary.uid,
        kind = %summary.kind,
        name = %summary.name,
        operation = summary.operation,
        allowed = summary.allowed,
        dry_run = summary.dry_run,
        errors = summary.errors,
        warnings = summary.warnings,
        patch_operations = summary.patch_operations,
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        "admission decision"
    );
    match decision.into_json() {
        Ok(review) => axum::Json(review).into_response(),
        Err(err) => {
            tracing::error!(webhook = %webhook, error = %err, "cannot encode the admission response");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "cannot encode the admission response".to_owned(),
            )
        }
    }
}

/// The share of the budget kept back from the cluster checks for deciding and answering.
pub const CLUSTER_RESERVE_FRACTION: f64 = 0.1;

/// Decodes a review, runs the cluster checks on its BGPPeer (bounded by `deadline`) and decides
/// it with their findings. A skipped check is counted in the metrics by its reason.
async fn review_with_cluster(
    webhook: Webhook,
    body: axum::body::Bytes,
    checker: Checker,
    deadline: tokio::time::Instant,
    metrics: &Metrics,
) -> Result<Result<Decision, DecodeError>, tokio::task::JoinError> {
    let request =
        match tokio::task::spawn_blocking(move || admission::decode::request(&body)).await? {
            Ok(request) => request,
            Err(decode_error) => return Ok(Err(decode_error)),
        };
    let findings = match admission::cluster_subject(&request) {
        Some(object) => {
            match tokio::time::timeout_at(deadline, checker.check(object, deadline)).await {
                Ok(findings) => findings,
                Err(_) => Findings::skipped(SkipReason::Timeout),
            }
        }
        None => Findings::default(),
    };
    if let Some(reason) = &findings.skipped {
        metrics.observe_cluster_checks_skipped(reason.label());
        tracing::warn!(webhook = %webhook, uid = %request.uid, reason = reason.label(),
            "cluster checks skipped: {reason}");
    }
    tokio::task::spawn_blocking(move || {
        Ok(admission::decide_with_cluster(webhook, &request, &findings))
    })
    .await
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

/// The time allowed for a request: [`BUDGET_FRACTION`] of the `timeout` query parameter, or of
/// `default_timeout` when it is absent or not a valid duration.
pub fn budget(query: Option<&str>, default_timeout: Duration) -> Duration {
    let timeout = query
        .into_iter()
        .flat_map(|query| query.split('&'))
        .filter_map(|pair| pair.strip_prefix("timeout="))
        .find_map(|value| duration::parse(value).ok())
        .filter(|timeout| !timeout.is_zero())
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
pub fn error(status: StatusCode, message: String) -> Response {
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
