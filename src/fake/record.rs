//! Every request every fake sees, in one log per world. Expectations count these,
//! diagnoses cite them, and failure reports print all of them. DNS queries live in the
//! same log, numbered on the same timeline as HTTP requests, so a report can show that a
//! lookup failed just before a request never came.

use std::sync::Mutex;
use std::time::Instant;

pub use crate::vocab::request::{DnsOutcome, DnsRecord, Phase, RequestRecord};

/// The shared log of a world.
#[derive(Debug)]
pub struct RequestLog {
    started: Instant,
    /// The scenario whose world this is, named in every log event (several run at once).
    scenario: String,
    inner: Mutex<LogInner>,
}

#[derive(Debug)]
struct LogInner {
    phase: Phase,
    /// The last `seq` handed out, to HTTP requests and DNS queries alike.
    seq: u64,
    records: Vec<RequestRecord>,
    dns: Vec<DnsRecord>,
}

impl LogInner {
    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }
}

/// A request being answered: its slot in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot(usize);

/// A DNS query being answered: its slot in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DnsSlot(usize);

impl Default for RequestLog {
    fn default() -> Self {
        let inner = LogInner { phase: Phase::Run, seq: 0, records: Vec::new(), dns: Vec::new() };
        RequestLog { started: Instant::now(), scenario: String::new(), inner: Mutex::new(inner) }
    }
}

impl RequestLog {
    /// The log of scenario `name`'s world: its log events say whose they are.
    pub fn for_scenario(name: &str) -> RequestLog {
        RequestLog { scenario: name.to_string(), ..RequestLog::default() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LogInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The scenario whose world this is (empty for a bare fake in a test).
    pub fn scenario(&self) -> &str {
        &self.scenario
    }

    /// When the world (and so its timeline) started: time windows of faults count from here.
    pub fn started(&self) -> Instant {
        self.started
    }

    fn now_ms(&self) -> f64 {
        self.started.elapsed().as_secs_f64() * 1000.0
    }

    /// Marks which phase later requests belong to.
    pub fn set_phase(&self, phase: Phase) {
        self.lock().phase = phase;
    }

    /// Records an arriving request.
    pub fn begin(&self, host: &str, method: &str, path: &str, faults: Vec<String>) -> Slot {
        let start_ms = self.now_ms();
        let mut inner = self.lock();
        let seq = inner.next_seq();
        let phase = inner.phase;
        inner.records.push(RequestRecord {
            seq,
            phase,
            host: host.to_string(),
            method: method.to_string(),
            path: path.to_string(),
            status: None,
            bytes: 0,
            start_ms,
            end_ms: None,
            faults,
            note: None,
        });
        Slot(inner.records.len() - 1)
    }

    /// Records the status of the response head.
    pub fn status(&self, slot: Slot, status: u16) {
        if let Some(r) = self.lock().records.get_mut(slot.0) {
            r.status = Some(status);
        }
    }

    /// Records the end of the exchange.
    pub fn finish(&self, slot: Slot, bytes: u64, note: Option<String>) {
        let end = self.now_ms();
        if let Some(r) = self.lock().records.get_mut(slot.0) {
            r.bytes = bytes;
            r.end_ms = Some(end);
            if note.is_some() {
                r.note = note;
            }
            tracing::debug!(
                target: "modchaos::request",
                scenario = %self.scenario,
                seq = r.seq,
                phase = ?r.phase,
                host = %r.host,
                method = %r.method,
                path = %r.path,
                status = r.status.unwrap_or(0),
                bytes,
                ms = tenths(end - r.start_ms),
                faults = %r.faults.join(", "),
                note = r.note.as_deref().unwrap_or(""),
                "request"
            );
        }
    }

    /// Adds a fault that began to act after the exchange began: a TCP toxic whose time
    /// window opens while its connection is live.
    pub fn add_fault(&self, slot: Slot, fault: impl Into<String>) {
        if let Some(r) = self.lock().records.get_mut(slot.0) {
            r.faults.push(fault.into());
        }
    }

    /// Adds a fault label to a DNS query's record.
    pub fn add_dns_fault(&self, slot: DnsSlot, fault: impl Into<String>) {
        if let Some(r) = self.lock().dns.get_mut(slot.0) {
            r.faults.push(fault.into());
        }
    }

    /// Adds a note without ending the exchange.
    pub fn note(&self, slot: Slot, note: impl Into<String>) {
        if let Some(r) = self.lock().records.get_mut(slot.0) {
            r.note = Some(note.into());
        }
    }

    /// A copy of every record so far.
    pub fn snapshot(&self) -> Vec<RequestRecord> {
        self.lock().records.clone()
    }

    /// Records an arriving DNS query (`transport` is `udp` or `tcp`).
    pub fn begin_dns(&self, transport: &str, name: &str, qtype: &str, faults: Vec<String>) -> DnsSlot {
        let start_ms = self.now_ms();
        let mut inner = self.lock();
        let seq = inner.next_seq();
        let phase = inner.phase;
        inner.dns.push(DnsRecord {
            seq,
            phase,
            transport: transport.to_string(),
            name: name.to_string(),
            qtype: qtype.to_string(),
            rcode: None,
            answers: Vec::new(),
            truncated: false,
            faults,
            start_ms,
            end_ms: None,
            note: None,
        });
        DnsSlot(inner.dns.len() - 1)
    }

    /// Records how a DNS query ended. The end time is set only when something was sent
    /// (`outcome.rcode` is `Some`): a dropped query stays unfinished, like a hung request.
    pub fn finish_dns(&self, slot: DnsSlot, outcome: DnsOutcome) {
        let end = self.now_ms();
        if let Some(r) = self.lock().dns.get_mut(slot.0) {
            if outcome.rcode.is_some() {
                r.end_ms = Some(end);
            }
            r.rcode = outcome.rcode;
            r.answers = outcome.answers;
            r.truncated = outcome.truncated;
            if outcome.note.is_some() {
                r.note = outcome.note;
            }
            tracing::debug!(
                target: "modchaos::dns",
                scenario = %self.scenario,
                seq = r.seq,
                transport = %r.transport,
                name = %r.name,
                qtype = %r.qtype,
                rcode = r.rcode.as_deref().unwrap_or("none"),
                answers = %r.answers.join(" "),
                faults = %r.faults.join(", "),
                "dns query"
            );
        }
    }

    /// A copy of every DNS record so far.
    pub fn snapshot_dns(&self) -> Vec<DnsRecord> {
        self.lock().dns.clone()
    }
}

/// Milliseconds to a tenth, for log lines (`0.5`, not `0.46826700000000004`).
fn tenths(ms: f64) -> f64 {
    (ms * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_and_dns_share_one_timeline() {
        let log = RequestLog::default();
        let q = log.begin_dns("udp", "proxy.corp.example", "A", Vec::new());
        log.finish_dns(
            q,
            DnsOutcome { rcode: Some("NOERROR".into()), answers: vec!["127.0.0.10".into()], ..Default::default() },
        );
        let r = log.begin("proxy.corp.example", "GET", "/x/@v/list", Vec::new());
        log.finish(r, 3, None);
        log.set_phase(Phase::Recover);
        let dropped = log.begin_dns("tcp", "sum.golang.org", "AAAA", vec!["#1 timeout".into()]);
        log.finish_dns(
            dropped,
            DnsOutcome { note: Some("dropped by fault: never answered".into()), ..Default::default() },
        );

        let dns = log.snapshot_dns();
        let http = log.snapshot();
        assert_eq!((dns[0].seq, http[0].seq, dns[1].seq), (1, 2, 3));
        assert_eq!(dns[1].phase, Phase::Recover);
        assert!(dns[0].end_ms.is_some());
        assert_eq!(dns[1].end_ms, None, "a dropped query never ends");
        assert!(
            dns[0].line().starts_with("[1] dns udp A proxy.corp.example → NOERROR 127.0.0.10 ("),
            "{}",
            dns[0].line()
        );
        assert_eq!(
            dns[1].line(),
            "[3] dns tcp AAAA sum.golang.org → no answer (unfinished) [#1 timeout] (dropped by fault: never answered)"
        );
        let json = serde_json::to_string(&dns[1]).unwrap();
        assert_eq!(serde_json::from_str::<DnsRecord>(&json).unwrap(), dns[1]);
        // Times survive the journal's JSON exactly: serde_json's default float parser
        // reads this one back 1 ulp off (the test failed about one run in three).
        let mut timed = dns[1].clone();
        timed.start_ms = 0.009647000000000001;
        let json = serde_json::to_string(&timed).unwrap();
        assert_eq!(serde_json::from_str::<DnsRecord>(&json).unwrap(), timed);
    }
}
