//! Faults: what can go wrong, declared per host. This module holds the validated fault
//! model; [`schedule`] decides, request by request, which faults fire.

pub mod schedule;

use std::net::IpAddr;
use std::time::Duration;

use bytes::Bytes;
use globset::{GlobBuilder, GlobMatcher};

pub use schedule::{Decision, FaultSchedule};

/// A glob over URL paths. `*` stays within a segment, `**` crosses segments; a pattern
/// that does not start with `/` may match at any depth (`*.zip` ≡ `**/*.zip`).
#[derive(Debug, Clone)]
pub struct PathGlob {
    pattern: String,
    matcher: GlobMatcher,
}

impl PathGlob {
    /// Compiles `pattern`; the error explains what is wrong with it.
    pub fn new(pattern: &str) -> Result<PathGlob, String> {
        let effective = if pattern.starts_with('/') || pattern.starts_with("**") {
            pattern.to_string()
        } else {
            format!("**/{pattern}")
        };
        let glob = GlobBuilder::new(&effective).literal_separator(true).build().map_err(|e| e.kind().to_string())?;
        Ok(PathGlob { pattern: pattern.to_string(), matcher: glob.compile_matcher() })
    }

    /// A glob over DNS names, for DNS faults. Names have no `/`, so `*` matches any run
    /// of characters, dots included: `*.corp.example` matches `proxy.corp.example` and
    /// `a.b.corp.example` but not `corp.example` itself. Matching ignores case and a
    /// trailing dot (`Proxy.Corp.Example.` is the name `proxy.corp.example`), because
    /// that is how DNS compares names; `**` means `*`; a `/` is refused, since no name
    /// contains one.
    pub fn name(pattern: &str) -> Result<PathGlob, String> {
        if pattern.contains('/') {
            return Err("a DNS name pattern cannot contain '/'".into());
        }
        let mut effective = pattern.strip_suffix('.').unwrap_or(pattern).to_ascii_lowercase();
        // `**` only means something across `/`; in a name it is a plain `*` (globset
        // would refuse it outside a whole path segment).
        while effective.contains("**") {
            effective = effective.replace("**", "*");
        }
        if effective.is_empty() {
            return Err("empty DNS name pattern".into());
        }
        let glob = GlobBuilder::new(&effective)
            .literal_separator(true)
            .case_insensitive(true)
            .build()
            .map_err(|e| e.kind().to_string())?;
        Ok(PathGlob { pattern: pattern.to_string(), matcher: glob.compile_matcher() })
    }

    /// True when `path` (the URL path, without query; for DNS, the lower-case name
    /// without trailing dot) matches.
    pub fn matches(&self, path: &str) -> bool {
        self.matcher.is_match(path)
    }

    /// The pattern as written.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }
}

/// Conditions for a fault to fire; all given ones must hold.
#[derive(Debug, Clone, Default)]
pub struct FaultWhen {
    /// Path glob (for DNS faults: a name glob, see [`PathGlob::name`]).
    pub path: Option<PathGlob>,
    /// HTTP method, upper case (for DNS faults: the query type, `A`, `AAAA`, …).
    pub method: Option<String>,
    /// Only the Nth matching request (1-based).
    pub nth: Option<u64>,
    /// Only the first N matching requests.
    pub first: Option<u64>,
    /// Probability of firing, drawn deterministically from the scenario seed.
    pub probability: Option<f64>,
    /// Fire only from this long after the world started.
    pub after: Option<Duration>,
    /// Heal this long after the world started.
    pub until: Option<Duration>,
}

/// An action a fault can take, in any protocol.
pub trait FaultAction: Clone {
    /// Short description for logs and reports.
    fn label(&self) -> String;
    /// `Some` for a pure delay: delays add up and let later faults act too.
    fn as_delay(&self) -> Option<Duration>;
}

/// A fault: conditions and one action.
#[derive(Debug, Clone)]
pub struct Fault<A> {
    /// 1-based position in its list (reports say "fault #2").
    pub number: usize,
    /// When it fires.
    pub when: FaultWhen,
    /// What it does.
    pub action: A,
}

/// A fault of an HTTP host.
pub type HttpFault = Fault<HttpAction>;

/// What a fault does to the response.
#[derive(Debug, Clone, PartialEq)]
pub enum HttpAction {
    /// Replace the response.
    Respond {
        /// Status code.
        status: u16,
        /// Body.
        body: Bytes,
        /// Content-Type.
        content_type: String,
    },
    /// Wait before answering; further faults still apply.
    Delay(Duration),
    /// Never answer.
    Hang,
    /// Reset the connection, optionally after headers and some body bytes.
    Reset {
        /// Body bytes sent first; `None` resets before any response.
        after_bytes: Option<u64>,
    },
    /// Fail the response after some body bytes: HTTP/2 resets the stream (RST_STREAM
    /// INTERNAL_ERROR), HTTP/1.1 ends the connection early.
    StreamReset {
        /// Body bytes sent first.
        after_bytes: u64,
        /// Also shut the connection down (GOAWAY).
        goaway: bool,
    },
    /// Serve only the first bytes of the body, as a complete (short) body.
    Truncate {
        /// Bytes kept.
        after_bytes: u64,
    },
    /// Flip some bytes of the body.
    Corrupt {
        /// How many.
        bytes: u32,
    },
    /// Serve this body with status 200.
    ReplaceBody {
        /// Body.
        body: Bytes,
        /// Content-Type, or the real response's when `None`.
        content_type: Option<String>,
    },
}

impl HttpAction {
    /// Short description for request logs and reports ("respond 500", "delay 2s").
    pub fn label(&self) -> String {
        match self {
            HttpAction::Respond { status, .. } => format!("respond {status}"),
            HttpAction::Delay(d) => format!("delay {}", humantime::format_duration(*d)),
            HttpAction::Hang => "hang".into(),
            HttpAction::Reset { after_bytes: None } => "reset".into(),
            HttpAction::Reset { after_bytes: Some(n) } => format!("reset after {n} bytes"),
            HttpAction::StreamReset { after_bytes, goaway } => {
                format!("stream reset after {after_bytes} bytes{}", if *goaway { " + GOAWAY" } else { "" })
            }
            HttpAction::Truncate { after_bytes } => format!("truncate to {after_bytes} bytes"),
            HttpAction::Corrupt { bytes } => format!("corrupt {bytes} bytes"),
            HttpAction::ReplaceBody { .. } => "replace body".into(),
        }
    }
}

impl FaultAction for HttpAction {
    fn label(&self) -> String {
        HttpAction::label(self)
    }

    fn as_delay(&self) -> Option<Duration> {
        match self {
            HttpAction::Delay(d) => Some(*d),
            _ => None,
        }
    }
}

/// A fault of the DNS server.
pub type DnsFault = Fault<DnsAction>;

/// What a fault does to a DNS query: the ways name resolution fails in the field.
#[derive(Debug, Clone, PartialEq)]
pub enum DnsAction {
    /// Answer NXDOMAIN: the name does not exist (`no such host`).
    Nxdomain,
    /// Answer SERVFAIL: the resolver could not get an answer upstream.
    Servfail,
    /// Answer REFUSED: the server will not resolve for this client.
    Refused,
    /// Drop the query: never answer, so the client times out.
    Timeout,
    /// Answer with these addresses instead of the declared ones (A queries get the IPv4
    /// ones, AAAA queries the IPv6 ones): a stale record, split-horizon DNS gone wrong, a
    /// hijack. Works for undeclared names too.
    Address(Vec<IpAddr>),
    /// Wait before answering; further faults still apply.
    Delay(Duration),
    /// Over UDP, answer with the TC bit and no records, so the client retries over TCP;
    /// over TCP the fault does not apply and the real answer is sent.
    Truncate,
}

impl FaultAction for DnsAction {
    fn label(&self) -> String {
        match self {
            DnsAction::Nxdomain => "nxdomain".into(),
            DnsAction::Servfail => "servfail".into(),
            DnsAction::Refused => "refused".into(),
            DnsAction::Timeout => "timeout".into(),
            DnsAction::Address(addresses) => {
                let list: Vec<String> = addresses.iter().map(IpAddr::to_string).collect();
                format!("address {}", list.join(", "))
            }
            DnsAction::Delay(d) => format!("delay {}", humantime::format_duration(*d)),
            DnsAction::Truncate => "truncate".into(),
        }
    }

    fn as_delay(&self) -> Option<Duration> {
        match self {
            DnsAction::Delay(d) => Some(*d),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_follow_the_documented_rules() {
        let g = |p: &str, path: &str| PathGlob::new(p).unwrap().matches(path);
        assert!(g("/corp.example/lib/@v/*", "/corp.example/lib/@v/v1.0.0.zip"));
        assert!(!g("/corp.example/*", "/corp.example/lib/@v/list"));
        assert!(g("/corp.example/**", "/corp.example/lib/@v/list"));
        assert!(g("*.zip", "/rsc.io/quote/@v/v1.5.2.zip"));
        assert!(!g("*.zip", "/rsc.io/quote/@v/v1.5.2.info"));
        assert!(g("@v/list", "/rsc.io/quote/@v/list"));
        assert!(PathGlob::new("/a/[").is_err());
    }

    /// The URL-path constructor already works for simple name patterns: names have no
    /// `/`, so the implicit `**/` prefix matches from the start of the name.
    #[test]
    fn path_globs_match_plain_names() {
        let g = |p: &str, name: &str| PathGlob::new(p).unwrap().matches(name);
        assert!(g("*.corp.example", "proxy.corp.example"));
        assert!(g("*.corp.example", "a.b.corp.example"));
        assert!(!g("*.corp.example", "corp.example"));
        assert!(!g("*.corp.example", "corp.example.evil"));
        assert!(g("proxy.corp.example", "proxy.corp.example"));
        assert!(!g("proxy.corp.example", "xproxy.corp.example"));
        // What it gets wrong for names, and why `PathGlob::name` exists:
        assert!(!g("Proxy.Corp.Example", "proxy.corp.example"), "case matters for paths");
        assert!(!g("proxy.corp.example.", "proxy.corp.example"), "a trailing dot is kept");
        assert!(g("**.corp.example", "a.b.corp.example"), "globset reads a leading `**` as `*`");
    }

    #[test]
    fn name_globs_match_names_as_dns_compares_them() {
        let g = |p: &str, name: &str| PathGlob::name(p).unwrap().matches(name);
        assert!(g("*.corp.example", "proxy.corp.example"));
        assert!(g("*.corp.example", "a.b.corp.example"), "`*` crosses dots");
        assert!(!g("*.corp.example", "corp.example"), "the apex is not a subdomain");
        assert!(!g("*.corp.example", "proxy.corp.example.evil"));
        assert!(!g("*.corp.example", "proxycorp.example"));
        assert!(g("*corp.example", "corp.example"));
        assert!(g("proxy.corp.example", "proxy.corp.example"));
        assert!(!g("proxy.corp.example", "xproxy.corp.example"));
        assert!(!g("proxy.corp.example", "proxy.corp.example.org"));
        assert!(g("Proxy.Corp.Example.", "proxy.corp.example"), "case and trailing dot ignored");
        assert!(g("PROXY.corp.example", "proxy.CORP.example"));
        assert!(g("{proxy,mirror}.corp.example", "mirror.corp.example"));
        assert!(!g("{proxy,mirror}.corp.example", "sum.corp.example"));
        assert!(g("proxy?.corp.example", "proxy2.corp.example"));
        assert!(g("**.corp.example", "a.b.corp.example"), "`**` is just `*` in a name");
        assert!(g("*", "anything.at.all"));
        assert!(PathGlob::name("a/b.example").is_err());
        assert!(PathGlob::name("[a.example").is_err());
        assert!(PathGlob::name(".").is_err());
        assert_eq!(PathGlob::name("Proxy.Corp.Example.").unwrap().pattern(), "Proxy.Corp.Example.");
    }

    #[test]
    fn dns_actions_label_and_delay() {
        assert_eq!(DnsAction::Servfail.label(), "servfail");
        assert_eq!(
            DnsAction::Address(vec!["10.0.0.1".parse().unwrap(), "::1".parse().unwrap()]).label(),
            "address 10.0.0.1, ::1"
        );
        assert_eq!(DnsAction::Delay(Duration::from_millis(1500)).label(), "delay 1s 500ms");
        assert_eq!(DnsAction::Delay(Duration::from_secs(2)).as_delay(), Some(Duration::from_secs(2)));
        assert_eq!(DnsAction::Truncate.as_delay(), None);
    }
}
