//! Progress and results on the terminal: a line per finished scenario, the full story of
//! each failure, and a summary.

use std::io::Write as _;
use std::sync::Mutex;

use super::text::failure_details;
use crate::judge::Status;
use crate::redact;
use crate::suite::{Event, EventSink};

/// Writes to stderr (results are on stdout only when asked for with `--json -`).
pub struct Terminal {
    out: Mutex<Box<dyn std::io::Write + Send>>,
    verbose: bool,
}

impl Terminal {
    /// A reporter writing to stderr; `verbose` also prints each go command.
    pub fn stderr(verbose: bool) -> Terminal {
        Terminal { out: Mutex::new(Box::new(std::io::stderr())), verbose }
    }
}

impl EventSink for Terminal {
    fn emit(&self, event: &Event) {
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        let _ = match event {
            Event::SuiteStarted { scenarios, jobs, go, go_version, network } => {
                let text = format!(
                    "modchaos: {scenarios} scenario(s), {jobs} at a time, {go_version} ({go})\nnetwork: {network}"
                );
                writeln!(out, "{}", redact::text(&text))
            }
            Event::CommandFinished { scenario, phase, command, exit, duration_ms } if self.verbose => {
                let text =
                    format!("      {scenario} [{phase:?}] {command} → {} ({duration_ms:.0} ms)", exit.describe());
                writeln!(out, "{}", redact::text(&text))
            }
            Event::ScenarioFinished { report } => {
                let label = match report.status {
                    Status::Passed => "PASS",
                    Status::Failed => "FAIL",
                    Status::Skipped => "SKIP",
                };
                let diagnosis = report.diagnosis().map_or("-".to_string(), |d| d.category.to_string());
                let rerun_succeeded =
                    report.recovery.as_ref().and_then(|r| r.rerun.evidence.exit).is_some_and(|e| e.success());
                let how = report.recovery.as_ref().and_then(|r| r.playbook.clone()).map(|p| format!(" ({p})"));
                let recovery = match (report.recovered(), rerun_succeeded) {
                    (Some(true), true) => format!(" → recovered{}", how.unwrap_or_default()),
                    // A recovery that is expected to fail: the scenario shows a non-fix.
                    (Some(true), false) => format!(" → rerun failed as expected{}", how.unwrap_or_default()),
                    (Some(false), _) => " → NOT recovered".into(),
                    (None, _) => String::new(),
                };
                let mut text = format!(
                    "{label}  {:<52} {:>7.2}s  {diagnosis}{recovery}\n",
                    report.name,
                    report.duration_ms / 1000.0
                );
                if report.status == Status::Failed {
                    for line in failure_details(report).lines() {
                        text += &format!("      {line}\n");
                    }
                }
                if let (Status::Skipped, Some(reason)) = (report.status, &report.reason) {
                    text += &format!("      skipped: {reason}\n");
                }
                write!(out, "{}", report.redactor().text(&text))
            }
            Event::SuiteFinished { summary } => writeln!(
                out,
                "summary: {} passed, {} failed, {} skipped, {} invalid in {:.1}s",
                summary.passed,
                summary.failed,
                summary.skipped,
                summary.invalid,
                summary.duration_ms as f64 / 1000.0
            ),
            _ => Ok(()),
        };
        let _ = out.flush();
    }
}
