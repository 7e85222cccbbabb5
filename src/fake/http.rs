//! The HTTP side of every fake host: an accept loop (the caller owns the listener), a
//! backend that knows the protocol, and the fault layer between them that delays,
//! hangs, resets, truncates or rewrites responses, recording every exchange.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
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
    let service = service_fn(move |request| handle(host.clone(), handler_control.clone(), request));
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    let connection = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        _ = control.goaway.notified() => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
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
    let body = match read_body(&mut request).await {
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
    let mut cut = None;
    let reply = match action {
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
        Some(HttpAction::Respond { status, body, content_type }) => Reply::new(status, &content_type, body),
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
        Some(HttpAction::Delay(_)) | None => host.backend.respond_async(&info).await,
    };
    host.log.status(record.slot, reply.status);
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let head_only = info.method == "HEAD";
    let body = FaultBody::new(reply.body, cut, control, record, head_only);
    let mut response = Response::new(body);
    *response.status_mut() = status;
    if let Ok(value) = HeaderValue::from_str(&reply.content_type) {
        response.headers_mut().insert(http::header::CONTENT_TYPE, value);
    }
    for (name, value) in reply.headers {
        response.headers_mut().append(name, value);
    }
    Ok(response)
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
    done: bool,
}

impl RecordGuard {
    fn new(log: Arc<RequestLog>, slot: Slot) -> RecordGuard {
        RecordGuard { log, slot, bytes: 0, note: None, done: false }
    }

    fn finish(&mut self) {
        if !self.done {
            self.done = true;
            self.log.finish(self.slot, self.bytes, self.note.take());
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

/// A response body that counts what it sends and can stop early to reset the stream or
/// the connection.
struct FaultBody {
    data: Bytes,
    declared: u64,
    sent: usize,
    cut: Option<Cut>,
    /// The pause between the last bytes and the reset, so they reach the client first.
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
    control: Arc<ConnControl>,
    record: RecordGuard,
}

impl FaultBody {
    fn new(
        data: Bytes,
        cut: Option<Cut>,
        control: Arc<ConnControl>,
        record: RecordGuard,
        head_only: bool,
    ) -> FaultBody {
        let declared = data.len() as u64;
        let data = if head_only { Bytes::new() } else { data };
        let mut body = FaultBody { data, declared, sent: 0, cut, pause: None, control, record };
        if body.data.is_empty() && body.cut.is_none() {
            body.record.finish();
        }
        body
    }
}

impl Body for FaultBody {
    type Data = Bytes;
    type Error = Abort;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Abort>>> {
        let this = &mut *self;
        let limit = this.cut.map_or(this.data.len(), |c| c.after.min(this.data.len()));
        if this.sent < limit {
            let end = (this.sent + CHUNK).min(limit);
            let chunk = this.data.slice(this.sent..end);
            this.sent = end;
            this.record.bytes = end as u64;
            if this.cut.is_none() && end == this.data.len() {
                this.record.finish();
            }
            return Poll::Ready(Some(Ok(Frame::data(chunk))));
        }
        if let Some(cut) = this.cut {
            let pause = this.pause.get_or_insert_with(|| Box::pin(tokio::time::sleep(Duration::from_millis(20))));
            if pause.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            this.record.note = Some(match cut.how {
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
            });
            this.record.finish();
            return Poll::Ready(Some(Err(Abort)));
        }
        this.record.finish();
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        self.cut.is_none() && self.sent >= self.data.len()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.declared)
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
