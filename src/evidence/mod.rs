//! Evidence: what an expert looks at after a failed download, gathered into one value
//! the diagnosis reads. Every part is optional, so a bare stderr log is valid evidence.

pub mod log;

use serde::{Deserialize, Serialize};

pub use crate::gooutput::{ModuleRecord, TraceGet, parse_json_records, parse_trace};
use crate::runner::PhaseRecord;
use crate::runner::gocmd::GoOutcome;
use crate::vocab::{DnsRecord, EvidenceLine, Exit, RequestRecord, Source};
use crate::world::HostMap;

/// One error message go printed, with its continuation lines (`\tserver response: …`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorText {
    /// Where it was printed.
    pub source: Source,
    /// The message, continuation lines joined with `\n`.
    pub text: String,
}

impl ErrorText {
    /// As an evidence line.
    pub fn line(&self) -> EvidenceLine {
        EvidenceLine { source: self.source, text: self.text.clone() }
    }
}

/// Error messages in stderr: every line that is not part of the `-x` trace, with the
/// tab-indented lines that continue it.
pub fn stderr_errors(stderr: &str) -> Vec<ErrorText> {
    let mut errors: Vec<ErrorText> = Vec::new();
    for line in stderr.lines() {
        let trimmed = line.trim_end();
        if trimmed.is_empty() || trimmed.trim_start().starts_with("# ") || is_trace_command(trimmed) {
            continue;
        }
        if line.starts_with('\t')
            && let Some(last) = errors.last_mut()
        {
            last.text.push('\n');
            last.text.push_str(trimmed);
            continue;
        }
        errors.push(ErrorText { source: Source::Stderr, text: trimmed.to_string() });
    }
    errors
}

/// Commands that `-x` echoes (`cd dir`, `git …`, `mkdir …`) and go's progress lines
/// (`go: downloading m v1`) are not errors.
fn is_trace_command(line: &str) -> bool {
    const PROGRESS: &[&str] = &[
        "go: downloading ",
        "go: finding module for package ",
        "go: found ",
        "go: extracting ",
        "go: upgraded ",
        "go: downgraded ",
        "go: added ",
        "go: removed ",
    ];
    ["cd ", "git ", "mkdir ", "rm ", "mv ", "cp ", "cat ", "hg ", "svn ", "bzr ", "fossil ", RESOLVER_TRACE]
        .iter()
        .chain(PROGRESS)
        .any(|p| line.starts_with(p))
        || line
            .split_once("s # ")
            .is_some_and(|(t, _)| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
}

/// How `GODEBUG=netdns=go+2` (or `+1`) output starts: the resolver's decisions.
pub const RESOLVER_TRACE: &str = "go package net: ";

/// The resolver's decisions go printed (`GODEBUG=netdns=…+2`), without the prefix.
pub fn resolver_trace(stderr: &str) -> Vec<String> {
    stderr.lines().filter_map(|l| l.trim_start().strip_prefix(RESOLVER_TRACE)).map(str::to_string).collect()
}

/// Everything known about one go run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Evidence {
    /// The command line.
    pub command: Option<String>,
    /// How go ended (`None` when only a log is known).
    pub exit: Option<Exit>,
    /// Wall time in ms.
    pub duration_ms: Option<f64>,
    /// go's process id (as the module cache's lock table names it), when it ran here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// Standard error, host names as the scenario writes them.
    pub stderr: String,
    /// Standard output, likewise.
    pub stdout: String,
    /// Parsed `-json` records.
    pub records: Vec<ModuleRecord>,
    /// Parsed `-x` fetches.
    pub trace: Vec<TraceGet>,
    /// Requests the fakes saw during this run.
    pub requests: Vec<RequestRecord>,
    /// Queries the sealed world's resolver answered (or dropped) during this run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns: Vec<DnsRecord>,
    /// The environment as configured (scenario terms).
    pub env: Vec<(String, String)>,
    /// `go env -json` as the go command saw it, when known (a log that printed it, or
    /// `modchaos doctor`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub go_env: Option<std::collections::BTreeMap<String, String>>,
    /// The module cache when go failed (at the deadline, before it was killed) or, with
    /// `modchaos doctor`, when it ended: locks
    /// and their holders, partial and temporary files, permissions, free space.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<crate::modcache::CacheState>,
    /// Where the fakes listened.
    pub hosts: Option<HostMap>,
    /// The go version that ran (`go1.26.8`), when known: its wording differs from older
    /// and newer releases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub go_version: Option<String>,
    /// How the configuration differs from the run it is compared with (a recovery's
    /// rerun against the failed run: `GOPROXY: a,b → a|b`), one line per variable.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env_changes: Vec<String>,
}

impl Evidence {
    /// Evidence of a run of the harness: go's output rewritten to scenario names.
    pub fn from_run(
        outcome: &GoOutcome,
        map: &HostMap,
        requests: Vec<RequestRecord>,
        dns: Vec<DnsRecord>,
        env: Vec<(String, String)>,
    ) -> Evidence {
        let stderr = map.from_go(&outcome.stderr);
        let stdout = map.from_go(&outcome.stdout);
        Evidence {
            command: Some(outcome.command.clone()),
            exit: Some(outcome.exit),
            duration_ms: Some(outcome.duration_ms),
            pid: Some(outcome.pid),
            records: parse_json_records(&stdout),
            trace: parse_trace(&stderr),
            stderr,
            stdout,
            requests,
            dns,
            env,
            cache: outcome.cache.clone(),
            go_env: None,
            hosts: Some(map.clone()),
            go_version: None,
            env_changes: Vec::new(),
        }
    }

    /// Evidence of one phase of a scenario run, in the scenario's names.
    pub fn from_phase(phase: PhaseRecord) -> Evidence {
        let mut evidence = Evidence::from_run(&phase.outcome, &phase.hosts, phase.requests, phase.dns, phase.env);
        evidence.go_version = phase.go_version;
        evidence.env_changes = phase.env_changes;
        evidence
    }

    /// Evidence from a log: go's stderr, `-json` output, or a whole CI log. CI prefixes
    /// and colours are undone, other tools' lines left out, and the configuration the log
    /// shows (`go env`, `GOPROXY=…` lines) kept as the environment.
    pub fn from_log(text: &str) -> Evidence {
        let cleaned = log::clean(text);
        let go = log::go_output(&cleaned);
        let context = log::context(&cleaned);
        Evidence {
            command: context.command,
            records: parse_json_records(&go),
            trace: parse_trace(&go),
            stderr: go,
            env: context.env,
            go_env: context.go_env,
            go_version: context.go_version,
            ..Default::default()
        }
    }

    /// go's error messages: stderr's (trace lines left out), then those only found in
    /// `-json` records.
    pub fn errors(&self) -> Vec<ErrorText> {
        let mut errors = stderr_errors(&self.stderr);
        for record in &self.records {
            if let Some(error) = &record.error {
                let text = error.trim_end().to_string();
                if !errors.iter().any(|e| e.text.contains(text.as_str())) {
                    errors.push(ErrorText { source: Source::Json, text });
                }
            }
        }
        errors
    }

    /// The value of an environment variable as configured.
    pub fn env_var(&self, name: &str) -> Option<&str> {
        self.env.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stderr_errors_skip_trace_and_join_continuations() {
        let stderr = "# get https://p/x\n# get https://p/x: 500 Internal Server Error (0.01s)\ngo: m@v1: reading https://p/x: 500 Internal Server Error\n\tserver response: boom\ngo: other\n";
        let errors = stderr_errors(stderr);
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].text, "go: m@v1: reading https://p/x: 500 Internal Server Error\n\tserver response: boom");
        assert_eq!(errors[1].text, "go: other");
    }

    #[test]
    fn json_errors_are_included_once() {
        let evidence = Evidence {
            stderr: "go: m@v1: boom\n".into(),
            records: vec![
                ModuleRecord {
                    path: "m".into(),
                    version: "v1".into(),
                    error: Some("m@v1: boom".into()),
                    ..Default::default()
                },
                ModuleRecord {
                    path: "n".into(),
                    version: "v2".into(),
                    error: Some("n@v2: bang".into()),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let errors = evidence.errors();
        let texts: Vec<_> = errors.iter().map(|e| (e.source, e.text.as_str())).collect();
        assert_eq!(texts, [(Source::Stderr, "go: m@v1: boom"), (Source::Json, "n@v2: bang")]);
    }
}
