//! Reading a request body within a size limit.
//!
//! A body over the limit is not buffered, but it is still read (and discarded) up to
//! [`DRAIN_ALLOWANCE`] bytes past the limit before the 413 is sent: an HTTP/1.1 server that
//! answers and closes while the client is still sending makes the client's TCP stack see a reset
//! and lose the answer. Beyond the allowance the client is sending far too much to deserve a
//! clean answer.

use std::pin::Pin;

use axum::body::{Body, Bytes};
use hyper::body::Body as _;

/// How many bytes past the limit are read and discarded so that the 413 reaches the client.
pub const DRAIN_ALLOWANCE: u64 = 4 * 1024 * 1024;

/// Why a body could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// The body is larger than the limit; `declared` is its Content-Length, when sent.
    TooLarge {
        /// The Content-Length header, if any.
        declared: Option<u64>,
    },
    /// The body could not be read (the client went away, or sent a malformed stream).
    Read(String),
}

/// Reads the whole body if it is at most `limit` bytes.
pub async fn read_limited(
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
