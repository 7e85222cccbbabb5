//! HTTP faults: what a scenario may do to a host's responses ([`HttpAction`]), and
//! [`Faulty`], the handler that does it — it wraps the host's handler, decides per
//! request which faults fire (counting, probabilities and time windows as
//! [`FaultSchedule`] says), records them, and delays, hangs, resets, answers in the
//! backend's place, or rewrites and cuts what the backend answers. Body faults act on
//! a backend's reply and on a relayed stream alike; they do not apply to a tunnel.

mod body;

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, StatusCode};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;

use super::{Fault, FaultAction, FaultSchedule};
use crate::fake::http::{Abort, Exchange, Handler, HandlerFuture, Reply, TunnelStarted, fixed};
pub use body::corrupt;
use body::{CutBody, CutHow, LimitBody};

/// A fault of an HTTP host.
pub type HttpFault = Fault<HttpAction>;

/// What a fault does to the response.
#[derive(Debug, Clone, PartialEq)]
pub enum HttpAction {
    /// Replace the response.
    Respond {
        /// Status code.
        status: u16,
        /// Body.
        body: Bytes,
        /// Content-Type.
        content_type: String,
        /// Other headers (`Retry-After`, `Location` for a redirect).
        headers: Vec<(String, String)>,
    },
    /// Wait before answering; further faults still apply.
    Delay(Duration),
    /// Never answer.
    Hang,
    /// Reset the connection, optionally after headers and some body bytes.
    Reset {
        /// Body bytes sent first; `None` resets before any response.
        after_bytes: Option<u64>,
    },
    /// Close the connection (FIN, no RST), optionally after headers and some body bytes:
    /// a server, load balancer or middlebox that went away mid-response.
    Close {
        /// Body bytes sent first; `None` closes before any response.
        after_bytes: Option<u64>,
    },
    /// Fail the response after some body bytes: HTTP/2 resets the stream (RST_STREAM
    /// INTERNAL_ERROR), HTTP/1.1 ends the connection early.
    StreamReset {
        /// Body bytes sent first.
        after_bytes: u64,
        /// Also shut the connection down (GOAWAY).
        goaway: bool,
    },
    /// Serve only the first bytes of the body, as a complete (short) body.
    Truncate {
        /// Bytes kept.
        after_bytes: u64,
    },
    /// Flip some bytes of the body.
    Corrupt {
        /// How many.
        bytes: u32,
    },
    /// Serve this body with status 200.
    ReplaceBody {
        /// Body.
        body: Bytes,
        /// Content-Type, or the real response's when `None`.
        content_type: Option<String>,
    },
}

impl HttpAction {
    /// Short description for request logs and reports ("respond 500", "delay 2s").
    pub fn label(&self) -> String {
        match self {
            HttpAction::Respond { status, .. } => format!("respond {status}"),
            HttpAction::Delay(d) => format!("delay {}", humantime::format_duration(*d)),
            HttpAction::Hang => "hang".into(),
            HttpAction::Reset { after_bytes: None } => "reset".into(),
            HttpAction::Reset { after_bytes: Some(n) } => format!("reset after {n} bytes"),
            HttpAction::Close { after_bytes: None } => "close".into(),
            HttpAction::Close { after_bytes: Some(n) } => format!("close after {n} bytes"),
            HttpAction::StreamReset { after_bytes, goaway } => {
                format!("stream reset after {after_bytes} bytes{}", if *goaway { " + GOAWAY" } else { "" })
            }
            HttpAction::Truncate { after_bytes } => format!("truncate to {after_bytes} bytes"),
            HttpAction::Corrupt { bytes } => format!("corrupt {bytes} bytes"),
            HttpAction::ReplaceBody { .. } => "replace body".into(),
        }
    }
}

impl FaultAction for HttpAction {
    fn label(&self) -> String {
        HttpAction::label(self)
    }

    fn as_delay(&self) -> Option<Duration> {
        match self {
            HttpAction::Delay(d) => Some(*d),
            _ => None,
        }
    }
}

/// Rewrites a header value a fault sends (a `Location` naming a declared host) into
/// what go must dial: in open mode, hosts listen on loopback ports, not on their names.
pub type HeaderRewrite = std::sync::Arc<dyn Fn(&str) -> String + Send + Sync>;

/// A host's handler with its HTTP faults in front of it.
pub struct Faulty {
    /// The handler the faults perturb.
    pub inner: Box<dyn Handler>,
    /// The faults and their counters.
    pub faults: FaultSchedule<HttpAction>,
    /// Seed for the positions `corrupt` flips.
    pub seed: u64,
    /// Applied to the values of the headers `respond` adds.
    pub rewrite: Option<HeaderRewrite>,
}

impl Faulty {
    /// `inner` behind `faults`; corruption positions drawn from `seed`.
    pub fn new(inner: impl Handler, faults: FaultSchedule<HttpAction>, seed: u64) -> Faulty {
        Faulty { inner: Box::new(inner), faults, seed, rewrite: None }
    }

    /// `inner` behind `faults`, or `inner` itself when there are none; header values of
    /// `respond` pass through `rewrite`.
    pub fn wrap(
        inner: impl Handler,
        faults: FaultSchedule<HttpAction>,
        seed: u64,
        rewrite: Option<HeaderRewrite>,
    ) -> Box<dyn Handler> {
        if faults.is_empty() {
            Box::new(inner)
        } else {
            Box::new(Faulty { rewrite, ..Faulty::new(inner, faults, seed) })
        }
    }
}

impl Handler for Faulty {
    fn relays(&self, request: &Request<Incoming>) -> bool {
        self.inner.relays(request)
    }

    fn handle(&self, exchange: Exchange) -> HandlerFuture<'_> {
        Box::pin(async move {
            let decision = self.faults.decide(&exchange.info.method, &exchange.info.path);
            let record = exchange.record.clone();
            let conn = exchange.conn.clone();
            let path = exchange.info.path.clone();
            for label in decision.fired {
                record.add_fault(label);
            }
            if !decision.delay.is_zero() {
                tokio::time::sleep(decision.delay).await;
            }
            let action = decision.action.map(|(_, action)| action);
            match &action {
                Some(HttpAction::Hang) => {
                    record.note("hung by fault: never answered");
                    std::future::pending::<()>().await;
                    unreachable!("pending never completes");
                }
                Some(HttpAction::Reset { after_bytes: None }) => {
                    conn.reset();
                    record.note("connection reset by fault before any response");
                    return Err(Abort);
                }
                Some(HttpAction::Close { after_bytes: None }) => {
                    conn.close();
                    record.note("connection closed by fault before any response");
                    return Err(Abort);
                }
                Some(HttpAction::Respond { status, body, content_type, headers }) => {
                    let mut reply = Reply::new(*status, content_type, body.clone());
                    for (name, value) in headers {
                        let value = self.rewrite.as_ref().map_or_else(|| value.clone(), |rewrite| rewrite(value));
                        if let (Ok(name), Ok(value)) =
                            (http::HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(&value))
                        {
                            reply.headers.push((name, value));
                        }
                    }
                    return Ok(reply.into_response());
                }
                _ => {}
            }
            let response = self.inner.handle(exchange).await?;
            let Some(action) = action else { return Ok(response) };
            if response.extensions().get::<TunnelStarted>().is_some() {
                record.context(format!("fault {} does not apply to a tunnel", action.label()));
                return Ok(response);
            }
            let (mut parts, body) = response.into_parts();
            let body = match action {
                HttpAction::Reset { after_bytes: Some(n) } => {
                    CutBody::new(body, n, CutHow::TcpReset, conn).boxed_unsync()
                }
                HttpAction::Close { after_bytes: Some(n) } => {
                    CutBody::new(body, n, CutHow::TcpClose, conn).boxed_unsync()
                }
                HttpAction::StreamReset { after_bytes, goaway } => {
                    CutBody::new(body, after_bytes, CutHow::StreamReset { goaway }, conn).boxed_unsync()
                }
                HttpAction::Truncate { after_bytes } => {
                    parts.headers.remove(http::header::CONTENT_LENGTH);
                    LimitBody::new(body, after_bytes).boxed_unsync()
                }
                HttpAction::Corrupt { bytes } => match body.collect().await {
                    Ok(whole) => fixed(corrupt(&whole.to_bytes(), bytes, self.seed, &path)),
                    Err(e) => {
                        record.note(format!("upstream failed before the whole body arrived: {e}"));
                        return Err(Abort);
                    }
                },
                HttpAction::ReplaceBody { body: replacement, content_type } => {
                    parts.status = StatusCode::OK;
                    parts.headers.remove(http::header::CONTENT_LENGTH);
                    if let Some(value) = content_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
                        parts.headers.insert(http::header::CONTENT_TYPE, value);
                    }
                    fixed(replacement)
                }
                // Handled before the inner handler was asked.
                HttpAction::Delay(_)
                | HttpAction::Hang
                | HttpAction::Reset { after_bytes: None }
                | HttpAction::Close { after_bytes: None }
                | HttpAction::Respond { .. } => body,
            };
            Ok(http::Response::from_parts(parts, body))
        })
    }
}

#[cfg(test)]
mod tests;
