//! Pre-digested evidence for the rules: go's error messages gathered from stderr and
//! from `-json` records (go puts some errors only in one of them), trace fetches, the
//! request log, the configured environment.

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
        let (warnings, errors) = evidence.errors().into_iter().partition(|e| is_warning(&e.text));
        let killed = evidence.killed.is_some()
            || match evidence.exit {
                Some(Exit::Timeout | Exit::Signal { .. }) => true,
                Some(Exit::Code { code }) => KILLED_STATUSES.contains(&code),
                None => false,
            };
        Facts { evidence, errors, warnings, exit: evidence.exit.map(Exit::kind), killed }
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
