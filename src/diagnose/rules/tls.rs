//! Certificate failures: an issuer go does not trust (private CA, TLS-inspecting proxy,
//! incomplete chain, self-signed), an expired or not-yet-valid certificate, a
//! certificate for another name. Older go prints the x509 text without `tls: failed to
//! verify certificate:`; both are recognised.

use std::sync::LazyLock;

use regex::Regex;

use super::{found, subject, url_host};
use crate::diagnose::facts::Facts;
use crate::diagnose::{Category, Confidence, Diagnosis, EvidenceLine, Source};

static URL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?:Get|read|Head) "([^"]+)"|unable to access '([^']+)'"#).expect("compiles"));

/// The three TLS families, most specific first.
pub fn certificate(f: &Facts) -> Option<Diagnosis> {
    // go's own wording (with or without go 1.20's `tls: failed to verify certificate:`,
    // and broken after `x509:` by a terminal or a build tool's line wrap), and git's
    // (OpenSSL's `SSL certificate problem: …`; GnuTLS's `server certificate verification
    // failed` and macOS Secure Transport's `SSL: certificate verification failed (result:
    // N)`, which do not say why and count as an unknown issuer).
    static UNKNOWN: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"x509:\s+certificate signed by unknown authority|x509: certificate is not trusted|x509: “[^”]*” certificate is not trusted|SSL certificate problem: (?:unable to get (?:local )?issuer certificate|self[- ]signed certificate|unable to verify the first certificate|certificate verify failed)|server certificate verification failed|SSL: certificate verification failed|x509: failed to load system roots and no roots provided|The certificate chain was issued by an authority that is not trusted|error setting certificate (?:verify locations|file)").expect("compiles")
    });
    // Certificates go (or curl) rejects for what they are rather than who signed them: a
    // SHA-1 signature go no longer accepts, a key usage or CA flag the chain lacks, a
    // certificate macOS calls non-compliant. A TLS-inspecting proxy's homemade CA is the
    // usual source, but a server's own certificate can be so too: the words are read as
    // a trust problem, not trusted.
    static REJECTED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"x509: cannot verify signature: insecure algorithm[^\n]*|x509: certificate specifies an incompatible key usage",
            r"|x509: certificate is not authorized to sign other certificates|certificate is not standards compliant",
            r"|x509: unhandled critical extension|x509: too many intermediates for path length constraint",
            // Windows' schannel (git's curl there) unable to check revocation: an inspecting
            // proxy's CA publishes no revocation list.
            r"|The revocation function was unable to check revocation[^\n]*",
        ))
        .expect("compiles")
    });
    static EXPIRED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"x509: certificate has expired or is not yet valid(?:: current time (\S+) is (after|before) (\S+))?|SSL certificate problem: certificate (?:has expired|is not yet valid)",
        )
        .expect("compiles")
    });
    static HOSTNAME: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"x509: certificate is valid for (.+?), not (\S+)|x509: cannot validate certificate for (\S+) because it doesn't contain any IP SANs|x509: certificate relies on legacy Common Name field|x509: certificate is not valid for any names|no alternative certificate subject name matches target host name|SSL: certificate subject name \S+ does not match")
            .expect("compiles")
    });
    let (category, error, caps) = if let Some((e, c)) = f.matching(&UNKNOWN).next() {
        (Category::TlsUnknownAuthority, e, c)
    } else if let Some((e, c)) = f.matching(&EXPIRED).next() {
        (Category::TlsExpired, e, c)
    } else if let Some((e, c)) = f.matching(&HOSTNAME).next() {
        (Category::TlsHostname, e, c)
    } else if let Some((e, c)) = f.matching(&REJECTED).next() {
        let host = URL.captures(&e.text).and_then(|c| c.get(1).or(c.get(2))).map(|m| url_host(m.as_str()).to_string());
        let summary = format!(
            "go (or git) rejected {}'s certificate chain ({}): most often a TLS-inspecting proxy's or a private CA's \
             certificate made in a way go no longer accepts; have the CA reissued, or go around the inspecting proxy",
            host.as_deref().unwrap_or("the server"),
            c[0].trim()
        );
        let diagnosis = found(Category::TlsUnknownAuthority, Confidence::Low, summary, vec![e.line()], &["trust-ca"]);
        return Some(diagnosis.or(Category::Unknown, Confidence::Low, "the server's own certificate may be malformed"));
    } else {
        return None;
    };
    let url = URL.captures(&error.text).and_then(|c| c.get(1).or(c.get(2))).map(|m| m.as_str().to_string());
    let host = url.as_deref().map_or("the server".to_string(), |u| url_host(u).to_string());
    let what = subject(&error.text).map(|s| format!(" (go needed {s})")).unwrap_or_default();
    let mut evidence = vec![error.line()];
    evidence.extend(
        f.evidence
            .requests
            .iter()
            .filter(|r| r.method == "TLS" || r.method == "CONNECT")
            .map(|r| EvidenceLine { source: Source::Requests, text: r.line() }),
    );
    evidence.extend(f.env_line("GOPROXY"));
    evidence.extend(f.env_line("HTTPS_PROXY"));
    let (summary, playbooks): (String, &[&str]) = match category {
        Category::TlsUnknownAuthority => {
            let via_proxy = f.env("HTTPS_PROXY").or(f.env("https_proxy")).filter(|p| !p.is_empty());
            let no_roots =
                ["failed to load system roots", "error setting certificate"].iter().any(|w| error.text.contains(w));
            let cause = match via_proxy {
                _ if no_roots => "this machine has no CA certificates to check any certificate with (a container \
                                  image without ca-certificates, a CA file path that does not exist)"
                    .to_string(),
                Some(proxy) => format!("most likely the TLS-inspecting proxy {} re-signing it with a corporate CA go does not trust", crate::redact::text(proxy)),
                None => "a private CA, a TLS-inspecting proxy, a self-signed certificate or a server that omits its intermediate".to_string(),
            };
            (
                format!("go does not trust the issuer of {host}'s certificate{what}: {cause}"),
                &["trust-ca", "use-mirror"],
            )
        }
        Category::TlsExpired => {
            let when = match (caps.get(2).map(|m| m.as_str()), caps.get(3)) {
                (Some("after"), Some(t)) => format!("expired at {}", t.as_str()),
                (Some("before"), Some(t)) => {
                    format!("is not valid before {} (is this machine's clock right?)", t.as_str())
                }
                _ => "has expired or is not yet valid".to_string(),
            };
            (format!("{host}'s certificate {when}{what}"), &["use-mirror"])
        }
        _ => {
            let detail = match (caps.get(1), caps.get(2), caps.get(3)) {
                (Some(names), Some(target), _) => format!("is valid for {}, not {}", names.as_str(), target.as_str()),
                (_, _, Some(ip)) => format!("names no IP address, and go connected to {} by address", ip.as_str()),
                _ if error.text.contains("legacy Common Name") => {
                    "carries the name only in its Common Name, without subjectAltName (go ignores CN since 1.15)"
                        .to_string()
                }
                _ => "is not valid for this name".to_string(),
            };
            (format!("{host}'s certificate {detail}{what}"), &["use-mirror"])
        }
    };
    Some(found(category, Confidence::High, summary, evidence, playbooks))
}
