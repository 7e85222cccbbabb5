//! The forward proxy go is told to use (`HTTPS_PROXY` / `HTTP_PROXY`) failing. go's
//! words are terse: `proxyconnect tcp: …` when the proxy cannot be reached, and only the
//! status text when it answers a CONNECT with an error (`Proxy Authentication Required`,
//! `Forbidden`, `Bad Gateway`) — the proxy is not named, so the environment is the
//! evidence. A CONNECT the proxy drops reads `unexpected EOF`.

use std::sync::LazyLock;

use regex::Regex;

use super::{found, subject, url_host};
use crate::diagnose::facts::Facts;
use crate::diagnose::{Category, Confidence, Diagnosis, EvidenceLine, Source};

/// Variables naming a forward proxy, in the order go consults them for https.
const PROXY_VARS: &[&str] = &["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"];

/// The forward proxy configured, as `VAR=value`.
pub(super) fn configured(f: &Facts) -> Option<(String, String)> {
    PROXY_VARS.iter().find_map(|v| f.env(v).filter(|x| !x.is_empty()).map(|x| (v.to_string(), x.to_string())))
}

/// git's (curl's) failed connection to a forward proxy: curl names the host it connected
/// to, which is the proxy's, not the URL's, when it goes through one (`unable to access
/// 'https://github.com/…': Failed to connect to 127.0.0.1 port 7890 …: Connection
/// refused`). The configured proxy, when the log shows it, must be that host.
fn connection_to_proxy_failed<'f>(
    f: &'f Facts,
    proxy: Option<&str>,
) -> Option<(&'f crate::evidence::ErrorText, String)> {
    static FAILED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?:unable to access '([^']+)': )?Failed to connect to (\S+) port (\d+)").expect("compiles")
    });
    let name = |host: &str| host.rsplit_once(':').map_or(host, |(name, _)| name).to_string();
    let proxy_name = proxy.map(|p| name(url_host(p)));
    f.matching(&FAILED)
        .filter(|(_, c)| match (&proxy_name, c.get(1)) {
            (Some(proxy), _) => &c[2] == proxy,
            (None, Some(url)) => name(url_host(url.as_str())) != c[2],
            (None, None) => false,
        })
        .last()
        .map(|(e, c)| (e, format!("{}:{}", &c[2], &c[3])))
}

/// CONNECT and proxy connection failures.
pub fn failure(f: &Facts) -> Option<Diagnosis> {
    static PROXYCONNECT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"proxyconnect tcp: ([^\n]+)").expect("compiles"));
    // A CONNECT answered with an error status: go keeps only its text (older go left the
    // URL unquoted, and GOPATH-era go closed its own parenthesis after it).
    static STATUS_TEXT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r#"(?m)(?:Get|Head|Post) "?(https://[^"\s]+?)"?: "#,
            r"(Proxy Authentication Required|Forbidden|Bad Gateway|Service Unavailable|Gateway Timeout|",
            r"Method Not Allowed|Bad Request|Not Found|Internal Server Error|Unauthorized)\)?\s*$"
        ))
        .expect("compiles")
    });
    // git (curl) through a forward proxy: the CONNECT answered with an error status.
    static CURL_CONNECT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"Received HTTP code (\d{3}) from proxy after CONNECT|CONNECT tunnel failed, response (\d{3})")
            .expect("compiles")
    });
    // A SOCKS proxy (ALL_PROXY, or a socks5:// HTTPS_PROXY) that failed.
    static SOCKS: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"socks connect tcp (\S+?)->\S+: ([^\n]+)").expect("compiles"));
    // curl's (git's) own words for a forward proxy it cannot use: a name that does not
    // resolve (curl 5), a CONNECT the proxy closed, a proxy variable it cannot parse; and
    // net/http's for a proxy variable it cannot parse.
    static CURL_PROXY: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"Could not resolve proxy: (\S+)|Proxy CONNECT aborted|Unsupported proxy syntax in '[^']*'",
            r#"|invalid proxy address "[^"]*"[^\n]*|Unsupported proxy scheme[^\n]*|proxy: unknown scheme: \S+"#,
        ))
        .expect("compiles")
    });
    static DROPPED: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"(?:Get|Head) "(https://[^"]+)": (?:unexpected )?EOF\s*$"#).expect("compiles"));
    let proxy = configured(f);
    let proxy_name =
        proxy.as_ref().map_or_else(|| "(not named in the log)".to_string(), |(_, v)| url_host(v).to_string());
    // The proxy URL with credentials in it, as the user would write it (its port, when
    // the configured URL names one).
    let with_credentials = match &proxy {
        Some((_, v)) if url_host(v).contains(':') => format!("http://user:password@{}", url_host(v)),
        Some((_, v)) => format!("http://user:password@{}:port", url_host(v)),
        None => "http://user:password@host:port".to_string(),
    };
    let mut evidence = Vec::new();
    let (error, summary, confidence) = if let Some((error, caps)) = f.matching(&PROXYCONNECT).last() {
        let why = caps[1].trim().to_string();
        let summary = if why.contains("first record does not look like a TLS handshake") {
            format!(
                "go reached the forward proxy {proxy_name} and opened TLS to it, but it speaks plain HTTP ({why}): \
                 HTTPS_PROXY names it with https://; write the proxy URL with http:// (the tunnel to the module hosts \
                 is still TLS)"
            )
        } else {
            format!(
                "go cannot reach the forward proxy {proxy_name} ({why}): every https request goes through it, so nothing \
             downloads; fix or unset HTTPS_PROXY, or exempt the module hosts with NO_PROXY"
            )
        };
        (error, summary, Confidence::High)
    } else if let Some((error, caps)) = f.matching(&STATUS_TEXT).last() {
        let target = url_host(&caps[1]).to_string();
        let status = caps[2].to_string();
        let summary = match status.as_str() {
            "Proxy Authentication Required" => format!(
                "the forward proxy {proxy_name} wants credentials (407) to open a tunnel to {target}: go sends them \
                 only from the proxy URL ({with_credentials}), never from .netrc"
            ),
            "Forbidden" => format!(
                "the forward proxy {proxy_name} refused the tunnel to {target} (403): blocked by policy, or the proxy \
                 allows no CONNECT; go shows only the status text, the block page is in the proxy's answer"
            ),
            _ => format!("the forward proxy {proxy_name} could not open a tunnel to {target}: it answered {status}"),
        };
        // Only a CONNECT produces a bare status text, but without a proxy in view the
        // reading rests on go's wording alone.
        let confidence = if proxy.is_some() { Confidence::High } else { Confidence::Low };
        (error, summary, confidence)
    } else if let Some((error, caps)) = f.matching(&SOCKS).last() {
        let summary = format!(
            "go cannot go through the SOCKS proxy {} ({}): ALL_PROXY (or HTTPS_PROXY=socks5://…) sends every request \
             there; fix or unset it",
            &caps[1],
            caps[2].trim()
        );
        (error, summary, Confidence::High)
    } else if let Some((error, caps)) = f.matching(&CURL_CONNECT).last() {
        let code = caps.get(1).or(caps.get(2)).map_or("", |m| m.as_str()).to_string();
        let summary = match code.as_str() {
            "407" => format!(
                "the forward proxy {proxy_name} wants credentials (407) before it opens a tunnel for git: put them in \
                 the proxy URL (http://user:password@host:port) or git's http.proxy"
            ),
            _ => format!("the forward proxy {proxy_name} refused the tunnel git asked for ({code})"),
        };
        (error, summary, Confidence::High)
    } else if let Some((error, caps)) = f.matching(&CURL_PROXY).last() {
        let summary = format!(
            "the forward proxy setting cannot be used ({}): every request goes through it, so nothing downloads; fix \
             HTTPS_PROXY / HTTP_PROXY (or git's http.proxy), or unset it",
            caps[0].trim()
        );
        (error, summary, Confidence::High)
    } else if let Some((error, address)) = connection_to_proxy_failed(f, proxy.as_ref().map(|(_, p)| p.as_str())) {
        let summary = format!(
            "the connection to the forward proxy {address} failed: every request goes through it, so nothing \
             downloads; fix or unset HTTPS_PROXY, or exempt the module hosts with NO_PROXY"
        );
        // Without the proxy setting in view, another host is only a guess: a redirect or
        // git's insteadOf also sends curl elsewhere than the URL it names.
        (error, summary, if proxy.is_some() { Confidence::Medium } else { Confidence::Low })
    } else if let (Some((error, caps)), Some(_)) = (f.matching(&DROPPED).last(), &proxy) {
        let target = url_host(&caps[1]).to_string();
        let dropped = f.evidence.requests.iter().any(|r| r.method == "CONNECT" && r.status.is_none());
        let summary = format!(
            "the forward proxy {proxy_name} closed the connection instead of answering the CONNECT to {target}: it \
             drops what its policy does not allow, or it is overloaded"
        );
        (error, summary, if dropped { Confidence::High } else { Confidence::Medium })
    } else {
        return None;
    };
    evidence.push(error.line());
    evidence.extend(proxy.as_ref().map(|(k, v)| EvidenceLine { source: Source::Env, text: format!("{k}={v}") }));
    evidence.extend(f.env_line("NO_PROXY"));
    evidence.extend(
        f.evidence
            .requests
            .iter()
            .filter(|r| r.method == "CONNECT")
            .map(|r| EvidenceLine { source: Source::Requests, text: r.line() }),
    );
    let what = subject(&error.text).map(|s| format!(" ({s})")).unwrap_or_default();
    let playbooks: &[&str] = if error.text.contains("Proxy Authentication Required") || error.text.contains("code 407")
    {
        &["http-proxy-credentials"]
    } else {
        &["bypass-http-proxy", "unset-http-proxy"]
    };
    Some(found(Category::HttpProxyFailure, confidence, format!("{summary}{what}"), evidence, playbooks))
}
