//! `modchaos doctor`'s report for a person, printed after go's own output: what ran and
//! how it ended, the diagnosis, the module cache's findings, and the configuration go
//! saw (settings that differ from go's defaults marked).
//!
//! ```text
//! ── modchaos doctor ──────────────────────────────
//! command: go mod download -x -json corp.example/lib@v1.0.0 (-x added; GODEBUG=netdns=go+2)
//! go:      go version go1.26.8 linux/amd64, in /home/u/project
//! ended:   still running at the deadline (killed) after 3.0 s (deadline 3 s); pid 4242
//! diagnosis: cache.lock_stuck (high confidence)
//! …
//! module cache:
//!   lock held: cache/download/corp.example/lib/@v/v1.0.0.lock by pid 4200 (…)
//! configuration:
//!   GOPROXY=https://proxy.corp.example  (changed)
//! ```

use std::fmt::Write as _;

use crate::doctor::{DoctorReport, SettingSource, TraceFlag};

/// The report as text, ready to print, with secrets masked.
pub fn render(report: &DoctorReport) -> String {
    crate::redact::text(&text(report))
}

/// The report as JSON (`modchaos doctor --json`), with secrets masked.
pub fn json(report: &DoctorReport) -> String {
    let mut value = serde_json::to_value(report).expect("doctor reports serialise");
    crate::redact::json(&mut value);
    serde_json::to_string_pretty(&value).expect("doctor reports serialise")
}

fn text(report: &DoctorReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\n── modchaos doctor {}", "─".repeat(40));
    let added = match &report.trace_flag {
        TraceFlag::Added { .. } => "-x added".to_string(),
        TraceFlag::AlreadyThere => "-x was there".to_string(),
        TraceFlag::NotAccepted { subcommand } if subcommand.is_empty() => "no subcommand: no -x".to_string(),
        TraceFlag::NotAccepted { subcommand } => format!("`go {subcommand}` takes no -x"),
    };
    let _ = writeln!(out, "command: {} ({added}; GODEBUG={})", report.ran, report.godebug);
    let version = report.go_version.as_deref().unwrap_or("version unknown");
    let _ = writeln!(out, "go:      {version}, in {}", report.cwd.display());
    let evidence = &report.evidence;
    if let Some(exit) = evidence.exit {
        let how =
            if report.interrupted { "interrupted (handled as the deadline)".to_string() } else { exit.describe() };
        let _ = writeln!(
            out,
            "ended:   {how} after {:.1} s (deadline {}); pid {}",
            evidence.duration_ms.unwrap_or_default() / 1000.0,
            humantime::format_duration(std::time::Duration::from_millis(report.timeout_ms)),
            evidence.pid.map_or_else(|| "unknown".to_string(), |p| p.to_string())
        );
    }
    out.push_str(&super::diagnosis::render(&report.diagnosis));
    match &evidence.cache {
        Some(cache) => {
            let _ = writeln!(out, "module cache:");
            for line in cache.lines() {
                let _ = writeln!(out, "  {line}");
            }
        }
        None => {
            let _ = writeln!(out, "module cache: not inspected");
        }
    }
    if !report.configuration.is_empty() {
        let _ = writeln!(out, "configuration:");
        for s in &report.configuration {
            let mut notes = Vec::new();
            if s.changed {
                notes.push("changed");
            }
            if s.source == SettingSource::Environment && !s.name.starts_with("GO") {
                notes.push("environment");
            }
            let notes = if notes.is_empty() { String::new() } else { format!("  ({})", notes.join(", ")) };
            let _ = writeln!(out, "  {}={}{notes}", s.name, s.value);
        }
    }
    if !report.problems.is_empty() {
        let _ = writeln!(out, "not collected:");
        for p in &report.problems {
            let mut lines = p.lines();
            let _ = writeln!(out, "  {}", lines.next().unwrap_or_default());
            for more in lines {
                let _ = writeln!(out, "    {more}");
            }
        }
    }
    out
}
