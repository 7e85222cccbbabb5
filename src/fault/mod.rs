//! Faults: what can go wrong, one module per kind, each holding the kind's declaration
//! (what a scenario may say) and its behaviour — a wrapper around the fake it perturbs:
//! [`http`] wraps a host's request handler, [`dns`] the resolver's, [`tls`] issues the
//! certificates a host presents, [`tcp`] puts toxics between clients and a host,
//! [`toxiproxy`] has a real toxiproxy server apply those toxics, and [`cache`] breaks a
//! seeded module cache. What they share is here: when a fault fires ([`FaultWhen`],
//! decided by [`schedule`]) and the numbered [`Fault`] that carries an action.

pub mod cache;
pub mod dns;
pub mod http;
pub mod schedule;
pub mod tcp;
pub mod tls;
pub mod toxiproxy;

use std::time::Duration;

use crate::vocab::PathGlob;

pub use dns::{DnsAction, DnsFault};
pub use http::{HttpAction, HttpFault};
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

impl FaultWhen {
    /// The conditions in a few words, for a report (`path "/m/*", method GET, nth 2`);
    /// empty when the fault fires on everything.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(path) = &self.path {
            parts.push(format!("path \"{}\"", path.pattern()));
        }
        if let Some(method) = &self.method {
            parts.push(format!("method {method}"));
        }
        if let Some(n) = self.nth {
            parts.push(format!("nth {n}"));
        }
        if let Some(n) = self.first {
            parts.push(format!("first {n}"));
        }
        if let Some(p) = self.probability {
            parts.push(format!("probability {p}"));
        }
        if let Some(t) = self.after {
            parts.push(format!("after {}", humantime::format_duration(t)));
        }
        if let Some(t) = self.until {
            parts.push(format!("until {}", humantime::format_duration(t)));
        }
        parts.join(", ")
    }
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
