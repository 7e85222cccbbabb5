//! Transport failures between go and a host: refused connections, timeouts (go printed
//! an error: dial, TLS handshake, response headers), resets and premature ends of
//! responses.

use std::sync::LazyLock;

use regex::Regex;

use super::proxy::comma_trap;
use super::{found, subject, url_host};
use crate::diagnose::facts::Facts;
use crate::diagnose::{Category, Confidence, Diagnosis};

static URL_IN_ERROR: LazyLock<Regex> = LazyLock::new(|| Regex::new(r#"(?:Get|read) "([^"]+)""#).expect("compiles"));

/// `connect: connection refused`.
pub fn refused(f: &Facts) -> Option<Diagnosis> {
    static REFUSED: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"dial tcp (\S+): connect: connection refused").expect("compiles"));
    let (error, caps) = f.matching(&REFUSED).last()?;
    let url = URL_IN_ERROR.captures(&error.text).map(|c| c[1].to_string());
    let target = url.as_deref().map_or_else(|| caps[1].to_string(), |u| url_host(u).to_string());
    let (trap, _) = url.as_deref().map_or((false, None), |u| comma_trap(f, u));
    let mut evidence = vec![error.line()];
    evidence.extend(f.env_line("GOPROXY"));
    let summary = format!(
        "nothing accepts connections at {target}{}{}",
        subject(&error.text).map(|s| format!(" (go needed {s})")).unwrap_or_default(),
        if trap { "; with ',' go does not try the next GOPROXY entry after a connection error" } else { "" }
    );
    let playbooks: &[&str] = if trap { &["pipe-separated-goproxy", "use-mirror"] } else { &["use-mirror"] };
    Some(found(Category::NetRefused, Confidence::High, summary, evidence, playbooks))
}

/// Connection resets, unexpected EOFs and HTTP/2 stream errors.
pub fn reset(f: &Facts) -> Option<Diagnosis> {
    static RESET: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"connection reset by peer|unexpected EOF|stream error: stream ID \d+|server sent GOAWAY|: EOF$|: EOF\n|broken pipe").expect("compiles")
    });
    let (error, _) = f.matching(&RESET).last()?;
    let url = URL_IN_ERROR.captures(&error.text).map(|c| c[1].to_string());
    let target = url.as_deref().map_or("the server".to_string(), |u| url_host(u).to_string());
    let (trap, _) = url.as_deref().map_or((false, None), |u| comma_trap(f, u));
    let mut evidence = vec![error.line()];
    evidence.extend(f.notable_requests());
    evidence.extend(f.env_line("GOPROXY"));
    let playbooks: &[&str] = if trap { &["pipe-separated-goproxy", "retry"] } else { &["retry", "use-mirror"] };
    let fetching = subject(&error.text).map(|s| format!(" while fetching {s}")).unwrap_or_default();
    let summary = if error.text.contains("stream error") {
        format!("{target} reset the HTTP/2 stream mid-response{fetching} (RST_STREAM; CI systems often retry on this)")
    } else {
        format!("the connection to {target} broke mid-exchange{fetching}")
    };
    Some(found(Category::NetReset, Confidence::High, summary, evidence, playbooks))
}

/// A timeout go reported itself (as opposed to a hang the harness had to kill): the dial
/// gave up (~30 s), the TLS handshake did (10 s), or a deadline in the client expired.
pub fn timeout(f: &Facts) -> Option<Diagnosis> {
    static TIMEOUT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"(dial tcp (\S+): (?:connect: )?(?:i/o timeout|connection timed out))",
            r"|(net/http: TLS handshake timeout)",
            r"|(Client\.Timeout exceeded|timeout awaiting response headers|context deadline exceeded)",
            r"|((?:read|write) tcp \S+->(\S+): i/o timeout)",
        ))
        .expect("compiles")
    });
    let (error, caps) = f.matching(&TIMEOUT).last()?;
    let url = URL_IN_ERROR.captures(&error.text).map(|c| c[1].to_string());
    let target = url.as_deref().map_or_else(
        || caps.get(2).or(caps.get(6)).map_or("the server".to_string(), |m| m.as_str().to_string()),
        |u| url_host(u).to_string(),
    );
    let stage = if caps.get(1).is_some() {
        "connecting (nothing answered the SYN: a firewall dropping packets, or a host that is down)"
    } else if caps.get(3).is_some() {
        "in the TLS handshake (the server accepted the connection but never finished TLS)"
    } else if caps.get(5).is_some() {
        "reading or writing on an open connection"
    } else {
        "waiting for the response"
    };
    let (trap, _) = url.as_deref().map_or((false, None), |u| comma_trap(f, u));
    let mut evidence = vec![error.line()];
    evidence.extend(f.notable_requests());
    evidence.extend(f.env_line("GOPROXY"));
    let fetching = subject(&error.text).map(|s| format!(" while fetching {s}")).unwrap_or_default();
    let summary = format!("go timed out {stage} with {target}{fetching}");
    let playbooks: &[&str] = if trap { &["pipe-separated-goproxy", "use-mirror"] } else { &["use-mirror", "retry"] };
    Some(found(Category::NetTimeout, Confidence::High, summary, evidence, playbooks))
}
