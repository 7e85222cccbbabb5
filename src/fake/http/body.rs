//! Response bodies: one boxed type for every response (a backend's bytes, a relayed
//! stream, a fault's rewrite), and the recording wrapper the server puts around the
//! final body so that the log counts what was really sent and learns how it ended.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use http_body_util::BodyExt as _;
use http_body_util::combinators::UnsyncBoxBody;

use super::Abort;
use super::record::Record;

/// Errors a body may end with: an upstream that failed mid-body, or a [`Cut`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Every response body of a fake host.
pub type Body = UnsyncBoxBody<Bytes, BoxError>;

/// Largest frame of a body of known bytes.
const CHUNK: usize = 16 * 1024;

/// A body of known bytes, sent in frames of at most 16 KiB with an exact length.
pub fn fixed(bytes: Bytes) -> Body {
    Fixed { data: bytes, sent: 0 }.boxed_unsync()
}

struct Fixed {
    data: Bytes,
    sent: usize,
}

impl HttpBody for Fixed {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if self.sent >= self.data.len() {
            return Poll::Ready(None);
        }
        let end = (self.sent + CHUNK).min(self.data.len());
        let frame = self.data.slice(self.sent..end);
        self.sent = end;
        Poll::Ready(Some(Ok(Frame::data(frame))))
    }

    fn is_end_stream(&self) -> bool {
        self.sent >= self.data.len()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact((self.data.len() - self.sent) as u64)
    }
}

/// The error a body ends with when a fault cut it on purpose; its note is what the log
/// records ("connection reset by fault after 512 body bytes").
#[derive(Debug, thiserror::Error)]
#[error("{note}")]
pub struct Cut {
    /// How the body was cut.
    pub note: String,
}

/// The final body of an exchange: counts the bytes sent into the record and finishes it
/// when the body ends, fails, or is dropped. A HEAD response keeps the length of the
/// body it would have had and sends none of it.
pub(super) struct Counted {
    inner: Body,
    declared: SizeHint,
    head_only: bool,
    sent: u64,
    /// `None` when someone else finishes the record (a tunnel).
    record: Option<Record>,
}

impl Counted {
    pub(super) fn new(inner: Body, record: Option<Record>, head_only: bool) -> Counted {
        let declared = inner.size_hint();
        let body = Counted { inner, declared, head_only, sent: 0, record };
        if body.is_end_stream() {
            body.finish();
        }
        body
    }

    fn finish(&self) {
        if let Some(record) = &self.record {
            record.finish();
        }
    }
}

impl HttpBody for Counted {
    type Data = Bytes;
    type Error = Abort;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Abort>>> {
        let this = &mut *self;
        if this.head_only {
            this.finish();
            return Poll::Ready(None);
        }
        loop {
            return match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(None) => {
                    this.finish();
                    Poll::Ready(None)
                }
                Poll::Ready(Some(Err(e))) => {
                    let note = match e.downcast_ref::<Cut>() {
                        Some(cut) => cut.note.clone(),
                        None => format!("upstream failed after {} body bytes: {e}", this.sent),
                    };
                    if let Some(record) = &this.record {
                        record.note(note);
                    }
                    this.finish();
                    Poll::Ready(Some(Err(Abort)))
                }
                Poll::Ready(Some(Ok(frame))) => {
                    if let Some(data) = frame.data_ref() {
                        if data.is_empty() {
                            continue;
                        }
                        this.sent += data.len() as u64;
                        if let Some(record) = &this.record {
                            record.set_bytes(this.sent);
                        }
                    }
                    if this.inner.is_end_stream() {
                        this.finish();
                    }
                    Poll::Ready(Some(Ok(frame)))
                }
            };
        }
    }

    fn is_end_stream(&self) -> bool {
        self.head_only || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.declared
    }
}
