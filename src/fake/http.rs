//! The HTTP side of every fake host: an accept loop (the caller owns the listener), a
//! backend that knows the protocol, and the fault layer between them that delays,
//! hangs, resets, truncates or rewrites responses, recording every exchange. Backends
//! that must own an exchange (a forward proxy's tunnels and relayed requests) hook in
//! through [`Backend::relay`], behind the same fault layer and log.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt as _;
use http_body_util::combinators::UnsyncBoxBody;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use super::record::{RequestLog, Slot};
use crate::fault::{FaultSchedule, HttpAction};

/// What a backend sees of a request.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    /// HTTP method.
    pub method: String,
    /// URL path.
    pub path: String,
    /// Query string, if any.
    pub query: Option<String>,
    /// Request headers.
    pub headers: HeaderMap,
    /// The request body, read whole before the backend is asked (empty for requests
    /// without one): git smart HTTP sends what it wants in a POST.
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
    /// upstream with its response streamed back. Asked after the fault layer let the
    /// request through, so faults that replace the response (`respond`, `hang`, `reset`)
    /// still win.
    fn relays(&self, _request: &Request<Incoming>) -> bool {
        false
    }

    /// Answers a request that [`Backend::relays`] claimed.
    fn relay(&self, _request: Request<Incoming>) -> RelayFuture {
        let note = "this backend relays nothing: connection closed".to_string();
        Box::pin(std::future::ready(Relayed::Close { note }))
    }
}

/// Errors a relayed body may end with (the upstream failed mid-body).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body of a relayed response: streamed through the fault layer, which counts and
/// may cut it like any other.
pub type RelayBody = UnsyncBoxBody<Bytes, BoxError>;

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
    http_body_util::Full::new(bytes.into()).map_err(|never| match never {}).boxed_unsync()
}

impl<F: Fn(&RequestInfo) -> Reply + Send + Sync + 'static> Backend for F {
    fn respond(&self, request: &RequestInfo) -> Reply {
        self(request)
    }
}

/// One fake host: its name, its protocol, its faults and the log it writes to.
pub struct HostServer {
    /// Declared host name (recorded with every request).
    pub name: String,
    /// The protocol.
    pub backend: Box<dyn Backend>,
    /// The faults.
    pub faults: FaultSchedule<HttpAction>,
    /// Where requests are recorded.
    pub log: Arc<RequestLog>,
    /// Seed for body corruption positions.
    pub seed: u64,
    /// TLS settings; with them, connections starting with a TLS handshake get TLS (and
    /// HTTP/2 through ALPN), others plain HTTP on the same port.
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

/// Serves `host` on `listener` until the task running it is dropped or aborted, which
/// also ends every connection (hung ones included).
pub async fn serve(listener: TcpListener, host: Arc<HostServer>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    connections.spawn(serve_connection(stream, host.clone()));
                }
                // Out of descriptors and the like: back off rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// First byte of a TLS handshake record.
const TLS_HANDSHAKE: u8 = 0x16;

async fn serve_connection(stream: TcpStream, host: Arc<HostServer>) {
    let control = Arc::new(ConnControl::default());
    let mut first = [0u8; 1];
    let starts_tls = matches!(stream.peek(&mut first).await, Ok(1) if first[0] == TLS_HANDSHAKE);
    let stream = ResettableStream { inner: stream, control: control.clone() };
    match (&host.tls, starts_tls) {
        (Some(config), true) => match tokio_rustls::TlsAcceptor::from(config.clone()).accept(stream).await {
            Ok(tls) => serve_http(tls, host, control).await,
            Err(e) => {
                // The client gave up during the handshake (a certificate it rejects, …):
                // no HTTP request follows, but the attempt is evidence.
                let slot = host.log.begin(&host.name, "TLS", "(handshake)", Vec::new());
                host.log.finish(slot, 0, Some(format!("TLS handshake failed: {e}")));
            }
        },
        _ => serve_http(stream, host, control).await,
    }
}

/// What a response may do to the connection carrying it.
#[derive(Default)]
struct ConnControl {
    /// Set: the connection fails every operation and closes with an RST.
    reset: AtomicBool,
    /// Notified: the connection shuts down gracefully (an HTTP/2 GOAWAY).
    goaway: tokio::sync::Notify,
}

async fn serve_http<IO>(io: IO, host: Arc<HostServer>, control: Arc<ConnControl>)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let handler_control = control.clone();
    let tunnels = Tunnels::default();
    let handler_tunnels = tunnels.clone();
    let service =
        service_fn(move |request| handle(host.clone(), handler_control.clone(), handler_tunnels.clone(), request));
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    // With upgrades, a CONNECT's `200` hands the connection over to its tunnel.
    let connection = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        _ = control.goaway.notified() => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
    // An HTTP/1.1 connection ends where its tunnel starts: keep the tunnel going here, so
    // that aborting this task (the world's shutdown) ends it too.
    let mut running = tunnels.take();
    while running.join_next().await.is_some() {}
}

/// The tunnels opened on one connection. Not reachable from the connection's stream
/// (which a tunnel owns), so dropping the connection's task drops and aborts them.
#[derive(Clone, Default)]
struct Tunnels(Arc<Mutex<JoinSet<()>>>);

impl Tunnels {
    fn spawn(&self, tunnel: impl Future<Output = ()> + Send + 'static) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).spawn(tunnel);
    }

    fn take(&self) -> JoinSet<()> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// The service's error: the connection must be torn down without a response.
#[derive(Debug)]
struct Abort;

impl std::fmt::Display for Abort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection reset by fault")
    }
}

impl std::error::Error for Abort {}

async fn handle(
    host: Arc<HostServer>,
    control: Arc<ConnControl>,
    tunnels: Tunnels,
    mut request: Request<Incoming>,
) -> Result<Response<FaultBody>, Abort> {
    // CONNECT and proxied HTTP/1 requests name their target in the URI: record it whole.
    // (HTTP/2 requests always carry an authority; their target is the path.)
    let uri = request.uri();
    let path = if request.method() == http::Method::CONNECT {
        uri.authority().map_or_else(String::new, |a| a.to_string())
    } else if uri.authority().is_some() && request.version() < http::Version::HTTP_2 {
        uri.to_string()
    } else {
        percent_decode(uri.path())
    };
    let relays = host.backend.relays(&request);
    let body = match if relays { Ok(Bytes::new()) } else { read_body(&mut request).await } {
        Ok(body) => body,
        Err(e) => {
            let slot = host.log.begin(&host.name, request.method().as_str(), &path, Vec::new());
            host.log.finish(slot, 0, Some(format!("request body unreadable: {e}")));
            return Err(Abort);
        }
    };
    let info = RequestInfo {
        method: request.method().as_str().to_string(),
        path,
        query: request.uri().query().map(str::to_string),
        headers: request.headers().clone(),
        body,
    };
    let decision = host.faults.decide(&info.method, &info.path);
    let mut record = RecordGuard::new(
        host.log.clone(),
        host.log.begin(&host.name, &info.method, &info.path, decision.fired.clone()),
    );
    if !decision.delay.is_zero() {
        tokio::time::sleep(decision.delay).await;
    }
    let action = decision.action.map(|(_, action)| action);
    let head_only = info.method == "HEAD";
    match &action {
        Some(HttpAction::Hang) => {
            record.note = Some("hung by fault: never answered".into());
            std::future::pending::<()>().await;
            unreachable!("pending never completes");
        }
        Some(HttpAction::Reset { after_bytes: None }) => {
            control.reset.store(true, Ordering::SeqCst);
            record.note = Some("connection reset by fault before any response".into());
            return Err(Abort);
        }
        Some(HttpAction::Respond { status, body, content_type }) => {
            let reply = Reply::new(*status, content_type, body.clone());
            return Ok(reply_response(&host, reply, None, control, record, head_only));
        }
        _ => {}
    }
    if relays {
        let relayed = host.backend.relay(request).await;
        return relayed_response(&host, &info.path, relayed, action, control, tunnels, record, head_only).await;
    }
    drop(request);
    let mut cut = None;
    let reply = match action {
        Some(HttpAction::Reset { after_bytes: Some(n) }) => {
            cut = Some(Cut { after: n as usize, how: CutHow::TcpReset });
            host.backend.respond_async(&info).await
        }
        Some(HttpAction::StreamReset { after_bytes, goaway }) => {
            cut = Some(Cut { after: after_bytes as usize, how: CutHow::StreamReset { goaway } });
            host.backend.respond_async(&info).await
        }
        Some(HttpAction::Truncate { after_bytes }) => {
            let mut reply = host.backend.respond_async(&info).await;
            reply.body = reply.body.slice(..(after_bytes as usize).min(reply.body.len()));
            reply
        }
        Some(HttpAction::Corrupt { bytes }) => {
            let mut reply = host.backend.respond_async(&info).await;
            reply.body = corrupt(&reply.body, bytes, host.seed, &info.path);
            reply
        }
        Some(HttpAction::ReplaceBody { body, content_type }) => {
            let real = host.backend.respond_async(&info).await;
            Reply::new(200, content_type.as_deref().unwrap_or(&real.content_type), body)
        }
        // Delays, no fault (the others were handled above).
        _ => host.backend.respond_async(&info).await,
    };
    Ok(reply_response(&host, reply, cut, control, record, head_only))
}

/// The response carrying a backend's (or a fault's) complete reply.
fn reply_response(
    host: &HostServer,
    reply: Reply,
    cut: Option<Cut>,
    control: Arc<ConnControl>,
    record: RecordGuard,
    head_only: bool,
) -> Response<FaultBody> {
    host.log.status(record.slot, reply.status);
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = FaultBody::new(Source::Fixed(reply.body), cut, None, control, Some(record), head_only);
    let mut response = Response::new(body);
    *response.status_mut() = status;
    if let Ok(value) = HeaderValue::from_str(&reply.content_type) {
        response.headers_mut().insert(http::header::CONTENT_TYPE, value);
    }
    for (name, value) in reply.headers {
        response.headers_mut().append(name, value);
    }
    response
}

/// The response to a relayed exchange, with the body faults applied to what the relay
/// streams: cuts and truncation as the bytes pass, corruption and replacement on the
/// whole body. A tunnel is started on the connection and keeps the record until it ends.
#[allow(clippy::too_many_arguments)]
async fn relayed_response(
    host: &HostServer,
    path: &str,
    relayed: Relayed,
    action: Option<HttpAction>,
    control: Arc<ConnControl>,
    tunnels: Tunnels,
    mut record: RecordGuard,
    head_only: bool,
) -> Result<Response<FaultBody>, Abort> {
    let (response, note) = match relayed {
        Relayed::Respond { response, note } => (response, note),
        Relayed::Close { note } => {
            record.note = Some(note);
            return Err(Abort);
        }
        Relayed::Tunnel { note, tunnel } => {
            host.log.status(record.slot, 200);
            host.log.note(record.slot, note.clone());
            record.context = action.map(|a| format!("fault {} does not apply to a tunnel", a.label()));
            // Stays unless the tunnel ends on its own.
            record.note = Some(format!("{note}: cut by the world's shutdown"));
            tunnels.spawn(async move {
                let end = tunnel.await;
                record.bytes = end.bytes;
                record.note = Some(end.note);
                record.finish();
            });
            let body = FaultBody::new(Source::Fixed(Bytes::new()), None, None, control, None, false);
            return Ok(Response::new(body));
        }
    };
    record.context = note;
    let (mut parts, body) = response.into_parts();
    let mut cut = None;
    let mut limit = None;
    let source = match action {
        Some(HttpAction::Reset { after_bytes: Some(n) }) => {
            cut = Some(Cut { after: n as usize, how: CutHow::TcpReset });
            Source::Stream(body)
        }
        Some(HttpAction::StreamReset { after_bytes, goaway }) => {
            cut = Some(Cut { after: after_bytes as usize, how: CutHow::StreamReset { goaway } });
            Source::Stream(body)
        }
        Some(HttpAction::Truncate { after_bytes }) => {
            parts.headers.remove(http::header::CONTENT_LENGTH);
            limit = Some(after_bytes as usize);
            Source::Stream(body)
        }
        Some(HttpAction::Corrupt { bytes }) => {
            let whole = collect(body, &mut record).await?;
            Source::Fixed(corrupt(&whole, bytes, host.seed, path))
        }
        Some(HttpAction::ReplaceBody { body: replacement, content_type }) => {
            parts.status = StatusCode::OK;
            parts.headers.remove(http::header::CONTENT_LENGTH);
            if let Some(value) = content_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
                parts.headers.insert(http::header::CONTENT_TYPE, value);
            }
            Source::Fixed(replacement)
        }
        _ => Source::Stream(body),
    };
    host.log.status(record.slot, parts.status.as_u16());
    let body = FaultBody::new(source, cut, limit, control, Some(record), head_only);
    Ok(Response::from_parts(parts, body))
}

/// A relayed body, whole (for faults that rewrite it).
async fn collect(body: RelayBody, record: &mut RecordGuard) -> Result<Bytes, Abort> {
    match body.collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) => {
            record.note = Some(format!("upstream failed before the whole body arrived: {e}"));
            Err(Abort)
        }
    }
}

/// Largest request body a fake reads (git's negotiation requests are a few KiB).
const MAX_REQUEST_BODY: usize = 16 << 20;

/// The whole body of `request`; nothing for CONNECT, whose body is the tunnel.
async fn read_body(request: &mut Request<Incoming>) -> Result<Bytes, Box<dyn std::error::Error + Send + Sync>> {
    if request.method() == http::Method::CONNECT || request.body().is_end_stream() {
        return Ok(Bytes::new());
    }
    let limited = http_body_util::Limited::new(request.body_mut(), MAX_REQUEST_BODY);
    Ok(http_body_util::BodyExt::collect(limited).await?.to_bytes())
}

/// Decodes `%XX` escapes (go writes the `!` of escaped module paths as `%21`), so that
/// backends, fault globs and the request log all see the path as a person writes it.
/// Invalid escapes are kept as they are.
pub fn percent_decode(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| path.to_string())
}

/// Flips `count` bytes at positions fixed by the seed and the path.
fn corrupt(body: &Bytes, count: u32, seed: u64, path: &str) -> Bytes {
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

/// Finishes a request's record when the exchange ends, however it ends.
struct RecordGuard {
    log: Arc<RequestLog>,
    slot: Slot,
    bytes: u64,
    note: Option<String>,
    /// Said before the note, whatever it ends up being ("relayed to 127.0.0.12:80").
    context: Option<String>,
    done: bool,
}

impl RecordGuard {
    fn new(log: Arc<RequestLog>, slot: Slot) -> RecordGuard {
        RecordGuard { log, slot, bytes: 0, note: None, context: None, done: false }
    }

    fn finish(&mut self) {
        if !self.done {
            self.done = true;
            let note = match (self.context.take(), self.note.take()) {
                (Some(context), Some(note)) => Some(format!("{context}; {note}")),
                (context, note) => context.or(note),
            };
            self.log.finish(self.slot, self.bytes, note);
        }
    }
}

impl Drop for RecordGuard {
    fn drop(&mut self) {
        if !self.done && self.note.is_none() {
            self.note = Some(format!("client went away after {} body bytes", self.bytes));
        }
        self.finish();
    }
}

const CHUNK: usize = 16 * 1024;

/// Where and how a response is cut short.
#[derive(Debug, Clone, Copy)]
struct Cut {
    /// Body bytes sent first.
    after: usize,
    /// What happens then.
    how: CutHow,
}

#[derive(Debug, Clone, Copy)]
enum CutHow {
    /// The TCP connection is reset (RST).
    TcpReset,
    /// The body fails: HTTP/2 resets the stream (RST_STREAM INTERNAL_ERROR), HTTP/1.1
    /// closes the connection early; with `goaway`, the connection then shuts down.
    StreamReset { goaway: bool },
}

/// Where a response body comes from.
enum Source {
    /// A backend's complete reply.
    Fixed(Bytes),
    /// A relay's stream.
    Stream(RelayBody),
}

/// A response body that counts what it sends and can stop early to reset the stream or
/// the connection.
struct FaultBody {
    source: Source,
    declared: SizeHint,
    sent: usize,
    /// The source has nothing more to send (or the cut or truncation point is reached).
    drained: bool,
    cut: Option<Cut>,
    /// A streamed body ends (complete but short) after this many bytes.
    limit: Option<usize>,
    /// The pause between the last bytes and the reset, so they reach the client first.
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
    control: Arc<ConnControl>,
    /// `None` when someone else records the exchange (a tunnel).
    record: Option<RecordGuard>,
}

impl FaultBody {
    fn new(
        source: Source,
        cut: Option<Cut>,
        limit: Option<usize>,
        control: Arc<ConnControl>,
        record: Option<RecordGuard>,
        head_only: bool,
    ) -> FaultBody {
        let declared = match &source {
            Source::Fixed(data) => SizeHint::with_exact(data.len() as u64),
            Source::Stream(body) => match (body.size_hint().exact(), limit) {
                (Some(n), Some(limit)) => SizeHint::with_exact(n.min(limit as u64)),
                (Some(n), None) => SizeHint::with_exact(n),
                (None, _) => SizeHint::default(),
            },
        };
        let source = if head_only { Source::Fixed(Bytes::new()) } else { source };
        let mut body =
            FaultBody { source, declared, sent: 0, drained: false, cut, limit, pause: None, control, record };
        if body.is_end_stream() {
            body.finish();
        }
        body
    }

    fn finish(&mut self) {
        if let Some(record) = &mut self.record {
            record.finish();
        }
    }

    fn note(&mut self, note: String) {
        if let Some(record) = &mut self.record {
            record.note = Some(note);
        }
    }

    /// How many more bytes may be sent before the cut or the truncation point.
    fn room(&self) -> usize {
        let cap = self.cut.map_or(usize::MAX, |c| c.after).min(self.limit.unwrap_or(usize::MAX));
        cap.saturating_sub(self.sent)
    }

    /// The next frame of the source, at most `room` data bytes; `None` when drained.
    fn poll_source(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let room = self.room();
        if room == 0 {
            return Poll::Ready(None);
        }
        match &mut self.source {
            Source::Fixed(data) => {
                if self.sent >= data.len() {
                    return Poll::Ready(None);
                }
                let end = (self.sent + CHUNK.min(room)).min(data.len());
                Poll::Ready(Some(Ok(Frame::data(data.slice(self.sent..end)))))
            }
            Source::Stream(body) => match Pin::new(body).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => Poll::Ready(Some(Ok(match frame.into_data() {
                    Ok(mut data) => {
                        data.truncate(room);
                        Frame::data(data)
                    }
                    Err(frame) => frame,
                }))),
                other => other,
            },
        }
    }
}

impl Body for FaultBody {
    type Data = Bytes;
    type Error = Abort;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Abort>>> {
        let this = &mut *self;
        while !this.drained {
            match this.poll_source(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => this.drained = true,
                Poll::Ready(Some(Err(e))) => {
                    this.note(format!("upstream failed after {} body bytes: {e}", this.sent));
                    this.finish();
                    return Poll::Ready(Some(Err(Abort)));
                }
                Poll::Ready(Some(Ok(frame))) => {
                    if let Some(data) = frame.data_ref() {
                        if data.is_empty() {
                            continue;
                        }
                        this.sent += data.len();
                        if let Some(record) = &mut this.record {
                            record.bytes = this.sent as u64;
                        }
                    }
                    if this.is_end_stream() {
                        this.finish();
                    }
                    return Poll::Ready(Some(Ok(frame)));
                }
            }
        }
        if let Some(cut) = this.cut {
            let pause = this.pause.get_or_insert_with(|| Box::pin(tokio::time::sleep(Duration::from_millis(20))));
            if pause.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            let note = match cut.how {
                CutHow::TcpReset => {
                    this.control.reset.store(true, Ordering::SeqCst);
                    format!("connection reset by fault after {} body bytes", this.sent)
                }
                CutHow::StreamReset { goaway } => {
                    if goaway {
                        this.control.goaway.notify_one();
                    }
                    format!(
                        "stream reset by fault after {} body bytes{}",
                        this.sent,
                        if goaway { ", then GOAWAY" } else { "" }
                    )
                }
            };
            this.note(note);
            this.finish();
            return Poll::Ready(Some(Err(Abort)));
        }
        this.finish();
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        if self.cut.is_some() {
            return false;
        }
        self.drained
            || self.room() == 0
            || match &self.source {
                Source::Fixed(data) => self.sent >= data.len(),
                Source::Stream(body) => body.is_end_stream(),
            }
    }

    fn size_hint(&self) -> SizeHint {
        self.declared
    }
}

/// A TCP stream that, once its flag is set, fails every operation and closes with an
/// RST (SO_LINGER 0) instead of a FIN: what "connection reset by peer" looks like.
struct ResettableStream {
    inner: TcpStream,
    control: Arc<ConnControl>,
}

impl ResettableStream {
    fn check(&self) -> io::Result<()> {
        if self.control.reset.load(Ordering::SeqCst) {
            Err(io::Error::from(io::ErrorKind::ConnectionReset))
        } else {
            Ok(())
        }
    }
}

impl Drop for ResettableStream {
    fn drop(&mut self) {
        if self.control.reset.load(Ordering::SeqCst) {
            let _ = socket2::SockRef::from(&self.inner).set_linger(Some(Duration::ZERO));
        }
    }
}

impl AsyncRead for ResettableStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ResettableStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.check()?;
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("/rsc.io/%21q%21u%21o%21t%21e/@v/list"), "/rsc.io/!q!u!o!t!e/@v/list");
        assert_eq!(percent_decode("/a%2"), "/a%2");
        assert_eq!(percent_decode("/a%zz/%C3%A9"), "/a%zz/é");
        assert_eq!(percent_decode("/%FF"), "/%FF");
    }

    #[tokio::test]
    async fn backends_see_the_request_body_even_chunked() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let echo = |r: &RequestInfo| Reply::text(200, format!("{} {:?}", r.method, r.body));
        let host = HostServer {
            name: "echo".into(),
            backend: Box::new(echo),
            faults: FaultSchedule::new("echo", 0, Vec::new()),
            log: Arc::new(RequestLog::default()),
            seed: 0,
            tls: None,
        };
        let _server = tokio::spawn(serve(listener, Arc::new(host)));
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let request = "POST /x HTTP/1.1\r\nHost: echo\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
                       3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n";
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        assert!(response.ends_with("POST b\"abcdefg\""), "{response}");
    }

    #[test]
    fn corruption_is_deterministic_and_changes_the_body() {
        let body = Bytes::from_static(b"0123456789abcdef");
        let a = corrupt(&body, 3, 7, "/x.zip");
        assert_eq!(a, corrupt(&body, 3, 7, "/x.zip"));
        assert_ne!(a, body);
        assert_ne!(a, corrupt(&body, 3, 8, "/x.zip"));
    }
}
