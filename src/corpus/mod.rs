//! The labelled corpus of real go outputs that measures the diagnosis (`tests/corpus/`):
//! one file per case, captured from real go runs by `examples/capture_corpus.rs`, with
//! the category the case truly belongs to (known from the fault that was injected, not
//! from the diagnosis). This module reads and writes the case format, turns a case into
//! the evidence a user would have (the log, the configuration, the exit status, the
//! module cache), and wraps logs the way CI systems do.
//!
//! A case file is a txtar archive: `key: value` header lines, then sections.
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

use crate::diagnose::Category;
use crate::evidence::Evidence;
use crate::modcache::CacheState;
use crate::vocab::Exit;

/// One labelled go run.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// The category it truly belongs to.
    pub label: Category,
    /// The go version that produced it (`go1.26.8`).
    pub go: String,
    /// Where it comes from: a scenario and phase, or a capture recipe.
    pub origin: String,
    /// The go command line.
    pub command: String,
    /// How go ended: a status, or `timeout` when it was killed at a deadline.
    pub exit: Exit,
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
            Exit::Code { code } => code.to_string(),
            Exit::Timeout => "timeout".into(),
            Exit::Signal { signal } => format!("signal {signal}"),
        };
        let mut out = format!(
            "label: {}\ngo: {}\norigin: {}\ncommand: {}\nexit: {exit}\n",
            self.label, self.go, self.origin, self.command
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
            "timeout" => Exit::Timeout,
            other => match other.strip_prefix("signal ") {
                Some(n) => Exit::Signal { signal: n.parse().map_err(|_| CaseError::Header("exit", other.into()))? },
                None => Exit::Code { code: other.parse().map_err(|_| CaseError::Header("exit", other.into()))? },
            },
        };
        let get = |name: &str| sections.iter().find(|(n, _)| n == name).map(|(_, b)| b.clone()).unwrap_or_default();
        let env =
            get("env").lines().filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_string(), v.to_string()))).collect();
        let cache = match get("cache") {
            text if text.trim().is_empty() => None,
            text => Some(serde_json::from_str(&text)?),
        };
        Ok(Case {
            label,
            go: field("go")?,
            origin: field("origin")?,
            command: field("command")?,
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
    /// plus the configuration, the exit status, go's command line and the module cache.
    pub fn evidence(&self, log: &str) -> Evidence {
        let mut evidence = Evidence::from_log(log);
        for (k, v) in &self.env {
            if !evidence.env.iter().any(|(var, _)| var == k) {
                evidence.env.push((k.clone(), v.clone()));
            }
        }
        evidence.exit = Some(self.exit);
        evidence.command = Some(self.command.clone());
        evidence.cache = self.cache.clone();
        evidence
    }
}

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

/// The ways CI systems dress a log up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CiStyle {
    /// GitHub Actions raw log: ISO timestamps with 7 fractional digits, ANSI colours,
    /// `##[group]` markers, CRLF.
    GithubActions,
    /// GitLab CI: section markers with `\r\e[0K`, colours.
    Gitlab,
    /// Jenkins with the timestamper plugin: `[2024-05-01T10:00:00.123Z] `.
    Jenkins,
    /// `docker build` with BuildKit: `#12 3.456 ` before every line of a RUN step.
    Buildkit,
}

impl CiStyle {
    /// Every style.
    pub const ALL: [CiStyle; 4] = [CiStyle::GithubActions, CiStyle::Gitlab, CiStyle::Jenkins, CiStyle::Buildkit];
}

/// `log` as `style` would show it, between other tools' lines (some of which mention
/// network errors, to tempt a careless reader).
pub fn ci_wrap(log: &str, style: CiStyle) -> String {
    const BEFORE: &[&str] = &[
        "Run actions/setup-go@v5",
        "\u{1b}[36;1mgo version\u{1b}[0m",
        "npm WARN deprecated inflight@1.0.6: This module is not supported",
        "curl: (56) Recv failure: Connection reset by peer",
        "Retrying in 5 seconds...",
    ];
    const AFTER: &[&str] = &[
        "\u{1b}[31mError: Process completed with exit code 1.\u{1b}[0m",
        "Post job cleanup.",
        "warning: failed to upload artifact: connection refused",
    ];
    let mut lines: Vec<String> = Vec::new();
    let mut second = 0u32;
    let mut stamp = |line: &str| -> String {
        second += 1;
        let (m, s) = (second / 60, second % 60);
        match style {
            CiStyle::GithubActions => {
                format!("2026-05-01T10:{m:02}:{s:02}.{:07}Z {line}\r", second * 1234 % 10_000_000)
            }
            CiStyle::Gitlab => line.to_string(),
            CiStyle::Jenkins => format!("[2026-05-01T10:{m:02}:{s:02}.{:03}Z] {line}", second * 7 % 1000),
            CiStyle::Buildkit => format!("#9 {}.{:03} {line}", second / 10, second * 37 % 1000),
        }
    };
    match style {
        CiStyle::GithubActions => lines.push(stamp("##[group]Run go mod download")),
        CiStyle::Gitlab => {
            lines.push("section_start:1746093600:step_script\r\u{1b}[0K\u{1b}[0KExecuting \"step_script\" stage".into())
        }
        CiStyle::Jenkins | CiStyle::Buildkit => {}
    }
    for line in BEFORE {
        lines.push(stamp(line));
    }
    if style == CiStyle::Buildkit {
        lines.push("#9 [builder 4/7] RUN go mod download -x".into());
    }
    for line in log.lines() {
        let coloured = if line.starts_with("go: ") { format!("\u{1b}[0m{line}\u{1b}[0m") } else { line.to_string() };
        lines.push(stamp(&coloured));
    }
    for line in AFTER {
        lines.push(stamp(line));
    }
    match style {
        CiStyle::GithubActions => lines.push(stamp("##[endgroup]")),
        CiStyle::Gitlab => lines.push("section_end:1746093700:step_script\r\u{1b}[0K".into()),
        CiStyle::Buildkit => lines.push(
            "#9 ERROR: process \"/bin/sh -c go mod download -x\" did not complete successfully: exit code: 1".into(),
        ),
        CiStyle::Jenkins => {}
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_round_trip() {
        let case = Case {
            label: Category::ProxyNotFound,
            go: "go1.26.8".into(),
            origin: "test".into(),
            command: "go mod download -x m@v1".into(),
            exit: Exit::Timeout,
            env: vec![("GOPROXY".into(), "https://p,direct".into())],
            stderr: "go: m@v1: reading https://p/m/@v/v1.info: 404 Not Found\n".into(),
            stdout: String::new(),
            cache: Some(CacheState::default()),
        };
        assert_eq!(Case::parse(&case.to_text()).unwrap(), case);
        assert!(Case::parse("go: x\n").is_err());
    }

    #[test]
    fn wrapped_logs_still_read_as_the_log() {
        let log = "go: m@v1: reading https://p/m/@v/v1.info: 500 Internal Server Error\n\tserver response: boom\n";
        for style in CiStyle::ALL {
            let wrapped = ci_wrap(log, style);
            assert_ne!(wrapped, log);
            let evidence = Evidence::from_log(&wrapped);
            assert!(evidence.stderr.contains("reading https://p/m/@v/v1.info: 500"), "{style:?}: {}", evidence.stderr);
            assert!(!evidence.stderr.contains("curl"), "{style:?}: another tool's line kept: {}", evidence.stderr);
        }
    }
}
