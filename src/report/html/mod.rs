//! The HTML report (`modchaos report JOURNAL --html OUT`, `modchaos run --html OUT`): one
//! self-contained file — inline CSS and SVG, no script, no font, no network: a Content
//! Security Policy forbids the page any other resource — made from journal lines. A
//! summary table (failures first, then by file and go version), then per scenario its
//! timeline of requests and faults per host against go's commands, the diagnosis with its
//! evidence, the recovery's steps and rerun, and unmet expectations, expected against
//! got. Everything from the journal is escaped ([`markup`]).

pub mod markup;
pub mod scenario;
pub mod summary;
pub mod timeline;

use markup::Html;

use crate::report::journal::record::{JournalLine, RunStatus, ScenarioRecord};

/// The page's style sheet.
const STYLE: &str = include_str!("style.css");

/// The report of `lines`, titled `title` (the journal's name, say).
pub fn render(lines: &[JournalLine], title: &str) -> String {
    let mut html = Html::new();
    html.raw(concat!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        "<meta name=\"generator\" content=\"modchaos\"><title>"
    ));
    html.text(&format!("modchaos report: {title}")).raw("</title><style>").raw(STYLE).raw("</style></head><body>");
    html.raw("<header><h1>modchaos report</h1>").element("<p class=\"source\">", title, "</p>");
    html.raw("<p class=\"totals\" id=\"totals\">").text(&summary::totals(lines)).raw("</p></header>\n");
    let mut scenarios: Vec<&ScenarioRecord> = lines
        .iter()
        .filter_map(|l| match l {
            JournalLine::Scenario(s) => Some(s.as_ref()),
            JournalLine::Invalid(_) | JournalLine::Interrupted(_) => None,
        })
        .collect();
    // Failures first, then by file and go version: a matrix's or shards' runs finish in
    // any order, and a reader looks for what failed, then for a file.
    scenarios.sort_by(|a, b| {
        (a.status != RunStatus::Failed, &a.file, &a.go_version).cmp(&(
            b.status != RunStatus::Failed,
            &b.file,
            &b.go_version,
        ))
    });
    let scenarios: Vec<_> = scenarios.into_iter().enumerate().map(|(i, s)| (i + 1, s)).collect();
    let invalid: Vec<_> = lines
        .iter()
        .filter_map(|l| match l {
            JournalLine::Invalid(i) => Some(i),
            JournalLine::Scenario(_) | JournalLine::Interrupted(_) => None,
        })
        .collect();
    for line in lines {
        if let JournalLine::Interrupted(i) = line {
            summary::interrupted(&mut html, i);
        }
    }
    summary::invalid(&mut html, &invalid);
    summary::table(&mut html, &scenarios);
    html.raw("\n<main>\n");
    for (index, record) in &scenarios {
        scenario::write(&mut html, *index, record);
    }
    html.raw("</main></body></html>\n");
    html.finish()
}
