//! The connections of a fake host: the accept loop (the caller owns the listener), TLS
//! and HTTP/1.1 or HTTP/2 on the same port, and each request read, recorded and handed to
//! the host's handlers. A connection can be reset (RST), closed (FIN) or shut down
//! (GOAWAY) by what answers on it, and keeps the tunnels it started alive until it ends.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body as _;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use super::body::Counted;
use super::{Abort, Exchange, HostServer, Record, RequestInfo, TunnelStarted};

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
                Err(e) => {
                    tracing::warn!(host = %host.name, error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// First byte of a TLS handshake record.
const TLS_HANDSHAKE: u8 = 0x16;

async fn serve_connection(stream: TcpStream, host: Arc<HostServer>) {
    let conn = Conn::default();
    let mut first = [0u8; 1];
    let starts_tls = matches!(stream.peek(&mut first).await, Ok(1) if first[0] == TLS_HANDSHAKE);
    let stream = ResettableStream { inner: stream, control: conn.control.clone() };
    match (&host.tls, starts_tls) {
        (Some(config), true) => match tokio_rustls::TlsAcceptor::from(config.clone()).accept(stream).await {
            Ok(tls) => serve_http(tls, host, conn).await,
            Err(e) => {
                tracing::debug!(host = %host.name, error = %e, "TLS handshake failed");
                // The client gave up during the handshake (a certificate it rejects, …):
                // no HTTP request follows, but the attempt is evidence.
                let slot = host.log.begin(&host.name, "TLS", "(handshake)", Vec::new());
                host.log.finish(slot, 0, Some(format!("TLS handshake failed: {e}")));
            }
        },
        _ => serve_http(stream, host, conn).await,
    }
}

/// What a response may do to the connection carrying it.
#[derive(Default)]
struct ConnControl {
    /// Set: the connection fails every operation and closes with an RST.
    reset: AtomicBool,
    /// Set: the connection fails every operation and closes with a FIN, reading what the
    /// client still sends for a moment, so that the kernel has no cause for an RST.
    close: AtomicBool,
    /// Notified: the connection shuts down gracefully (an HTTP/2 GOAWAY).
    goaway: tokio::sync::Notify,
}

/// The connection a request came on, as its handlers may act on it.
#[derive(Clone, Default)]
pub struct Conn {
    control: Arc<ConnControl>,
    tunnels: Tunnels,
}

impl Conn {
    /// Makes the connection fail every operation from now on and close with an RST
    /// ("connection reset by peer").
    pub fn reset(&self) {
        self.control.reset.store(true, Ordering::SeqCst);
    }

    /// Makes the connection fail every operation from now on and close with a FIN, as a
    /// server or middlebox that goes away mid-response does: the client reads the end of
    /// the stream where more was due (`unexpected EOF`), not a reset.
    pub fn close(&self) {
        self.control.close.store(true, Ordering::SeqCst);
    }

    /// Shuts the connection down gracefully (HTTP/2: GOAWAY) once its streams end.
    pub fn goaway(&self) {
        self.control.goaway.notify_one();
    }

    /// Runs `tunnel` for as long as the connection's task lives: the world's shutdown,
    /// which aborts that task, ends it.
    pub fn spawn_tunnel(&self, tunnel: impl Future<Output = ()> + Send + 'static) {
        self.tunnels.spawn(tunnel);
    }
}

async fn serve_http<IO>(io: IO, host: Arc<HostServer>, conn: Conn)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let handler_conn = conn.clone();
    let name = host.name.clone();
    let service = service_fn(move |request| exchange(host.clone(), handler_conn.clone(), request));
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    // With upgrades, a CONNECT's `200` hands the connection over to its tunnel.
    let connection = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
    tokio::pin!(connection);
    let ended = tokio::select! {
        ended = connection.as_mut() => ended,
        _ = conn.control.goaway.notified() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    // A client that goes away, or a reset a fault made, ends connections with errors
    // every scenario expects: worth a debug line, not a warning.
    if let Err(e) = ended {
        tracing::debug!(host = %name, error = %e, "connection ended with an error");
    }
    // An HTTP/1.1 connection ends where its tunnel starts: keep the tunnel going here, so
    // that aborting this task (the world's shutdown) ends it too.
    let mut running = conn.tunnels.take();
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

/// One request: read it, open its record, let the handlers answer, and count what the
/// response sends (a tunnel's record is finished by the tunnel instead).
async fn exchange(
    host: Arc<HostServer>,
    conn: Conn,
    mut request: Request<Incoming>,
) -> Result<Response<Counted>, Abort> {
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
    let relays = host.handler.relays(&request);
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
    let head_only = info.method == "HEAD";
    let record = Record::begin(&host.log, &host.name, &info.method, &info.path);
    let exchange = Exchange { info, request, record: record.clone(), conn };
    let response = host.handler.handle(exchange).await?;
    record.status(response.status().as_u16());
    let (parts, body) = response.into_parts();
    // A tunnel holds its record: the empty body of its `200` must not finish it.
    let record = parts.extensions.get::<TunnelStarted>().is_none().then_some(record);
    Ok(Response::from_parts(parts, Counted::new(body, record, head_only)))
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

/// A TCP stream that, once a flag of its [`ConnControl`] is set, fails every operation
/// and ends: with an RST (SO_LINGER 0), what "connection reset by peer" looks like, or
/// with a FIN and nothing more, what a peer that went away looks like.
struct ResettableStream {
    inner: TcpStream,
    control: Arc<ConnControl>,
}

impl ResettableStream {
    fn check(&self) -> io::Result<()> {
        if self.control.reset.load(Ordering::SeqCst) {
            Err(io::Error::from(io::ErrorKind::ConnectionReset))
        } else if self.control.close.load(Ordering::SeqCst) {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        } else {
            Ok(())
        }
    }
}

/// How long a closed connection keeps reading what the client still sends (HTTP/2
/// window updates, a TLS alert) before the socket is let go.
const CLOSE_DRAIN: Duration = Duration::from_secs(2);

impl Drop for ResettableStream {
    fn drop(&mut self) {
        let socket = socket2::SockRef::from(&self.inner);
        if self.control.reset.load(Ordering::SeqCst) {
            let _ = socket.set_linger(Some(Duration::ZERO));
        } else if self.control.close.load(Ordering::SeqCst) {
            // The FIN goes after what is still queued. Letting go of a socket that holds
            // unread bytes (an HTTP/2 client's window updates) would send an RST, which
            // may overtake it: a copy of the socket reads until the client closes too.
            let _ = socket.shutdown(std::net::Shutdown::Write);
            let copy = socket.try_clone().ok().and_then(|s| TcpStream::from_std(s.into()).ok());
            if let (Some(mut copy), Ok(runtime)) = (copy, tokio::runtime::Handle::try_current()) {
                runtime.spawn(async move {
                    use tokio::io::AsyncReadExt as _;
                    let mut sink = [0u8; 4096];
                    let drain = async { while matches!(copy.read(&mut sink).await, Ok(n) if n > 0) {} };
                    let _ = tokio::time::timeout(CLOSE_DRAIN, drain).await;
                });
            }
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
    use crate::fake::http::Reply;

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
        let host = HostServer::new("echo", echo, Arc::new(crate::fake::RequestLog::default()));
        let _server = tokio::spawn(serve(listener, Arc::new(host)));
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let request = "POST /x HTTP/1.1\r\nHost: echo\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
                       3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n";
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        assert!(response.ends_with("POST b\"abcdefg\""), "{response}");
    }
}
