//! Reading a request body within a size limit.
//!
//! A body over the limit is not buffered, but it is still read (and discarded) up to
//! [`DRAIN_ALLOWANCE`] bytes past the limit before the 413 is sent: an HTTP/1.1 server that
//! answers and closes while the client is still sending makes the client's TCP stack see a reset
//! and lose the answer. Beyond the allowance the client is sending far too much to deserve a
//! clean answer.

use std::pin::Pin;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use hyper::body::Body as _;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// How many bytes past the limit are read and discarded so that the 413 reaches the client.
pub(crate) const DRAIN_ALLOWANCE: u64 = 4 * 1024 * 1024;

/// Why a body could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// The body is larger than the limit; `declared` is its Content-Length, when sent.
    TooLarge {
        /// The Content-Length header, if any.
        declared: Option<u64>,
    },
    /// The body could not be read (the client went away, or sent a malformed stream).
    Read(String),
}

/// The default `--max-body-bytes-in-flight`: 32 MiB, ten bodies of the largest size the
/// apiserver sends, or thousands of ordinary ones.
pub(crate) const DEFAULT_MAX_BODY_BYTES_IN_FLIGHT: usize = 32 * 1024 * 1024;

/// A bound on the bytes of request bodies held at once (`--max-body-bytes-in-flight`), so that
/// many clients each sending a large body cannot multiply the memory they take.
///
/// Before a body is read, [`BodyBytes::reserve`] takes its size from the bound: the
/// Content-Length when it is declared, the body limit when it is not (the most that will be
/// buffered). The reservation lives as long as the body does: the handler hands it to the
/// step that decodes the body, which frees both together.
#[derive(Debug, Clone)]
pub(crate) struct BodyBytes {
    semaphore: Arc<Semaphore>,
    capacity: usize,
}

/// Bytes reserved for one body; freed when dropped.
#[derive(Debug)]
pub(crate) struct Reservation {
    _permit: Option<OwnedSemaphorePermit>,
}

impl BodyBytes {
    /// A bound of `capacity` bytes (at least 1, at most what a semaphore can count).
    pub(crate) fn new(capacity: usize) -> Self {
        let capacity = capacity.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            semaphore: Arc::new(Semaphore::new(capacity)),
            capacity,
        }
    }

    /// The bound, in bytes.
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Reserves room for a body that declared `declared` bytes (or none) and may be at most
    /// `limit` bytes, waiting for room until `deadline`; `None` if there was none by then.
    ///
    /// A declared length over the limit reserves nothing: such a body is refused (413) without
    /// being kept. A body larger than the whole bound reserves the whole bound.
    pub(crate) async fn reserve(
        &self,
        declared: Option<u64>,
        limit: usize,
        deadline: Instant,
    ) -> Option<Reservation> {
        let limit = limit as u64;
        let size = match declared {
            Some(length) if length > limit => return Some(Reservation { _permit: None }),
            Some(length) => length,
            None => limit,
        };
        if size == 0 {
            return Some(Reservation { _permit: None });
        }
        let size = u32::try_from(size.min(self.capacity as u64)).unwrap_or(u32::MAX);
        let acquiring = self.semaphore.clone().acquire_many_owned(size);
        match tokio::time::timeout_at(deadline, acquiring).await {
            Ok(Ok(permit)) => Some(Reservation {
                _permit: Some(permit),
            }),
            // Never closed; and a deadline passed means no room.
            Ok(Err(_)) | Err(_) => None,
        }
    }
}

/// Reads the whole body if it is at most `limit` bytes.
pub(crate) async fn read_limited(
    mut body: Body,
    limit: usize,
    declared: Option<u64>,
) -> Result<Bytes, BodyError> {
    let limit = limit as u64;
    if declared.is_some_and(|length| length > limit.saturating_add(DRAIN_ALLOWANCE)) {
        return Err(BodyError::TooLarge { declared });
    }
    let mut buffer = Vec::with_capacity(declared.unwrap_or(0).min(limit) as usize);
    let mut seen: u64 = 0;
    loop {
        let frame = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
        let data = match frame {
            None => break,
            Some(Err(err)) => return Err(BodyError::Read(err.to_string())),
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => data,
                // Trailers carry nothing we need.
                Err(_) => continue,
            },
        };
        seen = seen.saturating_add(data.len() as u64);
        if seen > limit.saturating_add(DRAIN_ALLOWANCE) {
            return Err(BodyError::TooLarge { declared });
        }
        if seen <= limit {
            buffer.extend_from_slice(&data);
        }
    }
    if seen > limit {
        return Err(BodyError::TooLarge { declared });
    }
    Ok(Bytes::from(buffer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn reservations_share_the_bound_until_dropped() {
        let bytes = BodyBytes::new(100);
        let soon = || Instant::now() + Duration::from_millis(50);
        let first = bytes.reserve(Some(60), 1000, soon()).await.unwrap();
        assert!(bytes.reserve(Some(50), 1000, soon()).await.is_none());
        let second = bytes.reserve(Some(40), 1000, soon()).await.unwrap();
        // Over the limit: refused later without being read, so nothing is reserved.
        assert!(bytes.reserve(Some(5000), 1000, soon()).await.is_some());
        // No Content-Length: the limit (here more than the bound: the whole bound).
        drop(first);
        assert!(bytes.reserve(None, 1000, soon()).await.is_none());
        drop(second);
        assert!(bytes.reserve(None, 1000, soon()).await.is_some());
        assert!(
            bytes
                .reserve(Some(u64::MAX), usize::MAX, soon())
                .await
                .is_some()
        );
    }

    #[tokio::test]
    async fn reads_up_to_the_limit() {
        let body = read_limited(Body::from("12345"), 5, Some(5)).await;
        assert_eq!(body, Ok(Bytes::from("12345")));
        let body = read_limited(Body::from("123456"), 5, None).await;
        assert_eq!(body, Err(BodyError::TooLarge { declared: None }));
        let body = read_limited(Body::from(""), 5, Some(u64::MAX)).await;
        assert_eq!(
            body,
            Err(BodyError::TooLarge {
                declared: Some(u64::MAX)
            })
        );
    }
}
