//! Progress and results on the terminal: a line per finished scenario, the full story of
//! each failure, and a summary that names every failed, skipped and invalid one again.

use std::io::Write as _;
use std::sync::Mutex;

use super::text::{failure_details, run_name};
use crate::judge::Status;
use crate::redact;
use crate::suite::{Event, EventSink};

/// Writes to stderr (results are on stdout only when asked for with `--json -`).
pub struct Terminal {
    out: Mutex<Box<dyn std::io::Write + Send>>,
    verbose: bool,
    state: Mutex<Seen>,
}

/// What the summary lists again.
#[derive(Default)]
struct Seen {
    matrix: bool,
    failed: Vec<String>,
    skipped: Vec<String>,
    invalid: Vec<String>,
}

impl Terminal {
    /// A reporter writing to stderr; `verbose` also prints each go command.
    pub fn stderr(verbose: bool) -> Terminal {
        Terminal::new(Box::new(std::io::stderr()), verbose)
    }

    /// A reporter writing to `out`.
    pub fn new(out: Box<dyn std::io::Write + Send>, verbose: bool) -> Terminal {
        Terminal { out: Mutex::new(out), verbose, state: Mutex::new(Seen::default()) }
    }
}

impl EventSink for Terminal {
    fn emit(&self, event: &Event) {
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        let mut seen = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let _ = match event {
            Event::SuiteStarted { scenarios, jobs, go, go_version, go_versions, network } => {
                seen.matrix = go_versions.len() > 1;
                let go = if seen.matrix { go_versions.join(", ") } else { format!("{go_version} ({go})") };
                let text = format!("modchaos: {scenarios} scenario run(s), {jobs} at a time, {go}\nnetwork: {network}");
                writeln!(out, "{}", redact::text(&text))
            }
            Event::InvalidFile { file, problems } => {
                seen.invalid.push(redact::text(file));
                writeln!(out, "INVALID  {}: {} problem(s), not run", redact::text(file), problems.len())
            }
            Event::CommandFinished { scenario, phase, command, exit, duration_ms } if self.verbose => {
                let text =
                    format!("      {scenario} [{phase:?}] {command} → {} ({duration_ms:.0} ms)", exit.describe());
                writeln!(out, "{}", redact::text(&text))
            }
            Event::ScenarioFinished { report } => {
                let name = run_name(report, seen.matrix);
                let label = match report.status {
                    Status::Passed => "PASS",
                    Status::Failed => {
                        seen.failed.push(report.redactor().text(&format!("{name} ({})", report.file)));
                        "FAIL"
                    }
                    Status::Skipped => {
                        let reason = report.reason.as_deref().unwrap_or("no reason given");
                        seen.skipped.push(report.redactor().text(&format!("{name}: {reason}")));
                        "SKIP"
                    }
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
                let mut text =
                    format!("{label}  {name:<52} {:>7.2}s  {diagnosis}{recovery}\n", report.duration_ms / 1000.0);
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
            Event::SuiteFinished { summary } => {
                let mut text = format!(
                    "summary: {} passed, {} failed, {} skipped, {} invalid in {:.1}s\n",
                    summary.passed,
                    summary.failed,
                    summary.skipped,
                    summary.invalid,
                    summary.duration_ms as f64 / 1000.0
                );
                for (what, list) in [("failed", &seen.failed), ("skipped", &seen.skipped), ("invalid", &seen.invalid)] {
                    if !list.is_empty() {
                        text += &format!("{what}:\n");
                        for entry in list {
                            text += &format!("    {entry}\n");
                        }
                    }
                }
                write!(out, "{text}")
            }
            _ => Ok(()),
        };
        let _ = out.flush();
    }
}
