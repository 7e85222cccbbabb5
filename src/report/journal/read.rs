//! Reading a journal back (`modchaos report`): one record per non-empty line, each error
//! naming its line. Journals of version 1 (the summary fields only) read too; fields a
//! newer modchaos added are ignored. Secrets a journal may hold (one written before
//! modchaos masked them, or edited by hand) are masked as it is read (`crate::redact`).

use super::record::{InvalidRecord, JournalLine, ScenarioRecord};

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
        let line = index + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let mut value: serde_json::Value =
            serde_json::from_str(raw).map_err(|e| ReadError::NotJson { line, message: e.to_string() })?;
        crate::redact::json(&mut value);
        let Some(object) = value.as_object() else {
            return Err(ReadError::NotRecord { line, message: "a record is a JSON object".into() });
        };
        let not_record = |e: serde_json::Error| ReadError::NotRecord { line, message: e.to_string() };
        let record = if object.get("status").and_then(|s| s.as_str()) == Some("invalid") {
            JournalLine::Invalid(serde_json::from_value::<InvalidRecord>(value).map_err(not_record)?)
        } else {
            JournalLine::Scenario(Box::new(serde_json::from_value::<ScenarioRecord>(value).map_err(not_record)?))
        };
        lines.push(record);
    }
    if lines.is_empty() {
        return Err(ReadError::Empty);
    }
    Ok(lines)
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
}
