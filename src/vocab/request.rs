//! What the fakes saw, as plain records: every HTTP request (and TLS handshake, TCP
//! connection, CONNECT) and every DNS query, with the scenario phase it belongs to. The
//! fakes write them, the runner collects them, expectations count them, diagnoses cite
//! them and reports print them.

use serde::{Deserialize, Serialize};

/// Which part of a scenario a request belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The steady state: the same commands against the world without its faults.
    Steady,
    /// The scenario's own go commands.
    Run,
    /// The rerun after the recovery steps.
    Recover,
    /// Integrity checks after a successful recovery.
    Verify,
}

impl Phase {
    /// The phase as reports name it: `steady state`, `run`, `recovery`, `verification`.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Steady => "steady state",
            Phase::Run => "run",
            Phase::Recover => "recovery",
            Phase::Verify => "verification",
        }
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One request as a fake saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestRecord {
    /// Order of arrival in the world (1-based).
    pub seq: u64,
    /// Scenario phase at arrival.
    pub phase: Phase,
    /// Declared host name (or `<outside>` for an attempt to leave the sandbox).
    pub host: String,
    /// HTTP method.
    pub method: String,
    /// URL path (for CONNECT: the authority asked for).
    pub path: String,
    /// Status sent; `None` when no response head was sent (hang, reset).
    pub status: Option<u16>,
    /// Body bytes sent.
    pub bytes: u64,
    /// Arrival, in ms since the world started.
    pub start_ms: f64,
    /// When the response ended (or was cut), in ms since the world started; `None` if never.
    pub end_ms: Option<f64>,
    /// Faults that fired, like `#1 respond 500`.
    pub faults: Vec<String>,
    /// How the exchange ended when not normally ("reset by fault", "client went away").
    pub note: Option<String>,
}

impl RequestRecord {
    /// One line for reports: `proxy.example GET /m/@v/list → 500 (12 B, 3.1 ms) [#1 respond 500]`.
    pub fn line(&self) -> String {
        let status = self.status.map_or("no response".to_string(), |s| s.to_string());
        let timing = match self.end_ms {
            Some(end) => format!("{:.1} ms", end - self.start_ms),
            None => "unfinished".to_string(),
        };
        let mut line = format!(
            "[{}] {} {} {} → {status} ({} B, {timing})",
            self.seq, self.host, self.method, self.path, self.bytes
        );
        if !self.faults.is_empty() {
            line += &format!(" [{}]", self.faults.join(", "));
        }
        if let Some(note) = &self.note {
            line += &format!(" ({note})");
        }
        line
    }
}

/// One DNS query as the fake DNS server saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DnsRecord {
    /// Order of arrival in the world (1-based), on the same counter as HTTP requests.
    pub seq: u64,
    /// Scenario phase at arrival.
    pub phase: Phase,
    /// `udp` or `tcp`: a TCP query after a truncated UDP answer shows the retry.
    pub transport: String,
    /// Query name, lower case, without trailing dot (empty for a malformed packet).
    pub name: String,
    /// Query type (`A`, `AAAA`, …; empty for a malformed packet).
    pub qtype: String,
    /// Response code sent (`NOERROR`, `NXDOMAIN`, `SERVFAIL`, `REFUSED`, …); `None` when
    /// the query was dropped or not answered yet.
    pub rcode: Option<String>,
    /// Addresses answered (`127.0.0.10`, `::1`); empty for NODATA and errors.
    pub answers: Vec<String>,
    /// The answer had the TC bit set (the client should retry over TCP).
    pub truncated: bool,
    /// Faults that fired, like `#1 servfail`.
    pub faults: Vec<String>,
    /// Arrival, in ms since the world started.
    pub start_ms: f64,
    /// When the answer was sent, in ms since the world started; `None` if never.
    pub end_ms: Option<f64>,
    /// Anything unusual ("dropped by fault: never answered", "malformed query: …").
    pub note: Option<String>,
}

impl DnsRecord {
    /// One line for reports: `[4] dns udp A proxy.corp.example → NOERROR 127.0.0.10 (0.2 ms) [#1 delay 1s]`.
    pub fn line(&self) -> String {
        let name = if self.name.is_empty() { "?" } else { &self.name };
        let qtype = if self.qtype.is_empty() { "?" } else { &self.qtype };
        let mut line = format!("[{}] dns {} {qtype} {name} → ", self.seq, self.transport);
        match &self.rcode {
            Some(rcode) => line += rcode,
            None => line += "no answer",
        }
        if !self.answers.is_empty() {
            line += &format!(" {}", self.answers.join(", "));
        }
        if self.truncated {
            line += " (truncated)";
        }
        match self.end_ms {
            Some(end) => line += &format!(" ({:.1} ms)", end - self.start_ms),
            None => line += " (unfinished)",
        }
        if !self.faults.is_empty() {
            line += &format!(" [{}]", self.faults.join(", "));
        }
        if let Some(note) = &self.note {
            line += &format!(" ({note})");
        }
        line
    }
}

/// How a DNS query was answered, for `RequestLog::finish_dns`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DnsOutcome {
    /// Response code sent; `None` when nothing was sent.
    pub rcode: Option<String>,
    /// Addresses answered.
    pub answers: Vec<String>,
    /// The TC bit was set.
    pub truncated: bool,
    /// Anything unusual.
    pub note: Option<String>,
}
