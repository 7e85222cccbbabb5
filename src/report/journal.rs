//! The JSON journal: one JSON object per line, one line per scenario, written as each
//! scenario finishes (nightly CI can tail it, and a crash keeps what was done).

use std::io::Write as _;
use std::sync::Mutex;

use serde::Serialize;

use crate::judge::{ScenarioReport, Status};
use crate::suite::{Event, EventSink};

/// One journal record.
#[derive(Debug, Serialize)]
pub struct JournalRecord<'a> {
    /// Scenario name.
    pub name: &'a str,
    /// Scenario file.
    pub file: &'a str,
    /// passed / failed / skipped.
    pub status: Status,
    /// Why skipped, or what stopped the harness.
    pub reason: Option<&'a str>,
    /// Diagnosis category id of the run.
    pub diagnosis: Option<&'a str>,
    /// The diagnosis in one line.
    pub diagnosis_summary: Option<&'a str>,
    /// Recovery outcome (`null` without recovery).
    pub recovered: Option<bool>,
    /// Playbook used for the recovery.
    pub playbook: Option<&'a str>,
    /// Wall time.
    pub duration_ms: u64,
    /// The network mode it ran in (`open` / `sealed`; `null` when not run).
    pub network: Option<&'static str>,
    /// Every go command line run, in order.
    pub commands: Vec<&'a str>,
    /// Unmet expectations, one line each.
    pub failures: Vec<String>,
}

impl<'a> JournalRecord<'a> {
    /// The record of `report`.
    pub fn of(report: &'a ScenarioReport) -> JournalRecord<'a> {
        let diagnosis = report.diagnosis();
        JournalRecord {
            name: &report.name,
            file: &report.file,
            status: report.status,
            reason: report.reason.as_deref(),
            diagnosis: diagnosis.map(|d| d.category.id()),
            diagnosis_summary: diagnosis.map(|d| d.summary.as_str()),
            recovered: report.recovered(),
            playbook: report.recovery.as_ref().and_then(|r| r.playbook.as_deref()),
            duration_ms: report.duration_ms as u64,
            network: report.network.map(|n| n.name()),
            commands: report.commands.iter().map(|c| c.command.as_str()).collect(),
            failures: report
                .failures
                .iter()
                .map(|f| format!("[{:?}] {}: expected {}, got {}", f.phase, f.what, f.expected, f.got))
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

impl EventSink for Journal {
    fn emit(&self, event: &Event) {
        if let Event::ScenarioFinished { report } = event {
            let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
            let Ok(mut record) = serde_json::to_value(JournalRecord::of(report)) else { return };
            report.redactor().json(&mut record);
            if let Ok(line) = serde_json::to_string(&record) {
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            }
        }
    }
}
