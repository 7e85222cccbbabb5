//! Pre-digested evidence for the rules: go's error messages gathered from stderr and
//! from `-json` records (go puts some errors only in one of them), trace fetches, the
//! request log, the configured environment.

use crate::evidence::{ErrorText, Evidence};
use crate::vocab::{EvidenceLine, Exit, ExitExpectation, Source};

/// What the rules look at.
pub struct Facts<'a> {
    /// The evidence itself.
    pub evidence: &'a Evidence,
    /// go's error messages, stderr first, then `-json` records.
    pub errors: Vec<ErrorText>,
    /// How the run ended, when known.
    pub exit: Option<ExitExpectation>,
}

impl<'a> Facts<'a> {
    /// Digests `evidence`.
    pub fn new(evidence: &'a Evidence) -> Facts<'a> {
        Facts { evidence, errors: evidence.errors(), exit: evidence.exit.map(Exit::kind) }
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
