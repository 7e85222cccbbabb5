//! Evidence: what an expert looks at after a failed download, gathered into one value
//! the diagnosis reads. Every part is optional, so a bare stderr log is valid evidence.

pub mod log;

use std::sync::LazyLock;

use regex::Regex;
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

/// Error messages in stderr: every line that is not part of the `-x` trace, progress or
/// a `-json` record, with the tab-indented lines that continue it.
pub fn stderr_errors(stderr: &str) -> Vec<ErrorText> {
    static TEST_OUTPUT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?:=== (?:RUN|PAUSE|CONT|NAME) |--- (?:PASS|FAIL|SKIP): |(?:PASS|FAIL)$|FAIL\t|ok  \t|\?   \t)")
            .expect("test output pattern compiles")
    });
    let mut errors: Vec<ErrorText> = Vec::new();
    // `-json` records on the same stream (a pasted log has both): read as records.
    let mut in_json = false;
    // Whether indented lines continue the last error (not a skipped line: a test's own
    // log lines under `--- FAIL:` are the test's, not go's).
    let mut attached = false;
    for line in stderr.lines() {
        let trimmed = line.trim_end();
        if in_json || trimmed == "{" {
            in_json = !trimmed.starts_with('}');
            attached = false;
            continue;
        }
        if trimmed.is_empty() {
            continue;
        }
        // Continuations are tab-indented (or, pasted, space-indented).
        let promised = line.starts_with("  ") && errors.last().is_some_and(|e| e.text.ends_with(':'));
        if line.starts_with('\t') || line.starts_with("    ") || promised {
            if attached && let Some(last) = errors.last_mut() {
                last.text.push('\n');
                last.text.push_str(trimmed);
            }
            continue;
        }
        if trimmed.starts_with("# ") || is_trace_command(trimmed) || TEST_OUTPUT.is_match(trimmed) {
            attached = false;
            continue;
        }
        errors.push(ErrorText { source: Source::Stderr, text: trimmed.to_string() });
        attached = true;
    }
    errors
}

/// A line of `go list -m`'s listing: `path version`, with `go list -m -u`'s update
/// (`[v1.2.0]`) and its marks for deprecated and retracted versions. Unanchored.
pub const LISTING_LINE: &str = concat!(
    r"[A-Za-z0-9._~/!-]+\.[A-Za-z0-9._~/!-]+ v\d+\.\d+\.\d+\S*",
    r"(?: \[v\S+\])?(?: \((?:deprecated|retracted)\))*(?: \[v\S+\])?"
);

/// A line `go mod tidy -v` (`unused M`) or `go mod vendor -v` prints while it works:
/// `## explicit`, and vendor/modules.txt's `# m v1.0.0`, `# m v1.0.0 => ./m` (never a
/// `# pkg` alone, a compile error's header). Unanchored.
pub const TIDY_VENDOR_LINE: &str = r"(?:unused [\w.~-]+\.[\w.~/-]+|## explicit(?:; go \d\S*)?|# [\w.~/-]+ (?:v\d\S*(?: => \S+(?: v\d\S*)?)?|=> \S+(?: v\d\S*)?))";

/// Commands that `-x` echoes (`cd dir`, `git …`, `mkdir …`, `WORK=…`), go's progress
/// lines (`go: downloading m v1`), `go list -m`'s `path version` lines and the `-v` output
/// of `go mod tidy` and `go mod vendor` are not errors.
fn is_trace_command(line: &str) -> bool {
    static LISTING: LazyLock<Regex> = LazyLock::new(|| {
        // ... and what `go mod tidy -v` and `go mod vendor -v` print.
        Regex::new(&format!(r"^(?:WORK=\S*go-build\d*|{LISTING_LINE}|{TIDY_VENDOR_LINE})$"))
            .expect("listing pattern compiles")
    });
    const PROGRESS: &[&str] = &[
        "go: downloading ",
        "go: finding ",
        "go: found ",
        "go: extracting ",
        "go: upgraded ",
        "go: downgraded ",
        "go: added ",
        "go: removed ",
        "go get: added ",
        "go get: upgraded ",
        "go get: downgraded ",
        "go get: removed ",
        "go: creating new go.mod",
        "go: copying requirements from ",
        "go: to add module requirements and sums:",
        "go: no module dependencies to download",
        // go at work on go.mod and its toolchain (go ≥ 1.21): no failure.
        "go: upgrading toolchain to ",
        "go: using local toolchain ",
        "go: using go1",
        "go: dropping requirement on excluded version ",
        "go: skipping download of ",
        "go: no dependencies to vendor",
        "all modules verified",
        "go version go",
    ];
    // `go get`'s report of a requirement it changed is progress (`go: upgraded m v1.0.0 =>
    // v1.5.2`), unless it goes on with why the change failed (`…: error finding sum for
    // m@v1.5.2: module lookup disabled by GOPROXY=off`).
    const CHANGED: &[&str] = &["go: upgraded ", "go: downgraded ", "go: added ", "go: removed "];
    if CHANGED.iter().any(|p| line.starts_with(p)) && line.matches(": ").count() > 1 {
        return false;
    }
    ["cd ", "git ", "mkdir ", "rm ", "mv ", "cp ", "cat ", "hg ", "svn ", "bzr ", "fossil ", RESOLVER_TRACE]
        .iter()
        .chain(PROGRESS)
        .any(|p| line.starts_with(p))
        || LISTING.is_match(line)
        || line
            .split_once("s # ")
            .is_some_and(|(t, _)| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
}

/// Whether a message is one go prints on success too: a warning about a deprecated or
/// retracted module or a deprecated command, or about a cache it could not update
/// (`go: writing stat cache: … permission denied`: go goes on without it).
pub fn is_warning(text: &str) -> bool {
    static WARNING: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"^(?:go: warning: |go: module \S+ is deprecated|go: to switch to the latest unretracted version",
            r"|go: writing (?:stat|go\.mod) cache: |go: ignoring go\.mod in \$?GOPATH",
            r"|go(?: get)?: installing executables with 'go get' in module mode is deprecated",
            r"|go: -d flag is deprecated|go get: -d flag is deprecated|PASS$",
            // go ≥ 1.21 re-running itself as the toolchain a module needs (it goes on).
            r"|go: (?:\S+|updating go\.mod|module \S+) requires go >= \S+; switching to go\S+$",
            // GOPATH naming GOROOT: newer go's words (1.26), then go 1.19's.
            r"|warning: both GOPATH and GOROOT are the same directory|warning: GOPATH set to GOROOT \(",
            r"|warning: go env -w \S+ does not override conflicting OS environment variable)",
        ))
        .expect("warning pattern compiles")
    });
    WARNING.is_match(text)
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
    /// The line saying the run was killed before go could end it (a CI system's
    /// cancellation or timeout message, `signal: killed`, exit status 137), when a log
    /// says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub killed: Option<String>,
    /// A goroutine dump in the log showing go blocked on a file lock (the frame), when a
    /// log has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_wait: Option<String>,
    /// The first line of a Go program's crash (`fatal error: runtime: out of memory`, a
    /// `panic:` with its goroutine trace), when go's output or the log has one: go did
    /// not finish, whatever else it printed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crashed: Option<String>,
    /// The context the evidence carries besides go's output, and where each piece came
    /// from (`exit status 1 (the log: "ERROR: Job failed: exit code 1")`, `GOPROXY
    /// (--env ci.env)`): the verdict says what it used.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<String>,
    /// The bare Go error values a log was read from when it showed none of go's own lines
    /// (`log::go_fragments`): any Go program prints such values, so no verdict resting on
    /// them is more than a guess.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fragmentary: Option<String>,
    /// The log as pasted, cleaned of CI prefixes and colours (from a log only): when
    /// nothing in go's lines is recognised, the diagnosis reads it again, liberally
    /// ([`log::liberal`]). Not kept in journals (`stderr` holds go's part of it), so
    /// evidence read back from JSON gets the first reading only.
    #[serde(skip)]
    pub pasted: Option<String>,
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
        let crashed = log::go_crash(&stderr);
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
            killed: None,
            lock_wait: None,
            crashed,
            context: Vec::new(),
            fragmentary: None,
            pasted: None,
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
        let mut go = log::go_output(&cleaned);
        let context = log::context(&cleaned);
        let mut notes = Vec::new();
        // None of go's own lines: read the bare error values the log has, and say so. (Where
        // go's lines are there, even only progress or a trace, they say what go did.) Every
        // Go program words its errors so (kubectl, docker, terraform): only where the log
        // shows go at work — a go command, a module proxy's path, the module cache, go's
        // hints — or is nothing but such values (a paste cut down to the error) are they
        // taken for go's.
        let mut fragmentary = None;
        // (Not beside a Go program's crash: its values are the program's, printed before it
        // died — `go run`'s program, a test binary.)
        if go.trim().is_empty()
            && context.crash.is_none()
            && (log::shows_go_at_work(&cleaned) || log::only_error_values(&cleaned))
        {
            let fragments = log::go_fragments(&cleaned);
            if let Some(first) = fragments.lines().next() {
                notes.push(format!(
                    "none of go's own lines: read from bare error values, which any Go program prints (\"{first}\")"
                ));
                go.push_str(&fragments);
                fragmentary = Some(fragments);
            }
        }
        if let Some((code, line)) = &context.exit {
            notes.push(format!("exit status {code} (the log: \"{line}\")"));
        }
        if let Some(line) = &context.killed {
            notes.push(format!("killed before go ended (the log: \"{line}\")"));
        }
        if !context.env.is_empty() {
            let vars: Vec<&str> = context.env.iter().map(|(k, _)| k.as_str()).collect();
            notes.push(format!("{} (lines of the log)", vars.join(", ")));
        }
        if context.go_env.is_some() {
            notes.push("go env -json (in the log)".to_string());
        }
        Evidence {
            command: context.command,
            exit: context.exit.map(|(code, _)| Exit::Code { code }),
            records: parse_json_records(&go),
            trace: parse_trace(&go),
            stderr: go,
            env: context.env,
            go_env: context.go_env,
            go_version: context.go_version,
            killed: context.killed,
            lock_wait: context.lock_wait,
            crashed: context.crash,
            context: notes,
            fragmentary,
            pasted: Some(cleaned),
            ..Default::default()
        }
    }

    /// Adds the configuration a user gives besides the log (`--env`): its variables and
    /// `go env -json` win over the log's; `from` says where it came from.
    pub fn given_env(&mut self, given: log::LogContext, from: &str) {
        let mut names: Vec<String> = Vec::new();
        for (k, v) in given.env {
            self.env.retain(|(var, _)| *var != k);
            names.push(k.clone());
            self.env.push((k, v));
        }
        if let Some(go_env) = given.go_env {
            names.push("go env -json".into());
            self.go_env = Some(go_env);
        }
        if !names.is_empty() {
            self.context.push(format!("{} ({from})", names.join(", ")));
        }
    }

    /// Sets how go ended, given by the user (`--exit-status`): it wins over what the log
    /// says.
    pub fn given_exit(&mut self, exit: Exit, from: &str) {
        self.context.retain(|c| !c.starts_with("exit status "));
        self.exit = Some(exit);
        let note = match exit {
            Exit::Code { code } if log::KILLED_STATUSES.contains(&code) => {
                format!("exit status {code} ({from}): killed before go ended")
            }
            other => format!("{} ({from})", other.describe()),
        };
        self.context.push(note);
    }

    /// Sets how long go ran, given by the user (`--duration`).
    pub fn given_duration(&mut self, duration: std::time::Duration, from: &str) {
        self.duration_ms = Some(duration.as_secs_f64() * 1000.0);
        self.context.push(format!("ran for {} ({from})", humantime::format_duration(duration)));
    }

    /// go's error messages: stderr's (trace lines left out), then those only found in
    /// `-json` records.
    pub fn errors(&self) -> Vec<ErrorText> {
        let mut errors = stderr_errors(&self.stderr);
        for record in &self.records {
            if let Some(error) = &record.error {
                let text = error.trim_end().to_string();
                // A warning's words are no error of their own: a record's error stays.
                if !errors.iter().any(|e| !is_warning(&e.text) && e.text.contains(text.as_str())) {
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
