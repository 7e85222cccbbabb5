//! Reading a journal back (`modchaos report`): one record per non-empty line, each error
//! naming its line. Journals of version 1 (the summary fields only) read too; fields a
//! newer modchaos added are ignored. Secrets a journal may hold (one written before
//! modchaos masked them, or edited by hand) are masked as it is read (`crate::redact`).

use super::record::{InterruptedRecord, InvalidRecord, JournalLine, ScenarioRecord};

/// Why a journal could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReadError {
    /// A line is not JSON.
    #[error("line {line}: not JSON: {message}")]
    NotJson {
        /// The line number, from 1.
        line: usize,
        /// What the JSON parser said.
        message: String,
    },
    /// A line is JSON but not a journal record.
    #[error("line {line}: not a journal record: {message}")]
    NotRecord {
        /// The line number, from 1.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
    /// Nothing in it.
    #[error("the journal has no record")]
    Empty,
}

/// Every record of `text`, a journal.
pub fn read(text: &str) -> Result<Vec<JournalLine>, ReadError> {
    let mut lines = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        lines.push(record(index + 1, raw)?);
    }
    if lines.is_empty() {
        return Err(ReadError::Empty);
    }
    Ok(lines)
}

/// A journal read by [`read_cut`]: its complete records, and the number of the last
/// line when a crash cut it short.
#[derive(Debug)]
pub struct CutJournal {
    /// The records of the complete lines.
    pub lines: Vec<JournalLine>,
    /// The line left out: the last one, not JSON and without its newline.
    pub cut_line: Option<usize>,
}

/// Like [`read`], but a last line that is not JSON and has no newline is left out rather
/// than refused: that is what a run killed while it wrote a line leaves (every line is
/// written whole, newline last), and the lines before it are still the run's story. A
/// malformed line anywhere else, or one that ends in a newline, is still an error.
pub fn read_cut(text: &str) -> Result<CutJournal, ReadError> {
    let whole = match text.rfind('\n') {
        Some(end) => &text[..=end],
        None => "",
    };
    let tail = &text[whole.len()..];
    let cut = match record(whole.lines().count() + 1, tail) {
        Err(e @ ReadError::NotJson { .. }) if !tail.trim().is_empty() => e,
        _ => return Ok(CutJournal { lines: read(text)?, cut_line: None }),
    };
    match read(whole) {
        Ok(lines) => Ok(CutJournal { lines, cut_line: Some(whole.lines().count() + 1) }),
        // Nothing but the cut line: its own error says more than "no record".
        Err(ReadError::Empty) => Err(cut),
        Err(e) => Err(e),
    }
}

/// The record on line `line`, whose text is `raw`.
fn record(line: usize, raw: &str) -> Result<JournalLine, ReadError> {
    let mut value: serde_json::Value =
        serde_json::from_str(raw).map_err(|e| ReadError::NotJson { line, message: e.to_string() })?;
    crate::redact::json(&mut value);
    let Some(object) = value.as_object() else {
        return Err(ReadError::NotRecord { line, message: "a record is a JSON object".into() });
    };
    let not_record = |e: serde_json::Error| ReadError::NotRecord { line, message: e.to_string() };
    Ok(if object.get("status").and_then(|s| s.as_str()) == Some("invalid") {
        JournalLine::Invalid(serde_json::from_value::<InvalidRecord>(value).map_err(not_record)?)
    } else if object.get("status").and_then(|s| s.as_str()) == Some("interrupted") {
        JournalLine::Interrupted(serde_json::from_value::<InterruptedRecord>(value).map_err(not_record)?)
    } else {
        JournalLine::Scenario(Box::new(serde_json::from_value::<ScenarioRecord>(value).map_err(not_record)?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::journal::record::RunStatus;

    const V1: &str = r#"{"name":"a","file":"a.yaml","status":"passed","reason":null,"diagnosis":"none","diagnosis_summary":"go succeeded","recovered":null,"playbook":null,"duration_ms":12,"network":"open","go_version":"go1.26.8","seed":1,"commands":["go mod download"],"failures":[]}"#;

    #[test]
    fn a_version_1_journal_reads_with_the_summary_fields_only() {
        let text =
            format!("{V1}\n\n{}\n", r#"{"file":"bad.yaml","status":"invalid","problems":["bad.yaml:1:1: oops"]}"#);
        let lines = read(&text).unwrap();
        assert_eq!(lines.len(), 2);
        let JournalLine::Scenario(s) = &lines[0] else { panic!("{lines:?}") };
        assert_eq!((s.journal_version, s.status, s.name.as_str()), (1, RunStatus::Passed, "a"));
        assert!(s.go_commands.is_empty() && s.requests.is_empty());
        let JournalLine::Invalid(i) = &lines[1] else { panic!("{lines:?}") };
        assert_eq!(i.problems, ["bad.yaml:1:1: oops"]);
    }

    #[test]
    fn secrets_in_a_journal_are_masked_as_it_is_read() {
        let lines =
            read(&V1.replace("go mod download", "go mod download https://ci:hunter2-secret@proxy.example")).unwrap();
        let JournalLine::Scenario(s) = &lines[0] else { panic!("{lines:?}") };
        assert_eq!(s.commands, ["go mod download https://ci:xxxxx@proxy.example"]);
    }

    #[test]
    fn errors_name_the_line() {
        let err = read(&format!("{V1}\n{{\"name\": \n")).unwrap_err();
        assert!(matches!(err, ReadError::NotJson { line: 2, .. }), "{err}");
        let err = read(&format!("\n{V1}\n[1, 2]\n")).unwrap_err();
        assert_eq!(err, ReadError::NotRecord { line: 3, message: "a record is a JSON object".into() });
        let err = read(r#"{"name": "a", "status": "passed"}"#).unwrap_err();
        assert!(err.to_string().starts_with("line 1: not a journal record: missing field `file`"), "{err}");
        let err = read(&V1.replace("\"passed\"", "\"exploded\"")).unwrap_err();
        assert!(err.to_string().contains("line 1: not a journal record: unknown variant `exploded`"), "{err}");
        assert_eq!(read("\n  \n").unwrap_err(), ReadError::Empty);
    }

    #[test]
    fn a_last_line_cut_by_a_crash_is_left_out_and_named() {
        let cut = &V1[..V1.len() / 2];
        let read = read_cut(&format!("{V1}\n\n{V1}\n{cut}")).unwrap();
        assert_eq!((read.lines.len(), read.cut_line), (2, Some(4)));
        // Whole, it is no cut: nothing is left out.
        let read = read_cut(&format!("{V1}\n{V1}")).unwrap();
        assert_eq!((read.lines.len(), read.cut_line), (2, None));
        let read = read_cut(&format!("{V1}\n")).unwrap();
        assert_eq!((read.lines.len(), read.cut_line), (1, None));
        // A broken line that ended in its newline, or one in the middle, is an error.
        assert!(matches!(read_cut(&format!("{V1}\n{cut}\n")), Err(ReadError::NotJson { line: 2, .. })));
        assert!(matches!(read_cut(&format!("{cut}\n{V1}")), Err(ReadError::NotJson { line: 1, .. })));
        // Only a cut line: its own error.
        assert!(matches!(read_cut(cut), Err(ReadError::NotJson { line: 1, .. })));
        // A whole last line that is JSON but no record is not a cut.
        assert!(matches!(read_cut(&format!("{V1}\n[1]")), Err(ReadError::NotRecord { line: 2, .. })));
    }
}
