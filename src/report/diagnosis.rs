//! A diagnosis for a person: the category and how sure, the cause in one line, the
//! quoted evidence with where each line comes from, and the playbooks that fix it.

use std::fmt::Write as _;

use crate::diagnose::{Category, Diagnosis, Source};

/// The diagnosis as text, ready to print, with secrets (from the log it quotes) masked.
pub fn render(diagnosis: &Diagnosis) -> String {
    crate::redact::text(&text(diagnosis))
}

/// `modchaos diagnose --json`: whether a failure was recognised, and the diagnosis,
/// with secrets masked.
pub fn json(diagnosis: &Diagnosis, recognised: bool) -> String {
    let mut value = serde_json::json!({ "recognised": recognised, "diagnosis": diagnosis });
    crate::redact::json(&mut value);
    serde_json::to_string_pretty(&value).expect("diagnoses serialise")
}

fn text(diagnosis: &Diagnosis) -> String {
    let mut out = String::new();
    let confidence = format!("{:?}", diagnosis.confidence).to_lowercase();
    let _ = writeln!(out, "diagnosis: {} ({confidence} confidence)", diagnosis.category);
    let _ = writeln!(out, "  {}", diagnosis.category.meaning());
    let _ = writeln!(out, "cause: {}", diagnosis.summary);
    if !diagnosis.evidence.is_empty() {
        let _ = writeln!(out, "evidence:");
        for line in &diagnosis.evidence {
            let mut lines = line.text.lines();
            let _ = writeln!(out, "  [{}] {}", source_name(line.source), lines.next().unwrap_or_default());
            for more in lines {
                let _ = writeln!(out, "  {:width$} {more}", "", width = source_name(line.source).len() + 2);
            }
        }
    }
    match diagnosis.playbooks.as_slice() {
        [] if matches!(diagnosis.category, Category::None | Category::Unknown) => {}
        [] => {
            let _ = writeln!(out, "fix: no playbook applies: the cause above says what must change");
        }
        books => {
            let _ = writeln!(out, "fix:");
            for name in books {
                let about = crate::scenario::playbook::summary(name).unwrap_or_default();
                let _ = writeln!(out, "  playbook {name}: {about}");
            }
        }
    }
    out
}

/// How evidence sources are labelled.
pub fn source_name(source: Source) -> &'static str {
    match source {
        Source::Stderr => "stderr",
        Source::Json => "json",
        Source::Stdout => "stdout",
        Source::Trace => "trace",
        Source::Requests => "requests",
        Source::Dns => "dns",
        Source::Cache => "cache",
        Source::Env => "env",
        Source::Exit => "exit",
    }
}
