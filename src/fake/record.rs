//! Every request every fake sees, in one log per world. Expectations count these,
//! diagnoses cite them, and failure reports print all of them.

use std::sync::Mutex;
use std::time::Instant;

use serde::{Deserialize, Serialize};

/// Which part of a scenario a request belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The scenario's own go commands.
    Run,
    /// The rerun after the recovery steps.
    Recover,
    /// Integrity checks after a successful recovery.
    Verify,
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

/// The shared log of a world.
#[derive(Debug)]
pub struct RequestLog {
    started: Instant,
    inner: Mutex<LogInner>,
}

#[derive(Debug)]
struct LogInner {
    phase: Phase,
    records: Vec<RequestRecord>,
}

/// A request being answered: its slot in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot(usize);

impl Default for RequestLog {
    fn default() -> Self {
        RequestLog { started: Instant::now(), inner: Mutex::new(LogInner { phase: Phase::Run, records: Vec::new() }) }
    }
}

impl RequestLog {
    fn lock(&self) -> std::sync::MutexGuard<'_, LogInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
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
        let seq = inner.records.len() as u64 + 1;
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
        }
    }

    /// Adds a fault that began to act after the exchange began: a TCP toxic whose time
    /// window opens while its connection is live.
    pub fn add_fault(&self, slot: Slot, fault: impl Into<String>) {
        if let Some(r) = self.lock().records.get_mut(slot.0) {
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
}
