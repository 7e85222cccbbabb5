//! Pre-digested evidence for the rules: go's error messages gathered from stderr and
//! from `-json` records (go puts some errors only in one of them), trace fetches, the
//! request log, the configured environment.

use std::sync::LazyLock;

use regex::Regex;

use crate::evidence::log::KILLED_STATUSES;
use crate::evidence::{ErrorText, Evidence, TraceGet, is_warning};
use crate::vocab::{EvidenceLine, Exit, ExitExpectation, Source};

/// What the rules look at.
pub struct Facts<'a> {
    /// The evidence itself.
    pub evidence: &'a Evidence,
    /// go's error messages, stderr first, then `-json` records (warnings left out).
    pub errors: Vec<ErrorText>,
    /// Messages go prints on success too (deprecations, retractions, a stat cache it
    /// could not write).
    pub warnings: Vec<ErrorText>,
    /// How the run ended, when known.
    pub exit: Option<ExitExpectation>,
    /// The run was killed before go ended it: at the harness's deadline, by a signal, with
    /// exit status 124/137/143, or a CI system's cancellation or timeout message says so.
    pub killed: bool,
}

impl<'a> Facts<'a> {
    /// Digests `evidence`.
    pub fn new(evidence: &'a Evidence) -> Facts<'a> {
        let (warnings, errors): (Vec<ErrorText>, Vec<ErrorText>) =
            evidence.errors().into_iter().partition(|e| is_warning(&e.text));
        // go run under timeout(1) that failed without a word of its own: the timeout
        // ended it (a CI step that retries hides timeout's 124 behind its own status).
        static UNDER_TIMEOUT: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"(?:^|[\s;&|(])timeout(?: -\S+)* \d+\S* (?:\S+=\S+ )*go ").expect("compiles"));
        let timed_out = |code: i32| {
            code != 0 && errors.is_empty() && evidence.command.as_deref().is_some_and(|c| UNDER_TIMEOUT.is_match(c))
        };
        let killed = evidence.killed.is_some()
            || match evidence.exit {
                Some(Exit::Timeout | Exit::Signal { .. }) => true,
                Some(Exit::Code { code }) => KILLED_STATUSES.contains(&code) || timed_out(code),
                None => false,
            };
        Facts { evidence, errors, warnings, exit: evidence.exit.map(Exit::kind), killed }
    }

    /// Whether go fetches `module` straight from its version control host rather than
    /// through a module proxy: `GOPROXY=direct`, or the module matches `GONOPROXY`
    /// (which defaults to `GOPRIVATE`).
    pub fn fetched_directly(&self, module: &str) -> bool {
        if self.env("GOPROXY").is_some_and(|p| p.trim() == "direct") {
            return true;
        }
        let patterns = self.env("GONOPROXY").filter(|p| !p.is_empty()).or_else(|| self.env("GOPRIVATE"));
        patterns.is_some_and(|p| matches_prefix_patterns(p, module))
    }

    /// Whether go says it downloaded a module in this run (`go: downloading M V`; a
    /// toolchain's `go: downloading go1.X` is no module's).
    pub fn downloaded_a_module(&self) -> bool {
        self.evidence.stderr.lines().any(|l| l.starts_with("go: downloading ") && !l.starts_with("go: downloading go"))
    }

    /// What go started last, as its `-x` trace shows: a request, taking a lock, or a git
    /// command (and whether that git command's timing line, which ends it, followed).
    pub fn last_started(&self) -> Option<Started> {
        let mut last = None;
        for line in self.evidence.stderr.lines().map(str::trim) {
            if let Some(rest) = line.strip_prefix("# get ") {
                if !rest.contains(": ") {
                    last = Some(Started::Request(rest.to_string()));
                }
            } else if let Some(path) = line.strip_prefix("# lock ") {
                last = Some(Started::Lock(path.to_string()));
            } else if line.contains("s # cd ") && line.contains("; git ") {
                if let Some(Started::Git { done, .. }) = &mut last {
                    *done = true;
                }
            } else if line.contains("; git ") || line.starts_with("git ") {
                let command = line.split_once("; ").map_or(line, |(_, c)| c).to_string();
                last = Some(Started::Git { command, done: false });
            }
        }
        last
    }

    /// The `-x` trace's requests that never got an answer line.
    pub fn pending(&self) -> Vec<&TraceGet> {
        self.evidence.trace.iter().filter(|g| g.result.is_none()).collect()
    }

    /// The errors whose text matches `pattern`, in order.
    pub fn matching<'f>(
        &'f self,
        pattern: &'f regex::Regex,
    ) -> impl Iterator<Item = (&'f ErrorText, regex::Captures<'f>)> + 'f {
        self.errors.iter().filter_map(move |e| pattern.captures(&e.text).map(|c| (e, c)))
    }

    /// Like [`Facts::matching`], but only where go speaks for itself: a match inside a
    /// server's answer (`server response: …`, a proxy's account of its own git failing)
    /// is the server's experience, not this machine's.
    pub fn matching_own<'f>(
        &'f self,
        pattern: &'f regex::Regex,
    ) -> impl Iterator<Item = (&'f ErrorText, regex::Captures<'f>)> + 'f {
        self.matching(pattern).filter(|(e, c)| {
            let response = e.text.find("server response:").unwrap_or(e.text.len());
            c.get(0).is_some_and(|m| m.start() < response)
        })
    }

    /// What go saw for `var`: the configured value, else the one `go env -json` reported
    /// (the evidence of a log, or of `modchaos doctor`).
    pub fn env(&self, var: &str) -> Option<&str> {
        self.evidence.env_var(var).or_else(|| self.evidence.go_env.as_ref()?.get(var).map(String::as_str))
    }

    /// `VAR=value` as an evidence line, when set.
    pub fn env_line(&self, var: &str) -> Option<EvidenceLine> {
        self.env(var).map(|v| EvidenceLine { source: Source::Env, text: format!("{var}={v}") })
    }

    /// Request-log lines of requests where a fault fired or no 2xx came back.
    pub fn notable_requests(&self) -> Vec<EvidenceLine> {
        self.evidence
            .requests
            .iter()
            .filter(|r| !r.faults.is_empty() || r.status.is_none_or(|s| s >= 400))
            .map(|r| EvidenceLine { source: Source::Requests, text: r.line() })
            .collect()
    }
}

/// Something go started, in its `-x` trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Started {
    /// A request (`# get URL`).
    Request(String),
    /// Taking a module cache lock (`# lock PATH`, go 1.27).
    Lock(String),
    /// A git command, and whether it ended.
    Git {
        /// The command line.
        command: String,
        /// Its timing line (`0.071s # cd …; git …`) followed.
        done: bool,
    },
}

/// go's `module.MatchPrefixPatterns`: whether a prefix of `path` with as many elements as
/// one of the comma-separated glob `patterns` matches it.
pub fn matches_prefix_patterns(patterns: &str, path: &str) -> bool {
    patterns.split(',').map(str::trim).filter(|p| !p.is_empty()).any(|pattern| {
        let n = pattern.split('/').count();
        let elements: Vec<&str> = path.split('/').collect();
        elements.len() >= n
            && pattern
                .split('/')
                .zip(&elements)
                .all(|(glob, element)| glob_element(glob.as_bytes(), element.as_bytes()))
    })
}

/// `path.Match` for one path element: `*` any run of characters, `?` one.
fn glob_element(glob: &[u8], text: &[u8]) -> bool {
    match (glob.first(), text.first()) {
        (None, None) => true,
        (Some(b'*'), _) => glob_element(&glob[1..], text) || (!text.is_empty() && glob_element(glob, &text[1..])),
        (Some(b'?'), Some(_)) => glob_element(&glob[1..], &text[1..]),
        (Some(g), Some(t)) if g == t => glob_element(&glob[1..], &text[1..]),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_patterns_match_path_prefixes() {
        assert!(matches_prefix_patterns("corp.example", "corp.example/lib"));
        assert!(matches_prefix_patterns("github.com/acme/*,x.io", "github.com/acme/tool/v2"));
        assert!(matches_prefix_patterns("*.corp.example", "git.corp.example/lib"));
        assert!(!matches_prefix_patterns("corp.example", "corp.example.com/lib"));
        assert!(!matches_prefix_patterns("github.com/acme", "github.com/other/x"));
        assert!(!matches_prefix_patterns("", "corp.example/lib"));
    }
}
