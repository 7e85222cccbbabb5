//! The page's head: totals, and a table with a row per scenario run (status, name, go
//! version, network, diagnosis, recovery, duration) linking to its section, then the
//! files that did not load.

use super::markup::Html;
use super::scenario::status_label;
use crate::report::journal::record::{InterruptedRecord, InvalidRecord, JournalLine, RunStatus, ScenarioRecord};

/// The totals line.
pub fn totals(lines: &[JournalLine]) -> String {
    let count = |status: RunStatus| {
        lines.iter().filter(|l| matches!(l, JournalLine::Scenario(s) if s.status == status)).count()
    };
    let runs = lines.iter().filter(|l| matches!(l, JournalLine::Scenario(_))).count();
    let invalid = lines.iter().filter(|l| matches!(l, JournalLine::Invalid(_))).count();
    let mut totals = format!(
        "{runs} scenario run(s): {} passed, {} failed, {} skipped; {invalid} invalid file(s)",
        count(RunStatus::Passed),
        count(RunStatus::Failed),
        count(RunStatus::Skipped)
    );
    for line in lines {
        if let JournalLine::Interrupted(i) = line {
            totals.push_str(&format!(
                "; INTERRUPTED by {} after {} of {} planned run(s)",
                i.signal, i.finished, i.planned
            ));
        }
    }
    totals
}

/// What a signal stopped: the run is incomplete, and these scenarios never finished.
pub fn interrupted(html: &mut Html, record: &InterruptedRecord) {
    html.raw("<section class=\"interrupted\"><h3>Interrupted</h3><p class=\"reason\">");
    let never = crate::suite::events::never_started(record.planned, record.finished, record.in_flight.len());
    html.text(&format!(
        "{} stopped the run after {}: {} of {} planned scenario run(s) finished, {} were stopped while they ran, {} never started.",
        record.signal,
        duration(record.duration_ms),
        record.finished,
        record.planned,
        record.in_flight.len(),
        never
    ));
    html.raw("</p>");
    if !record.in_flight.is_empty() {
        html.raw("<ul class=\"in-flight\">");
        for entry in &record.in_flight {
            html.raw("<li>").element("<span class=\"name\">", &entry.name, "</span>");
            html.element(" <span class=\"meta\">", &entry.file, "</span></li>");
        }
        html.raw("</ul>");
    }
    html.raw("</section>\n");
}

/// The summary table of the scenario runs (numbered as their sections are).
pub fn table(html: &mut Html, scenarios: &[(usize, &ScenarioRecord)]) {
    html.raw(concat!(
        "<table class=\"summary\"><thead><tr><th>status</th><th>name</th><th>go</th><th>network</th>",
        "<th>diagnosis</th><th>recovery</th><th>duration</th></tr></thead><tbody>"
    ));
    for (index, s) in scenarios {
        let (label, class) = status_label(s.status);
        html.raw("<tr").attr("class", class).raw("><td><span").attr("class", &format!("badge {class}")).raw(">");
        html.text(label).raw("</span></td><td><a").attr("href", &format!("#s-{index}")).raw(">");
        html.text(&s.name).raw("</a>");
        if let (RunStatus::Skipped, Some(reason)) = (s.status, &s.reason) {
            html.element("<div class=\"why\">", reason, "</div>");
        }
        html.raw("</td>");
        html.element("<td>", s.go_version.as_deref().unwrap_or(""), "</td>");
        html.element("<td>", s.network.as_deref().unwrap_or(""), "</td>");
        html.raw("<td>");
        if let Some(d) = &s.diagnosis {
            html.raw("<span class=\"category\"").attr("title", s.diagnosis_summary.as_deref().unwrap_or("")).raw(">");
            html.text(d).raw("</span>");
        }
        html.raw("</td><td>");
        match (s.recovered, &s.playbook) {
            (None, _) => html.raw(""),
            (Some(recovered), playbook) => {
                html.raw(if recovered { "<span class=\"ok\">✓</span> " } else { "<span class=\"bad\">✗</span> " });
                html.text(playbook.as_deref().unwrap_or("inline steps"))
            }
        };
        html.raw("</td><td class=\"num\">").text(&duration(s.duration_ms)).raw("</td></tr>");
    }
    html.raw("</tbody></table>");
}

/// The files that did not load, with every problem.
pub fn invalid(html: &mut Html, files: &[&InvalidRecord]) {
    if files.is_empty() {
        return;
    }
    html.raw("<section class=\"invalid\"><h2>Files that did not load</h2>");
    for file in files {
        html.element("<h3><span class=\"badge invalid\">INVALID</span> <code>", &file.file, "</code></h3><pre>");
        html.text(&file.problems.join("\n")).raw("</pre>");
    }
    html.raw("</section>");
}

/// `850 ms`, `12.3 s`, `2 min 5 s`.
pub fn duration(ms: u64) -> String {
    match ms {
        0..1000 => format!("{ms} ms"),
        1000..60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        _ => format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000),
    }
}
