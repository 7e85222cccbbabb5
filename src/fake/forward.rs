//! The corporate forward proxy that go reaches through `HTTPS_PROXY` / `HTTP_PROXY`:
//! CONNECT tunnels (plain, or TLS-inspecting with certificates forged by the corporate
//! CA), absolute-form requests relayed upstream, and the ways such proxies get in the
//! way — credentials (`407`), refused tunnels, silently dropped requests, block lists.
//! It is a [`Backend`] of an ordinary [`HostServer`](super::http::HostServer), so the
//! HTTP fault layer and the request log apply to its own requests as to any host's.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode, Uri};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::http::{Backend, RelayBody, RelayFuture, Relayed, Reply, RequestInfo, TunnelEnd, relay_body};
use crate::pki::{Pki, PkiError, server_config};
use crate::vocab::{BasicAuth, ConnectMode};

/// The world's host table as the proxy sees it: where `host:port` really is, `None` for
/// a name the world does not know. In sealed mode the same table the fake DNS answers
/// from; on plain loopback it maps every declared name to its fake's port.
pub type Resolver = Arc<dyn Fn(&str, u16) -> Option<SocketAddr> + Send + Sync>;

/// The realm the `407` names, which go never shows but a curl user sees.
const REALM: &str = "corp.example proxy";

/// How long the proxy tries to reach an upstream before answering `502`.
const UPSTREAM_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// TLS inspection: the proxy ends the client's TLS itself with a certificate for the
/// target forged by the corporate CA, which go rejects unless told to trust that CA —
/// the classic "x509: certificate signed by unknown authority" behind a company proxy.
pub struct Interception {
    /// Forges the certificates (with [`Pki::intercepted`]).
    pki: Arc<Pki>,
    /// One forged server configuration per target name, as real inspecting proxies cache
    /// their forgeries (and forging takes milliseconds).
    forged: Mutex<HashMap<String, Arc<rustls::ServerConfig>>>,
}

/// Why the proxy could not forge a certificate for a target.
#[derive(Debug, thiserror::Error)]
pub enum ForgeError {
    /// The certificate could not be made (a name rcgen rejects, …).
    #[error(transparent)]
    Pki(#[from] PkiError),
    /// rustls rejected it.
    #[error("cannot use the forged certificate: {0}")]
    Tls(#[from] rustls::Error),
}

impl Interception {
    /// Interception with the corporate CA of `pki`.
    pub fn new(pki: Arc<Pki>) -> Interception {
        Interception { pki, forged: Mutex::new(HashMap::new()) }
    }

    /// The TLS configuration presented to clients asking for `host`: a certificate forged
    /// for it and only `http/1.1` over ALPN, because the decrypted bytes are relayed as
    /// they are to the upstream's plain HTTP/1.1 side.
    pub fn config_for(&self, host: &str) -> Result<Arc<rustls::ServerConfig>, ForgeError> {
        let mut forged = self.forged.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(config) = forged.get(host) {
            return Ok(config.clone());
        }
        let mut config = (*server_config(self.pki.intercepted(host)?)?).clone();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let config = Arc::new(config);
        forged.insert(host.to_string(), config.clone());
        Ok(config)
    }
}

/// A corporate forward proxy. Checks run in the order a real proxy applies them:
/// a dropped CONNECT never gets an answer, then credentials, then policy (refused
/// tunnels, the block list), then the upstream (unknown or unreachable: `502`).
pub struct ForwardProxy {
    /// Credentials the proxy demands in `Proxy-Authorization` (`407` otherwise).
    pub auth: Option<BasicAuth>,
    /// TLS inspection of CONNECT tunnels.
    pub intercept: Option<Arc<Interception>>,
    /// What happens to CONNECT requests.
    pub connect: ConnectMode,
    /// Target host globs refused with a `403` block page, as web filters do
    /// (matched against the lower-cased host, without the port).
    pub block: Vec<globset::GlobMatcher>,
    /// Where upstreams are.
    pub resolve: Resolver,
}

impl ForwardProxy {
    /// A proxy that tunnels and relays everything `resolve` knows, without credentials.
    pub fn new(resolve: Resolver) -> ForwardProxy {
        ForwardProxy { auth: None, intercept: None, connect: ConnectMode::Tunnel, block: Vec::new(), resolve }
    }

    /// Why the request's credentials are not accepted, if they are not.
    fn credentials_problem(&self, headers: &HeaderMap) -> Option<&'static str> {
        let auth = self.auth.as_ref()?;
        match headers.get(header::PROXY_AUTHORIZATION) {
            None => Some("no Proxy-Authorization header"),
            Some(given) if auth.accepts(Some(given)) => None,
            Some(_) => Some("wrong credentials in Proxy-Authorization"),
        }
    }

    /// The block-list rule matching `host`, if any.
    fn blocked_by(&self, host: &str) -> Option<&str> {
        self.block.iter().find(|rule| rule.is_match(host)).map(|rule| rule.glob().glob())
    }
}

/// Where a proxied request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    /// Lower-cased host name (or address).
    host: String,
    /// Port (from the request, or the scheme's).
    port: u16,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

impl Target {
    /// The target of a CONNECT (`host:port`) or an absolute-form request.
    fn of(uri: &Uri, connect: bool) -> Option<Target> {
        let host = uri.host().filter(|h| !h.is_empty())?.to_ascii_lowercase();
        let default_port = match uri.scheme_str() {
            _ if connect => 443,
            Some("https") => 443,
            _ => 80,
        };
        Some(Target { host, port: uri.port_u16().unwrap_or(default_port) })
    }
}

impl Backend for ForwardProxy {
    /// Requests for the proxy itself (origin form): a proxy only relays.
    fn respond(&self, request: &RequestInfo) -> Reply {
        Reply::text(
            400,
            format!(
                "400 Bad Request: this is a forward proxy; {} {} names no target (send CONNECT host:port or an absolute URL)\n",
                request.method, request.path
            ),
        )
    }

    /// CONNECT, and absolute-form HTTP/1 requests (`GET http://host/path`).
    fn relays(&self, request: &Request<Incoming>) -> bool {
        request.method() == Method::CONNECT
            || (request.version() < http::Version::HTTP_2 && request.uri().authority().is_some())
    }

    fn relay(&self, mut request: Request<Incoming>) -> RelayFuture {
        let connect = request.method() == Method::CONNECT;
        let Some(target) = Target::of(request.uri(), connect) else {
            let text = format!("400 Bad Request: no target host in {}\n", request.uri());
            return ready(page(StatusCode::BAD_REQUEST, text, "no target host".into()));
        };
        if connect && self.connect == ConnectMode::Drop {
            let note = "dropped by the proxy: connection closed without a response".to_string();
            return ready(Relayed::Close { note });
        }
        if let Some(problem) = self.credentials_problem(request.headers()) {
            return ready(proxy_auth_required(problem));
        }
        if connect && self.connect == ConnectMode::Refuse {
            let text = format!(
                "403 Forbidden: tunnels (CONNECT {target}) are not allowed by corporate policy.\nContact the service desk.\n"
            );
            return ready(page(StatusCode::FORBIDDEN, text, "CONNECT refused by the proxy".into()));
        }
        if let Some(rule) = self.blocked_by(&target.host) {
            let text = format!(
                "403 Forbidden: access to {} is blocked by corporate policy.\nContact the service desk.\n",
                target.host
            );
            let note = format!("blocked by corporate policy (rule {rule})");
            return ready(page(StatusCode::FORBIDDEN, text, note));
        }
        let Some(addr) = (self.resolve)(&target.host, target.port) else {
            let text = format!("502 Bad Gateway: the proxy cannot resolve {}: no such host\n", target.host);
            let note = format!("unknown target {}", target.host);
            return ready(page(StatusCode::BAD_GATEWAY, text, note));
        };
        if connect {
            let upgrade = hyper::upgrade::on(&mut request);
            Box::pin(tunnel(target, addr, upgrade, self.intercept.clone()))
        } else {
            Box::pin(forward(request, target, addr))
        }
    }
}

fn ready(relayed: Relayed) -> RelayFuture {
    Box::pin(std::future::ready(relayed))
}

/// A text page from the proxy itself.
fn page(status: StatusCode, text: String, note: String) -> Relayed {
    Relayed::Respond { response: text_response(status, text), note: Some(note) }
}

fn text_response(status: StatusCode, text: String) -> Response<RelayBody> {
    let mut response = Response::new(relay_body(text));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

fn proxy_auth_required(problem: &str) -> Relayed {
    let text = "407 Proxy Authentication Required: this proxy needs credentials (Proxy-Authorization: Basic)\n";
    let mut response = text_response(StatusCode::PROXY_AUTHENTICATION_REQUIRED, text.into());
    let challenge = format!("Basic realm=\"{REALM}\"");
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(header::PROXY_AUTHENTICATE, value);
    }
    Relayed::Respond { response, note: Some(problem.into()) }
}

/// Connects to an upstream, or explains (for the `502` and the log) why not.
async fn connect_upstream(target: &Target, addr: SocketAddr) -> Result<TcpStream, Relayed> {
    let failed = |why: String| {
        let text = format!("502 Bad Gateway: the proxy cannot connect to {target} ({addr}): {why}\n");
        page(StatusCode::BAD_GATEWAY, text, format!("upstream {target} ({addr}) unreachable: {why}"))
    };
    match tokio::time::timeout(UPSTREAM_CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
        Ok(Ok(stream)) => {
            let _ = stream.set_nodelay(true);
            Ok(stream)
        }
        Ok(Err(e)) => Err(failed(e.to_string())),
        Err(_) => Err(failed(format!("no answer within {}", humantime::format_duration(UPSTREAM_CONNECT_TIMEOUT)))),
    }
}

/// A CONNECT: reach the upstream first (a proxy answers `502` rather than open a dead
/// tunnel), then `200` and relay bytes — decrypted ones when intercepting, sent to the
/// upstream's plain HTTP side, which every fake serves on its TLS port too.
async fn tunnel(target: Target, addr: SocketAddr, upgrade: OnUpgrade, intercept: Option<Arc<Interception>>) -> Relayed {
    let forged = match intercept.map(|i| i.config_for(&target.host)).transpose() {
        Ok(forged) => forged,
        Err(e) => {
            let text = format!("502 Bad Gateway: the proxy cannot inspect {target}: {e}\n");
            return page(StatusCode::BAD_GATEWAY, text, format!("cannot forge a certificate for {}: {e}", target.host));
        }
    };
    let upstream = match connect_upstream(&target, addr).await {
        Ok(upstream) => upstream,
        Err(page) => return page,
    };
    let note = match forged {
        Some(_) => format!("intercepted with the corporate CA, relayed as plain HTTP to {addr}"),
        None => format!("tunnel to {addr}"),
    };
    let running = note.clone();
    let tunnel = async move {
        let client = match upgrade.await {
            Ok(upgraded) => TokioIo::new(upgraded),
            Err(e) => return TunnelEnd { bytes: 0, note: format!("{note}: the client never used the tunnel: {e}") },
        };
        match forged {
            None => pump(client, upstream, note).await,
            Some(config) => match tokio_rustls::TlsAcceptor::from(config).accept(client).await {
                Ok(tls) => pump(tls, upstream, note).await,
                Err(e) => TunnelEnd {
                    bytes: 0,
                    note: format!("{note}: the client rejected the TLS handshake with the forged certificate: {e}"),
                },
            },
        }
    };
    Relayed::Tunnel { note: running, tunnel: Box::pin(tunnel) }
}

/// Relays bytes both ways until both sides are done, counting them.
async fn pump<C>(client: C, upstream: TcpStream, note: String) -> TunnelEnd
where
    C: AsyncRead + AsyncWrite + Unpin,
{
    let mut client = Counted { inner: client, read: 0 };
    let mut upstream = Counted { inner: upstream, read: 0 };
    let result = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
    let (up, down) = (client.read, upstream.read);
    let mut note = format!("{note}: {up} B up, {down} B down");
    match result {
        Ok(_) => {}
        // go exits or drops idle connections without a TLS close_notify: no news.
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => note += ", closed without a TLS close_notify",
        Err(e) => note += &format!(", ended by: {e}"),
    }
    TunnelEnd { bytes: down, note }
}

/// A stream that counts the bytes read from it.
struct Counted<S> {
    inner: S,
    read: u64,
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        self.read += (buf.filled().len() - before) as u64;
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Headers that describe one hop, not the message: never relayed.
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("proxy-connection"),
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
];

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in HOP_BY_HOP.iter().chain(&named) {
        headers.remove(name);
    }
    headers.remove(header::UPGRADE);
}

/// An absolute-form request (`GET http://host/path`): sent upstream in origin form over
/// a fresh HTTP/1.1 connection, the response streamed back.
async fn forward(request: Request<Incoming>, target: Target, addr: SocketAddr) -> Relayed {
    let upstream = match connect_upstream(&target, addr).await {
        Ok(upstream) => upstream,
        Err(page) => return page,
    };
    let failed = |why: String| {
        let text = format!("502 Bad Gateway: {target} ({addr}) failed: {why}\n");
        page(StatusCode::BAD_GATEWAY, text, format!("upstream {target} ({addr}) failed: {why}"))
    };
    let (mut sender, connection) = match hyper::client::conn::http1::handshake(TokioIo::new(upstream)).await {
        Ok(pair) => pair,
        Err(e) => return failed(e.to_string()),
    };
    // Runs until the response body is relayed (or either side goes away).
    tokio::spawn(connection);
    let (mut parts, body) = request.into_parts();
    let authority = parts.uri.authority().map(|a| a.to_string());
    parts.uri = parts.uri.path_and_query().map_or_else(|| Uri::from_static("/"), |p| Uri::from(p.clone()));
    strip_hop_by_hop(&mut parts.headers);
    if let Some(host) = authority.and_then(|a| HeaderValue::from_str(&a).ok()) {
        parts.headers.entry(header::HOST).or_insert(host);
    }
    match sender.send_request(Request::from_parts(parts, body)).await {
        Ok(response) => {
            let (mut parts, body) = response.into_parts();
            strip_hop_by_hop(&mut parts.headers);
            let response = Response::from_parts(parts, body.map_err(Into::into).boxed_unsync());
            Relayed::Respond { response, note: Some(format!("relayed to {addr}")) }
        }
        Err(e) => failed(e.to_string()),
    }
}

#[cfg(test)]
mod tests;
