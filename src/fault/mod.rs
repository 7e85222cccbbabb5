//! Faults: what can go wrong, declared per host. This module holds the validated fault
//! model; [`schedule`] decides, request by request, which faults fire.

pub mod schedule;

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

    /// True when `path` (the URL path, without query) matches.
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
    /// Path glob.
    pub path: Option<PathGlob>,
    /// HTTP method, upper case.
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
}
