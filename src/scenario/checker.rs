//! Collecting a scenario file's problems: each at the position of the offending value,
//! with a help line, and checking goes on so that one run shows every problem. Shared by
//! scenario validation and playbook loading.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use regex::Regex;

use crate::scenario::at::{At, Pos};
use crate::scenario::diag::{FileProblem, suggest};
use crate::scenario::duration;
use crate::scenario::raw::*;
use crate::vocab::PathGlob;

/// The longest regex a scenario may write (parsing a huge one takes seconds, and no
/// expectation needs one).
pub const MAX_REGEX_BYTES: usize = 64 * 1024;

/// Collects the problems of one file.
pub struct Checker {
    /// The file, as the user named it.
    pub file: PathBuf,
    /// Its text, shared with every problem for snippets.
    pub source: Arc<String>,
    /// Problems found so far.
    pub problems: Vec<FileProblem>,
    /// Things that are valid but probably not what the author meant (a regex where a
    /// glob is expected): shown by `validate` and `run`, never a reason to refuse the file.
    pub warnings: Vec<FileProblem>,
    /// The files the scenario includes, in order (positions with `source: N` are in the
    /// Nth).
    pub includes: Vec<(PathBuf, Arc<String>)>,
}

impl Checker {
    /// A checker for `file` with text `source`.
    pub fn new(file: &Path, source: Arc<String>) -> Checker {
        Checker { file: file.to_path_buf(), source, problems: Vec::new(), warnings: Vec::new(), includes: Vec::new() }
    }

    /// Records a problem at `pos`, in the file it was read from.
    pub fn problem(&mut self, pos: Pos, message: impl Into<String>, help: Option<String>) {
        let problem = self.at(pos, message.into(), help);
        self.problems.push(problem);
    }

    /// Records a warning at `pos`: the file stays valid.
    pub fn warning(&mut self, pos: Pos, message: impl Into<String>, help: Option<String>) {
        let warning = self.at(pos, message.into(), help);
        self.warnings.push(warning);
    }

    /// A problem at `pos`, in the file it was read from.
    fn at(&self, pos: Pos, message: String, help: Option<String>) -> FileProblem {
        let (file, source) = match (pos.source as usize).checked_sub(1).and_then(|i| self.includes.get(i)) {
            Some((file, source)) => (file, source),
            None => (&self.file, &self.source),
        };
        FileProblem::new(file, source, pos, message, help)
    }

    /// The directory relative paths written at `pos` are resolved against: that of the
    /// file they were read from.
    pub fn dir_for(&self, pos: Pos) -> PathBuf {
        let file = match (pos.source as usize).checked_sub(1).and_then(|i| self.includes.get(i)) {
            Some((file, _)) => file,
            None => &self.file,
        };
        file.parent().map(Path::to_path_buf).unwrap_or_default()
    }

    /// A duration (`250ms`, `20s`); zero is a problem.
    pub fn duration(&mut self, at: &At<String>) -> Option<Duration> {
        match duration::parse(at) {
            Ok(d) if d.is_zero() => {
                self.problem(
                    at.pos,
                    "a zero duration: it would be over before anything happened",
                    Some("give a duration longer than zero, like 250ms or 20s".into()),
                );
                None
            }
            Ok(d) => Some(d),
            Err(e) => {
                self.problem(at.pos, e.to_string(), Some(duration::HELP.into()));
                None
            }
        }
    }

    /// `at` in upper case, with a problem (and the closest of `known`) when it is not
    /// one of them: HTTP methods, DNS query types.
    pub fn upper_word(&mut self, at: &At<String>, known: &[&str], what: &str, plural: &str) -> String {
        let upper = at.to_ascii_uppercase();
        if !known.contains(&upper.as_str()) {
            self.problem(
                at.pos,
                format!("unknown {what} `{}`", at.value),
                Some(suggest(&upper, known.iter().copied(), plural)),
            );
        }
        upper
    }

    /// A toxic's time: a duration, or a bare number in toxiproxy's `unit`.
    pub fn toxi_time(&mut self, at: &At<ToxiTime>, unit: fn(u64) -> Duration) -> Option<Duration> {
        match &at.value {
            RawQuantity::Number(n) => match duration::within_bound(&n.to_string(), unit(*n)) {
                Ok(d) => Some(d),
                Err(e) => {
                    self.problem(at.pos, e.to_string(), Some(duration::HELP.into()));
                    None
                }
            },
            RawQuantity::Text(text) => self.duration_or_zero(&At { value: text.clone(), pos: at.pos }),
        }
    }

    /// Like [`Checker::duration`], but `0s` is allowed (a window opening at the start).
    pub fn duration_or_zero(&mut self, at: &At<String>) -> Option<Duration> {
        match duration::parse(at) {
            Ok(d) => Some(d),
            Err(e) => {
                self.problem(at.pos, e.to_string(), Some(duration::HELP.into()));
                None
            }
        }
    }

    /// A regular expression; one that does not compile, or is longer than
    /// [`MAX_REGEX_BYTES`], is a problem.
    pub fn regex(&mut self, at: &At<String>) -> Option<Regex> {
        if at.len() > MAX_REGEX_BYTES {
            self.problem(
                at.pos,
                format!("a regex of {} bytes: patterns are at most {MAX_REGEX_BYTES} bytes", at.len()),
                Some("match the part of the message that matters".into()),
            );
            return None;
        }
        match Regex::new(at) {
            Ok(r) => Some(r),
            Err(e) => {
                let detail = e.to_string();
                let last = detail.lines().last().unwrap_or(&detail).trim().trim_start_matches("error: ").to_string();
                self.problem(
                    at.pos,
                    format!("regex does not compile: {last}"),
                    Some(
                        "patterns use Rust regex syntax; escape literal characters like ( [ . with a backslash".into(),
                    ),
                );
                None
            }
        }
    }

    /// A URL path glob (see [`PathGlob::new`]) at the scenario's `key`, with a warning
    /// when it looks like a regular expression (`^/corp\.example/.*$`), which as a glob
    /// matches nothing the author meant.
    pub fn glob(&mut self, at: &At<String>, key: &str) -> Option<PathGlob> {
        match PathGlob::new(at) {
            Ok(g) => {
                if g.looks_like_regex() {
                    self.warning(
                        at.pos,
                        format!("`{}` looks like a regular expression, but `{key}` is a glob", at.value),
                        Some(
                            "paths are globs, matched against the whole URL path: `*` stays within a segment, \
                             `**` crosses segments, `.` is a dot (e.g. /corp.example/** or *.zip)"
                                .into(),
                        ),
                    );
                }
                Some(g)
            }
            Err(e) => {
                self.problem(
                    at.pos,
                    format!("invalid path glob `{}`: {e}", at.value),
                    Some("`*` matches within one path segment, `**` across segments".into()),
                );
                None
            }
        }
    }
}

/// The single action of a fault mapping, or a problem saying there is none or several.
pub(crate) fn one_action<A>(
    pos: Pos,
    mut actions: Vec<(Pos, Option<A>)>,
    keys: &[&str],
    checker: &mut Checker,
) -> Option<A> {
    match actions.len() {
        0 => {
            let names: Vec<&str> = keys.iter().copied().filter(|k| *k != "when").collect();
            checker.problem(pos, "a fault needs an action", Some(format!("add one of: {}", names.join(", "))));
            None
        }
        1 => actions.remove(0).1,
        _ => {
            checker.problem(
                actions[1].0,
                "a fault has exactly one action",
                Some("split it into two faults; a delay fault lets the next fault act too".into()),
            );
            None
        }
    }
}
