//! Diagnosis: a pure function from the evidence of a run to a category, a one-line
//! cause, the evidence lines that show it, and the playbooks that fix it.

pub mod facts;
pub mod rules;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use crate::evidence::ErrorText;
pub use crate::vocab::{Category, EvidenceLine, Source};

use crate::evidence::Evidence;

/// How sure a diagnosis is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// A guess from weak signals.
    Low,
    /// Strong signals, some ambiguity left.
    Medium,
    /// go's own words say it.
    High,
}

/// The verdict on a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnosis {
    /// The category.
    pub category: Category,
    /// How sure.
    pub confidence: Confidence,
    /// The cause in one line.
    pub summary: String,
    /// The lines that show it.
    pub evidence: Vec<EvidenceLine>,
    /// Playbooks that fix it (file names in `playbooks/`).
    pub playbooks: Vec<String>,
}

/// Diagnoses a run: the first rule that recognises the evidence decides; when none
/// does, the verdict is `unknown` with go's error lines as evidence (never a guess).
pub fn diagnose(evidence: &Evidence) -> Diagnosis {
    let facts = facts::Facts::new(evidence);
    for (_, rule) in rules::RULES {
        if let Some(diagnosis) = rule(&facts) {
            return diagnosis;
        }
    }
    let lines: Vec<EvidenceLine> = facts.errors.iter().take(5).map(ErrorText::line).collect();
    let summary = if lines.is_empty() {
        "go failed without an error message modchaos recognises".to_string()
    } else {
        "go failed, but its error matches no known failure".to_string()
    };
    rules::found(Category::Unknown, Confidence::Low, summary, lines, &[])
}
