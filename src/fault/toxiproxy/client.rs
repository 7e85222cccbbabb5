//! An async client for toxiproxy's HTTP API (v2), on a plain hyper HTTP/1.1 connection
//! per request: the API is a control channel with a handful of calls per scenario, so
//! there is nothing to gain from pooling, and a fresh connection never inherits a
//! broken one. Every failure is a [`ToxiproxyError`] carrying what was asked and, for
//! API errors, the status and body the server answered; nothing here panics.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;

/// How long one API call may take, connection included: toxiproxy answers in
/// milliseconds, so anything near this means it is stuck or not toxiproxy.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The address toxiproxy listens on unless told otherwise.
pub const DEFAULT_URL: &str = "http://127.0.0.1:8474";

/// What can go wrong talking to toxiproxy.
#[derive(Debug, thiserror::Error)]
pub enum ToxiproxyError {
    /// The URL is not `http://host:port`.
    #[error("bad toxiproxy URL `{url}`: {why}")]
    Url {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        why: String,
    },
    /// No connection to the API.
    #[error("cannot reach toxiproxy at {url}: {source}")]
    Connect {
        /// The API's URL.
        url: String,
        /// The connection error.
        source: std::io::Error,
    },
    /// The HTTP exchange failed midway.
    #[error("toxiproxy at {url}: {what}: {source}")]
    Http {
        /// The API's URL.
        url: String,
        /// The call (`POST /proxies`).
        what: String,
        /// The HTTP error.
        source: hyper::Error,
    },
    /// No answer in time.
    #[error("toxiproxy at {url}: {what}: no answer within {}s", REQUEST_TIMEOUT.as_secs())]
    Timeout {
        /// The API's URL.
        url: String,
        /// The call.
        what: String,
    },
    /// The API refused the call.
    #[error("toxiproxy: {what} answered {status}: {}", message(body))]
    Api {
        /// The call.
        what: String,
        /// The status the API answered.
        status: u16,
        /// The body it answered (toxiproxy's `{"error": …, "status": …}`).
        body: String,
    },
    /// A success status with a body that is not what the API documents.
    #[error("toxiproxy: {what}: unexpected answer ({why}): {body}")]
    BadResponse {
        /// The call.
        what: String,
        /// Why it cannot be read.
        why: String,
        /// The body.
        body: String,
    },
}

impl ToxiproxyError {
    /// The status toxiproxy answered, for API errors (404 for an unknown proxy, 409 for
    /// a name taken, 400 for a bad toxic…).
    pub fn status(&self) -> Option<u16> {
        match self {
            ToxiproxyError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The message of an API error body: toxiproxy's `error` field when the body is its JSON,
/// else the body itself.
fn message(body: &str) -> String {
    #[derive(Deserialize)]
    struct ApiError {
        error: String,
    }
    match serde_json::from_str::<ApiError>(body.trim()) {
        Ok(e) => e.error,
        Err(_) => body.trim().to_string(),
    }
}

/// A proxy as toxiproxy reports it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ProxyInfo {
    /// Its name (unique on the server).
    pub name: String,
    /// Where it listens (`127.0.0.1:41234`, the real port even when created with `:0`).
    pub listen: String,
    /// Where it connects.
    pub upstream: String,
    /// False while it is down (nothing listens).
    pub enabled: bool,
    /// Its toxics (absent from some answers).
    #[serde(default)]
    pub toxics: Vec<ApiToxic>,
}

/// A toxic in the API's terms: what [`Client::add_toxic`] sends and what the API
/// answers. Attributes are in toxiproxy's units (see [`super::spec`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiToxic {
    /// Its name, unique within the proxy.
    pub name: String,
    /// The toxic type (`latency`, `bandwidth`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// `upstream` or `downstream`.
    pub stream: String,
    /// Probability that it acts on a connection.
    pub toxicity: f64,
    /// The type's attributes.
    pub attributes: BTreeMap<String, serde_json::Value>,
}

/// A proxy to create.
#[derive(Debug, Clone, Serialize)]
pub struct NewProxy {
    /// Its name, unique on the server.
    pub name: String,
    /// Where it listens; port 0 lets toxiproxy pick one (the answer has it).
    pub listen: String,
    /// Where it connects.
    pub upstream: String,
    /// Whether it listens right away.
    pub enabled: bool,
}

/// A toxiproxy server's API. Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// `http://host:port`, for messages.
    url: String,
    /// `host:port`: where to connect, and the Host header.
    authority: String,
}

impl Client {
    /// A client for the API at `url` (`http://host:port`, an optional trailing `/`).
    /// Nothing is contacted yet.
    pub fn new(url: &str) -> Result<Client, ToxiproxyError> {
        let bad = |why: &str| ToxiproxyError::Url { url: url.to_string(), why: why.to_string() };
        let rest = url.strip_prefix("http://").ok_or_else(|| {
            bad(if url.starts_with("https://") {
                "toxiproxy's API speaks plain http"
            } else {
                "expected http://host:port"
            })
        })?;
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.is_empty() || authority.contains(['/', '?', '#', '@']) {
            return Err(bad("expected http://host:port, without a path"));
        }
        let port = match authority.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && !port.contains(']') => port,
            _ => return Err(bad("the port is missing (toxiproxy's default is 8474)")),
        };
        if port.parse::<u16>().is_err() {
            return Err(bad("the port is not a number"));
        }
        Ok(Client { url: format!("http://{authority}"), authority: authority.to_string() })
    }

    /// The API's URL (`http://127.0.0.1:8474`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `host:port` of the API.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// The server's version (`GET /version`): a cheap check that toxiproxy is there.
    pub async fn version(&self) -> Result<String, ToxiproxyError> {
        #[derive(Deserialize)]
        struct Version {
            version: String,
        }
        let body = self.call(Method::GET, "/version", None).await?;
        let text = String::from_utf8_lossy(&body);
        // Old servers answer the bare version.
        Ok(match serde_json::from_str::<Version>(text.trim()) {
            Ok(v) => v.version,
            Err(_) => text.trim().to_string(),
        })
    }

    /// Every proxy on the server, by name (`GET /proxies`).
    pub async fn proxies(&self) -> Result<BTreeMap<String, ProxyInfo>, ToxiproxyError> {
        let what = "GET /proxies";
        decode(what, self.call(Method::GET, "/proxies", None).await?)
    }

    /// One proxy with its toxics (`GET /proxies/{name}`).
    pub async fn proxy(&self, name: &str) -> Result<ProxyInfo, ToxiproxyError> {
        let path = format!("/proxies/{}", segment(name));
        decode(&format!("GET {path}"), self.call(Method::GET, &path, None).await?)
    }

    /// Creates a proxy (`POST /proxies`); the answer says where it really listens.
    pub async fn create_proxy(&self, proxy: &NewProxy) -> Result<ProxyInfo, ToxiproxyError> {
        let body = serde_json::to_value(proxy).map_err(|e| ToxiproxyError::BadResponse {
            what: "POST /proxies".into(),
            why: format!("cannot encode the request: {e}"),
            body: String::new(),
        })?;
        decode("POST /proxies", self.call(Method::POST, "/proxies", Some(body)).await?)
    }

    /// Takes a proxy down (nothing listens, live connections close) or brings it back
    /// on the same address (`POST /proxies/{name}` with `enabled`).
    pub async fn set_enabled(&self, name: &str, enabled: bool) -> Result<ProxyInfo, ToxiproxyError> {
        let path = format!("/proxies/{}", segment(name));
        let body = serde_json::json!({ "enabled": enabled });
        decode(&format!("POST {path}"), self.call(Method::POST, &path, Some(body)).await?)
    }

    /// Deletes a proxy and its toxics, closing its connections (`DELETE /proxies/{name}`).
    pub async fn delete_proxy(&self, name: &str) -> Result<(), ToxiproxyError> {
        let path = format!("/proxies/{}", segment(name));
        self.call(Method::DELETE, &path, None).await.map(drop)
    }

    /// Adds a toxic to a proxy (`POST /proxies/{name}/toxics`); live connections get it
    /// too.
    pub async fn add_toxic(&self, proxy: &str, toxic: &ApiToxic) -> Result<ApiToxic, ToxiproxyError> {
        let path = format!("/proxies/{}/toxics", segment(proxy));
        let what = format!("POST {path}");
        let body = serde_json::to_value(toxic).map_err(|e| ToxiproxyError::BadResponse {
            what: what.clone(),
            why: format!("cannot encode the request: {e}"),
            body: String::new(),
        })?;
        decode(&what, self.call(Method::POST, &path, Some(body)).await?)
    }

    /// Changes a toxic's toxicity (`POST /proxies/{name}/toxics/{toxic}`): toxiproxy
    /// draws again, for every live connection, whether the toxic acts on it.
    pub async fn set_toxicity(&self, proxy: &str, toxic: &str, toxicity: f64) -> Result<ApiToxic, ToxiproxyError> {
        let path = format!("/proxies/{}/toxics/{}", segment(proxy), segment(toxic));
        let body = serde_json::json!({ "toxicity": toxicity });
        decode(&format!("POST {path}"), self.call(Method::POST, &path, Some(body)).await?)
    }

    /// Removes a toxic (`DELETE /proxies/{name}/toxics/{toxic}`); live connections lose
    /// it too.
    pub async fn remove_toxic(&self, proxy: &str, toxic: &str) -> Result<(), ToxiproxyError> {
        let path = format!("/proxies/{}/toxics/{}", segment(proxy), segment(toxic));
        self.call(Method::DELETE, &path, None).await.map(drop)
    }

    /// Enables every proxy and removes every toxic on the server (`POST /reset`). It
    /// touches other users' proxies too: modchaos itself never calls it.
    pub async fn reset(&self) -> Result<(), ToxiproxyError> {
        self.call(Method::POST, "/reset", None).await.map(drop)
    }

    /// One API call: the body of a 2xx answer, else an error with status and body.
    async fn call(&self, method: Method, path: &str, body: Option<serde_json::Value>) -> Result<Bytes, ToxiproxyError> {
        let what = format!("{method} {path}");
        match tokio::time::timeout(REQUEST_TIMEOUT, self.exchange(method, path, body, &what)).await {
            Ok(result) => result,
            Err(_) => Err(ToxiproxyError::Timeout { url: self.url.clone(), what }),
        }
    }

    async fn exchange(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        what: &str,
    ) -> Result<Bytes, ToxiproxyError> {
        let http = |source| ToxiproxyError::Http { url: self.url.clone(), what: what.to_string(), source };
        let stream = TcpStream::connect(&self.authority)
            .await
            .map_err(|source| ToxiproxyError::Connect { url: self.url.clone(), source })?;
        let _ = stream.set_nodelay(true);
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(http)?;
        // The connection ends when the sender is dropped, at the end of this call.
        let driver = tokio::spawn(async move {
            let _ = connection.await;
        });
        let payload = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(http::header::HOST, &self.authority)
            // toxiproxy refuses browsers (a User-Agent starting with Mozilla/).
            .header(http::header::USER_AGENT, concat!("modchaos/", env!("CARGO_PKG_VERSION")));
        if !payload.is_empty() {
            request = request.header(http::header::CONTENT_TYPE, "application/json");
        }
        let request = request.body(Full::new(payload)).map_err(|e| ToxiproxyError::BadResponse {
            what: what.to_string(),
            why: format!("cannot build the request: {e}"),
            body: String::new(),
        })?;
        let response = sender.send_request(request).await.map_err(http)?;
        let status = response.status();
        let body = response.into_body().collect().await.map_err(http)?.to_bytes();
        drop(sender);
        driver.abort();
        if status.is_success() { Ok(body) } else { Err(api_error(what, status, &body)) }
    }
}

fn api_error(what: &str, status: StatusCode, body: &[u8]) -> ToxiproxyError {
    ToxiproxyError::Api {
        what: what.to_string(),
        status: status.as_u16(),
        body: String::from_utf8_lossy(body).trim().to_string(),
    }
}

fn decode<T: serde::de::DeserializeOwned>(what: &str, body: Bytes) -> Result<T, ToxiproxyError> {
    serde_json::from_slice(&body).map_err(|e| ToxiproxyError::BadResponse {
        what: what.to_string(),
        why: e.to_string(),
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// A name as one URL path segment: unreserved characters as they are, the rest
/// percent-encoded.
pub(crate) fn segment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_http_host_and_port() {
        let c = Client::new("http://127.0.0.1:8474/").unwrap();
        assert_eq!((c.url(), c.authority()), ("http://127.0.0.1:8474", "127.0.0.1:8474"));
        assert_eq!(Client::new("http://[::1]:8474").unwrap().authority(), "[::1]:8474");
        assert_eq!(Client::new("http://localhost:1").unwrap().authority(), "localhost:1");
        for bad in [
            "127.0.0.1:8474",
            "https://127.0.0.1:8474",
            "http://127.0.0.1",
            "http://[::1]",
            "http://h:x",
            "http://h:1/api",
        ] {
            assert!(matches!(Client::new(bad), Err(ToxiproxyError::Url { .. })), "{bad}");
        }
    }

    #[test]
    fn names_are_path_segments() {
        assert_eq!(segment("modchaos-1.proxy_x"), "modchaos-1.proxy_x");
        assert_eq!(segment("a/b c"), "a%2Fb%20c");
    }

    #[test]
    fn api_errors_carry_status_and_toxiproxys_message() {
        let e = api_error("POST /proxies", StatusCode::CONFLICT, br#"{"error":"proxy already exists","status":409}"#);
        assert_eq!(e.status(), Some(409));
        assert_eq!(e.to_string(), "toxiproxy: POST /proxies answered 409: proxy already exists");
        let e = api_error("GET /x", StatusCode::NOT_FOUND, b"404 page not found\n");
        assert_eq!(e.to_string(), "toxiproxy: GET /x answered 404: 404 page not found");
        match e {
            ToxiproxyError::Api { body, .. } => assert_eq!(body, "404 page not found"),
            other => panic!("{other:?}"),
        }
    }

    /// An HTTP/1.1 answer with this status line and body.
    fn answer(status: &str, content_type: &str, body: &str) -> String {
        format!("HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}", body.len())
    }

    /// A one-shot HTTP server answering `answer` to the first request, returning what it
    /// received.
    async fn one_answer(answer: String) -> (Client, tokio::task::JoinHandle<String>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = Client::new(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                let n = s.read(&mut buf).await.unwrap();
                got.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&got);
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length = head
                        .lines()
                        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length: ").map(str::to_string))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if body.len() >= length {
                        break;
                    }
                }
                if n == 0 {
                    break;
                }
            }
            s.write_all(answer.as_bytes()).await.unwrap();
            s.shutdown().await.unwrap();
            String::from_utf8_lossy(&got).into_owned()
        });
        (client, server)
    }

    #[tokio::test]
    async fn requests_are_json_with_a_non_browser_agent() {
        let toxic =
            r#"{"name":"t","type":"latency","stream":"upstream","toxicity":0.5,"attributes":{"latency":5,"jitter":0}}"#;
        let (client, server) = one_answer(answer("200 OK", "application/json", toxic)).await;
        let got = client.set_toxicity("p 1", "t", 0.5).await.unwrap();
        assert_eq!(
            (got.kind.as_str(), got.toxicity, &got.attributes["latency"]),
            ("latency", 0.5, &serde_json::json!(5))
        );
        let request = server.await.unwrap();
        assert!(request.starts_with("POST /proxies/p%201/toxics/t HTTP/1.1\r\n"), "{request}");
        assert!(request.to_ascii_lowercase().contains("user-agent: modchaos/"), "{request}");
        assert!(request.to_ascii_lowercase().contains("content-type: application/json"), "{request}");
        assert!(request.ends_with(r#"{"toxicity":0.5}"#), "{request}");
    }

    #[tokio::test]
    async fn an_error_answer_is_an_error_value() {
        let body = r#"{"error":"proxy not found","status":404}"#;
        let (client, server) = one_answer(answer("404 Not Found", "application/json", body)).await;
        let e = client.delete_proxy("gone").await.unwrap_err();
        server.await.unwrap();
        assert_eq!(e.status(), Some(404), "{e}");
        assert!(e.to_string().contains("DELETE /proxies/gone answered 404: proxy not found"), "{e}");
    }

    #[tokio::test]
    async fn a_success_with_an_unreadable_body_is_an_error_value() {
        let (client, server) = one_answer(answer("201 Created", "text/html", "<html>")).await;
        let e = client
            .create_proxy(&NewProxy {
                name: "x".into(),
                listen: "127.0.0.1:0".into(),
                upstream: "127.0.0.1:1".into(),
                enabled: true,
            })
            .await
            .unwrap_err();
        server.await.unwrap();
        assert!(matches!(&e, ToxiproxyError::BadResponse { body, .. } if body == "<html>"), "{e:?}");
    }

    #[tokio::test]
    async fn nothing_listening_is_a_connect_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let e = Client::new(&format!("http://{addr}")).unwrap().version().await.unwrap_err();
        assert!(matches!(e, ToxiproxyError::Connect { .. }), "{e:?}");
        assert!(e.to_string().starts_with(&format!("cannot reach toxiproxy at http://{addr}")), "{e}");
    }
}
