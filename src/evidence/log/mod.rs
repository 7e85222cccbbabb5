//! Reading go's output out of whatever a user pastes: a bare stderr, `go mod download
//! -json` output, or a whole CI log with timestamps, ANSI colours, CRLF line ends,
//! progress-bar carriage returns and other tools' output around it.
//!
//! [`clean`] undoes what the CI system added to every line; [`go_output`] keeps only the
//! lines go itself printed (so that another tool's "connection reset" is never taken for
//! go's); [`context`] picks up what the log says about the configuration (`go env`
//! output, `GOPROXY=…` lines, `go version`).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

/// `text` with ANSI escapes removed, line ends normalised, carriage-return overwrites
/// resolved (the last write wins, as on a terminal) and CI prefixes (timestamps, step
/// names, BuildKit step numbers, GitHub/GitLab/Buildkite markers) stripped.
pub fn clean(text: &str) -> String {
    let text = strip_ansi(text);
    let mut out = String::with_capacity(text.len());
    for raw in text.split_terminator('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        // A bare CR returns to the start of the line: what follows overwrote it.
        let line = raw.rsplit('\r').find(|segment| !segment.is_empty()).unwrap_or("");
        if is_ci_marker(line) {
            continue;
        }
        out.push_str(strip_prefixes(line));
        out.push('\n');
    }
    if !text.ends_with('\n') {
        out.pop();
    }
    out
}

/// Removes CSI (`ESC [ … letter`), OSC (`ESC ] … BEL/ST`) and two-byte escapes, and
/// Buildkite's `_bk;t=…` timestamps.
fn strip_ansi(text: &str) -> String {
    static ESCAPES: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]|_bk;t=\d+\x07")
            .expect("escape pattern compiles")
    });
    ESCAPES.replace_all(text, "").into_owned()
}

/// Lines that only structure a CI log (GitLab sections, GitHub groups) and say nothing.
fn is_ci_marker(line: &str) -> bool {
    static MARKER: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?:section_(?:start|end):\d+:\S*|##\[(?:group|endgroup)\].*|::(?:group|endgroup)::.*)$")
            .expect("marker pattern compiles")
    });
    MARKER.is_match(line.trim_end())
}

/// Strips the prefixes CI systems put before each line, repeatedly (a BuildKit step
/// inside a timestamped GitHub log has both).
fn strip_prefixes(mut line: &str) -> &str {
    static PREFIX: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"^(?:",
            // ISO timestamps (GitHub Actions, GitLab, most log shippers), after the job and
            // step names that `gh run view --log` puts first, tab-separated.
            r"(?:[^\t\n]+\t[^\t\n]+\t)?\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\s",
            // Bracketed timestamps (Jenkins timestamper and friends).
            r"|\[\d{4}-\d{2}-\d{2}[T ][^\]\n]{0,40}\]\s?",
            r"|\[\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\]\s?",
            // A bare time of day.
            r"|\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\s",
            // BuildKit: step number and seconds (`#12 3.456 `).
            r"|#\d+ \d+\.\d+ ",
            // GitHub annotations.
            r"|##\[(?:error|warning|debug|notice|command)\]",
            r"|::(?:error|warning|notice|debug)(?: [^:]*)?::",
            r")"
        ))
        .expect("prefix pattern compiles")
    });
    while let Some(m) = PREFIX.find(line) {
        if m.end() == 0 {
            break;
        }
        line = &line[m.end()..];
    }
    line
}

/// What go itself printed, among the lines of a cleaned log: its messages (`go: …`,
/// `module@version: …`, `verifying …`, `file.go:1:2: …`), the `-x` trace, the `-json`
/// records, the security-error banner, and the tab-indented lines continuing any of
/// them. Everything else (other tools, the shell) is left out.
pub fn go_output(cleaned: &str) -> String {
    static GO_LINE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"^(?:go: |go(?:\d+(?:\.\d+)*)?: |verifying \S+|SECURITY ERROR|This download does NOT match",
            r"|For more information, see 'go help module-auth'|# get |# cd |\d+\.\d+s # |go package net: ",
            r"|[A-Za-z0-9._~/!-]+@[A-Za-z0-9._+~!-]+: |module [A-Za-z0-9._~/!-]+: ",
            r"|[A-Za-z0-9._/-]+\.go:\d+:\d+: |pattern \S+: |build \S+: |package \S+ imports |cannot find module",
            r"|\S+@\S+ \(replaced by |(?:[A-Za-z0-9._~/!-]+ )?imports$|\S+ (?:imports|requires)$)",
        ))
        .expect("go line pattern compiles")
    });
    let mut out = String::new();
    let mut in_json = false;
    let mut continuing = false;
    for line in cleaned.lines() {
        let keep = if in_json {
            if line.starts_with('}') {
                in_json = false;
            }
            true
        } else if line == "{" {
            in_json = true;
            true
        } else if line.starts_with('\t') || line.starts_with("        ") {
            continuing
        } else {
            GO_LINE.is_match(line)
        };
        continuing = keep;
        if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// What a log says about the run's configuration and context.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogContext {
    /// Variables the log shows (`go env` output, `GOPROXY=…` lines, a step's `env:`
    /// block), last one wins.
    pub env: Vec<(String, String)>,
    /// `go env -json` output, when the log has it.
    pub go_env: Option<BTreeMap<String, String>>,
    /// `go1.26.8`, from `go version` output.
    pub go_version: Option<String>,
    /// The go command line run, when the log echoes it (`$ go mod download`, `+ go get …`).
    pub command: Option<String>,
}

/// Variables that matter to a download; others in the log are ignored.
fn relevant(var: &str) -> bool {
    var.starts_with("GO")
        || matches!(
            var,
            "HTTPS_PROXY"
                | "https_proxy"
                | "HTTP_PROXY"
                | "http_proxy"
                | "NO_PROXY"
                | "no_proxy"
                | "ALL_PROXY"
                | "all_proxy"
                | "SSL_CERT_FILE"
                | "SSL_CERT_DIR"
                | "GIT_TERMINAL_PROMPT"
                | "NETRC"
        )
}

/// Reads the configuration and context a cleaned log shows.
pub fn context(cleaned: &str) -> LogContext {
    static ASSIGN: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"^\s*(?:\$ |\+ |> )?(?:export |set |\$env:)?([A-Za-z_][A-Za-z0-9_]*)=(?:'([^']*)'|"([^"]*)"|(\S*))\s*(.*)$"#)
            .expect("assignment pattern compiles")
    });
    static YAML_ENV: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^\s+([A-Z][A-Z0-9_]*): (.*)$").expect("yaml env pattern compiles"));
    static VERSION: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\bgo version (go\d+(?:\.\d+)*\S*) ").expect("version pattern compiles"));
    static COMMAND: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?:\$ |\+ |> |Run |\[command\])?\s*((?:[A-Z_]+=\S+ )*go (?:mod|get|build|list|install|test|run|work|vet)\b.*)$")
            .expect("command pattern compiles")
    });
    let mut context = LogContext::default();
    let set = |env: &mut Vec<(String, String)>, var: &str, value: &str| {
        env.retain(|(k, _)| k != var);
        env.push((var.to_string(), value.to_string()));
    };
    for line in cleaned.lines() {
        if let Some(caps) = VERSION.captures(line) {
            context.go_version = Some(caps[1].to_string());
        }
        if let Some(caps) = ASSIGN.captures(line)
            && relevant(&caps[1])
        {
            let value = caps.get(2).or(caps.get(3)).or(caps.get(4)).map_or("", |m| m.as_str());
            set(&mut context.env, &caps[1], value);
            // `GOPROXY=x go mod download …`: the command follows the assignment.
            if let Some(rest) = caps.get(5).map(|m| m.as_str()).filter(|r| r.starts_with("go "))
                && context.command.is_none()
            {
                context.command = Some(rest.to_string());
            }
            continue;
        }
        if let Some(caps) = YAML_ENV.captures(line)
            && relevant(&caps[1])
        {
            set(&mut context.env, &caps[1], caps[2].trim().trim_matches(['"', '\'']));
            continue;
        }
        if context.command.is_none()
            && let Some(caps) = COMMAND.captures(line)
        {
            let command = caps[1].trim();
            let command =
                command.rsplit_once(" go ").filter(|(vars, _)| vars.contains('=')).map_or(command, |(_, c)| c);
            let command = if command.starts_with("go ") { command.to_string() } else { format!("go {command}") };
            context.command = Some(command);
        }
    }
    context.go_env = go_env_json(cleaned);
    context
}

/// The first `go env -json` object in the log (it has `GOROOT` and `GOPROXY` keys).
fn go_env_json(cleaned: &str) -> Option<BTreeMap<String, String>> {
    let mut rest = cleaned;
    while let Some(start) = rest.find("{\n") {
        let candidate = &rest[start..];
        let mut stream =
            serde_json::Deserializer::from_str(candidate).into_iter::<BTreeMap<String, serde_json::Value>>();
        if let Some(Ok(map)) = stream.next()
            && map.contains_key("GOROOT")
            && map.contains_key("GOPROXY")
        {
            return Some(
                map.into_iter().map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_string))).collect(),
            );
        }
        rest = &candidate[2..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ansi_timestamps_and_line_ends_are_undone() {
        let log = "2024-05-01T10:00:00.1234567Z \x1b[36;1mgo mod download\x1b[0m\r\n\
                   2024-05-01T10:00:01.0000000Z go: corp.example/lib@v1.0.0: reading x: 500\r\n\
                   [2024-05-01T10:00:02.000Z] \tserver response: boom\r\n\
                   10:00:03 go: done\n\
                   #12 3.456 go: downloading a v1\n\
                   ##[error]Process completed with exit code 1.\n\
                   downloading 10%\r downloading 50%\rdownloaded\n";
        assert_eq!(
            clean(log),
            "go mod download\ngo: corp.example/lib@v1.0.0: reading x: 500\n\tserver response: boom\ngo: done\n\
             go: downloading a v1\nProcess completed with exit code 1.\ndownloaded\n"
        );
    }

    #[test]
    fn gitlab_sections_and_gh_step_prefixes_go() {
        let log = "section_start:1700000000:step_script\r\x1b[0KExecuting \"step_script\"\n\
                   build\tRun go mod download\t2024-05-01T10:00:00.0000000Z go: m@v1: boom\n\
                   section_end:1700000001:step_script\r\x1b[0K\n";
        assert_eq!(clean(log), "Executing \"step_script\"\ngo: m@v1: boom\n");
    }

    #[test]
    fn only_go_lines_survive() {
        let log = "npm ERR! network read ECONNRESET\n\
                   curl: (56) Recv failure: Connection reset by peer\n\
                   go: corp.example/lib@v1.0.0: Get \"https://p/x\": read: connection reset by peer\n\
                   \tmore detail\n\
                   Error: Process completed with exit code 1.\n\
                   {\n\t\"Path\": \"m\",\n\t\"Error\": \"boom\"\n}\n\
                   main.go:3:8: example.com/m@v1.2.3: missing go.sum entry\n\
                   verifying m@v1: checksum mismatch\n\
                   \tdownloaded: h1:a\n\
                   SECURITY ERROR\n";
        let kept = go_output(log);
        assert!(!kept.contains("npm") && !kept.contains("curl") && !kept.contains("Process completed"), "{kept}");
        for line in
            ["go: corp.example", "\tmore detail", "\"Error\": \"boom\"", "main.go:3:8", "\tdownloaded", "SECURITY"]
        {
            assert!(kept.contains(line), "{line} missing from {kept}");
        }
    }

    #[test]
    fn configuration_from_the_log() {
        let log = "go version go1.22.1 linux/amd64\n\
                   GOPROXY='https://proxy.corp.example,direct'\n\
                   GONOSUMDB=''\n\
                   env:\n  HTTPS_PROXY: http://proxy.corp.example:3128\n  FOO: bar\n\
                   $ GOFLAGS=-mod=mod go mod download -x\n\
                   {\n\t\"GOPROXY\": \"https://other\",\n\t\"GOROOT\": \"/usr/local/go\"\n}\n";
        let c = context(&clean(log));
        assert_eq!(c.go_version.as_deref(), Some("go1.22.1"));
        let get = |k: &str| c.env.iter().find(|(v, _)| v == k).map(|(_, v)| v.as_str());
        assert_eq!(get("GOPROXY"), Some("https://proxy.corp.example,direct"));
        assert_eq!(get("HTTPS_PROXY"), Some("http://proxy.corp.example:3128"));
        assert_eq!(get("GOFLAGS"), Some("-mod=mod"));
        assert_eq!(get("FOO"), None);
        assert_eq!(c.command.as_deref(), Some("go mod download -x"));
        assert_eq!(c.go_env.as_ref().and_then(|e| e.get("GOPROXY")).map(String::as_str), Some("https://other"));
    }
}
