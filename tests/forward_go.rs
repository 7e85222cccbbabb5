//! What the real go prints when a corporate forward proxy gets in the way. A tiny Go
//! client (the `http.Transport` settings cmd/go uses: a proxy, `ForceAttemptHTTP2`,
//! its own roots) fetches through the forward proxy fake in each of its failure modes;
//! the diagnosis rules for `http_proxy.failure` and `tls.unknown_authority` are written
//! against these strings, so a go release that rewords them fails here first.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use modchaos::fake::RequestLog;
use modchaos::fake::forward::{ForwardProxy, Interception, Resolver};
use modchaos::fake::http::{BackendHandler, HostServer, Reply, RequestInfo, serve};
use modchaos::gobin::GoBinary;
use modchaos::pki::{Authority, Pki, server_config};
use modchaos::vocab::{BasicAuth, ConnectMode};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// The client: `probe <proxy URL> <URL> <roots PEM file> <upstream address>` prints
/// `OK <status> <proto> <body>` or `ERR <error>`.
const PROBE: &str = r#"package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"
)

func main() {
	proxy, target, roots, upstream := os.Args[1], os.Args[2], os.Args[3], os.Args[4]
	pem, err := os.ReadFile(roots)
	if err != nil {
		panic(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	proxyURL, err := url.Parse(proxy)
	if err != nil {
		panic(err)
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	transport := &http.Transport{
		Proxy: http.ProxyURL(proxyURL),
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if addr == "upstream.test:443" || addr == "upstream.test:80" {
				addr = upstream
			}
			return dialer.DialContext(ctx, network, addr)
		},
		TLSClientConfig:     &tls.Config{RootCAs: pool},
		ForceAttemptHTTP2:   true,
		TLSHandshakeTimeout: 10 * time.Second,
	}
	client := &http.Client{Transport: transport, Timeout: 60 * time.Second}
	resp, err := client.Get(target)
	if err != nil {
		fmt.Printf("ERR %v", err)
		return
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		fmt.Printf("ERR reading the body: %v", err)
		return
	}
	fmt.Printf("OK %s %s %s", resp.Status, resp.Proto, body)
}
"#;

/// Builds the probe; `None` (loudly) without a working go.
async fn build_probe(dir: &Path) -> Option<(PathBuf, PathBuf)> {
    let Ok(go) = GoBinary::find(None) else {
        eprintln!("*** SKIPPED: no go toolchain found: go's proxy error strings are NOT checked ***");
        return None;
    };
    std::fs::write(dir.join("main.go"), PROBE).unwrap();
    modchaos::fsutil::disable_go_telemetry(&dir.join(".config")).unwrap();
    // The build cache every test's Go tool shares (target/tmp/go-build-cache): net/http and
    // crypto/tls compile once per checkout, not once per tool, and reruns take a second.
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-build-cache");
    let output = tokio::process::Command::new(&go.path)
        .args(["build", "-o", "probe", "main.go"])
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("GOPATH", dir.join("gopath"))
        .env("GOCACHE", cache)
        .env("GOTOOLCHAIN", "local")
        .env("GOENV", "off")
        .env("GOFLAGS", "")
        .env("GOPROXY", "off")
        .env("CGO_ENABLED", "0")
        .env("GOTELEMETRY", "off")
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "go build failed:\n{}", String::from_utf8_lossy(&output.stderr));
    Some((go.path, dir.join("probe")))
}

struct Upstream {
    pki: Arc<Pki>,
    log: Arc<RequestLog>,
    addr: SocketAddr,
}

async fn upstream(tasks: &mut JoinSet<()>) -> Upstream {
    let pki = Arc::new(Pki::generate().unwrap());
    let log = Arc::new(RequestLog::default());
    let cert = pki.leaf("upstream.test", &[IpAddr::V4(Ipv4Addr::LOCALHOST)]).unwrap();
    let server = HostServer {
        name: "upstream.test".into(),
        handler: Box::new(BackendHandler::new(|r: &RequestInfo| Reply::text(200, format!("hello {}", r.path)))),
        log: log.clone(),
        tls: Some(server_config(cert).unwrap()),
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tasks.spawn(serve(listener, Arc::new(server)));
    Upstream { pki, log, addr }
}

/// Starts a proxy in front of `up`, configured by `configure`; its `http://` URL.
async fn proxy(tasks: &mut JoinSet<()>, up: &Upstream, configure: impl FnOnce(&mut ForwardProxy)) -> String {
    proxy_with_tls(tasks, up, false, configure).await
}

/// Like [`proxy`]; with `tls`, the proxy also answers TLS (and HTTP/2) as every fake host
/// does, and the URL is `https://`.
async fn proxy_with_tls(
    tasks: &mut JoinSet<()>,
    up: &Upstream,
    tls: bool,
    configure: impl FnOnce(&mut ForwardProxy),
) -> String {
    let addr = up.addr;
    let resolve: Resolver = Arc::new(move |host: &str, _| (host == "upstream.test").then_some(addr));
    let mut backend = ForwardProxy::new(resolve);
    configure(&mut backend);
    let server = HostServer {
        name: "proxy.corp.example".into(),
        handler: Box::new(BackendHandler::new(backend)),
        log: up.log.clone(),
        tls: tls.then(|| {
            let cert = up.pki.leaf("proxy.corp.example", &[IpAddr::V4(Ipv4Addr::LOCALHOST)]);
            server_config(cert.unwrap()).unwrap()
        }),
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let scheme = if tls { "https" } else { "http" };
    let url = format!("{scheme}://{}", listener.local_addr().unwrap());
    tasks.spawn(serve(listener, Arc::new(server)));
    url
}

/// Runs the probe; its one line of output.
async fn probe(binary: &Path, proxy: &str, url: &str, roots: &Path, up: &Upstream) -> String {
    let output = tokio::process::Command::new(binary)
        .args([proxy, url, &roots.display().to_string(), &up.addr.to_string()])
        .env_clear()
        .output()
        .await
        .unwrap();
    let line = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "probe crashed: {line}\n{}", String::from_utf8_lossy(&output.stderr));
    line
}

/// Runs `go mod download -json example.com/m@v1.0.0` from `https://upstream.test`
/// through `proxy` (go sends any non-loopback name through HTTPS_PROXY, unresolved);
/// its JSON record's Error.
async fn go_mod_download(go: &Path, dir: &Path, proxy: &str, roots: &Path) -> String {
    let home = tempfile::tempdir_in(dir).unwrap();
    // Left on, go's telemetry starts a helper that can outlive the test and recreate HOME.
    modchaos::fsutil::disable_go_telemetry(&home.path().join(".config")).unwrap();
    let output = tokio::process::Command::new(go)
        .args(["mod", "download", "-json", "example.com/m@v1.0.0"])
        .current_dir(home.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("GOPATH", home.path().join("gopath"))
        .env("GOCACHE", home.path().join("gocache"))
        .env("GOTOOLCHAIN", "local")
        .env("GOENV", "off")
        .env("GOFLAGS", "-modcacherw")
        .env("GOPROXY", "https://upstream.test")
        .env("GOSUMDB", "off")
        .env("HTTPS_PROXY", proxy)
        .env("SSL_CERT_FILE", roots)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let record: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&output.stderr)));
    record["Error"].as_str().unwrap_or("(no error)").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_error_strings_behind_a_corporate_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let Some((go, binary)) = build_probe(dir.path()).await else { return };
    let mut tasks = JoinSet::new();
    let up = upstream(&mut tasks).await;
    let scenario_roots = dir.path().join("scenario.pem");
    std::fs::write(&scenario_roots, up.pki.bundle(&[Authority::Scenario])).unwrap();
    let corporate_roots = dir.path().join("corporate.pem");
    std::fs::write(&corporate_roots, up.pki.bundle(&[Authority::Scenario, Authority::Corporate])).unwrap();
    let credentials = || Some(BasicAuth { user: "ci".into(), password: "s3cret".into() });

    let plain = proxy(&mut tasks, &up, |_| {}).await;
    let authenticating = proxy(&mut tasks, &up, |p| p.auth = credentials()).await;
    let refusing = proxy(&mut tasks, &up, |p| p.connect = ConnectMode::Refuse).await;
    let dropping = proxy(&mut tasks, &up, |p| p.connect = ConnectMode::Drop).await;
    let blocking =
        proxy(&mut tasks, &up, |p| p.block = vec![globset::Glob::new("*.test").unwrap().compile_matcher()]).await;
    let over_tls = proxy_with_tls(&mut tasks, &up, true, |_| {}).await;
    let pki = up.pki.clone();
    let intercepting = proxy(&mut tasks, &up, |p| p.intercept = Some(Arc::new(Interception::new(pki)))).await;
    let nothing = {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", closed.local_addr().unwrap())
    };
    let with_credentials = authenticating.replace("http://", "http://ci:s3cret@");

    let https = "https://upstream.test/x";
    let http = "http://upstream.test/x";
    let get = |url: &str| format!(r#"ERR Get "{url}": "#);
    // (case, proxy, URL, roots, go's exact output)
    let cases: [(&str, &str, &str, &Path, String); 13] = [
        ("tunnel", &plain, https, &scenario_roots, "OK 200 OK HTTP/2.0 hello /x".into()),
        ("tunnel, https:// proxy", &over_tls, https, &scenario_roots, "OK 200 OK HTTP/2.0 hello /x".into()),
        ("absolute form", &plain, http, &scenario_roots, "OK 200 OK HTTP/1.1 hello /x".into()),
        ("407 on CONNECT", &authenticating, https, &scenario_roots, get(https) + "Proxy Authentication Required"),
        (
            "407 absolute form",
            &authenticating,
            http,
            &scenario_roots,
            "OK 407 Proxy Authentication Required HTTP/1.1 407 Proxy Authentication Required: this proxy needs \
             credentials (Proxy-Authorization: Basic)\n"
                .into(),
        ),
        ("credentials", &with_credentials, https, &scenario_roots, "OK 200 OK HTTP/2.0 hello /x".into()),
        ("refused", &refusing, https, &scenario_roots, get(https) + "Forbidden"),
        ("dropped", &dropping, https, &scenario_roots, get(https) + "unexpected EOF"),
        ("blocked", &blocking, https, &scenario_roots, get(https) + "Forbidden"),
        (
            "unknown target",
            &plain,
            "https://nowhere.test/x",
            &scenario_roots,
            get("https://nowhere.test/x") + "Bad Gateway",
        ),
        (
            "intercepted, corporate CA not trusted",
            &intercepting,
            https,
            &scenario_roots,
            get(https) + "tls: failed to verify certificate: x509: certificate signed by unknown authority",
        ),
        (
            "intercepted, corporate CA trusted",
            &intercepting,
            https,
            &corporate_roots,
            "OK 200 OK HTTP/1.1 hello /x".into(),
        ),
        (
            "no proxy listening",
            &nothing,
            https,
            &scenario_roots,
            get(https) + &format!("proxyconnect tcp: dial tcp {}: connect: connection refused", &nothing[7..]),
        ),
    ];
    let mut report = Vec::new();
    let mut wrong = Vec::new();
    for (case, proxy, url, roots, expected) in cases {
        let line = probe(&binary, proxy, url, roots, &up).await;
        report.push(format!("{case:>40}: {line}"));
        if line != expected {
            wrong.push(format!("{case}: expected {expected:?}, got {line:?}"));
        }
    }
    // cmd/go's own wording around the same errors.
    let module_url = "https://upstream.test/example.com/m/@v/v1.0.0.info";
    let reading = |tail: &str| format!(r#"example.com/m@v1.0.0: Get "{module_url}": {tail}"#);
    let downloads = [
        ("go: 407", &authenticating, &scenario_roots, reading("Proxy Authentication Required")),
        ("go: refused", &refusing, &scenario_roots, reading("Forbidden")),
        ("go: dropped", &dropping, &scenario_roots, reading("unexpected EOF")),
        (
            "go: intercepted",
            &intercepting,
            &scenario_roots,
            reading("tls: failed to verify certificate: x509: certificate signed by unknown authority"),
        ),
        (
            "go: no proxy listening",
            &nothing,
            &scenario_roots,
            reading(&format!("proxyconnect tcp: dial tcp {}: connect: connection refused", &nothing[7..])),
        ),
    ];
    for (case, proxy, roots, expected) in downloads {
        let error = go_mod_download(&go, dir.path(), proxy, roots).await;
        report.push(format!("{case:>40}: {error}"));
        if error != expected {
            wrong.push(format!("{case}: expected {expected:?}, got {error:?}"));
        }
    }
    let log: Vec<String> = up.log.snapshot().iter().map(|r| r.line()).collect();
    eprintln!("go's answers through the forward proxy fake:\n{}\n\nrequests:\n{}", report.join("\n"), log.join("\n"));
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
