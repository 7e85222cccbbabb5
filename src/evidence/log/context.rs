//! What a log says about the run besides go's messages: the configuration (`go env`
//! output, `GOPROXY=…` lines, a step's `env:` block, `go env -json`), the go version,
//! the command line, and how the run ended — the exit status a CI system printed, or
//! its message that the job was cancelled or timed out.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

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
    /// The exit status the CI system or a wrapping tool printed (`Process completed with
    /// exit code 1.`, `ERROR: Job failed: exit code 1`, `make: *** […] Error 2`, or 0 for
    /// `Job succeeded`), the last one, with its line.
    pub exit: Option<(i32, String)>,
    /// The line saying the run was killed: a CI cancellation or timeout message, `signal:
    /// killed`, `Killed`, or an exit status of 124, 137 or 143.
    pub killed: Option<String>,
    /// A goroutine dump of go (SIGQUIT, a stuck job's dump) blocked in a file lock: the
    /// frame that shows it (`cmd/go/internal/lockedfile…`, `syscall.Flock(…)`).
    pub lock_wait: Option<String>,
    /// The first line of a Go program's crash (`fatal error: runtime: out of memory`, a
    /// `panic:`), when its goroutine trace follows.
    pub crash: Option<String>,
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
        Regex::new(r#"^\s*(?:\$ |\+ |> |PS [^>\n]*> |[A-Za-z]:\\[^>\n]*> )?(?:export |set |\$env:)?([A-Za-z_][A-Za-z0-9_]*)=(?:'([^']*)'|"([^"]*)"|(\S*))\s*(.*)$"#)
            .expect("assignment pattern compiles")
    });
    static YAML_ENV: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^\s+([A-Z][A-Z0-9_]*): (.*)$").expect("yaml env pattern compiles"));
    static VERSION: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\bgo version (go\d+(?:\.\d+)*\S*) ").expect("version pattern compiles"));
    static COMMAND: LazyLock<Regex> = LazyLock::new(|| {
        // A shell's echo, GitHub's `Run `, or a Dockerfile's RUN step as BuildKit (`#9
        // [builder 4/7] RUN …`) and the classic builder (`Step 4/7 : RUN …`) show it.
        Regex::new(concat!(
            r"^(?:\$ |\+ |> |Run |\[command\]|(#\d+ \[[^\]\n]*\] |Step \d+/\d+ : )RUN (?:--\S+ )*(?:cd \S+ && )?)?",
            // (Kept with a wrapper that bounds or shapes the run: `timeout 5m go …`.)
            r"\s*((?:timeout(?: -\S+)* \d\S* |nice(?: -n \S+)? )?(?:[A-Z_]+=\S+ )*go (?:mod|get|build|list|install|test|run|work|vet)\b.*)$"
        ))
        .expect("command pattern compiles")
    });
    let mut context = LogContext::default();
    // Whether the command was read from a Dockerfile's RUN step.
    let mut from_run_step = false;
    let set = |env: &mut Vec<(String, String)>, var: &str, value: &str| {
        env.retain(|(k, _)| k != var);
        env.push((var.to_string(), value.to_string()));
    };
    // `go env GOPRIVATE GOPROXY` prints the values alone, one line each, in order.
    // (And a shell's `echo $HTTPS_PROXY` prints the one value.)
    static GO_ENV_QUERY: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"^(?:\S*[$#>] |[$>] |\+ )?(?:go env((?: [A-Z][A-Z0-9_]*)+)|echo \$\{?([A-Za-z_][A-Za-z0-9_]*)\}?)\s*$",
        )
        .expect("go env pattern compiles")
    });
    let mut queried: std::collections::VecDeque<String> = std::collections::VecDeque::new();
    for line in cleaned.lines() {
        if let Some(var) = queried.pop_front() {
            // The value, unless the output ended early (a prompt, go's next line).
            if COMMAND.is_match(line) || GO_ENV_QUERY.is_match(line) || line.starts_with(['$', '+', '#']) {
                queried.clear();
            } else {
                if relevant(&var) {
                    set(&mut context.env, &var, line.trim());
                }
                continue;
            }
        }
        if let Some(caps) = GO_ENV_QUERY.captures(line) {
            queried =
                caps.get(1).or(caps.get(2)).map_or("", |m| m.as_str()).split_whitespace().map(str::to_string).collect();
            continue;
        }
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
        // A Dockerfile's later RUN step ran after the earlier ones (a cached one did not
        // run at all): its command is the one whose output follows.
        if let Some(caps) = COMMAND.captures(line)
            && (context.command.is_none() || (caps.get(1).is_some() && from_run_step))
        {
            from_run_step = caps.get(1).is_some();
            let command = caps[2].trim();
            let command =
                command.rsplit_once(" go ").filter(|(vars, _)| vars.contains('=')).map_or(command, |(_, c)| c);
            let command =
                if command.starts_with("go ") || command.starts_with("timeout ") || command.starts_with("nice ") {
                    command.to_string()
                } else {
                    format!("go {command}")
                };
            context.command = Some(command);
        }
    }
    context.go_env = go_env_json(cleaned);
    ending(cleaned, &mut context);
    context.crash = go_crash(cleaned);
    context
}

/// The first line of a Go runtime crash in `text` — `fatal error: …`, `panic: …`, a fault
/// — when a goroutine trace follows it: go itself died (out of memory, a bug) or a Go
/// program it ran did. A SIGQUIT dump is not one (the run was killed, see `killed`).
pub fn go_crash(text: &str) -> Option<String> {
    static CRASH: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?m)^(?:fatal error: .+|panic: .+|unexpected fault address .+|SIGSEGV: .+|SIGBUS: .+)$")
            .expect("crash pattern compiles")
    });
    static TRACE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?m)^(?:goroutine \d+ \[|runtime stack:)").expect("trace pattern compiles"));
    let first = CRASH.find(text)?;
    TRACE.is_match(&text[first.end()..]).then(|| first.as_str().trim_end().to_string())
}

/// Whether an exit status line is another program's, not the step's that ran go: a
/// warning (setup-go's `Warning: Failed to restore: "/usr/bin/tar" failed with error: The
/// process '/usr/bin/tar' failed with exit code 2`, its cache restore), or a status a CI
/// system gives a named program other than go or the step's shell.
fn another_programs_status(line: &str) -> bool {
    static PROCESS: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"[Tt]he process '([^']+)' failed with exit code"#).expect("compiles"));
    // (`clean` keeps GitHub's warning annotation on a line that is not go's.)
    let warning = ["Warning:", "warning:", "WARNING:", "[warning]", "##[warning]", "::warning"]
        .iter()
        .any(|w| line.starts_with(w));
    let other = PROCESS.captures(line).is_some_and(|c| {
        let program = c[1].rsplit(['/', '\\']).next().unwrap_or_default().trim_end_matches(".exe").to_ascii_lowercase();
        !["go", "bash", "sh", "pwsh", "powershell", "cmd", "make"].contains(&program.as_str())
    });
    warning || other
}

/// Whether go reported on what it ran after a `signal: killed` line (`FAIL\tpkg\t0.005s`,
/// `ok\tpkg`, `--- FAIL`): what was killed was a test binary go ran (the kernel's OOM
/// killer), and go went on.
fn go_reported_after(rest: &[&str]) -> bool {
    static REPORT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?:(?:FAIL|ok)\s+\S+\s+(?:\d+\.\d+s|\(cached\)|\[)|--- FAIL: )").expect("compiles")
    });
    rest.iter().any(|l| REPORT.is_match(l.trim_end()))
}

/// Exit statuses killed runs end with: timeout(1)'s, and 128 + SIGKILL or SIGTERM.
pub const KILLED_STATUSES: [i32; 3] = [124, 137, 143];

/// How the log says the run ended: a CI system's or a wrapping tool's exit status line,
/// and any sign that the run was killed (a CI timeout or cancellation, a signal).
fn ending(cleaned: &str, context: &mut LogContext) {
    static KILLED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"The operation was canceled|execution took longer than|Job's timeout|[Jj]ob timed out",
            r"|exceeded the maximum execution time|ran longer than the maximum time|Build timed out",
            r"|Cancelling nested steps due to timeout|Timeout has been exceeded|No output has been received in the last",
            r"|Too long with no output|Timeout exceeded: try increasing it|failed to solve: Canceled",
            r"|signal: (?:killed|terminated|interrupt)\b|^(?:Killed|Terminated)(?:: \d+)?$|\d+ (?:Killed|Terminated)\s+\S*go\b",
            r"|timeout: sending signal",
        ))
        .expect("kill pattern compiles")
    });
    static EXIT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"(?:Process completed with exit code|Job failed: exit code|script returned exit code",
            r"|returned a non-zero code:|did not complete successfully: exit code:|exited with (?:code|status)",
            r"|make(?:\[\d+\])?: \*\*\* .*\bError) '?(\d+)",
            r#"|\bexit (?:status|code):? (\d+)[.;:]?\s*(?:(?:stderr|output):?\s*)?"?\s*$"#,
        ))
        .expect("exit pattern compiles")
    });
    // A CI system's success line: the step that ran go passed.
    static SUCCEEDED: LazyLock<Regex> = LazyLock::new(|| {
        // (Docker's classic builder removes a step's intermediate container only when the
        // step succeeded; newer versions say `---> Removed`.)
        Regex::new(concat!(
            r"^(?:Job succeeded|Finished: SUCCESS|#\d+ DONE \d+(?:\.\d+)?s|(?:---> )?Remov(?:ing|ed) intermediate container [0-9a-f]+",
            // Bazel's, goreleaser's and golangci-lint's own words for a run that passed.
            r"|INFO: Build completed successfully, \d+ total actions?|(?:• )?release succeeded after \S+|0 issues\.)$",
        ))
            .expect("success pattern compiles")
    });
    // go reporting that a tool of its own died (the compiler killed by the kernel for
    // want of memory): go went on and exited with its own status; it was not killed.
    static TOOL_KILLED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"pkg[/\\]tool[/\\][^/\\\s]+[/\\](?:compile|link|asm|cgo|vet|cover|pack)(?:\.exe)?: signal: ")
            .expect("compiles")
    });
    static LOCK_FRAME: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"cmd/go/internal/lockedfile|internal/filelock\.(?:lock|Lock)|syscall\.Flock\(").expect("compiles")
    });
    // `…: exit status 128:` above an indented line is go quoting the status of a command
    // it ran (git), its output below: not the run's, even on a row a paste broke off go's
    // line.
    static QUOTED_STATUS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"exit status \d+:$").expect("compiles"));
    // golangci-lint's own deadline kills go only while go loads the packages: once its
    // log says the loading took so long, the deadline ran out on the linters.
    static LINTER_TIMEOUT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"Timeout exceeded: try increasing it").expect("compiles"));
    static PACKAGES_LOADED: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\[loader\] Go packages loading at mode .* took ").expect("compiles"));
    let packages_loaded = PACKAGES_LOADED.is_match(cleaned);
    // Whether a (trimmed) text says the run was killed: not a tool go ran, not a linter's
    // deadline after go was done.
    let says_killed = |text: &str| {
        KILLED.is_match(text) && !TOOL_KILLED.is_match(text) && !(packages_loaded && LINTER_TIMEOUT.is_match(text))
    };
    let lines: Vec<&str> = cleaned.lines().collect();
    // The user asking the shell how the command before ended (`$ echo $?`, PowerShell's
    // `$LASTEXITCODE`, cmd's `echo %ERRORLEVEL%`), its answer on the next line.
    static STATUS_QUERY: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"^(?:\S+[$#>] |[$>] |PS [^>
]*> |[A-Z]:\[^>
]*>)(?:echo \$\?|(?:echo )?\$LASTEXITCODE|echo %ERRORLEVEL%)\s*$",
        )
        .expect("compiles")
    });
    let answered = |i: usize| {
        STATUS_QUERY.is_match(lines[i].trim_end())
            && lines.get(i + 1).is_some_and(|next| {
                let next = next.trim();
                !next.is_empty() && next.len() <= 3 && next.bytes().all(|b| b.is_ascii_digit())
            })
    };
    for (i, &line) in lines.iter().enumerate() {
        if answered(i) {
            let code: i32 = lines[i + 1].trim().parse().expect("three digits parse");
            context.exit = Some((code, format!("{} → {code}", line.trim())));
            if KILLED_STATUSES.contains(&code) {
                context.killed = Some(line.trim().to_string());
            }
            continue;
        }
        if QUOTED_STATUS.is_match(line) && lines.get(i + 1).is_some_and(|next| next.starts_with(['\t', ' '])) {
            continue;
        }
        if context.lock_wait.is_none() && LOCK_FRAME.is_match(line) {
            context.lock_wait = Some(line.trim().to_string());
        }
        if line.trim() == "SIGQUIT: quit" {
            context.killed = Some(line.trim().to_string());
        }
        if SUCCEEDED.is_match(line.trim()) {
            context.exit = Some((0, line.trim().to_string()));
            continue;
        }
        let tool = super::golines::tool_part(line);
        if let Some(caps) = EXIT.captures(tool)
            && !another_programs_status(line.trim())
            && let Some(code) = caps.get(1).or(caps.get(2)).and_then(|m| m.as_str().parse::<i32>().ok())
        {
            context.exit = Some((code, line.trim().to_string()));
            if KILLED_STATUSES.contains(&code) {
                context.killed = Some(line.trim().to_string());
            }
        }
        if says_killed(line.trim()) && !go_reported_after(&lines[i + 1..]) {
            context.killed = Some(line.trim().to_string());
        }
    }
    // A CI system's timeout message a paste broke in two (it names no go line, so the
    // halves read as nothing).
    if context.killed.is_none() {
        context.killed = lines
            .windows(2)
            .map(|pair| (pair[0].trim(), pair[1].trim()))
            .filter(|(first, second)| first.chars().count() >= 60 && !second.is_empty())
            .flat_map(|(first, second)| [format!("{first}{second}"), format!("{first} {second}")])
            .find(|joined| says_killed(joined));
    }
    // A terminal's echo of the user's Ctrl-C as the log's last line: they stopped what ran
    // last — go, unless the last command the log echoes is another's (earlier in a session
    // ^C stopped some other command).
    // (Not counting the user asking for the status afterwards, and its answer.)
    let mut before_query = lines.len();
    while let Some(i) = before_query.checked_sub(2).filter(|&i| answered(i)) {
        before_query = i;
    }
    let shown = &lines[..before_query];
    let last_echo = super::golines::last_command(shown.iter().copied());
    let go_ran_last = last_echo.is_none_or(|command| command.split_whitespace().any(|w| w == "go"));
    if context.killed.is_none()
        && go_ran_last
        && shown.iter().rev().find(|l| !l.trim().is_empty()).is_some_and(|l| l.trim() == "^C")
    {
        context.killed = Some("^C".to_string());
    }
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
    use super::super::clean;
    use super::*;

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

    #[test]
    fn values_printed_by_go_env_for_named_variables() {
        let log = "$ go env GOPRIVATE GOPROXY GONOSUMDB\ngitlab.com/acme\nhttps://proxy.golang.org,direct\n\n\
                   $ go env GOFLAGS\n$ go get gitlab.com/acme/lib@v1.0.0\n";
        let c = context(&clean(log));
        let get = |k: &str| c.env.iter().find(|(v, _)| v == k).map(|(_, v)| v.as_str());
        assert_eq!(get("GOPRIVATE"), Some("gitlab.com/acme"));
        assert_eq!(get("GOPROXY"), Some("https://proxy.golang.org,direct"));
        assert_eq!(get("GONOSUMDB"), Some(""));
        // A query whose output the paste does not show sets nothing.
        assert_eq!(get("GOFLAGS"), None);
        assert_eq!(c.command.as_deref(), Some("go get gitlab.com/acme/lib@v1.0.0"));
    }

    #[test]
    fn how_the_run_ended() {
        let ended = |log: &str| {
            let c = context(&clean(log));
            (c.exit.map(|(code, _)| code), c.killed.is_some())
        };
        assert_eq!(ended("go: m@v1: boom\n##[error]Process completed with exit code 1.\n"), (Some(1), false));
        assert_eq!(ended("go: m@v1: boom\nERROR: Job failed: exit code 2\n"), (Some(2), false));
        assert_eq!(
            ended("go: m@v1: boom\n2024-05-01T10:00:00.1Z ##[warning]Cache save failed with exit code 2\n"),
            (None, false),
            "a warning annotation's status is no step's"
        );
        assert_eq!(
            ended(
                "Step 4/7 : RUN go mod download\n ---> Running in 3f2a1b9c8d7e\nRemoving intermediate container 3f2a1b9c8d7e\n"
            ),
            (Some(0), false),
            "Docker's classic builder went on past the step"
        );
        assert_eq!(ended("# get https://p/x\n##[error]The operation was canceled.\n"), (None, true));
        assert_eq!(ended("ERROR: Job failed: execution took longer than 1h0m0s seconds\n"), (None, true));
        assert_eq!(ended("go mod download\nKilled\n"), (None, true));
        assert_eq!(ended("make: *** [Makefile:3: deps] Error 137\n"), (Some(137), true));
        assert_eq!(ended("could not download: go mod failed: signal: terminated\n"), (None, true));
        assert_eq!(
            ended("##[error]The job running on agent Hosted Agent ran longer than the maximum ti\nme of 60 minutes.\n"),
            (None, true),
            "a timeout message a paste broke"
        );
        // go reporting that its compiler was killed (out of memory) went on and failed itself.
        assert_eq!(ended("# m/pkg\n/usr/local/go/pkg/tool/linux_amd64/compile: signal: killed\n"), (None, false));
        assert_eq!(ended("ERRO[0142] exit status 1: go: finding m v1\n"), (Some(1), false));
        assert_eq!(
            ended("go: m@v1: git ls-remote -q origin in /x: exit status 128:\n\tfatal: nope\n"),
            (None, false),
            "go's own words about git are not the run's end"
        );
        assert_eq!(ended("go: m@v1: context deadline exceeded\n"), (None, false));
        assert_eq!(ended("go: downloading m v1\nJob succeeded\n"), (Some(0), false));
    }
}
