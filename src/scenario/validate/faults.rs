//! The faults of a host: HTTP `faults:`, `dns:` faults and `tcp:` toxics, with the `when`
//! conditions they share.

use std::time::Duration;

use crate::fault::tcp::{
    Bandwidth, Latency, LimitData, ResetPeer, Slicer, SlowClose, Stream, Timeout, Toxic, ToxicKind,
};
use crate::fault::{DnsAction, DnsFault, FaultWhen, HttpAction, HttpFault};
use crate::scenario::at::{At, Pos};
use crate::scenario::checker::{Checker, one_action};
use crate::scenario::raw::*;
use crate::vocab::PathGlob;

/// The [`Schedule`] of a raw `when` of any fault kind (they share these five fields).
macro_rules! schedule_of {
    ($when:expr) => {
        Schedule {
            nth: $when.nth.as_ref(),
            first: $when.first.as_ref(),
            probability: $when.probability.as_ref(),
            after: $when.after.as_ref(),
            until: $when.until.as_ref(),
        }
    };
}

pub(super) fn fault(number: usize, raw: &At<RawFault>, checker: &mut Checker) -> Option<HttpFault> {
    let when = raw.when.as_ref().map(|w| fault_when(w, checker)).unwrap_or_default();
    let mut actions: Vec<(Pos, Option<HttpAction>)> = Vec::new();
    if let Some(r) = &raw.respond {
        if !(100..=599).contains(&r.status.value) {
            checker.problem(
                r.status.pos,
                format!("{} is not an HTTP status", r.status.value),
                Some("use a status between 100 and 599".into()),
            );
        }
        let mut headers = Vec::new();
        for (name, value) in r.headers.iter() {
            let valid = http::HeaderName::from_bytes(name.as_bytes()).is_ok()
                && http::HeaderValue::from_str(value).is_ok()
                && !name.eq_ignore_ascii_case("content-type")
                && !name.eq_ignore_ascii_case("content-length");
            if valid {
                headers.push((name.value.clone(), value.clone()));
            } else {
                checker.problem(
                    name.pos,
                    format!("`{}: {value}` cannot be sent as a response header", name.value),
                    Some("use a plain header name and value; set the type with content_type".into()),
                );
            }
        }
        actions.push((
            r.pos,
            Some(HttpAction::Respond {
                status: r.status.value,
                body: r.body.clone().unwrap_or_default().into(),
                content_type: r.content_type.clone().unwrap_or_else(|| "text/plain; charset=utf-8".into()),
                headers,
            }),
        ));
    }
    if let Some(d) = &raw.delay {
        actions.push((d.pos, checker.duration(d).map(HttpAction::Delay)));
    }
    if let Some(h) = &raw.hang {
        actions.push((h.pos, Some(HttpAction::Hang)));
    }
    if let Some(r) = &raw.reset {
        actions.push((r.pos, Some(HttpAction::Reset { after_bytes: r.after_bytes })));
    }
    if let Some(r) = &raw.close {
        actions.push((r.pos, Some(HttpAction::Close { after_bytes: r.after_bytes })));
    }
    if let Some(r) = &raw.stream_reset {
        actions.push((
            r.pos,
            Some(HttpAction::StreamReset {
                after_bytes: r.after_bytes.unwrap_or(0),
                goaway: r.goaway.unwrap_or(false),
            }),
        ));
    }
    if let Some(t) = &raw.truncate {
        actions.push((t.pos, Some(HttpAction::Truncate { after_bytes: t.after_bytes })));
    }
    if let Some(c) = &raw.corrupt {
        let bytes = c.bytes.as_ref().map_or(1, |b| b.value);
        if bytes == 0 {
            checker.problem(
                c.bytes.as_ref().map(|b| b.pos).unwrap_or(c.pos),
                "corrupting 0 bytes changes nothing",
                Some("use bytes: 1 or more".into()),
            );
        }
        actions.push((c.pos, Some(HttpAction::Corrupt { bytes })));
    }
    if let Some(r) = &raw.replace_body {
        actions.push((
            r.pos,
            Some(HttpAction::ReplaceBody { body: r.body.clone().into(), content_type: r.content_type.clone() }),
        ));
    }
    one_action(raw.pos, actions, FAULT_KEYS, checker).map(|action| HttpFault { number, when, action })
}

pub(super) fn fault_when(raw: &At<RawWhen>, checker: &mut Checker) -> FaultWhen {
    let mut when = FaultWhen::default();
    if let Some(p) = &raw.path {
        when.path = checker.glob(p, "when.path");
    }
    if let Some(m) = &raw.method {
        const METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "PATCH"];
        when.method = Some(checker.upper_word(m, METHODS, "HTTP method", "methods"));
    }
    let when_schedule = schedule_of!(raw);
    when_schedule.apply(&mut when, checker);
    when
}

/// The conditions every fault kind shares: which occurrence (`nth`, `first`), how likely
/// (`probability`), and when (`after`, `until`, from the world's start).
pub(super) struct Schedule<'a> {
    nth: Option<&'a At<u64>>,
    first: Option<&'a At<u64>>,
    probability: Option<&'a At<f64>>,
    after: Option<&'a At<String>>,
    until: Option<&'a At<String>>,
}

impl Schedule<'_> {
    fn apply(&self, when: &mut FaultWhen, checker: &mut Checker) {
        for (field, name) in [(self.nth, "nth"), (self.first, "first")] {
            if let Some(n) = field
                && n.value == 0
            {
                checker.problem(
                    n.pos,
                    format!("`{name}` counts from 1"),
                    Some(format!("{name}: 1 is the first matching request")),
                );
            }
        }
        if let (Some(_), Some(first)) = (self.nth, self.first) {
            checker.problem(
                first.pos,
                "`nth` and `first` cannot be combined",
                Some("nth: N fires once on the Nth request; first: N fires on requests 1..N".into()),
            );
        }
        when.nth = self.nth.map(|n| n.value);
        when.first = self.first.map(|n| n.value);
        if let Some(p) = self.probability {
            if !(0.0..=1.0).contains(&p.value) {
                checker.problem(
                    p.pos,
                    format!("probability {} is outside 0..1", p.value),
                    Some("0.25 fires on about one request in four".into()),
                );
            }
            when.probability = Some(p.value);
        }
        when.after = self.after.and_then(|d| checker.duration_or_zero(d));
        when.until = self.until.and_then(|d| checker.duration(d));
        if let (Some(after), Some(until), Some(at)) = (when.after, when.until, self.until)
            && until <= after
        {
            checker.problem(
                at.pos,
                "`until` must come after `after`",
                Some("both count from the start of the world: after: 1s, until: 3s fires for two seconds".into()),
            );
        }
    }
}

/// The DNS faults of host `name`: each fires for queries of that name.
pub(super) fn dns_faults(name: &str, raw: &[At<RawDnsFault>], checker: &mut Checker) -> Vec<DnsFault> {
    let mut faults = Vec::new();
    for (i, fault) in raw.iter().enumerate() {
        let mut when = FaultWhen { path: PathGlob::name(name).ok(), ..Default::default() };
        if let Some(w) = &fault.when {
            if let Some(t) = &w.qtype {
                const TYPES: &[&str] =
                    &["A", "AAAA", "CNAME", "MX", "NS", "PTR", "SOA", "SRV", "TXT", "HTTPS", "SVCB", "CAA", "ANY"];
                when.method = Some(checker.upper_word(t, TYPES, "DNS query type", "types"));
            }
            let schedule = schedule_of!(w);
            schedule.apply(&mut when, checker);
        }
        let mut actions: Vec<(Pos, Option<DnsAction>)> = Vec::new();
        let mut simple = |at: &Option<At<RawEmpty>>, action: DnsAction| {
            if let Some(a) = at {
                actions.push((a.pos, Some(action)));
            }
        };
        simple(&fault.nxdomain, DnsAction::Nxdomain);
        simple(&fault.servfail, DnsAction::Servfail);
        simple(&fault.refused, DnsAction::Refused);
        simple(&fault.timeout, DnsAction::Timeout);
        simple(&fault.truncate, DnsAction::Truncate);
        simple(&fault.lame_referral, DnsAction::LameReferral);
        let addresses = |list: &At<Vec<At<String>>>, key: &str, checker: &mut Checker| {
            let mut addresses = Vec::new();
            for a in list.iter() {
                match a.parse::<std::net::IpAddr>() {
                    Ok(ip) => addresses.push(ip),
                    Err(_) => checker.problem(
                        a.pos,
                        format!("`{}` is not an IP address", a.value),
                        Some("write addresses like 127.0.0.99 or ::1".into()),
                    ),
                }
            }
            if list.is_empty() {
                checker.problem(list.pos, format!("`{key}` needs at least one address"), None);
            }
            addresses
        };
        if let Some(list) = &fault.address {
            let found = addresses(list, "address", checker);
            actions.push((list.pos, Some(DnsAction::Address(found))));
        }
        if let Some(list) = &fault.add {
            let found = addresses(list, "add", checker);
            actions.push((list.pos, Some(DnsAction::Add(found))));
        }
        if let Some(d) = &fault.delay {
            actions.push((d.pos, checker.duration(d).map(DnsAction::Delay)));
        }
        if let Some(action) = one_action(fault.pos, actions, DNS_FAULT_KEYS, checker) {
            faults.push(DnsFault { number: i + 1, when, action });
        }
    }
    faults
}

/// The TCP toxics of a host.
pub(super) fn toxics(raw: &[At<RawToxic>], checker: &mut Checker) -> Vec<Toxic> {
    let mut toxics = Vec::new();
    for (i, t) in raw.iter().enumerate() {
        let number = i + 1;
        let mut when = FaultWhen::default();
        if let Some(w) = &t.when {
            let schedule = schedule_of!(w);
            schedule.apply(&mut when, checker);
        }
        let toxicity = t.toxicity.as_ref().map_or(1.0, |x| x.value);
        if let Some(x) = &t.toxicity
            && !(0.0..=1.0).contains(&x.value)
        {
            checker.problem(
                x.pos,
                format!("toxicity {} is outside 0..1", x.value),
                Some("toxicity is the probability that the toxic applies to a connection".into()),
            );
        }
        let stream = match t.stream.as_ref().map(|s| s.value) {
            Some(RawStream::Upstream) => Stream::Upstream,
            _ => Stream::Downstream,
        };
        let mut actions: Vec<(Pos, Option<ToxicKind>)> = Vec::new();
        let ms = std::time::Duration::from_millis;
        if let Some(l) = &t.latency {
            let latency = checker.toxi_time(&l.latency, ms);
            let jitter = l.jitter.as_ref().map_or(Some(Duration::ZERO), |j| checker.toxi_time(j, ms));
            actions.push((
                l.pos,
                latency.zip(jitter).map(|(latency, jitter)| ToxicKind::Latency(Latency { latency, jitter })),
            ));
        }
        if let Some(b) = &t.bandwidth {
            actions.push((b.pos, Some(ToxicKind::Bandwidth(Bandwidth { rate: b.rate.value }))));
        }
        if let Some(c) = &t.slow_close {
            actions
                .push((c.pos, checker.toxi_time(&c.delay, ms).map(|delay| ToxicKind::SlowClose(SlowClose { delay }))));
        }
        if let Some(x) = &t.timeout {
            actions.push((
                x.pos,
                checker.toxi_time(&x.timeout, ms).map(|timeout| ToxicKind::Timeout(Timeout { timeout })),
            ));
        }
        if let Some(r) = &t.reset_peer {
            let timeout = r.timeout.as_ref().map_or(Some(Duration::ZERO), |x| checker.toxi_time(x, ms));
            actions.push((r.pos, timeout.map(|timeout| ToxicKind::ResetPeer(ResetPeer { timeout }))));
        }
        if let Some(sl) = &t.slicer {
            let average_size = sl.average_size.value;
            let size_variation = sl.size_variation.as_ref().map_or(0, |v| v.value);
            if average_size == 0 || size_variation >= average_size {
                checker.problem(
                    sl.pos,
                    format!("slicer needs 0 ≤ size_variation < average_size, got {average_size} ± {size_variation}"),
                    Some("for example average_size: 64, size_variation: 32".into()),
                );
            }
            let delay = sl
                .delay
                .as_ref()
                .map_or(Some(Duration::ZERO), |d| checker.toxi_time(d, std::time::Duration::from_micros));
            actions
                .push((sl.pos, delay.map(|delay| ToxicKind::Slicer(Slicer { average_size, size_variation, delay }))));
        }
        if let Some(l) = &t.limit_data {
            actions.push((l.pos, Some(ToxicKind::LimitData(LimitData { bytes: l.bytes.value }))));
        }
        if let Some(d) = &t.down {
            if when.nth.is_some() || when.first.is_some() || when.probability.is_some() || toxicity < 1.0 {
                checker.problem(
                    d.pos,
                    "`down` takes the whole address away: it takes a time window (`after`, `until`) only",
                    Some("remove nth/first/probability/toxicity, or use reset_peer to refuse some connections".into()),
                );
            }
            actions.push((d.pos, Some(ToxicKind::Down)));
        }
        if let Some(kind) = one_action(t.pos, actions, TOXIC_KEYS, checker) {
            toxics.push(Toxic { number, kind, stream, toxicity, when });
        }
    }
    toxics
}
