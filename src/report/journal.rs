//! The JSON journal: one JSON object per line, one line per scenario run, written as each
//! finishes (nightly CI can tail it, and a crash keeps what was done), and one line per
//! scenario file that did not load (`"status": "invalid"`), so that a typo is never
//! absent from it.

use std::io::Write as _;
use std::sync::Mutex;

use serde::Serialize;

use crate::judge::{ScenarioReport, Status};
use crate::suite::{Event, EventSink};

/// One journal record, with the scenario's secrets masked.
#[derive(Debug, Serialize)]
pub struct JournalRecord {
    /// Scenario name.
    pub name: String,
    /// Scenario file.
    pub file: String,
    /// passed / failed / skipped.
    pub status: Status,
    /// Why skipped, or what stopped the harness.
    pub reason: Option<String>,
    /// Diagnosis category id of the run.
    pub diagnosis: Option<&'static str>,
    /// The diagnosis in one line.
    pub diagnosis_summary: Option<String>,
    /// Recovery outcome (`null` without recovery).
    pub recovered: Option<bool>,
    /// Playbook used for the recovery.
    pub playbook: Option<String>,
    /// Wall time.
    pub duration_ms: u64,
    /// The network mode it ran in (`open` / `sealed`; `null` when not run).
    pub network: Option<&'static str>,
    /// The go version it ran with.
    pub go_version: Option<String>,
    /// The seed of its probabilistic faults.
    pub seed: Option<u64>,
    /// Every go command line run, in order.
    pub commands: Vec<String>,
    /// Unmet expectations, one line each.
    pub failures: Vec<String>,
}

impl JournalRecord {
    /// The record of `report`, every text in it masked (`crate::redact`).
    pub fn of(report: &ScenarioReport) -> JournalRecord {
        let redactor = report.redactor();
        let text = |s: &str| redactor.text(s);
        let diagnosis = report.diagnosis();
        JournalRecord {
            name: text(&report.name),
            file: text(&report.file),
            status: report.status,
            reason: report.reason.as_deref().map(text),
            diagnosis: diagnosis.map(|d| d.category.id()),
            diagnosis_summary: diagnosis.map(|d| text(&d.summary)),
            recovered: report.recovered(),
            playbook: report.recovery.as_ref().and_then(|r| r.playbook.as_deref()).map(text),
            duration_ms: report.duration_ms as u64,
            network: report.network.map(|n| n.name()),
            go_version: report.go_version.clone(),
            seed: report.seed,
            commands: report.commands.iter().map(|c| text(&c.command)).collect(),
            failures: report
                .failures
                .iter()
                .map(|f| text(&format!("[{}] {}: expected {}, got {}", f.phase, f.what, f.expected, f.got)))
                .collect(),
        }
    }
}

/// Writes records to a file (or stdout).
pub struct Journal {
    out: Mutex<Box<dyn std::io::Write + Send>>,
}

impl Journal {
    /// A journal writing to `out`.
    pub fn new(out: Box<dyn std::io::Write + Send>) -> Journal {
        Journal { out: Mutex::new(out) }
    }
}

/// The journal line of a scenario file that did not load.
#[derive(Debug, Serialize)]
pub struct InvalidRecord<'a> {
    /// The file.
    pub file: &'a str,
    /// Always `invalid`.
    pub status: &'static str,
    /// Every problem, `file:line:col: message`.
    pub problems: &'a [String],
}

impl EventSink for Journal {
    fn emit(&self, event: &Event) {
        let line = match event {
            Event::ScenarioFinished { report } => serde_json::to_string(&JournalRecord::of(report)),
            Event::InvalidFile { file, problems } => {
                serde_json::to_string(&InvalidRecord { file, status: "invalid", problems })
            }
            _ => return,
        };
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        if let Ok(line) = line {
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
    }
}
