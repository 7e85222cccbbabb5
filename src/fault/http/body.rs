//! What HTTP faults do to a response body on its way out: cut it after some bytes
//! (resetting or closing the connection, or resetting the HTTP/2 stream), end it early as if complete, or
//! flip some of its bytes.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use sha2::{Digest, Sha256};

use crate::fake::http::{Body, BoxError, Conn, Cut};

/// How a cut ends the response.
#[derive(Debug, Clone, Copy)]
pub(super) enum CutHow {
    /// The TCP connection is reset (RST).
    TcpReset,
    /// The TCP connection is closed (FIN) where more was due.
    TcpClose,
    /// The body fails: HTTP/2 resets the stream (RST_STREAM INTERNAL_ERROR), HTTP/1.1
    /// closes the connection early; with `goaway`, the connection then shuts down.
    StreamReset { goaway: bool },
}

/// A body that passes `after` bytes, waits a moment so they reach the client, then
/// fails the way `how` says.
pub(super) struct CutBody {
    inner: Body,
    after: u64,
    how: CutHow,
    conn: Conn,
    sent: u64,
    drained: bool,
    /// The pause between the last bytes and the cut.
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl CutBody {
    pub(super) fn new(inner: Body, after: u64, how: CutHow, conn: Conn) -> CutBody {
        CutBody { inner, after, how, conn, sent: 0, drained: false, pause: None }
    }
}

impl HttpBody for CutBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        while !this.drained {
            let room = this.after.saturating_sub(this.sent);
            if room == 0 {
                this.drained = true;
                break;
            }
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => this.drained = true,
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(Some(Ok(frame))) => {
                    let frame = match frame.into_data() {
                        Ok(mut data) => {
                            data.truncate(room as usize);
                            this.sent += data.len() as u64;
                            Frame::data(data)
                        }
                        Err(frame) => frame,
                    };
                    return Poll::Ready(Some(Ok(frame)));
                }
            }
        }
        let pause = this.pause.get_or_insert_with(|| Box::pin(tokio::time::sleep(Duration::from_millis(20))));
        if pause.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        let note = match this.how {
            CutHow::TcpReset => {
                this.conn.reset();
                format!("connection reset by fault after {} body bytes", this.sent)
            }
            CutHow::TcpClose => {
                this.conn.close();
                format!("connection closed by fault after {} body bytes", this.sent)
            }
            CutHow::StreamReset { goaway } => {
                if goaway {
                    this.conn.goaway();
                }
                format!(
                    "stream reset by fault after {} body bytes{}",
                    this.sent,
                    if goaway { ", then GOAWAY" } else { "" }
                )
            }
        };
        Poll::Ready(Some(Err(Box::new(Cut { note }))))
    }

    /// Never ends on its own: the cut is its end.
    fn is_end_stream(&self) -> bool {
        false
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A body that ends, complete but short, after `limit` bytes.
pub(super) struct LimitBody {
    inner: Body,
    limit: u64,
    sent: u64,
}

impl LimitBody {
    pub(super) fn new(inner: Body, limit: u64) -> LimitBody {
        LimitBody { inner, limit, sent: 0 }
    }
}

impl HttpBody for LimitBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        let room = this.limit.saturating_sub(this.sent);
        if room == 0 {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => Poll::Ready(Some(Ok(match frame.into_data() {
                Ok(mut data) => {
                    data.truncate(room as usize);
                    this.sent += data.len() as u64;
                    Frame::data(data)
                }
                Err(frame) => frame,
            }))),
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.sent >= self.limit || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        match self.inner.size_hint().exact() {
            Some(n) => SizeHint::with_exact(n.min(self.limit - self.sent)),
            None => SizeHint::default(),
        }
    }
}

/// Flips `count` bytes of `body` at positions fixed by the seed and the path.
pub fn corrupt(body: &Bytes, count: u32, seed: u64, path: &str) -> Bytes {
    if body.is_empty() {
        return body.clone();
    }
    let mut data = body.to_vec();
    for i in 0..count {
        let digest = Sha256::new()
            .chain_update(seed.to_le_bytes())
            .chain_update(path.as_bytes())
            .chain_update(i.to_le_bytes())
            .finalize();
        let position = u64::from_le_bytes(digest[..8].try_into().expect("8 bytes")) as usize % data.len();
        data[position] ^= 0xA5;
    }
    Bytes::from(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corruption_is_deterministic_and_changes_the_body() {
        let body = Bytes::from_static(b"0123456789abcdef");
        let a = corrupt(&body, 3, 7, "/x.zip");
        assert_eq!(a, corrupt(&body, 3, 7, "/x.zip"));
        assert_ne!(a, body);
        assert_ne!(a, corrupt(&body, 3, 8, "/x.zip"));
    }
}
