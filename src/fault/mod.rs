//! Faults: what can go wrong, declared per host. This module holds the validated fault
//! model; [`schedule`] decides, request by request, which faults fire.

pub mod cache;
pub mod schedule;
pub mod tcp;
pub mod toxiproxy;

use std::net::IpAddr;
use std::time::Duration;

use crate::vocab::PathGlob;
use bytes::Bytes;

pub use schedule::{Decision, FaultSchedule};

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
