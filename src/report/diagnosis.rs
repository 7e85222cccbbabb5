//! A diagnosis for a person: the category and how sure, the cause in one line, the
//! quoted evidence with where each line comes from, and the playbooks that fix it.

use std::fmt::Write as _;

use crate::diagnose::{Category, Diagnosis, Source};

/// The diagnosis as text, ready to print, with secrets (from the log it quotes) masked.
pub fn render(diagnosis: &Diagnosis) -> String {
    render_colored(diagnosis, false)
}

/// [`render`], with the verdict and the headings coloured when `colored` (`--color`
/// decides, as for every other command's output).
pub fn render_colored(diagnosis: &Diagnosis, colored: bool) -> String {
    crate::redact::text(&text(diagnosis, Paint(colored)))
}

/// Styles a piece of text, or leaves it plain.
#[derive(Clone, Copy)]
struct Paint(bool);

impl Paint {
    fn apply(self, text: &str, style: console::Style) -> String {
        if self.0 { style.force_styling(true).apply_to(text).to_string() } else { text.to_string() }
    }
}

/// `modchaos diagnose --json`: whether a failure was recognised, and the diagnosis,
/// with secrets masked.
pub fn json(diagnosis: &Diagnosis, recognised: bool) -> String {
    let mut value = serde_json::json!({ "recognised": recognised, "diagnosis": diagnosis });
    crate::redact::json(&mut value);
    serde_json::to_string_pretty(&value).expect("diagnoses serialise")
}

fn text(diagnosis: &Diagnosis, paint: Paint) -> String {
    use console::Style;
    let mut out = String::new();
    let confidence = diagnosis.confidence.word();
    let verdict = match diagnosis.category {
        Category::None => Style::new().green().bold(),
        Category::Unknown => Style::new().yellow().bold(),
        _ => Style::new().red().bold(),
    };
    let heading = |name: &str| paint.apply(name, Style::new().bold());
    let _ = writeln!(
        out,
        "{} {} ({confidence} confidence)",
        heading("diagnosis:"),
        paint.apply(&diagnosis.category.to_string(), verdict)
    );
    let _ = writeln!(out, "  {}", diagnosis.category.meaning());
    let _ = writeln!(out, "{} {}", heading("cause:"), diagnosis.summary);
    if !diagnosis.evidence.is_empty() {
        let _ = writeln!(out, "{}", heading("evidence:"));
        for line in &diagnosis.evidence {
            let mut lines = line.text.lines();
            let tag = paint.apply(&format!("[{}]", source_name(line.source)), Style::new().dim());
            let _ = writeln!(out, "  {tag} {}", shortened(lines.next().unwrap_or_default()));
            for more in lines {
                let _ =
                    writeln!(out, "  {:width$} {}", "", shortened(more), width = source_name(line.source).len() + 2);
            }
        }
    }
    match diagnosis.playbooks.as_slice() {
        [] if matches!(diagnosis.category, Category::None | Category::Unknown) => {}
        [] => {
            let _ = writeln!(out, "{} no playbook applies: the cause above says what must change", heading("fix:"));
        }
        books => {
            let _ = writeln!(out, "{}", heading("fix:"));
            for name in books {
                let about = crate::scenario::playbook::summary(name).unwrap_or_default();
                let _ = writeln!(out, "  playbook {name}: {about}");
            }
        }
    }
    out
}

/// Most characters of an evidence line the text report shows (the JSON keeps it whole):
/// go's longest lines (a requires chain, a URL with a query) stay whole, a megabyte-long
/// line from a tool's JSON or a minified file does not flood the terminal.
const EVIDENCE_LINE_CHARS: usize = 2000;

/// `line`, cut after [`EVIDENCE_LINE_CHARS`] characters with a word on how much is left out.
fn shortened(line: &str) -> std::borrow::Cow<'_, str> {
    match line.char_indices().nth(EVIDENCE_LINE_CHARS) {
        Some((cut, _)) => {
            let rest = line[cut..].chars().count();
            format!("{}… ({rest} more characters; --json shows the whole line)", &line[..cut]).into()
        }
        None => line.into(),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_evidence_line_is_cut_with_a_word_on_the_rest() {
        let line = format!("go: {}", "x".repeat(5000));
        let shown = shortened(&line);
        assert!(shown.starts_with("go: xxx") && shown.ends_with("(3004 more characters; --json shows the whole line)"));
        assert_eq!(shortened("go: short"), "go: short");
    }
}
