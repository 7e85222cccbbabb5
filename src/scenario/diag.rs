//! Problems in scenario and playbook files, as miette diagnostics: `file:line:col:
//! message`, the source snippet with the spot underlined, and a help line (often "did you
//! mean …?").

use std::path::Path;
use std::sync::{Arc, LazyLock};

use miette::{Diagnostic, SourceSpan};
use regex::Regex;

use super::at::{Pos, locate};
use super::excerpt::{Excerpt, cut_middle};

/// Most characters of a message or help line: a value quoted in it (a 10 MB host name)
/// is cut in the middle beyond this.
const MAX_MESSAGE_CHARS: usize = 400;

/// Most characters of a help line, which may list every known name (the 33 categories
/// take some 600): a list is what a user needs whole when no name is close.
const MAX_HELP_CHARS: usize = 1200;

/// One problem at one place in a file.
#[derive(Debug, Clone, thiserror::Error, Diagnostic)]
#[error("{location}: {message}")]
pub struct FileProblem {
    /// `file:line:col` (or just `file` when the position is unknown).
    pub location: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    #[help]
    pub help: Option<String>,
    #[source_code]
    src: Excerpt,
    #[label("{label}")]
    span: Option<SourceSpan>,
    label: String,
    /// Where it is, to list a file's problems in the order they are written.
    order: (u16, usize, usize),
}

impl FileProblem {
    /// A problem at `pos` in `file`, whose text is `source`.
    pub fn new(
        file: &Path,
        source: &Arc<String>,
        pos: Pos,
        message: impl Into<String>,
        help: Option<String>,
    ) -> FileProblem {
        let message = cut_middle(&message.into(), MAX_MESSAGE_CHARS);
        let help = help.map(|h| cut_middle(&h, MAX_HELP_CHARS));
        let location = if pos.line > 0 {
            format!("{}:{}:{}", file.display(), pos.line, pos.column)
        } else {
            file.display().to_string()
        };
        let name = file.display().to_string();
        // The YAML reader gives some errors (a misindented key) a line and column only.
        let placed = pos.offset.map(|offset| (offset, pos.len)).or_else(|| locate(source, pos.line, pos.column));
        let (src, span) = match placed {
            Some((offset, len)) => {
                let (excerpt, span) = Excerpt::around(&name, source, offset, len, pos.line);
                (excerpt, Some(span))
            }
            None => (Excerpt::empty(&name), None),
        };
        let order = (pos.source, if pos.line == 0 { usize::MAX } else { pos.line }, pos.column);
        FileProblem { location, label: short_label(&message), message, help, src, span, order }
    }

    /// Converts an error of the YAML crate into plain words (`yaml_error.rs`),
    /// adding "did you mean" for misspelt keys and values.
    pub fn from_yaml(file: &Path, source: &Arc<String>, error: &serde_saphyr::Error) -> FileProblem {
        // A mistake in a value an alias brings (`*proxy`) is shown where it is written,
        // in the anchored value, and the alias named.
        if let serde_saphyr::Error::AliasError { error: inner, locations, .. } = error
            && let Some(written) = inner.location().filter(|l| l.line() > 0)
        {
            let mut problem = FileProblem::from_yaml(file, source, inner);
            let used = locations.reference_location;
            if used.line() > 0 && used != written {
                problem.message.push_str(&format!(
                    " (in a value the alias at line {}, column {} brings here)",
                    used.line(),
                    used.column()
                ));
            }
            return problem;
        }
        let mut pos = error.location().map(Pos::from_saphyr).unwrap_or_default();
        // The reader places a field missing from the top-level mapping at its last key;
        // the mapping is the file itself.
        if let serde_saphyr::Error::SerdeMissingField { field, .. } = error
            && pos.column == 1
        {
            pos = Pos { line: 1, column: 1, offset: Some(0), len: 0, source: pos.source };
            let message = format!("the file has no `{field}:`");
            let help = format!("add `{field}:` at the top level (`modchaos schema` lists what the file needs)");
            return FileProblem::new(file, source, pos, message, Some(help));
        }
        let (message, help) = super::yaml_error::explain(error, source, pos).unwrap_or_else(|| {
            let message = yaml_message(error);
            super::yaml_error::explain_message(&message).unwrap_or_else(|| {
                let help = misspelling_help(&message);
                (message, help)
            })
        });
        FileProblem::new(file, source, pos, message, help)
    }

    /// Sorts problems in the order they are written: the scenario file's first, then each
    /// included file's, by line and column (problems without a place last).
    pub fn sort_as_written(problems: &mut [FileProblem]) {
        problems.sort_by_key(|p| p.order);
    }

    /// The problem as plain text: the located message and its help line.
    pub fn plain(&self) -> String {
        match &self.help {
            Some(help) => format!("{self}\n  help: {help}"),
            None => self.to_string(),
        }
    }
}

/// A [`FileProblem`] shown as a warning (miette's warning mark and colour, "warning:"
/// in plain text): something a file may say that is probably not what its author meant.
#[derive(Debug)]
pub struct Warning(pub FileProblem);

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: warning: {}", self.0.location, self.0.message)
    }
}

impl std::error::Error for Warning {}

impl Diagnostic for Warning {
    fn severity(&self) -> Option<miette::Severity> {
        Some(miette::Severity::Warning)
    }

    fn help<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        self.0.help()
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.0.source_code()
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        self.0.labels()
    }
}

fn short_label(message: &str) -> String {
    let first = message.lines().next().unwrap_or(message);
    if first.chars().count() > 60 { "here".to_string() } else { first.to_string() }
}

/// The YAML crate's message without its own position prefix (we print ours).
fn yaml_message(error: &serde_saphyr::Error) -> String {
    static PREFIX: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^(?:error: )?line \d+ column \d+: ").expect("prefix pattern compiles"));
    let text = match error {
        serde_saphyr::Error::Message { msg, .. } => msg.clone(),
        other => other.without_snippet().to_string(),
    };
    // (Positions after the message: its own, and an alias's `(defined at …) (used at …)`.)
    static SUFFIX: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?: at line \d+,? column \d+)?(?: \((?:defined|used) at line \d+,? column \d+\))*$")
            .expect("suffix pattern compiles")
    });
    let first = text.lines().next().unwrap_or_default();
    SUFFIX.replace(&PREFIX.replace(first, ""), "").into_owned()
}

/// For "unknown field `x`, expected one of a, b" and "unknown variant …" messages: the
/// closest known name, or the list of names.
fn misspelling_help(message: &str) -> Option<String> {
    static UNKNOWN: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"unknown (field|variant) `([^`]*)`, expected (?:one of )?(.*)$").expect("unknown pattern compiles")
    });
    let caps = UNKNOWN.captures(message)?;
    let word = &caps[2];
    let candidates: Vec<String> = caps[3]
        .split(", ")
        .flat_map(|part| part.split(" or "))
        .map(|c| c.trim().trim_matches('`').to_string())
        .filter(|c| !c.is_empty())
        .collect();
    let kind = &caps[1];
    match closest(word, candidates.iter().map(String::as_str)) {
        Some(best) => Some(format!("did you mean `{best}`?")),
        None => Some(format!("known {kind}s: {}", candidates.join(", "))),
    }
}

/// The candidate most like `word`, if any is close enough to be a plausible typo: a
/// few edits away (transpositions count as one), or one a prefix of the other.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word = word.to_lowercase();
    let word_chars = word.chars().count();
    candidates
        .into_iter()
        .filter_map(|c| {
            let lower = c.to_lowercase();
            let lower_chars = lower.chars().count();
            let budget = (word_chars.max(lower_chars) / 5).max(1);
            let prefix = word.len() >= 4 && (lower.starts_with(&word) || word.starts_with(&lower));
            // The distance is at least the difference in length: words of very different
            // lengths (a 10 MB value) are no typo of each other, and the quadratic
            // distance is not worth computing.
            if word_chars.abs_diff(lower_chars) > budget {
                return prefix.then_some((c, word_chars.abs_diff(lower_chars)));
            }
            let distance = strsim::damerau_levenshtein(&word, &lower);
            (distance <= budget || prefix).then_some((c, distance))
        })
        .min_by_key(|&(_, distance)| distance)
        .map(|(c, _)| c)
}

/// "did you mean `x`?" or, failing that, the list of what is known.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str> + Clone, what: &str) -> String {
    match closest(word, candidates.clone()) {
        Some(best) => format!("did you mean `{best}`?"),
        None => {
            let all: Vec<&str> = candidates.into_iter().collect();
            if all.is_empty() { format!("no {what} are declared") } else { format!("known {what}: {}", all.join(", ")) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_finds_typos_and_rejects_strangers() {
        let keys = ["when", "respond", "delay", "hang", "reset", "truncate", "corrupt", "replace_body"];
        assert_eq!(closest("respnd", keys), Some("respond"));
        assert_eq!(closest("dealy", keys), Some("delay"));
        assert_eq!(closest("truncat", keys), Some("truncate"));
        assert_eq!(closest("replacebody", keys), Some("replace_body"));
        assert_eq!(closest("banana", keys), None);
        assert_eq!(closest("proxy.server-error", ["proxy.server_error", "proxy.auth"]), Some("proxy.server_error"));
        assert_eq!(closest("squid.corp.example", ["proxy.corp.example"]), None);
        assert_eq!(closest("pipe-separated", ["pipe-separated-goproxy", "retry"]), Some("pipe-separated-goproxy"));
    }

    #[test]
    fn misspelling_help_reads_both_message_styles() {
        assert_eq!(
            misspelling_help("unknown field `fualts`, expected one of goproxy, closed, faults").as_deref(),
            Some("did you mean `faults`?")
        );
        assert_eq!(
            misspelling_help("unknown variant `sucess`, expected one of `success`, `failure`, `timeout`").as_deref(),
            Some("did you mean `success`?")
        );
        assert_eq!(misspelling_help("unknown field `zzz`, expected `a` or `b`").as_deref(), Some("known fields: a, b"));
    }

    #[test]
    fn a_place_given_by_line_and_column_only_is_found_in_the_text() {
        let text = "name: t\nexpect:\n  exit: failure\n é diagnosis: none\n";
        assert_eq!(locate(text, 1, 1), Some((0, 4)));
        assert_eq!(locate(text, 3, 3), Some((18, 4)));
        // Columns count characters: `diagnosis` follows a two-byte one.
        assert_eq!(locate(text, 4, 4), Some((text.find("diagnosis").unwrap(), 9)));
        assert_eq!(locate(text, 9, 1), None);
        assert_eq!(locate(text, 1, 80), None);
        assert_eq!(locate(text, 0, 0), None);
        // Found, the problem shows its snippet.
        let problem = FileProblem::new(
            Path::new("s.yaml"),
            &Arc::new(text.to_string()),
            Pos { line: 4, column: 4, ..Pos::default() },
            "misplaced",
            None,
        );
        assert!(problem.span.is_some());
    }
}
