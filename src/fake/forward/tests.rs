//! The proxy against a real upstream fake over TLS, driven by a raw client that speaks
//! CONNECT and then TLS itself, so every byte on the wire is the test's own.

use base64::Engine as _;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::*;
use crate::fake::http::{BackendHandler, HostServer, serve};
use crate::fake::{RequestLog, RequestRecord};
use crate::fault::http::Faulty;
use crate::fault::{Fault, FaultSchedule, FaultWhen, HttpAction};
use crate::pki::Authority;
use crate::vocab::PathGlob;

const PROXY: &str = "proxy.corp.example";
const UPSTREAM: &str = "upstream.test";

/// A proxy, the upstream it reaches, and their shared log.
struct Setup {
    pki: Arc<Pki>,
    log: Arc<RequestLog>,
    proxy: SocketAddr,
    upstream: SocketAddr,
    /// Dropping it stops both servers.
    tasks: JoinSet<()>,
    /// The proxy's own server, to stop it alone.
    proxy_task: tokio::task::AbortHandle,
}

/// Starts an upstream for `upstream.test`, a faulty one for `flaky.test` (and nothing
/// listening for `down.test`), and a proxy configured by `configure` with `faults` on its own requests.
async fn start(configure: impl FnOnce(&mut ForwardProxy, &Arc<Pki>), faults: Vec<Fault<HttpAction>>) -> Setup {
    let pki = Arc::new(Pki::generate().unwrap());
    let log = Arc::new(RequestLog::default());
    let mut tasks = JoinSet::new();
    let cert = pki.leaf(UPSTREAM, &[IpAddr::V4(Ipv4Addr::LOCALHOST)]).unwrap();
    let upstream_server = HostServer {
        name: UPSTREAM.into(),
        handler: Box::new(BackendHandler::new(|r: &RequestInfo| {
            Reply::text(200, format!("hello from upstream: {} {}\n", r.method, r.path))
        })),
        log: log.clone(),
        tls: Some(server_config(cert).unwrap()),
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = listener.local_addr().unwrap();
    tasks.spawn(serve(listener, Arc::new(upstream_server)));
    // An upstream that resets every connection after 5 body bytes.
    let reset = Fault { number: 1, when: FaultWhen::default(), action: HttpAction::Reset { after_bytes: Some(5) } };
    let flaky_server = HostServer {
        name: "flaky.test".into(),
        handler: Box::new(Faulty::new(
            BackendHandler::new(|_: &RequestInfo| Reply::text(200, "0123456789")),
            FaultSchedule::new("flaky.test", 0, vec![reset]),
            0,
        )),
        log: log.clone(),
        tls: None,
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let flaky = listener.local_addr().unwrap();
    tasks.spawn(serve(listener, Arc::new(flaky_server)));
    let down = {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        closed.local_addr().unwrap()
    };
    let resolve: Resolver = Arc::new(move |host: &str, _port: u16| match host {
        UPSTREAM => Some(upstream),
        "down.test" => Some(down),
        "flaky.test" => Some(flaky),
        _ => None,
    });
    let mut proxy = ForwardProxy::new(resolve);
    configure(&mut proxy, &pki);
    let proxy_server = HostServer {
        name: PROXY.into(),
        handler: Box::new(Faulty::new(BackendHandler::new(proxy), FaultSchedule::new(PROXY, 0, faults), 0)),
        log: log.clone(),
        tls: None,
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy = listener.local_addr().unwrap();
    let proxy_task = tasks.spawn(serve(listener, Arc::new(proxy_server)));
    Setup { pki, log, proxy, upstream, tasks, proxy_task }
}

/// A response head (and, with [`read_response`], its body).
#[derive(Debug)]
struct Head {
    status: u16,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A regression must fail the test, not hang it.
const PATIENCE: Duration = Duration::from_secs(20);

/// Reads a response head byte by byte (so nothing after it is consumed); `None` when the
/// connection ends before the first byte.
async fn read_head<S: AsyncRead + Unpin>(stream: &mut S) -> io::Result<Option<Head>> {
    tokio::time::timeout(PATIENCE, read_head_now(stream)).await.expect("a response head in time")
}

async fn read_head_now<S: AsyncRead + Unpin>(stream: &mut S) -> io::Result<Option<Head>> {
    let mut raw = Vec::new();
    while !raw.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        if stream.read(&mut byte).await? == 0 {
            if raw.is_empty() {
                return Ok(None);
            }
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, String::from_utf8_lossy(&raw).into_owned()));
        }
        raw.push(byte[0]);
    }
    let text = String::from_utf8(raw).unwrap();
    let mut lines = text.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers =
        lines.filter_map(|l| l.split_once(':')).map(|(n, v)| (n.trim().to_string(), v.trim().to_string())).collect();
    Ok(Some(Head { status, headers }))
}

/// Reads the Content-Length body after `head`.
async fn read_body<S: AsyncRead + Unpin>(stream: &mut S, head: &Head) -> Vec<u8> {
    let length: usize = head.header("content-length").expect("a Content-Length").parse().unwrap();
    let mut body = vec![0u8; length];
    tokio::time::timeout(PATIENCE, stream.read_exact(&mut body)).await.expect("the body in time").unwrap();
    body
}

/// Reads a whole response with a Content-Length body.
async fn read_response<S: AsyncRead + Unpin>(stream: &mut S) -> (Head, String) {
    let head = read_head(stream).await.unwrap().expect("a response");
    let body = read_body(stream, &head).await;
    (head, String::from_utf8_lossy(&body).into_owned())
}

/// Sends `CONNECT target` (with `extra` header lines) and reads the response head.
async fn connect(proxy: SocketAddr, target: &str, extra: &str) -> (TcpStream, Option<Head>) {
    let mut stream = TcpStream::connect(proxy).await.unwrap();
    let request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n{extra}\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let head = read_head(&mut stream).await.unwrap();
    (stream, head)
}

/// A TLS client trusting only `authorities`, offering `alpn`.
fn connector(pki: &Pki, authorities: &[Authority], alpn: &[&[u8]]) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pki.bundle(authorities).as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    TlsConnector::from(Arc::new(config))
}

/// TLS to `upstream.test` through an open tunnel.
async fn tls(stream: TcpStream, pki: &Pki, trust: &[Authority], alpn: &[&[u8]]) -> io::Result<TlsStream<TcpStream>> {
    let name = ServerName::try_from(UPSTREAM).unwrap();
    connector(pki, trust, alpn).connect(name, stream).await
}

/// `GET path` over an established stream, HTTP/1.1.
async fn get<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S, path: &str) -> (Head, String) {
    let request = format!("GET {path} HTTP/1.1\r\nHost: {UPSTREAM}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    read_response(stream).await
}

/// The log once `done` holds, or a panic listing every record after a generous wait.
async fn wait_for(log: &RequestLog, done: impl Fn(&[RequestRecord]) -> bool) -> Vec<RequestRecord> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let records = log.snapshot();
        if done(&records) {
            return records;
        }
        if Instant::now() > deadline {
            let lines: Vec<String> = records.iter().map(RequestRecord::line).collect();
            panic!("the log never got there:\n{}", lines.join("\n"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The proxy's finished record of its `n`th request.
async fn proxy_record(log: &RequestLog, n: usize) -> RequestRecord {
    let records =
        wait_for(log, |records| records.iter().filter(|r| r.host == PROXY && r.end_ms.is_some()).count() >= n).await;
    records.into_iter().filter(|r| r.host == PROXY).nth(n - 1).unwrap()
}

fn credentials(user: &str, password: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Proxy-Authorization: Basic {token}\r\n")
}

#[tokio::test]
async fn a_tunnel_reaches_the_upstream_with_its_own_certificate() {
    let setup = start(|_, _| {}, Vec::new()).await;
    let (stream, head) = connect(setup.proxy, "upstream.test:443", "").await;
    assert_eq!(head.expect("an answer").status, 200);
    let mut tls = tls(stream, &setup.pki, &[Authority::Scenario], &[b"http/1.1"]).await.unwrap();
    let (head, body) = get(&mut tls, "/x").await;
    assert_eq!((head.status, body.as_str()), (200, "hello from upstream: GET /x\n"));
    drop(tls);

    let record = proxy_record(&setup.log, 1).await;
    assert_eq!(
        (record.method.as_str(), record.path.as_str(), record.status),
        ("CONNECT", "upstream.test:443", Some(200))
    );
    let note = record.note.unwrap();
    assert!(note.starts_with(&format!("tunnel to {}: ", setup.upstream)), "{note}");
    // The upstream's certificate chain and its response came down the tunnel.
    assert!(record.bytes > 500, "{} bytes down", record.bytes);
    let upstream: Vec<_> = setup.log.snapshot().into_iter().filter(|r| r.host == UPSTREAM).collect();
    assert_eq!(upstream.len(), 1);
    assert_eq!(upstream[0].path, "/x");
}

#[tokio::test]
async fn an_intercepting_proxy_forges_a_certificate_from_the_corporate_ca() {
    let setup = start(|p, pki| p.intercept = Some(Arc::new(Interception::new(pki.clone()))), Vec::new()).await;
    let mut forged = Vec::new();
    for path in ["/a", "/b"] {
        let (stream, head) = connect(setup.proxy, "upstream.test:443", "").await;
        assert_eq!(head.expect("an answer").status, 200);
        let mut tls = tls(stream, &setup.pki, &[Authority::Corporate], &[b"h2", b"http/1.1"]).await.unwrap();
        let (_, session) = tls.get_ref();
        assert_eq!(session.alpn_protocol(), Some(&b"http/1.1"[..]), "interception speaks HTTP/1.1 only");
        forged.push(session.peer_certificates().unwrap()[0].clone());
        let (head, body) = get(&mut tls, path).await;
        assert_eq!((head.status, body), (200, format!("hello from upstream: GET {path}\n")));
    }
    assert_eq!(forged[0], forged[1], "one forged certificate per name");

    let record = proxy_record(&setup.log, 1).await;
    assert_eq!(record.status, Some(200));
    let note = record.note.unwrap();
    assert!(note.starts_with("intercepted with the corporate CA"), "{note}");
    // The upstream saw the decrypted requests, in plain HTTP.
    let upstream: Vec<_> = setup.log.snapshot().into_iter().filter(|r| r.host == UPSTREAM).map(|r| r.path).collect();
    assert_eq!(upstream, ["/a", "/b"]);
}

#[tokio::test]
async fn trusting_only_the_scenario_ca_fails_against_the_interceptor() {
    let setup = start(|p, pki| p.intercept = Some(Arc::new(Interception::new(pki.clone()))), Vec::new()).await;
    let (stream, head) = connect(setup.proxy, "upstream.test:443", "").await;
    assert_eq!(head.expect("an answer").status, 200);
    let error = tls(stream, &setup.pki, &[Authority::Scenario], &[b"http/1.1"]).await.unwrap_err();
    let cause = error.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>());
    assert_eq!(cause, Some(&rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)), "{error}");
    let record = proxy_record(&setup.log, 1).await;
    let note = record.note.unwrap();
    assert!(note.contains("the client rejected the TLS handshake with the forged certificate"), "{note}");
    assert_eq!(record.bytes, 0);
    assert!(setup.log.snapshot().iter().all(|r| r.host != UPSTREAM), "nothing reached the upstream");
}

#[tokio::test]
async fn credentials_are_demanded_with_a_407_and_accepted() {
    let setup =
        start(|p, _| p.auth = Some(BasicAuth { user: "ci".into(), password: "s3cret".into() }), Vec::new()).await;
    let (_, head) = connect(setup.proxy, "upstream.test:443", "").await;
    let head = head.expect("an answer");
    assert_eq!(head.status, 407);
    assert_eq!(head.header("proxy-authenticate"), Some("Basic realm=\"corp.example proxy\""));
    let (_, head) = connect(setup.proxy, "upstream.test:443", &credentials("ci", "wrong")).await;
    assert_eq!(head.expect("an answer").status, 407);
    let (stream, head) = connect(setup.proxy, "upstream.test:443", &credentials("ci", "s3cret")).await;
    assert_eq!(head.expect("an answer").status, 200);
    let mut tls = tls(stream, &setup.pki, &[Authority::Scenario], &[b"http/1.1"]).await.unwrap();
    assert_eq!(get(&mut tls, "/ok").await.0.status, 200);

    let first = proxy_record(&setup.log, 1).await;
    assert_eq!((first.status, first.note.as_deref()), (Some(407), Some("no Proxy-Authorization header")));
    let second = proxy_record(&setup.log, 2).await;
    assert_eq!(second.note.as_deref(), Some("wrong credentials in Proxy-Authorization"));
}

#[tokio::test]
async fn a_refusing_proxy_answers_403_with_a_block_page() {
    let setup = start(|p, _| p.connect = ConnectMode::Refuse, Vec::new()).await;
    let (mut stream, head) = connect(setup.proxy, "upstream.test:443", "").await;
    let head = head.expect("an answer");
    assert_eq!(head.status, 403);
    let body = read_body(&mut stream, &head).await;
    let body = String::from_utf8(body).unwrap();
    assert!(body.contains("CONNECT upstream.test:443) are not allowed by corporate policy"), "{body}");
    let record = proxy_record(&setup.log, 1).await;
    assert_eq!((record.status, record.note.as_deref()), (Some(403), Some("CONNECT refused by the proxy")));
}

#[tokio::test]
async fn a_dropping_proxy_closes_without_a_response() {
    let setup = start(|p, _| p.connect = ConnectMode::Drop, Vec::new()).await;
    let (mut stream, head) = connect(setup.proxy, "upstream.test:443", "").await;
    assert!(head.is_none(), "{head:?}");
    let mut rest = Vec::new();
    let read = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut rest)).await.expect("the end in time");
    assert_eq!(read.unwrap(), 0, "a clean end of stream, not a reset");
    let record = proxy_record(&setup.log, 1).await;
    assert_eq!(record.status, None);
    assert!(record.note.unwrap().starts_with("dropped by the proxy"));
}

#[tokio::test]
async fn blocked_targets_get_the_corporate_block_page() {
    let rule = globset::Glob::new("*.blocked.test").unwrap().compile_matcher();
    let setup = start(|p, _| p.block = vec![rule], Vec::new()).await;
    let (mut stream, head) = connect(setup.proxy, "pkg.Blocked.test:443", "").await;
    let head = head.expect("an answer");
    assert_eq!(head.status, 403);
    let body = read_body(&mut stream, &head).await;
    assert!(String::from_utf8(body).unwrap().contains("access to pkg.blocked.test is blocked by corporate policy"));
    // Absolute-form requests are filtered too; other targets pass.
    let mut stream = TcpStream::connect(setup.proxy).await.unwrap();
    stream.write_all(b"GET http://x.blocked.test/m HTTP/1.1\r\nHost: x.blocked.test\r\n\r\n").await.unwrap();
    assert_eq!(read_response(&mut stream).await.0.status, 403);
    let (_, head) = connect(setup.proxy, "upstream.test:443", "").await;
    assert_eq!(head.expect("an answer").status, 200);
    let record = proxy_record(&setup.log, 1).await;
    assert_eq!(record.note.as_deref(), Some("blocked by corporate policy (rule *.blocked.test)"));
}

#[tokio::test]
async fn unknown_or_unreachable_targets_get_a_502_naming_them() {
    let setup = start(|_, _| {}, Vec::new()).await;
    let (mut stream, head) = connect(setup.proxy, "nowhere.test:443", "").await;
    let head = head.expect("an answer");
    assert_eq!(head.status, 502);
    let body = read_body(&mut stream, &head).await;
    assert!(String::from_utf8(body).unwrap().contains("cannot resolve nowhere.test"));
    let (_, head) = connect(setup.proxy, "down.test:443", "").await;
    assert_eq!(head.expect("an answer").status, 502);

    assert_eq!(proxy_record(&setup.log, 1).await.note.as_deref(), Some("unknown target nowhere.test"));
    let note = proxy_record(&setup.log, 2).await.note.unwrap();
    assert!(note.starts_with("upstream down.test:443 (127.0.0.1:") && note.contains("unreachable"), "{note}");
}

#[tokio::test]
async fn absolute_form_requests_are_relayed_upstream_in_origin_form() {
    let setup = start(|_, _| {}, Vec::new()).await;
    let mut stream = TcpStream::connect(setup.proxy).await.unwrap();
    for path in ["/m/@v/list", "/m/@v/v1.0.0.info"] {
        let request = format!(
            "GET http://upstream.test{path} HTTP/1.1\r\nHost: upstream.test\r\nProxy-Connection: keep-alive\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let (head, body) = read_response(&mut stream).await;
        assert_eq!((head.status, body), (200, format!("hello from upstream: GET {path}\n")));
    }
    let records = wait_for(&setup.log, |r| r.iter().filter(|r| r.end_ms.is_some()).count() == 4).await;
    let proxied = records.iter().find(|r| r.host == PROXY).unwrap();
    assert_eq!(proxied.path, "http://upstream.test/m/@v/list");
    assert_eq!((proxied.status, proxied.bytes), (Some(200), "hello from upstream: GET /m/@v/list\n".len() as u64));
    assert_eq!(proxied.note.as_deref(), Some(format!("relayed to {}", setup.upstream).as_str()));
    let upstream = records.iter().find(|r| r.host == UPSTREAM).unwrap();
    assert_eq!(upstream.path, "/m/@v/list");
}

#[tokio::test]
async fn faults_apply_to_the_proxys_own_requests() {
    let connect_fault = Fault {
        number: 1,
        when: FaultWhen {
            method: Some("CONNECT".into()),
            path: Some(PathGlob::new("upstream.test:443").unwrap()),
            ..Default::default()
        },
        action: HttpAction::Respond {
            status: 502,
            body: "fault: proxy overloaded\n".into(),
            content_type: "text/plain".into(),
            headers: Vec::new(),
        },
    };
    let truncate = Fault {
        number: 2,
        when: FaultWhen { path: Some(PathGlob::new("@v/list").unwrap()), ..Default::default() },
        action: HttpAction::Truncate { after_bytes: 5 },
    };
    let tunnel_fault = Fault {
        number: 3,
        when: FaultWhen { path: Some(PathGlob::new("upstream.test:8443").unwrap()), ..Default::default() },
        action: HttpAction::Truncate { after_bytes: 1 },
    };
    let setup = start(|_, _| {}, vec![connect_fault, truncate, tunnel_fault]).await;
    let (_, head) = connect(setup.proxy, "upstream.test:443", "").await;
    assert_eq!(head.expect("an answer").status, 502);
    let mut stream = TcpStream::connect(setup.proxy).await.unwrap();
    stream.write_all(b"GET http://upstream.test/m/@v/list HTTP/1.1\r\nHost: upstream.test\r\n\r\n").await.unwrap();
    let (head, body) = read_response(&mut stream).await;
    assert_eq!((head.status, body.as_str()), (200, "hello"));

    let refused = proxy_record(&setup.log, 1).await;
    assert_eq!((refused.status, refused.faults.clone()), (Some(502), vec!["#1 respond 502".to_string()]));
    let relayed = proxy_record(&setup.log, 2).await;
    assert_eq!((relayed.bytes, relayed.faults), (5, vec!["#2 truncate to 5 bytes".to_string()]));
    let upstream: Vec<_> = setup.log.snapshot().into_iter().filter(|r| r.host == UPSTREAM).map(|r| r.path).collect();
    assert_eq!(upstream, ["/m/@v/list"], "the faulted CONNECT never reached the upstream");

    // Body faults cannot act on a tunnel's opaque bytes: the log says so.
    let (stream, head) = connect(setup.proxy, "upstream.test:8443", "").await;
    assert_eq!(head.expect("an answer").status, 200);
    drop(stream);
    let tunnel = proxy_record(&setup.log, 3).await;
    let note = tunnel.note.unwrap();
    assert!(note.starts_with("fault truncate to 1 bytes does not apply to a tunnel; tunnel to "), "{note}");
}

#[tokio::test]
async fn stopping_the_proxy_ends_its_open_tunnels() {
    let mut setup = start(|_, _| {}, Vec::new()).await;
    let (mut stream, head) = connect(setup.proxy, "upstream.test:443", "").await;
    assert_eq!(head.expect("an answer").status, 200);
    // The upstream speaks plain HTTP on its TLS port too.
    let (head, _) = get(&mut stream, "/before").await;
    assert_eq!(head.status, 200);
    setup.proxy_task.abort();
    let mut rest = Vec::new();
    let ended = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut rest)).await;
    assert!(ended.is_ok(), "the tunnel outlived its proxy");
    let record = proxy_record(&setup.log, 1).await;
    assert!(record.note.unwrap().contains("cut by the world's shutdown"));
    setup.tasks.shutdown().await;
}

#[tokio::test]
async fn origin_form_requests_to_the_proxy_itself_are_bad_requests() {
    let setup = start(|_, _| {}, Vec::new()).await;
    let mut stream = TcpStream::connect(setup.proxy).await.unwrap();
    stream.write_all(b"GET /m/@v/list HTTP/1.1\r\nHost: proxy.corp.example\r\n\r\n").await.unwrap();
    let (head, body) = read_response(&mut stream).await;
    assert_eq!(head.status, 400);
    assert!(body.contains("this is a forward proxy"), "{body}");
}

#[tokio::test]
async fn body_faults_cut_and_corrupt_relayed_responses() {
    let fault = |number, path: &str, action| Fault {
        number,
        when: FaultWhen { path: Some(PathGlob::new(path).unwrap()), ..Default::default() },
        action,
    };
    // The proxy's paths are whole URLs (`http://upstream.test/cut`): unanchored globs.
    let faults = vec![
        fault(1, "cut", HttpAction::Reset { after_bytes: Some(5) }),
        fault(2, "corrupt", HttpAction::Corrupt { bytes: 3 }),
    ];
    let setup = start(|_, _| {}, faults).await;
    let request = |path: &str| format!("GET http://upstream.test{path} HTTP/1.1\r\nHost: upstream.test\r\n\r\n");

    let mut stream = TcpStream::connect(setup.proxy).await.unwrap();
    stream.write_all(request("/cut").as_bytes()).await.unwrap();
    let head = read_head(&mut stream).await.unwrap().expect("a response head");
    let declared: usize = head.header("content-length").unwrap().parse().unwrap();
    assert_eq!(declared, "hello from upstream: GET /cut\n".len(), "the full length is announced");
    let mut body = Vec::new();
    let ended = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut body)).await;
    assert!(ended.is_ok(), "the cut never came; {body:?} so far");
    assert_eq!(body, b"hello", "{ended:?}");
    let record = proxy_record(&setup.log, 1).await;
    let relayed = format!("relayed to {}; connection reset by fault after 5 body bytes", setup.upstream);
    assert_eq!(record.note, Some(relayed));

    let mut stream = TcpStream::connect(setup.proxy).await.unwrap();
    stream.write_all(request("/corrupt").as_bytes()).await.unwrap();
    let head = read_head(&mut stream).await.unwrap().expect("a response head");
    let body = read_body(&mut stream, &head).await;
    let genuine = b"hello from upstream: GET /corrupt\n";
    assert_eq!((head.status, body.len()), (200, genuine.len()));
    assert_ne!(body, genuine);
}

#[tokio::test]
async fn an_upstream_failing_mid_body_fails_the_relayed_response() {
    let setup = start(|_, _| {}, Vec::new()).await;
    let mut stream = TcpStream::connect(setup.proxy).await.unwrap();
    stream.write_all(b"GET http://flaky.test/f HTTP/1.1\r\nHost: flaky.test\r\n\r\n").await.unwrap();
    let head = read_head(&mut stream).await.unwrap().expect("a response head");
    assert_eq!((head.status, head.header("content-length")), (200, Some("10")));
    let mut body = Vec::new();
    let ended = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut body)).await;
    assert!(ended.is_ok(), "the proxy kept the broken response open");
    assert_eq!(body, b"01234");
    let record = proxy_record(&setup.log, 1).await;
    let note = record.note.unwrap();
    assert!(note.contains("; upstream failed after 5 body bytes: "), "{note}");
}
