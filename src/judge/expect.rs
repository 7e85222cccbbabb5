//! Checking a run against a scenario's expectations. Each unmet expectation becomes a
//! [`Failure`] saying what was expected and what happened instead.

use serde::{Deserialize, Serialize};

use crate::diagnose::Diagnosis;
use crate::evidence::Evidence;
use crate::scenario::Expectation;
use crate::vocab::Phase;

/// One unmet expectation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// The run it concerns.
    pub phase: Phase,
    /// What was checked ("exit", "diagnosis", "stderr", "requests to …").
    pub what: String,
    /// What the scenario expected.
    pub expected: String,
    /// What happened.
    pub got: String,
}

/// Every way `evidence` and `diagnosis` miss `expect`.
pub fn check(expect: &Expectation, evidence: &Evidence, diagnosis: &Diagnosis, phase: Phase) -> Vec<Failure> {
    let mut failures = Vec::new();
    let mut fail =
        |what: &str, expected: String, got: String| failures.push(Failure { phase, what: what.into(), expected, got });
    if let (Some(want), Some(exit)) = (expect.exit, evidence.exit)
        && exit.kind() != want
    {
        fail("exit", format!("{want:?}").to_lowercase(), exit.describe());
    }
    if let Some(want) = expect.diagnosis
        && diagnosis.category != want
    {
        fail("diagnosis", want.id().into(), format!("{} ({})", diagnosis.category.id(), diagnosis.summary));
    }
    if let Some(re) = &expect.error {
        let errors = evidence.errors();
        let whole = whole_messages(evidence);
        if !errors.iter().any(|e| re.is_match(&e.text)) && !whole.iter().any(|m| re.is_match(m)) {
            let got = if errors.is_empty() {
                "no error message".to_string()
            } else {
                format!("{} error message(s), none matching", errors.len())
            };
            fail("error", format!("an error matching /{}/", re.as_str()), got);
        }
    }
    for (what, pattern, text) in
        [("stderr", &expect.stderr, &evidence.stderr), ("stdout", &expect.stdout, &evidence.stdout)]
    {
        if let Some(re) = pattern
            && !re.is_match(text)
        {
            fail(
                what,
                format!("a match for /{}/", re.as_str()),
                if text.trim().is_empty() {
                    "nothing".into()
                } else {
                    format!("no match in its {} line(s)", text.lines().count())
                },
            );
        }
    }
    for r in &expect.requests {
        let seen = evidence
            .requests
            .iter()
            .filter(|q| q.host == r.host)
            .filter(|q| r.path.as_ref().is_none_or(|g| g.matches(&q.path)))
            // TLS handshakes and TCP connections are recorded too, but count only when asked
            // for by `method: TLS` / `method: TCP`.
            .filter(|q| r.method.as_ref().map_or(!matches!(q.method.as_str(), "TLS" | "TCP"), |m| *m == q.method))
            .filter(|q| r.status.is_none_or(|s| q.status.unwrap_or(0) == s))
            .count() as u64;
        if seen < r.at_least || r.at_most.is_some_and(|m| seen > m) {
            fail(&format!("requests to {}", r.describe()), r.describe_count(), seen.to_string());
        }
    }
    for q in &expect.dns {
        let seen = evidence
            .dns
            .iter()
            .filter(|d| q.name.matches(&d.name))
            .filter(|d| q.qtype.as_ref().is_none_or(|t| *t == d.qtype))
            .filter(|d| q.rcode.as_ref().is_none_or(|r| d.rcode.as_deref().unwrap_or("none") == r))
            .count() as u64;
        if seen < q.at_least || q.at_most.is_some_and(|m| seen > m) {
            let bounds = crate::scenario::RequestExpectation {
                host: String::new(),
                path: None,
                method: None,
                status: None,
                at_least: q.at_least,
                at_most: q.at_most,
            };
            fail(&q.describe(), bounds.describe_count(), seen.to_string());
        }
    }
    if let Some(duration) = evidence.duration_ms {
        let took = std::time::Duration::from_secs_f64(duration / 1000.0);
        if let Some(min) = expect.duration_at_least
            && took < min
        {
            fail("duration", format!("at least {}", humantime::format_duration(min)), format!("{took:.2?}"));
        }
        if let Some(max) = expect.duration_at_most
            && took > max
        {
            fail("duration", format!("at most {}", humantime::format_duration(max)), format!("{took:.2?}"));
        }
    }
    failures
}

/// go's error messages whole: each from the line that starts it in stderr (`go: …`,
/// `verifying …`, `file.go:1:2: …`) up to the next such line or trace line, blank lines
/// and unindented paragraphs included (a checksum mismatch's SECURITY ERROR text, a
/// multi-line `server response:`), then those of `-json` records, which carry their
/// whole text already.
pub fn whole_messages(evidence: &Evidence) -> Vec<String> {
    static START: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^(go: |verifying \S+: |[^\s:]+\.go:\d+:\d+: )").expect("compiles")
    });
    let is_trace = |line: &str| {
        let t = line.trim_start();
        t.starts_with("# ") || t.starts_with("go: downloading ") || t.starts_with("go package net: ")
    };
    let mut messages: Vec<String> = Vec::new();
    let mut current: Option<String> = None;
    for line in evidence.stderr.lines() {
        let trimmed = line.trim_end();
        if is_trace(trimmed) || START.is_match(trimmed) {
            messages.extend(current.take().map(|m| m.trim_end().to_string()));
            if !is_trace(trimmed) {
                current = Some(trimmed.to_string());
            }
            continue;
        }
        match &mut current {
            Some(message) => {
                message.push('\n');
                message.push_str(trimmed);
            }
            None if !trimmed.is_empty() => current = Some(trimmed.to_string()),
            None => {}
        }
    }
    messages.extend(current.map(|m| m.trim_end().to_string()));
    messages.extend(evidence.records.iter().filter_map(|r| r.error.as_ref()).map(|e| e.trim_end().to_string()));
    messages
}
