//! The HTTP side of every fake host. A [`HostServer`] owns the connections (the caller
//! owns the listener, see [`serve`]), reads each request, opens its [`Record`] in the
//! world's log and hands the exchange to its [`Handler`]; the handler at the bottom of
//! the stack is a [`BackendHandler`] around a [`Backend`] that knows the protocol (module
//! proxy, checksum database, git host, forward proxy). Faults are handlers that wrap
//! another one (`fault::http`), in the style of hickory's request handlers: they see the
//! exchange first and may delay, hang, reset or rewrite what the inner handler answers.
//!
//! Backends that must own an exchange (a forward proxy's tunnels and relayed requests)
//! hook in through [`Backend::relay`], behind the same handlers and log.

pub mod body;
mod record;
mod server;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use hyper::body::Incoming;

pub use body::{Body, BoxError, Cut, fixed};
pub use record::Record;
pub use server::{Conn, percent_decode, serve};

use super::record::RequestLog;

/// A handler's (or body's) verdict that the connection must be torn down without a
/// response.
#[derive(Debug)]
pub struct Abort;

impl std::fmt::Display for Abort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection ended by fault")
    }
}

impl std::error::Error for Abort {}

/// What a backend sees of a request.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    /// HTTP method.
    pub method: String,
    /// URL path (for CONNECT and absolute-form proxy requests: the target as written).
    pub path: String,
    /// Query string, if any.
    pub query: Option<String>,
    /// Request headers.
    pub headers: HeaderMap,
    /// The request body, read whole before the backend is asked (empty for requests
    /// without one, and for requests a backend relays): git smart HTTP sends what it
    /// wants in a POST.
    pub body: Bytes,
}

/// A complete response from a backend, before faults.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Content-Type.
    pub content_type: String,
    /// Other headers.
    pub headers: Vec<(http::HeaderName, HeaderValue)>,
    /// Body.
    pub body: Bytes,
}

impl Reply {
    /// A response with a body of the given type.
    pub fn new(status: u16, content_type: &str, body: impl Into<Bytes>) -> Reply {
        Reply { status, content_type: content_type.to_string(), headers: Vec::new(), body: body.into() }
    }

    /// A `text/plain` response, which go quotes after "server response:".
    pub fn text(status: u16, body: impl Into<String>) -> Reply {
        Reply::new(status, "text/plain; charset=utf-8", body.into())
    }

    /// The HTTP response carrying this reply (an unknown status becomes a 500).
    pub fn into_response(self) -> Response<Body> {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = Response::new(fixed(self.body));
        *response.status_mut() = status;
        if let Ok(value) = HeaderValue::from_str(&self.content_type) {
            response.headers_mut().insert(http::header::CONTENT_TYPE, value);
        }
        for (name, value) in self.headers {
            response.headers_mut().append(name, value);
        }
        response
    }
}

/// A reply that is still being produced.
pub type ReplyFuture<'a> = Pin<Box<dyn Future<Output = Reply> + Send + 'a>>;

/// Answers requests for one kind of fake (module proxy, …). Closures are backends too.
pub trait Backend: Send + Sync + 'static {
    /// The response to `request`.
    fn respond(&self, request: &RequestInfo) -> Reply;

    /// The response to `request`, for backends that must wait for it (a CGI process)
    /// without blocking the runtime. The server always asks through this method; the
    /// default answers with [`Backend::respond`].
    fn respond_async<'a>(&'a self, request: &'a RequestInfo) -> ReplyFuture<'a> {
        Box::pin(std::future::ready(self.respond(request)))
    }

    /// True when [`Backend::relay`] takes over `request`: an exchange that a complete
    /// [`Reply`] cannot express — a forward proxy's CONNECT tunnel, a request relayed
    /// upstream with its response streamed back. Asked before the request body is read
    /// (a relayed request keeps its body streaming); faults wrapping the backend still
    /// see the request first, so those that replace the response (`respond`, `hang`,
    /// `reset`) win.
    fn relays(&self, _request: &Request<Incoming>) -> bool {
        false
    }

    /// Answers a request that [`Backend::relays`] claimed.
    fn relay(&self, _request: Request<Incoming>) -> RelayFuture {
        let note = "this backend relays nothing: connection closed".to_string();
        Box::pin(std::future::ready(Relayed::Close { note }))
    }
}

/// The body of a relayed response: streamed through the handlers, which count and may
/// cut it like any other.
pub type RelayBody = Body;

/// A relay in progress.
pub type RelayFuture = Pin<Box<dyn Future<Output = Relayed> + Send>>;

/// A tunnel's life after its `200`: it owns the exchange's record until it ends.
pub type TunnelFuture = Pin<Box<dyn Future<Output = TunnelEnd> + Send>>;

/// How a relayed exchange is answered.
pub enum Relayed {
    /// An ordinary response (an error page, a response relayed from upstream).
    Respond {
        /// The response; hop-by-hop headers already removed.
        response: Response<RelayBody>,
        /// Recorded with the exchange ("relayed to 127.0.0.12:80", why a 502).
        note: Option<String>,
    },
    /// `200` to a CONNECT, then `tunnel` runs on the connection (it awaits hyper's
    /// upgrade itself). The world's shutdown ends it with its connection.
    Tunnel {
        /// Recorded while the tunnel runs ("tunnel to 127.0.0.12:443").
        note: String,
        /// The tunnel.
        tunnel: TunnelFuture,
    },
    /// Close the connection without any response (a proxy that drops the request).
    Close {
        /// Recorded with the exchange.
        note: String,
    },
}

/// How a tunnel ended, for the request log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TunnelEnd {
    /// Bytes sent to the client through the tunnel.
    pub bytes: u64,
    /// What happened ("tunnel to 127.0.0.12:443: 517 B up, 3120 B down").
    pub note: String,
}

/// A body of known bytes, for relayed responses built in place (error pages).
pub fn relay_body(bytes: impl Into<Bytes>) -> RelayBody {
    fixed(bytes.into())
}

impl<F: Fn(&RequestInfo) -> Reply + Send + Sync + 'static> Backend for F {
    fn respond(&self, request: &RequestInfo) -> Reply {
        self(request)
    }
}

/// One request on its way through a host's handlers.
pub struct Exchange {
    /// What the backend sees of the request.
    pub info: RequestInfo,
    /// The request itself, for backends that relay it (its body is still unread then).
    pub request: Request<Incoming>,
    /// The request's entry in the world's log: handlers add the faults that fired and
    /// notes, and the response body finishes it.
    pub record: Record,
    /// The connection the request came on: a handler may reset it, shut it down, or
    /// run a tunnel on it.
    pub conn: Conn,
}

/// A response still being produced by a handler; `Err` tears the connection down
/// without a response.
pub type HandlerFuture<'a> = Pin<Box<dyn Future<Output = Result<Response<Body>, Abort>> + Send + 'a>>;

/// Answers the exchanges of one host. A handler may wrap another (faults do).
pub trait Handler: Send + Sync + 'static {
    /// True when the request must reach the backend unread (see [`Backend::relays`]).
    fn relays(&self, request: &Request<Incoming>) -> bool;

    /// The response to `exchange`.
    fn handle(&self, exchange: Exchange) -> HandlerFuture<'_>;
}

/// Marks the `200` that starts a tunnel: the tunnel, not the response body, finishes
/// the exchange's record, and faults on the body do not apply to it.
#[derive(Debug, Clone, Copy)]
pub struct TunnelStarted;

/// The handler at the bottom of every host: asks the backend, or lets it relay.
pub struct BackendHandler(pub Box<dyn Backend>);

impl BackendHandler {
    /// A handler answering with `backend`.
    pub fn new(backend: impl Backend) -> BackendHandler {
        BackendHandler(Box::new(backend))
    }
}

impl Handler for BackendHandler {
    fn relays(&self, request: &Request<Incoming>) -> bool {
        self.0.relays(request)
    }

    fn handle(&self, exchange: Exchange) -> HandlerFuture<'_> {
        Box::pin(async move {
            let Exchange { info, request, record, conn } = exchange;
            if !self.0.relays(&request) {
                drop(request);
                return Ok(self.0.respond_async(&info).await.into_response());
            }
            match self.0.relay(request).await {
                Relayed::Respond { response, note } => {
                    if let Some(note) = note {
                        record.context(note);
                    }
                    Ok(response)
                }
                Relayed::Close { note } => {
                    record.note(note);
                    Err(Abort)
                }
                Relayed::Tunnel { note, tunnel } => {
                    record.status(200);
                    record.show(note.clone());
                    // Stays unless the tunnel ends on its own.
                    record.note(format!("{note}: cut by the world's shutdown"));
                    conn.spawn_tunnel(async move {
                        let end = tunnel.await;
                        record.set_bytes(end.bytes);
                        record.note(end.note);
                        record.finish();
                    });
                    let mut response = Response::new(fixed(Bytes::new()));
                    response.extensions_mut().insert(TunnelStarted);
                    Ok(response)
                }
            }
        })
    }
}

/// One fake host: its name, its handlers and the log it writes to.
pub struct HostServer {
    /// Declared host name (recorded with every request).
    pub name: String,
    /// The handler stack answering its requests.
    pub handler: Box<dyn Handler>,
    /// Where requests are recorded.
    pub log: Arc<RequestLog>,
    /// TLS settings; with them, connections starting with a TLS handshake get TLS (and
    /// HTTP/2 through ALPN), others plain HTTP on the same port.
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

impl HostServer {
    /// A plain-HTTP host `name` answering with `backend`, without faults.
    pub fn new(name: &str, backend: impl Backend, log: Arc<RequestLog>) -> HostServer {
        HostServer::with_handler(name, BackendHandler::new(backend), log)
    }

    /// A plain-HTTP host `name` answering through `handler`.
    pub fn with_handler(name: &str, handler: impl Handler, log: Arc<RequestLog>) -> HostServer {
        HostServer { name: name.to_string(), handler: Box::new(handler), log, tls: None }
    }

    /// The same host, also answering TLS with `config`.
    pub fn tls(self, config: Arc<rustls::ServerConfig>) -> HostServer {
        HostServer { tls: Some(config), ..self }
    }
}
