//! Plain-text rendering of a scenario report, shared by the terminal reporter and the
//! `cargo test` harness: expected vs got, go's output, every request each fake saw.

use std::fmt::Write as _;

use crate::judge::{PhaseReport, ScenarioReport};
use crate::vocab::Phase;

/// A scenario run's name in reports: the scenario's name, with the go version when a
/// matrix of several runs it (`happy path [go1.27.3]`).
pub fn run_name(report: &ScenarioReport, matrix: bool) -> String {
    match (&report.go_version, matrix) {
        (Some(version), true) => format!("{} [{version}]", report.name),
        _ => report.name.clone(),
    }
}

/// The whole story of a scenario, for a failure message, with its secrets masked.
pub fn failure_details(report: &ScenarioReport) -> String {
    report.redactor().text(&story(report))
}

fn story(report: &ScenarioReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "scenario: {} ({})", report.name, report.file);
    if let Some(network) = report.network {
        let _ = writeln!(out, "network: {}", network.name());
    }
    if let Some(reason) = &report.reason {
        let _ = writeln!(out, "harness problem: {reason}");
    }
    for f in &report.failures {
        let _ = writeln!(out, "[{}] {}\n    expected: {}\n         got: {}", f.phase, f.what, f.expected, f.got);
    }
    if !report.leads.is_empty() {
        let _ = writeln!(out, "leads:");
        for lead in &report.leads {
            let _ = writeln!(out, "    {lead}");
        }
    }
    if !report.hosts.is_empty() {
        let _ = writeln!(out, "hosts:");
        for h in &report.hosts {
            let _ = writeln!(out, "    {h}");
        }
    }
    for c in &report.commands {
        let _ = writeln!(out, "[{}] {} → {} in {:.0} ms", c.phase, c.command, c.exit.describe(), c.duration_ms);
    }
    // go's stdout (JSON records, mostly) is shown where an expectation of it failed.
    let stdout_unmet = |p: Phase| report.failures.iter().any(|f| f.phase == p && f.what == "stdout");
    if let Some(steady) = &report.steady {
        phase(&mut out, "steady state (the world without its faults)", steady, stdout_unmet(Phase::Steady));
    }
    if let Some(run) = &report.run {
        phase(&mut out, "run", run, stdout_unmet(Phase::Run));
    }
    if let Some(rec) = &report.recovery {
        let _ =
            writeln!(out, "recovery{}:", rec.playbook.as_ref().map(|p| format!(" (playbook {p})")).unwrap_or_default());
        for s in &rec.steps {
            let _ = writeln!(out, "    {s}");
        }
        match &rec.failed_step {
            Some(step) => phase(
                &mut out,
                &format!("recovery step `{step}` failed (no rerun)"),
                &rec.rerun,
                stdout_unmet(Phase::Recover),
            ),
            None => phase(&mut out, "rerun", &rec.rerun, stdout_unmet(Phase::Recover)),
        }
        if let Some(v) = &rec.verification {
            for p in &v.problems {
                let _ = writeln!(out, "    integrity problem: {p}");
            }
        }
    }
    out
}

fn phase(out: &mut String, title: &str, p: &PhaseReport, with_stdout: bool) {
    let d = &p.diagnosis;
    let _ = writeln!(out, "{title}: diagnosis {} ({} confidence): {}", d.category, d.confidence.word(), d.summary);
    if !p.evidence.env_changes.is_empty() {
        let _ = writeln!(out, "  configuration changed: {}", p.evidence.env_changes.join("; "));
    }
    section(out, "stderr", &p.evidence.stderr);
    if with_stdout {
        section(out, "stdout", &p.evidence.stdout);
    }
    let errors: Vec<_> = p.evidence.records.iter().filter_map(|r| r.error.as_deref()).collect();
    if !errors.is_empty() {
        section(out, "-json errors", &errors.join("\n"));
    }
    if p.evidence.requests.is_empty() {
        let _ = writeln!(out, "  requests: none");
    } else {
        let _ = writeln!(out, "  requests:");
        for r in &p.evidence.requests {
            let _ = writeln!(out, "    {}", r.line());
        }
    }
    if !p.evidence.dns.is_empty() {
        let _ = writeln!(out, "  dns queries:");
        for q in &p.evidence.dns {
            let _ = writeln!(out, "    {}", q.line());
        }
    }
}

fn section(out: &mut String, title: &str, text: &str) {
    if text.trim().is_empty() {
        let _ = writeln!(out, "  {title}: (empty)");
        return;
    }
    let _ = writeln!(out, "  {title}:");
    for line in text.lines() {
        let _ = writeln!(out, "    | {line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::{Category, Confidence, Diagnosis};
    use crate::evidence::Evidence;

    /// A failed report whose run was diagnosed `category` with `confidence`.
    fn report_with(category: Category, confidence: Confidence) -> ScenarioReport {
        let mut report = ScenarioReport::empty("t", std::path::Path::new("t.yaml"));
        let diagnosis = Diagnosis {
            category,
            confidence,
            summary: "the proxy answered 500".into(),
            evidence: Vec::new(),
            playbooks: Vec::new(),
            alternatives: Vec::new(),
            context: Default::default(),
        };
        report.run = Some(PhaseReport { evidence: Evidence::default(), diagnosis });
        report
    }

    #[test]
    fn the_story_words_confidence_as_every_other_report_does() {
        for (confidence, word) in [(Confidence::High, "high"), (Confidence::Medium, "medium"), (Confidence::Low, "low")]
        {
            let story = failure_details(&report_with(Category::ProxyServerError, confidence));
            let line = format!("run: diagnosis proxy.server_error ({word} confidence): the proxy answered 500");
            assert!(story.contains(&line), "{story}");
            assert!(!story.contains(&format!("({confidence:?})")), "{story}");
        }
    }

    #[test]
    fn go_s_stdout_is_shown_where_an_expectation_of_it_failed() {
        let mut report = report_with(Category::None, Confidence::High);
        if let Some(run) = report.run.as_mut() {
            run.evidence.stdout = "corp.example/lib v1.0.0\n".into();
        }
        assert!(!failure_details(&report).contains("stdout:"), "shown only where it was expected");
        report.failures.push(crate::judge::Failure {
            phase: Phase::Run,
            what: "stdout".into(),
            expected: "a match for /v1\\.2\\.0/".into(),
            got: "no match in its 1 line(s)".into(),
        });
        let story = failure_details(&report);
        assert!(story.contains("  stdout:\n    | corp.example/lib v1.0.0"), "{story}");
    }
}
