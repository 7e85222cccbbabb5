//! Evidence: what an expert looks at after a failed download, gathered into one value
//! the diagnosis reads. Every part is optional, so a bare stderr log is valid evidence.

pub mod log;

use serde::{Deserialize, Serialize};

use crate::gocmd::GoOutcome;
use crate::vocab::{DnsRecord, EvidenceLine, Exit, RequestRecord, Source};
use crate::world::HostMap;

/// One object of `go mod download -json` output.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ModuleRecord {
    /// Module path.
    pub path: String,
    /// Version.
    #[serde(default)]
    pub version: String,
    /// Error, when this module failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Cached `.info` file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<String>,
    /// Cached `.mod` file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub go_mod: Option<String>,
    /// Cached `.zip` file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
    /// Extracted directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<String>,
    /// `h1:` of the zip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sum: Option<String>,
    /// `h1:` of the go.mod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub go_mod_sum: Option<String>,
}

/// One `# get` line of go's `-x` trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceGet {
    /// The URL go fetched.
    pub url: String,
    /// What followed `: ` on the completion line ("200 OK (0.012s)" or an error); `None`
    /// when only the start line was printed.
    pub result: Option<String>,
}

impl TraceGet {
    /// The HTTP status of a completed fetch.
    pub fn status(&self) -> Option<u16> {
        self.result.as_deref()?.split_whitespace().next()?.parse().ok()
    }
}

/// Parses every `-json` object in go's stdout (objects are concatenated, pretty-printed).
pub fn parse_json_records(stdout: &str) -> Vec<ModuleRecord> {
    let Some(start) = stdout.find('{') else {
        return Vec::new();
    };
    serde_json::Deserializer::from_str(&stdout[start..]).into_iter::<ModuleRecord>().map_while(Result::ok).collect()
}

/// Parses the `# get URL` / `# get URL: result` lines of a `-x` trace.
pub fn parse_trace(stderr: &str) -> Vec<TraceGet> {
    let mut gets: Vec<TraceGet> = Vec::new();
    for line in stderr.lines() {
        let Some(rest) = line.trim_start().strip_prefix("# get ") else {
            continue;
        };
        match rest.split_once(": ") {
            Some((url, result)) => match gets.iter_mut().rev().find(|g| g.url == url && g.result.is_none()) {
                Some(open) => open.result = Some(result.to_string()),
                None => gets.push(TraceGet { url: url.to_string(), result: Some(result.to_string()) }),
            },
            None => gets.push(TraceGet { url: rest.trim().to_string(), result: None }),
        }
    }
    gets
}

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

    /// One line per variable that differs between `before` and `after`
    /// (`GOPROXY: a,b → a|b`, `GONOSUMDB: (unset) → corp.example`).
    pub fn env_diff(before: &[(String, String)], after: &[(String, String)]) -> Vec<String> {
        let get = |env: &[(String, String)], k: &str| env.iter().rev().find(|(v, _)| v == k).map(|(_, v)| v.clone());
        let mut names: Vec<&String> = before.iter().chain(after).map(|(k, _)| k).collect();
        names.sort();
        names.dedup();
        names
            .into_iter()
            .filter_map(|k| {
                let (old, new) = (get(before, k), get(after, k));
                (old != new).then(|| {
                    let show = |v: Option<String>| v.unwrap_or_else(|| "(unset)".into());
                    format!("{k}: {} → {}", show(old), show(new))
                })
            })
            .collect()
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
    fn json_records_are_concatenated_objects() {
        let out = "{\n\t\"Path\": \"a.example/m\",\n\t\"Version\": \"v1.0.0\",\n\t\"Sum\": \"h1:x\"\n}\n{\n\t\"Path\": \"b.example/m\",\n\t\"Version\": \"v2.0.0\",\n\t\"Error\": \"boom\"\n}\n";
        let records = parse_json_records(out);
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].sum.as_deref(), Some("h1:x"));
        assert_eq!(records[1].error.as_deref(), Some("boom"));
        assert!(parse_json_records("go: nothing\n").is_empty());
    }

    #[test]
    fn trace_pairs_start_and_completion_lines() {
        let err = "# get https://p.example/m/@v/list\n# get https://p.example/m/@v/list: 200 OK (0.002s)\n# get https://p.example/m/@v/v1.zip\n# get https://p.example/m/@v/v1.zip: Get \"x\": EOF\n# get https://q.example/z\n";
        let gets = parse_trace(err);
        assert_eq!(gets.len(), 3);
        assert_eq!(gets[0].status(), Some(200));
        assert_eq!(gets[1].result.as_deref(), Some("Get \"x\": EOF"));
        assert_eq!(gets[2].result, None);
    }

    #[test]
    fn stderr_errors_skip_trace_and_join_continuations() {
        let stderr = "# get https://p/x\n# get https://p/x: 500 Internal Server Error (0.01s)\ngo: m@v1: reading https://p/x: 500 Internal Server Error\n\tserver response: boom\ngo: other\n";
        let errors = stderr_errors(stderr);
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].text, "go: m@v1: reading https://p/x: 500 Internal Server Error\n\tserver response: boom");
        assert_eq!(errors[1].text, "go: other");
    }

    #[test]
    fn env_differences_name_every_changed_variable() {
        let before = [("GOPROXY".to_string(), "a,b".to_string()), ("GOFLAGS".to_string(), "-x".to_string())];
        let after = [("GOPROXY".to_string(), "a|b".to_string()), ("GONOSUMDB".to_string(), "corp.example".to_string())];
        assert_eq!(
            Evidence::env_diff(&before, &after),
            ["GOFLAGS: -x → (unset)", "GONOSUMDB: (unset) → corp.example", "GOPROXY: a,b → a|b"]
        );
        assert!(Evidence::env_diff(&before, &before).is_empty());
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
