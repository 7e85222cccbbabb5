//! Diagnosis: a pure function from the evidence of a run to a category, a one-line
//! cause, the evidence lines that show it, and the playbooks that fix it.

pub mod calibrate;
pub mod facts;
pub mod rules;
#[cfg(test)]
mod tests;
pub(crate) mod traced;

use serde::{Deserialize, Serialize};

pub use crate::evidence::ErrorText;
pub use crate::vocab::{Category, EvidenceLine, Source};

use crate::evidence::Evidence;
use crate::evidence::log::last_command_not_go;

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

impl Confidence {
    /// `low`, `medium` or `high`: the one word every report (terminal, failure story,
    /// diagnosis text, journal) says it with, as in "(high confidence)".
    pub fn word(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
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
    /// Other categories that also fit the evidence, most likely first, each less likely
    /// than the verdict.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<Alternative>,
    /// The context the verdict used besides go's output, with where each piece came from
    /// (the exit status given with `--exit-status` or read in the log, a CI system's
    /// cancellation message, the environment of `--env` or of the log).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<String>,
}

/// Another category that fits the evidence, less likely than the verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alternative {
    /// The category.
    pub category: Category,
    /// How sure (never more than the verdict).
    pub confidence: Confidence,
    /// Why it fits too.
    pub summary: String,
}

impl Diagnosis {
    /// The diagnosis with another category that fits too, after those it has.
    pub fn or(mut self, category: Category, confidence: Confidence, summary: impl Into<String>) -> Diagnosis {
        if category != self.category && !self.alternatives.iter().any(|a| a.category == category) {
            let confidence = confidence.min(self.confidence);
            self.alternatives.push(Alternative { category, confidence, summary: summary.into() });
        }
        self
    }
}

/// At most this many alternatives are reported.
const MAX_ALTERNATIVES: usize = 3;

/// The second reading of a pasted log whose go lines gave no verdict, or one read from
/// half a line a terminal broke: the whole log, liberally
/// ([`crate::evidence::log::liberal`]) — a go line broken once by the paste, a line that
/// lost go's prefix, a paste commented out, bare error values beside go's error. Its
/// verdict is low and says how it was read. With `unknown_too` (when the first reading
/// had no verdict at all), an `unknown` verdict that names other causes counts too, when
/// no rule names a failure: it says what go's line means, where the first reading could
/// say only that nothing was recognised.
fn liberal_reading(evidence: &Evidence, unknown_too: bool) -> Option<Diagnosis> {
    use crate::evidence::log::{Glue, liberal};
    let pasted = evidence.pasted.as_deref()?;
    // A broken line joined as a terminal mostly breaks it (inside a word), and only when
    // that reads as nothing, at a space the copy trimmed: one text, one way of joining,
    // so that a half read the wrong way never competes with the whole line read right.
    let mut diagnosis = [Glue::Nothing, Glue::Space].into_iter().find_map(|glue| {
        let relaxed = Evidence { stderr: liberal(pasted, glue), pasted: None, fragmentary: None, ..evidence.clone() };
        let facts = facts::Facts::new(&relaxed);
        let all: Vec<Diagnosis> = rules::RULES.iter().filter_map(|(_, rule)| rule(&facts)).collect();
        let mut verdicts = all.iter().filter(|d| !matches!(d.category, Category::None | Category::Unknown)).cloned();
        match verdicts.next() {
            Some(first) => Some(decide(&facts, first, verdicts)),
            None if unknown_too => {
                all.into_iter().find(|d| d.category == Category::Unknown && !d.alternatives.is_empty())
            }
            None => None,
        }
    })?;
    make_low(&mut diagnosis);
    diagnosis.summary = format!(
        "{} (read from the log as a whole: go's own lines, as pasted, gave no verdict or one read from half a \
         line, so a line broken by the paste, one without go's prefix or a bare error value was read as go's — \
         a guess)",
        diagnosis.summary
    );
    Some(diagnosis)
}

/// The verdict and its alternatives no surer than a guess.
fn make_low(diagnosis: &mut Diagnosis) {
    diagnosis.confidence = Confidence::Low;
    for alternative in &mut diagnosis.alternatives {
        alternative.confidence = Confidence::Low;
    }
}

/// `diagnosis` read from half a line a terminal broke, when the whole line said nothing:
/// a guess, and it says so.
fn lowered(mut diagnosis: Diagnosis) -> Diagnosis {
    make_low(&mut diagnosis);
    diagnosis.summary =
        format!("{} (read from a go line the paste broke, whose whole was not read: a guess)", diagnosis.summary);
    diagnosis
}

/// Whether the line below `line` (a go line ending in `:`, whose details follow) in the
/// pasted log is one a terminal broke.
fn details_broken(pasted: &str, line: &str, is_row: impl Fn(&str) -> bool) -> bool {
    let mut lines = pasted.lines().map(str::trim);
    lines.by_ref().any(|l| l == line) && lines.next().is_some_and(is_row)
}

/// The lines indented under each of a pasted log's `broken` go lines: their details
/// (`\tserver response: …`), which a rule reads with the line above them — read without
/// it when its URL was broken (`…/corp.example/li` / `b/@v/v1.0.0.info: 404 Not Found`).
fn details_under(pasted: &str, broken: &[Vec<String>]) -> Vec<String> {
    let lines: Vec<&str> = pasted.lines().collect();
    let mut details = Vec::new();
    for rows in broken {
        let Some(last) = rows.last() else { continue };
        for (i, _) in lines.iter().enumerate().filter(|(_, l)| l.trim_end() == last.trim_end()) {
            let below = lines[i + 1..].iter().take_while(|l| l.starts_with(['\t', ' ']) && !l.trim().is_empty());
            details.extend(below.map(|l| l.trim().to_string()));
        }
    }
    details
}

/// `rm` refused the module cache's read-only files (`rm: cannot remove '…/pkg/mod/…':
/// Permission denied`), as it does for anyone who deletes the cache by hand.
fn removing_the_module_cache(evidence: &Evidence) -> bool {
    evidence.pasted.as_deref().is_some_and(|pasted| {
        crate::evidence::log::clean(pasted).lines().any(|l| {
            l.starts_with("rm: cannot remove '") && l.contains("/pkg/mod/") && l.ends_with("': Permission denied")
        })
    })
}

/// How many lines an `unknown` verdict shows where go printed no error.
const LAST_LINES: usize = 5;

/// What an `unknown` verdict shows where go printed no error, so that "the evidence is
/// shown as is" shows some: the `-x` trace's fetches that failed for good, else the last
/// lines go printed (stderr, then stdout), else the last lines of the pasted log.
fn last_lines(facts: &facts::Facts) -> Vec<EvidenceLine> {
    let failed: Vec<EvidenceLine> = facts
        .failed_fetches()
        .iter()
        .rev()
        .take(LAST_LINES)
        .rev()
        .map(|g| EvidenceLine {
            source: Source::Trace,
            text: format!("# get {}: {}", g.url, g.result.as_deref().unwrap_or_default()),
        })
        .collect();
    if !failed.is_empty() {
        return failed;
    }
    let evidence = facts.evidence;
    let last = |text: &str| -> Vec<String> {
        let lines: Vec<&str> = text.lines().map(str::trim_end).filter(|l| !l.trim().is_empty()).collect();
        lines[lines.len().saturating_sub(LAST_LINES)..].iter().map(|l| l.to_string()).collect()
    };
    let (source, lines) = [(Source::Stderr, &evidence.stderr), (Source::Stdout, &evidence.stdout)]
        .into_iter()
        .map(|(source, text)| (source, last(text)))
        .chain(evidence.pasted.as_deref().map(|p| (Source::Stderr, last(p))))
        .find(|(_, lines)| !lines.is_empty())
        .unwrap_or((Source::Stderr, Vec::new()));
    lines.into_iter().map(|text| EvidenceLine { source, text }).collect()
}

/// Whether the pasted log shows Windows PowerShell's error record around a line a native
/// command wrote to stderr (`FullyQualifiedErrorId : NativeCommandError`).
fn powershell_wrapped(evidence: &Evidence) -> bool {
    evidence
        .pasted
        .as_deref()
        .is_some_and(|p| p.lines().any(|l| l.starts_with("FullyQualifiedErrorId") && l.ends_with("NativeCommandError")))
}

/// The first rule's verdict, calibrated, with every later rule's failure verdict as a low
/// alternative (they came later in the order of precedence).
fn decide(facts: &facts::Facts, first: Diagnosis, later: impl Iterator<Item = Diagnosis>) -> Diagnosis {
    later
        .filter(|d| !matches!(d.category, Category::None | Category::Unknown))
        .fold(calibrate::calibrate(facts, first), |top, other| top.or(other.category, Confidence::Low, other.summary))
}

/// Diagnoses a run: the first rule that recognises the evidence decides, calibrated (a
/// verdict resting on evidence with several known causes is capped and names the others:
/// [`calibrate`]); the other rules that recognise it too are further alternatives (with
/// low confidence: they came later in the order of precedence). When no rule does, or a
/// verdict rests on half of a go line a terminal broke, a pasted log is read again as a
/// whole ([`liberal_reading`], a low-confidence guess that says so, the first verdict
/// kept as an alternative); failing that, where go printed no error but its `-x` trace
/// shows a fetch that failed for good, that fetch is read as go's error ([`traced`], no
/// surer than medium); failing that, the verdict is `unknown` with go's error lines as
/// evidence — or, where go printed none, the lines that show what it did last.
pub fn diagnose(evidence: &Evidence) -> Diagnosis {
    let facts = facts::Facts::new(evidence);
    let mut verdicts = rules::RULES.iter().filter_map(|(_, rule)| rule(&facts));
    let mut diagnosis = match verdicts.next() {
        Some(first) => {
            let decided = decide(&facts, first, verdicts);
            // A verdict read from a go line a terminal broke read half of it (`invalid
            // version: git ls-r`): the whole line, read again, may say something else.
            let read_half = |d: &Diagnosis| {
                let pasted = evidence.pasted.as_deref().unwrap_or_default();
                let broken = crate::evidence::log::broken_go_lines(pasted);
                let details = details_under(pasted, &broken);
                let rows: Vec<String> = broken.concat();
                let is_row = |line: &str| rows.iter().any(|row| row.trim() == line);
                d.evidence.iter().filter_map(|e| e.text.lines().next()).any(|line| {
                    let line = line.trim();
                    // The evidence line is a row of a broken line, or (40 characters or more
                    // of it) inside one or the details indented under one, or it announces the
                    // details below (`errors parsing go.mod:`) and the line of details was
                    // broken.
                    !line.is_empty()
                        && (is_row(line)
                            || (line.len() >= 40 && rows.iter().chain(&details).any(|row| row.contains(line)))
                            || (line.ends_with(':') && details_broken(pasted, line, is_row)))
                })
            };
            let half = read_half(&decided);
            match half.then(|| liberal_reading(evidence, false)).flatten() {
                // The whole line decides, however sure the half was: it was sure of the
                // wrong text (and its cause quotes half a line) even where it named the
                // same category.
                Some(liberal) => decided
                    .alternatives
                    .into_iter()
                    .fold(liberal.or(decided.category, Confidence::Low, decided.summary), |d, a| {
                        d.or(a.category, Confidence::Low, a.summary)
                    }),
                // Nothing read whole: the half stays, but no surer than a guess.
                None if half => lowered(decided),
                None => decided,
            }
        }
        None if let Some(liberal) = liberal_reading(evidence, true) => liberal,
        None if let Some(traced) = traced::reading(evidence) => traced,
        None => {
            let lines: Vec<EvidenceLine> = facts.errors.iter().take(5).map(ErrorText::line).collect();
            let summary = if lines.is_empty() && removing_the_module_cache(evidence) {
                "not go's failure: `rm` could not remove files in the module cache, which go makes read-only on \
                 purpose (so that nothing edits a downloaded module); remove it with `go clean -modcache`, or make it \
                 writable first (chmod -R u+w)"
                    .to_string()
            } else if lines.is_empty() && facts.exit.is_none() && !facts.killed {
                "the log shows no error of go's and no exit status: nothing says go failed, nor that it \
                 succeeded"
                    .to_string()
            } else if lines.is_empty() && powershell_wrapped(evidence) {
                "the step failed on a PowerShell error record (NativeCommandError) around a line go wrote to stderr, \
                 and go's own lines show no error: Windows PowerShell turns every stderr line of a native command, \
                 `go: downloading` progress included, into an error, which stops a script that sets \
                 $ErrorActionPreference = 'Stop'; go itself may have succeeded (check $LASTEXITCODE, or run go \
                 under cmd /c or PowerShell 7)"
                    .to_string()
            } else if let Some(command) =
                lines.is_empty().then(|| evidence.pasted.as_deref().and_then(last_command_not_go)).flatten()
            {
                format!(
                    "the step failed, and go's own lines show no error: the last command the log shows is not go's \
                     (`{command}`), so most likely it failed, not go"
                )
            } else if lines.is_empty() {
                "go failed without an error message modchaos recognises".to_string()
            } else {
                "go failed, but its error matches no known failure".to_string()
            };
            let shown = if lines.is_empty() { last_lines(&facts) } else { lines };
            rules::found(Category::Unknown, Confidence::Low, summary, shown, &[])
        }
    };
    diagnosis.alternatives.truncate(MAX_ALTERNATIVES);
    let read_from = |fragments: &str| {
        diagnosis.evidence.iter().any(|l| l.text.lines().next().is_some_and(|first| fragments.contains(first)))
    };
    if evidence.fragmentary.as_deref().is_some_and(read_from) {
        // Bare error values, not go's lines: a guess at most.
        make_low(&mut diagnosis);
    }
    diagnosis.context = evidence.context.clone();
    diagnosis
}
