//! The JSON journal: one JSON object per line, one line per scenario run, written as each
//! finishes (nightly CI can tail it, and a crash keeps what was done), and one line per
//! scenario file that did not load (`"status": "invalid"`), so that a typo is never
//! absent from it. Each scenario's line tells its whole story on one timeline (times in
//! ms from the scenario's start): every go command with its output, every request and
//! DNS query with the faults that fired, each phase's diagnosis with its evidence, the
//! recovery and its rerun, the integrity checks. The format is versioned
//! ([`JOURNAL_VERSION`]) and described by a JSON Schema derived from its types
//! ([`schema`], `modchaos schema --journal`).

pub mod of;
pub mod read;
pub mod record;

use std::io::Write as _;
use std::sync::Mutex;

pub use of::{interrupted_record, invalid_record, scenario_record};
pub use read::{CutJournal, ReadError, read, read_cut};
pub use record::{InterruptedRecord, InvalidRecord, JOURNAL_VERSION, JournalLine, ScenarioRecord};

use crate::suite::{Event, EventSink};

/// The JSON Schema of one journal line.
pub fn schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(JournalLine)).expect("schemas serialise")
}

/// The journal line of an event, if the event has one (a scenario that finished, a file
/// that did not load).
pub fn line_of(event: &Event) -> Option<JournalLine> {
    match event {
        Event::ScenarioFinished { report } => Some(JournalLine::Scenario(Box::new(scenario_record(report)))),
        Event::InvalidFile { file, problems } => Some(JournalLine::Invalid(invalid_record(file, problems))),
        Event::Interrupted { signal, planned, finished, in_flight, duration_ms } => {
            Some(JournalLine::Interrupted(interrupted_record(signal, *planned, *finished, in_flight, *duration_ms)))
        }
        _ => None,
    }
}

/// Writes records to a file (or stdout), each line whole and flushed as it comes. The
/// first write that fails is kept ([`EventSink::failure`]) and said at once: a journal
/// that lost lines must not pass for a complete one.
pub struct Journal {
    out: Mutex<Box<dyn std::io::Write + Send>>,
    /// Where it writes, as the user named it (`--json PATH`).
    name: String,
    failed: Mutex<Option<String>>,
}

impl Journal {
    /// A journal writing to `out`, which the user knows as `name`.
    pub fn new(out: Box<dyn std::io::Write + Send>, name: impl Into<String>) -> Journal {
        Journal { out: Mutex::new(out), name: name.into(), failed: Mutex::new(None) }
    }
}

impl EventSink for Journal {
    fn emit(&self, event: &Event) {
        let Some(line) = line_of(event) else { return };
        let Ok(line) = serde_json::to_string(&line) else { return };
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = writeln!(out, "{line}").and_then(|()| out.flush()) {
            let mut failed = self.failed.lock().unwrap_or_else(|e| e.into_inner());
            if failed.is_none() {
                let message = format!("--json {}: cannot write the journal: {e}", self.name);
                eprintln!("modchaos: {message}");
                *failed = Some(message);
            }
        }
    }

    fn failure(&self) -> Option<String> {
        self.failed.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Collects the journal's lines in memory, for reporters that need the whole suite at
/// once (the HTML report).
#[derive(Default)]
pub struct Collector {
    lines: Mutex<Vec<JournalLine>>,
}

impl Collector {
    /// The lines collected so far, in the order the events came.
    pub fn lines(&self) -> Vec<JournalLine> {
        self.lines.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl EventSink for Collector {
    fn emit(&self, event: &Event) {
        if let Some(line) = line_of(event) {
            self.lines.lock().unwrap_or_else(|e| e.into_inner()).push(line);
        }
    }
}
