//! The labelled corpus of real go outputs that measures the diagnosis (`tests/corpus/`):
//! one file per case, captured from real go runs by `examples/capture_corpus.rs`, with
//! the category the case truly belongs to (known from the fault that was injected, not
//! from the diagnosis). This module reads and writes the case format, turns a case into
//! the evidence a user would have (the log, the configuration, the exit status, the
//! module cache), and wraps logs the way CI systems do.
//!
//! A case file is a txtar archive: `key: value` header lines, then sections. `go`,
//! `command` and `exit` may say `unknown`: logs as users paste them rarely carry the exit
//! status, and not always the go version or the command line.
//!
//! ```text
//! label: proxy.server_error
//! go: go1.26.8
//! origin: scenarios/goproxy-list/500-stops-comma-list.yaml (run)
//! command: go mod download -json -x corp.example/lib@v1.0.0
//! exit: 1
//! -- env --
//! GOPROXY=https://proxy.corp.example,https://mirror.corp.example
//! -- stderr --
//! …
//! -- stdout --
//! …
//! -- cache --
//! {"locks": …}   (a CacheState, when the module cache shows something)
//! ```

use std::fmt::Write as _;

use crate::diagnose::{Category, Confidence, Diagnosis};
use crate::evidence::Evidence;
use crate::modcache::CacheState;
use crate::vocab::Exit;

mod ciwrap;
mod further_ci;
pub mod go_scripts;
mod split;

pub use ciwrap::{CiJob, CiStyle, ci_wrap};
pub use further_ci::{FurtherCi, further_wrap};
pub use split::{Part, Split, fnv1a, recipe};

/// One labelled go run.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// The category it truly belongs to.
    pub label: Category,
    /// The go version that produced it (`go1.26.8`; `none` for another tool's output),
    /// when known.
    pub go: Option<String>,
    /// Where it comes from: a scenario and phase, a capture recipe, or the public thread
    /// it was written from.
    pub origin: String,
    /// The go command line, when known.
    pub command: Option<String>,
    /// How go ended: a status, or `timeout` when it was killed at a deadline; `None` when
    /// the log does not say.
    pub exit: Option<Exit>,
    /// The configuration as the user had it (`VAR=value` lines).
    pub env: Vec<(String, String)>,
    /// go's standard error.
    pub stderr: String,
    /// go's standard output.
    pub stdout: String,
    /// The module cache at the end, when inspecting it showed something.
    pub cache: Option<CacheState>,
}

/// Why a case file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    /// A header line is missing or wrong.
    #[error("header `{0}`: {1}")]
    Header(&'static str, String),
    /// The cache section is not a CacheState.
    #[error("cache section: {0}")]
    Cache(#[from] serde_json::Error),
}

impl Case {
    /// The case as file text.
    pub fn to_text(&self) -> String {
        let exit = match self.exit {
            Some(Exit::Code { code }) => code.to_string(),
            Some(Exit::Timeout) => "timeout".into(),
            Some(Exit::Signal { signal }) => format!("signal {signal}"),
            None => UNKNOWN.into(),
        };
        let mut out = format!(
            "label: {}\ngo: {}\norigin: {}\ncommand: {}\nexit: {exit}\n",
            self.label,
            self.go.as_deref().unwrap_or(UNKNOWN),
            self.origin,
            self.command.as_deref().unwrap_or(UNKNOWN)
        );
        let section = |out: &mut String, name: &str, body: &str| {
            let _ = writeln!(out, "-- {name} --");
            out.push_str(body);
            if !body.is_empty() && !body.ends_with('\n') {
                out.push('\n');
            }
        };
        let env: String = self.env.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        section(&mut out, "env", &env);
        section(&mut out, "stderr", &self.stderr);
        section(&mut out, "stdout", &self.stdout);
        if let Some(cache) = &self.cache {
            section(&mut out, "cache", &serde_json::to_string_pretty(cache).unwrap_or_default());
        }
        out
    }

    /// Reads a case file's text.
    pub fn parse(text: &str) -> Result<Case, CaseError> {
        let (header, sections) = split_sections(text);
        let field = |key: &'static str| -> Result<String, CaseError> {
            header
                .lines()
                .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(": ")))
                .map(str::to_string)
                .ok_or(CaseError::Header(key, "missing".into()))
        };
        let label = field("label")?;
        let label = Category::from_id(&label).ok_or(CaseError::Header("label", format!("unknown category {label}")))?;
        let exit = match field("exit")?.as_str() {
            UNKNOWN => None,
            "timeout" => Some(Exit::Timeout),
            other => Some(match other.strip_prefix("signal ") {
                Some(n) => Exit::Signal { signal: n.parse().map_err(|_| CaseError::Header("exit", other.into()))? },
                None => Exit::Code { code: other.parse().map_err(|_| CaseError::Header("exit", other.into()))? },
            }),
        };
        let known = |value: String| (value != UNKNOWN).then_some(value);
        let get = |name: &str| sections.iter().find(|(n, _)| n == name).map(|(_, b)| b.clone()).unwrap_or_default();
        let env =
            get("env").lines().filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_string(), v.to_string()))).collect();
        let cache = match get("cache") {
            text if text.trim().is_empty() => None,
            text => Some(serde_json::from_str(&text)?),
        };
        Ok(Case {
            label,
            go: known(field("go")?),
            origin: field("origin")?,
            command: known(field("command")?),
            exit,
            env,
            stderr: get("stderr"),
            stdout: get("stdout"),
            cache,
        })
    }

    /// The log a user would paste: go's stderr, then its stdout (as a CI log interleaves
    /// them, roughly).
    pub fn log(&self) -> String {
        let mut log = self.stderr.clone();
        if !log.is_empty() && !log.ends_with('\n') {
            log.push('\n');
        }
        log.push_str(&self.stdout);
        log
    }

    /// The evidence an expert would have: `log` read as a log (so CI wrappers are undone),
    /// plus the configuration, the exit status, go's command line and the module cache
    /// (as `modchaos diagnose --exit-status … --env …` or `modchaos doctor` would have
    /// them).
    pub fn evidence(&self, log: &str) -> Evidence {
        let mut evidence = self.pasted_evidence(log);
        if let Some(exit) = self.exit {
            evidence.exit = Some(exit);
        }
        if self.command.is_some() {
            evidence.command = self.command.clone();
        }
        evidence
    }

    /// The evidence of `log` as a user pastes it, without the exit status and command line
    /// the case's header knows: only what the log itself says (a CI system's end line, a
    /// cancellation message) tells how go ended. The configuration and the module cache
    /// are kept.
    pub fn pasted_evidence(&self, log: &str) -> Evidence {
        let mut evidence = Evidence::from_log(log);
        for (k, v) in &self.env {
            if !evidence.env.iter().any(|(var, _)| var == k) {
                evidence.env.push((k.clone(), v.clone()));
            }
        }
        evidence.cache = self.cache.clone();
        evidence
    }
}

/// A confident wrong answer, what "unknown beats wrong" counts against: a verdict other
/// than `unknown`, with medium or high confidence, that is not the label. One definition
/// for every measurement of the diagnosis (the corpus, the further CI systems, go's own
/// script tests).
pub fn confident_wrong(label: Category, got: &Diagnosis) -> bool {
    got.category != label && got.category != Category::Unknown && got.confidence >= Confidence::Medium
}

/// How often verdicts other than `unknown` were right, by their confidence: what a user
/// may take each confidence to mean, measured the same way by every test that prints it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reliability {
    /// (right, all) for low, medium and high, in that order.
    by_confidence: [(usize, usize); 3],
}

impl Reliability {
    /// Counts a verdict on a case labelled `label` (an `unknown` verdict claims nothing).
    pub fn add(&mut self, label: Category, got: &Diagnosis) {
        if got.category != Category::Unknown {
            let (right, all) = &mut self.by_confidence[got.confidence as usize];
            *right += usize::from(got.category == label);
            *all += 1;
        }
    }

    /// The verdicts of `confidence` that were right, and all of them.
    pub fn at(&self, confidence: Confidence) -> (usize, usize) {
        self.by_confidence[confidence as usize]
    }
}

/// How a case file says a header value is not known.
const UNKNOWN: &str = "unknown";

/// The header and the `-- name --` sections of a txtar text.
fn split_sections(text: &str) -> (String, Vec<(String, String)>) {
    let mut header = String::new();
    let mut sections: Vec<(String, String)> = Vec::new();
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_end_matches('\n');
        if let Some(name) = trimmed.strip_prefix("-- ").and_then(|r| r.strip_suffix(" --")) {
            sections.push((name.to_string(), String::new()));
        } else if let Some((_, body)) = sections.last_mut() {
            body.push_str(line);
        } else {
            header.push_str(line);
        }
    }
    (header, sections)
}

/// Every case file under `root` (`tests/corpus/`), as a path relative to it with `/`
/// separators, sorted: what the corpus tests walk. (The outside part's capture program
/// is not a case.)
pub fn case_files(root: &std::path::Path) -> std::io::Result<Vec<String>> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "capture") {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "txt")
                && let Ok(relative) = path.strip_prefix(root)
            {
                files.push(relative.iter().map(|p| p.to_string_lossy()).collect::<Vec<_>>().join("/"));
            }
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_round_trip() {
        let case = Case {
            label: Category::ProxyNotFound,
            go: Some("go1.26.8".into()),
            origin: "test".into(),
            command: Some("go mod download -x m@v1".into()),
            exit: Some(Exit::Timeout),
            env: vec![("GOPROXY".into(), "https://p,direct".into())],
            stderr: "go: m@v1: reading https://p/m/@v/v1.info: 404 Not Found\n".into(),
            stdout: String::new(),
            cache: Some(CacheState::default()),
        };
        assert_eq!(Case::parse(&case.to_text()).unwrap(), case);
        assert!(Case::parse("go: x\n").is_err());
        let pasted = Case { go: None, command: None, exit: None, cache: None, ..case };
        let text = pasted.to_text();
        assert!(text.contains("go: unknown\n") && text.contains("command: unknown\nexit: unknown\n"), "{text}");
        assert_eq!(Case::parse(&text).unwrap(), pasted);
        let evidence = pasted.evidence(&pasted.log());
        assert_eq!((evidence.exit, evidence.command), (None, None), "unknown context stays unknown");
    }
}
