//! DNS faults: what a scenario may do to the sealed world's resolver ([`DnsAction`]), and
//! [`FaultyDns`], the handler that does it — it wraps the resolver's zone, decides per
//! query which faults fire (the query type as "method", the name as "path"), records
//! them, and delays, drops, or answers in the zone's place the ways resolution fails in
//! the field.

use std::net::IpAddr;
use std::time::Duration;

use hickory_proto::op::ResponseCode;

use super::{Fault, FaultAction, FaultSchedule};
use crate::fake::dns::{Answer, DnsHandler, QueryRecord, Question, Reply, ReplyFuture, Transport};

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
    /// Answer these addresses before the declared ones (a dead address among live ones).
    Add(Vec<IpAddr>),
    /// Wait before answering; further faults still apply.
    Delay(Duration),
    /// Answer NOERROR with no records, neither authoritative nor offering recursion: a
    /// server that only refers the client elsewhere (`lame referral`).
    LameReferral,
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
            DnsAction::Add(addresses) => {
                let list: Vec<String> = addresses.iter().map(IpAddr::to_string).collect();
                format!("add {}", list.join(", "))
            }
            DnsAction::Delay(d) => format!("delay {}", humantime::format_duration(*d)),
            DnsAction::Truncate => "truncate".into(),
            DnsAction::LameReferral => "lame referral".into(),
        }
    }

    fn as_delay(&self) -> Option<Duration> {
        match self {
            DnsAction::Delay(d) => Some(*d),
            _ => None,
        }
    }
}

/// A resolver's handler with DNS faults in front of it.
pub struct FaultyDns {
    /// The handler the faults perturb.
    pub inner: Box<dyn DnsHandler>,
    /// The faults and their counters.
    pub faults: FaultSchedule<DnsAction>,
}

impl FaultyDns {
    /// `inner` behind `faults`.
    pub fn new(inner: impl DnsHandler, faults: FaultSchedule<DnsAction>) -> FaultyDns {
        FaultyDns { inner: Box::new(inner), faults }
    }
}

impl DnsHandler for FaultyDns {
    fn answer<'a>(&'a self, question: &'a Question, record: &'a QueryRecord<'a>) -> ReplyFuture<'a> {
        Box::pin(async move {
            let mut decision = self.faults.decide(&question.qtype, &question.name);
            let mut note = None;
            if question.transport == Transport::Tcp && matches!(decision.action, Some((_, DnsAction::Truncate))) {
                // Truncation is a UDP matter: the TCP retry gets the real answer.
                decision.action = None;
                if let Some(label) = decision.fired.pop() {
                    note = Some(format!("fault {label} does not apply over TCP"));
                }
            }
            for label in decision.fired {
                record.add_fault(label);
            }
            if !decision.delay.is_zero() {
                tokio::time::sleep(decision.delay).await;
            }
            let answer = match decision.action.map(|(_, action)| action) {
                Some(DnsAction::Timeout) => {
                    return Reply { answer: Answer::Dropped, note: Some("dropped by fault: never answered".into()) };
                }
                Some(DnsAction::Nxdomain) => Answer::Error(ResponseCode::NXDomain),
                Some(DnsAction::Servfail) => Answer::Error(ResponseCode::ServFail),
                Some(DnsAction::Refused) => Answer::Error(ResponseCode::Refused),
                Some(DnsAction::Truncate) => Answer::Truncated,
                Some(DnsAction::LameReferral) => Answer::LameReferral,
                Some(DnsAction::Address(list)) => Answer::Addresses(list),
                Some(DnsAction::Add(extra)) => {
                    let inner = self.inner.answer(question, record).await;
                    let answer = match inner.answer {
                        Answer::Addresses(own) => Answer::Addresses(extra.into_iter().chain(own).collect()),
                        other => other,
                    };
                    return Reply { answer, note: note.or(inner.note) };
                }
                Some(DnsAction::Delay(_)) | None => {
                    let inner = self.inner.answer(question, record).await;
                    return Reply { note: note.or(inner.note), ..inner };
                }
            };
            Reply { answer, note }
        })
    }
}

#[cfg(test)]
mod tests;
