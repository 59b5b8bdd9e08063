//! JSON bodies for the HTTP/1.1 errors hyper answers by itself.
//!
//! A request hyper cannot parse never reaches the router: hyper writes `400 Bad Request`
//! (malformed request line, header or `Content-Length`), `414 URI Too Long` (a URI over
//! 65,534 bytes) or `431 Request Header Fields Too Large` (more than 100 headers, or a head over
//! hyper's 408 KiB read buffer) with an empty body and closes the connection. hyper offers no
//! hook to change that answer and no limit that can be raised past all of them, so
//! [`JsonProtocolErrors`] wraps the connection's byte stream and replaces that one answer,
//! which is always the last thing written on the connection, with the same status and the JSON
//! error shape every other error has: `{"code": 431, "error": "..."}`.
//!
//! Recognising it is safe: it is the only response whose head has exactly those statuses with
//! `content-length: 0` and no other header than `date` and `connection`, and no body the router
//! writes can contain the `\r\n` such a head is made of (JSON escapes it).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The start of every HTTP/1.1 response head.
const STATUS_LINE_START: &[u8] = b"HTTP/1.1 ";

/// The JSON answer that replaces hyper's empty one for `status`, or `None` for any other status.
fn json_answer(status: u16) -> Option<Vec<u8>> {
    let (reason, message) = match status {
        400 => (
            "Bad Request",
            "the request is not valid HTTP/1.1: its request line, a header or its \
             Content-Length is malformed",
        ),
        414 => (
            "URI Too Long",
            "the request URI is longer than 65534 bytes; the admission endpoints are POST \
             /validate and POST /mutate",
        ),
        431 => (
            "Request Header Fields Too Large",
            "the request headers are too large: at most 100 headers and 408 KiB in all are \
             accepted",
        ),
        _ => return None,
    };
    let body = serde_json::json!({"code": status, "error": message}).to_string();
    Some(
        format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n\
             content-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

/// Where hyper's own error answer starts in `written` (it ends the buffer), and its status.
fn canned_answer(written: &[u8]) -> Option<(usize, u16)> {
    if !written.ends_with(b"\r\n\r\n") {
        return None;
    }
    let start = written
        .windows(STATUS_LINE_START.len())
        .rposition(|window| window == STATUS_LINE_START)?;
    let head = std::str::from_utf8(&written[start..]).ok()?;
    let mut lines = head
        .strip_suffix("\r\n\r\n")?
        .split("\r\n")
        .collect::<Vec<_>>()
        .into_iter();
    let status_line = lines.next()?.strip_prefix("HTTP/1.1 ")?;
    let status: u16 = status_line.split(' ').next()?.parse().ok()?;
    if !matches!(status, 400 | 414 | 431) {
        return None;
    }
    let mut empty_body = false;
    for line in lines {
        let (name, value) = line.split_once(": ")?;
        match name {
            "content-length" if value == "0" => empty_body = true,
            "date" | "connection" => {}
            _ => return None,
        }
    }
    empty_body.then_some((start, status))
}

/// A byte stream whose writes pass through unchanged, except hyper's own HTTP/1.1 error
/// answers, which get a JSON body (see the module documentation).
#[derive(Debug)]
pub(crate) struct JsonProtocolErrors<S> {
    inner: S,
    enabled: bool,
    /// Bytes still to be written in place of what the last write was told it wrote.
    pending: Vec<u8>,
    written: usize,
}

impl<S> JsonProtocolErrors<S> {
    /// Wraps `inner`; with `enabled` false (an HTTP/2 connection) it only passes bytes through.
    pub(crate) fn new(inner: S, enabled: bool) -> Self {
        Self {
            inner,
            enabled,
            pending: Vec::new(),
            written: 0,
        }
    }

    /// The wrapped stream (what the tests read back).
    #[cfg(test)]
    pub(crate) fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: AsyncWrite + Unpin> JsonProtocolErrors<S> {
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let n =
                ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.pending.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for JsonProtocolErrors<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for JsonProtocolErrors<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        ready!(this.poll_pending(cx))?;
        if this.enabled
            && let Some((start, status)) = canned_answer(buf)
            && let Some(answer) = json_answer(status)
        {
            this.pending = buf[..start].to_vec();
            this.pending.extend_from_slice(&answer);
            this.written = 0;
            // Whatever is not written now is written by the next write, flush or shutdown.
            if let Poll::Ready(Err(err)) = this.poll_pending(cx) {
                return Poll::Ready(Err(err));
            }
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    /// Not vectored while enabled, so that hyper hands each response head over in one
    /// contiguous write.
    fn is_write_vectored(&self) -> bool {
        !self.enabled && self.inner.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.enabled {
            // Unused by hyper (see `is_write_vectored`); one buffer at a time keeps the check.
            let first = bufs
                .iter()
                .find(|buf| !buf.is_empty())
                .map_or(&[][..], |buf| &**buf);
            return self.poll_write(cx, first);
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    const CANNED: &[u8] =
        b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: Wed, 02 Dec 2026 08:00:00 GMT\r\n\r\n";

    const OK_RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}";

    #[test]
    fn recognises_only_hypers_empty_error_answers() {
        assert_eq!(canned_answer(CANNED), Some((0, 431)));
        let after_a_response = [OK_RESPONSE, CANNED].concat();
        assert_eq!(
            canned_answer(&after_a_response),
            Some((OK_RESPONSE.len(), 431))
        );
        for other in [
            &b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"[..],
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 12\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n{}",
            b"{\"error\":\"HTTP/1.1 400 Bad Request\"}",
            b"",
        ] {
            assert_eq!(
                canned_answer(other),
                None,
                "{}",
                String::from_utf8_lossy(other)
            );
        }
    }

    #[tokio::test]
    async fn replaces_the_answer_and_passes_everything_else_through() {
        let mut out = JsonProtocolErrors::new(Vec::new(), true);
        out.write_all(OK_RESPONSE).await.unwrap();
        out.write_all(CANNED).await.unwrap();
        out.flush().await.unwrap();
        let text = String::from_utf8(out.get_ref().clone()).unwrap();
        let (first, second) = text.split_at(OK_RESPONSE.len());
        assert_eq!(first.as_bytes(), OK_RESPONSE);
        assert!(
            second.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),
            "{second}"
        );
        let (head, body) = second.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["code"], 431);

        let mut plain = JsonProtocolErrors::new(Vec::new(), false);
        plain.write_all(CANNED).await.unwrap();
        assert_eq!(plain.get_ref().as_slice(), CANNED);
    }
}
