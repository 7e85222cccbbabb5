//! Logs dressed the way CI systems and the tools that run go show them: timestamps,
//! colours, step markers, other tools' lines (some of which mention network errors, to
//! tempt a careless reader), go's output embedded in another tool's error message or
//! escaped inside JSON, and the line the CI system prints when the job ends — a failure
//! status, or the cancellation message of a job killed at its timeout.

use crate::evidence::log::KILLED_STATUSES;
use crate::vocab::Exit;

/// The ways CI systems and tools dress a log up.
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
    /// The classic `docker build`: `Step 4/7 : RUN …`, ` ---> Running in …`.
    DockerClassic,
    /// GitHub Actions workflow commands: go's errors as `::error file=…::` annotations.
    GithubAnnotations,
    /// goreleaser: go's first line inside `⨯ … error=hook failed: …; output: …`.
    Goreleaser,
    /// golangci-lint: go's whole stderr escaped inside `level=error msg="…stderr: …"`.
    GolangciLint,
    /// bazel with rules_go's `go_repository`: go's first error after `fetch_repo: `.
    Bazel,
    /// Renovate: go's stderr escaped in a JSON `"stderr"` field of its log.
    Renovate,
    /// Dependabot: `updater | <date> ERROR <job_…> ` before every line.
    Dependabot,
}

impl CiStyle {
    /// Every style.
    pub const ALL: [CiStyle; 11] = [
        CiStyle::GithubActions,
        CiStyle::Gitlab,
        CiStyle::Jenkins,
        CiStyle::Buildkit,
        CiStyle::DockerClassic,
        CiStyle::GithubAnnotations,
        CiStyle::Goreleaser,
        CiStyle::GolangciLint,
        CiStyle::Bazel,
        CiStyle::Renovate,
        CiStyle::Dependabot,
    ];

    /// The styles that show go's output whether or not go failed (the tools embed it only
    /// in their failure messages).
    pub const SHOW_SUCCESSES: [CiStyle; 7] = [
        CiStyle::GithubActions,
        CiStyle::Gitlab,
        CiStyle::Jenkins,
        CiStyle::Buildkit,
        CiStyle::DockerClassic,
        CiStyle::Renovate,
        CiStyle::Dependabot,
    ];
}

/// A CI job that ran go: what a CI system has to show.
#[derive(Debug, Clone, Copy)]
pub struct CiJob<'a> {
    /// go's output.
    pub log: &'a str,
    /// The command the job ran (shown as its step; a script name when not known).
    pub command: Option<&'a str>,
    /// How go ended, as far as the CI system knows.
    pub exit: Option<Exit>,
}

/// `job` as `style` would show it: a failure status is printed the way the system prints
/// it, a run killed at its deadline (or by a signal) ends with the system's cancellation
/// message, and an unknown exit prints no end line at all (a log pasted without its end).
pub fn ci_wrap(job: &CiJob, style: CiStyle) -> String {
    let log = job.log;
    let exit = killed_as_timeout(job.exit);
    let cmd = job.command.unwrap_or("make deps");
    let mut lines: Vec<String> = Vec::new();
    let mut clock = Clock::default();
    let failed = exit.is_some_and(|e| !e.success());
    let go_lines: Vec<&str> = log.lines().collect();
    match style {
        CiStyle::GithubActions | CiStyle::GithubAnnotations => {
            lines.push(clock.github(&format!("##[group]Run {cmd}")));
            for line in DISTRACTIONS {
                lines.push(clock.github(line));
            }
            lines.push(clock.github("##[endgroup]"));
            for line in &go_lines {
                let line = if style == CiStyle::GithubAnnotations && is_go_error(line) {
                    format!("::error file=go.mod,line=1::{line}")
                } else if line.starts_with("go: ") {
                    format!("\u{1b}[0m{line}\u{1b}[0m")
                } else {
                    line.to_string()
                };
                lines.push(clock.github(&line));
            }
            lines.extend(github_end(exit).iter().map(|l| clock.github(l)));
            lines.push(clock.github("Post job cleanup."));
            lines.push(clock.github("warning: failed to upload artifact: connection refused"));
        }
        CiStyle::Gitlab => {
            lines
                .push("section_start:1746093600:step_script\r\u{1b}[0K\u{1b}[0KExecuting \"step_script\" stage".into());
            lines.extend(DISTRACTIONS.iter().map(|l| l.to_string()));
            lines.push(format!("\u{1b}[32;1m$ {cmd}\u{1b}[0;m"));
            lines.extend(go_lines.iter().map(|l| l.to_string()));
            lines.push("section_end:1746093700:step_script\r\u{1b}[0K".into());
            match exit {
                Some(Exit::Timeout) => lines
                    .push("\u{1b}[31;1mERROR: Job failed: execution took longer than 1h0m0s seconds\u{1b}[0;m".into()),
                Some(Exit::Code { code }) if code != 0 => {
                    lines.push(format!("\u{1b}[31;1mERROR: Job failed: exit code {code}\u{1b}[0;m"))
                }
                Some(Exit::Signal { signal }) => {
                    lines.push(format!("\u{1b}[31;1mERROR: Job failed: exit code {}\u{1b}[0;m", 128 + signal))
                }
                Some(_) => lines.push("\u{1b}[32;1mJob succeeded\u{1b}[0;m".into()),
                None => {}
            }
        }
        CiStyle::Jenkins => {
            let echo = format!("+ {cmd}");
            for line in DISTRACTIONS.iter().copied().chain([echo.as_str()]).chain(go_lines.iter().copied()) {
                lines.push(clock.jenkins(line));
            }
            let end: Vec<String> = match exit {
                Some(Exit::Timeout) => vec![
                    "Cancelling nested steps due to timeout".into(),
                    "Sending interrupt signal to process".into(),
                    "script returned exit code 143".into(),
                ],
                Some(Exit::Code { code }) if code != 0 => vec![format!("ERROR: script returned exit code {code}")],
                Some(Exit::Signal { signal }) => vec![format!("ERROR: script returned exit code {}", 128 + signal)],
                Some(_) => vec!["Finished: SUCCESS".into()],
                None => Vec::new(),
            };
            lines.extend(end.iter().map(|l| clock.jenkins(l)));
        }
        CiStyle::Buildkit => {
            lines.push(format!("#9 [builder 4/7] RUN {cmd}"));
            for line in DISTRACTIONS.iter().chain(go_lines.iter()) {
                lines.push(clock.buildkit(line));
            }
            match exit {
                Some(Exit::Timeout) => {
                    lines.push("#9 CANCELED".into());
                    lines.push("ERROR: failed to solve: Canceled: context canceled".into());
                }
                Some(Exit::Code { code }) if code != 0 => lines.push(format!(
                    "#9 ERROR: process \"/bin/sh -c {cmd}\" did not complete successfully: exit code: {code}"
                )),
                Some(Exit::Signal { signal }) => lines.push(format!(
                    "#9 ERROR: process \"/bin/sh -c {cmd}\" did not complete successfully: exit code: {}",
                    128 + signal
                )),
                Some(_) => lines.push(format!("#9 DONE {}.{}s", clock.second / 10, clock.second % 10)),
                None => {}
            }
        }
        CiStyle::DockerClassic => {
            lines.push(format!("Step 4/7 : RUN {cmd}"));
            lines.push(" ---> Running in 3f2a1b9c8d7e".into());
            lines.extend(DISTRACTIONS.iter().map(|l| l.to_string()));
            lines.extend(go_lines.iter().map(|l| l.to_string()));
            match exit {
                Some(Exit::Timeout) => {
                    lines.push("The command '/bin/sh -c go mod download -x' returned a non-zero code: 137".into())
                }
                Some(Exit::Code { code }) if code != 0 => {
                    lines.push(format!("The command '/bin/sh -c go mod download -x' returned a non-zero code: {code}"))
                }
                Some(Exit::Signal { signal }) => lines.push(format!(
                    "The command '/bin/sh -c go mod download -x' returned a non-zero code: {}",
                    128 + signal
                )),
                Some(_) => {
                    lines.push("Removing intermediate container 3f2a1b9c8d7e".into());
                    lines.push(" ---> 0f9e8d7c6b5a".into());
                    lines.push("Step 5/7 : COPY . .".into());
                }
                None => {}
            }
        }
        CiStyle::Goreleaser => {
            lines.push("   • starting release...".into());
            lines.push("   • running before hooks".into());
            lines.push(format!("      • running                                        hook={cmd}"));
            lines.push("npm WARN deprecated inflight@1.0.6: This module is not supported".into());
            let status = match exit {
                Some(Exit::Timeout) => Some("signal: killed".to_string()),
                Some(Exit::Code { code }) if code != 0 => Some(format!("exit status {code}")),
                Some(Exit::Signal { signal }) => Some(format!("signal {signal}")),
                Some(_) => None,
                None => Some("exit status 1".to_string()),
            };
            match (status, go_lines.split_first()) {
                (Some(status), Some((first, rest))) => {
                    lines.push(format!(
                        "   ⨯ release failed after 41s                 error=hook failed: {cmd}: {status}; output: {first}"
                    ));
                    lines.extend(rest.iter().map(|l| l.to_string()));
                }
                (Some(status), None) => lines.push(format!(
                    "   ⨯ release failed after 41s                 error=hook failed: {cmd}: {status}; output: "
                )),
                (None, _) => {
                    lines.extend(go_lines.iter().map(|l| l.to_string()));
                    lines.push("   • release succeeded after 41s".into());
                }
            }
        }
        CiStyle::GolangciLint => {
            lines.push("Run golangci/golangci-lint-action@v6".into());
            lines.push(
                "Running [/home/runner/golangci-lint-1.61.0-linux-amd64/golangci-lint run] in [/work] ...".into(),
            );
            lines.push("curl: (56) Recv failure: Connection reset by peer".into());
            let status = match exit {
                Some(Exit::Timeout) => "signal: killed".to_string(),
                Some(Exit::Code { code }) => format!("exit status {code}"),
                Some(Exit::Signal { signal }) => format!("signal {signal}"),
                None => "exit status 1".to_string(),
            };
            lines.push(format!(
                "  level=error msg=\"Running error: context loading failed: failed to load packages: failed to load with go/packages: err: {status}: stderr: {}\"",
                escape(log)
            ));
            if exit == Some(Exit::Timeout) {
                lines.push(
                    "  level=error msg=\"Timeout exceeded: try increasing it by passing --timeout option\"".into(),
                );
            }
            lines.push("  Error: golangci-lint exit with code 3".into());
        }
        CiStyle::Bazel => {
            lines.push("INFO: Repository com_example_lib instantiated at:".into());
            lines.push("  /work/WORKSPACE:42:16: in <toplevel>".into());
            lines.push("Repository rule go_repository defined at:".into());
            lines.push(
                "  /home/user/.cache/bazel/external/bazel_gazelle/internal/go_repository.bzl:377:32: in <toplevel>"
                    .into(),
            );
            lines.push("ERROR: An error occurred during the fetch of repository 'com_example_lib':".into());
            lines.push("   Traceback (most recent call last):".into());
            lines.push("\tFile \"/home/user/.cache/bazel/external/bazel_gazelle/internal/go_repository.bzl\", line 296, column 17, in _go_repository_impl".into());
            lines.push("\t\tfail(\"%s: %s\" % (ctx.name, result.stderr))".into());
            match go_lines.split_first() {
                Some((first, rest)) => {
                    // fetch_repo reports a module's error as go's -json Error field (no
                    // `go: `), anything else as go printed it.
                    let first = match first.strip_prefix("go: ") {
                        Some(error) if error.split_whitespace().next().is_some_and(|w| w.contains('@')) => error,
                        _ => first,
                    };
                    lines.push(format!("Error in fail: failed to fetch com_example_lib: fetch_repo: {first}"));
                    lines.extend(rest.iter().map(|l| l.to_string()));
                }
                None => lines.push("Error in fail: failed to fetch com_example_lib: fetch_repo: ".into()),
            }
            lines.push("ERROR: Analysis of target '//cmd/app:app' failed; build aborted".into());
            lines.push("INFO: Elapsed time: 12.345s".into());
            if exit == Some(Exit::Timeout) {
                lines.push("##[error]The operation was canceled.".into());
            }
        }
        CiStyle::Renovate => {
            lines.push(" INFO: Repository started (repository=corp/app)".into());
            lines.push(" WARN: npm registry: ECONNRESET (repository=corp/app)".into());
            lines.push(" WARN: artifactErrors (repository=corp/app, branch=renovate/corp.example-lib-1.x)".into());
            lines.push("       \"artifactErrors\": [".into());
            lines.push("         {".into());
            lines.push("           \"lockFile\": \"go.sum\",".into());
            lines.push(format!("           \"stderr\": \"{}\"", escape(log)));
            lines.push("         }".into());
            lines.push("       ]".into());
            if exit == Some(Exit::Timeout) {
                lines.push("##[error]The operation was canceled.".into());
            }
        }
        CiStyle::Dependabot => {
            let level = if failed || exit.is_none() { "ERROR" } else { "INFO" };
            let stamp = |l: &str, level: &str| format!("updater | 2026/05/01 10:00:03 {level} <job_8675309> {l}");
            lines.push(stamp("Starting update job for corp/app", "INFO"));
            lines.push(stamp("Checking if corp.example/lib 1.0.0 needs updating", "INFO"));
            lines.push(
                "proxy | 2026/05/01 10:00:02 [010] GET https://proxy.golang.org:443/corp.example/lib/@v/list".into(),
            );
            lines.push(
                "proxy | 2026/05/01 10:00:02 [010] 200 https://proxy.golang.org:443/corp.example/lib/@v/list".into(),
            );
            lines.extend(go_lines.iter().map(|l| stamp(l, level)));
            if failed || exit.is_none() {
                lines.push(stamp(
                    "Error processing corp.example/lib (Dependabot::DependencyFileNotResolvable)",
                    "ERROR",
                ));
            }
            if exit == Some(Exit::Timeout) {
                lines.push("##[error]The operation was canceled.".into());
            }
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// How a CI system tells `exit`: a run killed from outside (124, 137, 143, a signal) ends
/// like one killed at the CI's own timeout.
pub(super) fn killed_as_timeout(exit: Option<Exit>) -> Option<Exit> {
    match exit {
        Some(Exit::Code { code }) if KILLED_STATUSES.contains(&code) => Some(Exit::Timeout),
        Some(Exit::Signal { .. }) => Some(Exit::Timeout),
        other => other,
    }
}

/// Other tools' lines around go's output, some of which mention network errors.
const DISTRACTIONS: &[&str] = &[
    "Run actions/setup-go@v5",
    "\u{1b}[36;1mgo version\u{1b}[0m",
    "npm WARN deprecated inflight@1.0.6: This module is not supported",
    "curl: (56) Recv failure: Connection reset by peer",
    "Retrying in 5 seconds...",
];

/// GitHub Actions' last lines for a job that ended `exit`.
fn github_end(exit: Option<Exit>) -> Vec<String> {
    match exit {
        Some(Exit::Timeout) => vec!["##[error]The operation was canceled.".into()],
        Some(Exit::Code { code }) if code != 0 => {
            vec![format!("\u{1b}[31m##[error]Process completed with exit code {code}.\u{1b}[0m")]
        }
        Some(Exit::Signal { signal }) => vec![format!("##[error]Process completed with exit code {}.", 128 + signal)],
        _ => Vec::new(),
    }
}

/// A go line worth an annotation: an error, not progress.
fn is_go_error(line: &str) -> bool {
    !line.starts_with("go: downloading ")
        && !line.starts_with("go: finding ")
        && !line.starts_with('#')
        && !line.starts_with('\t')
        && !line.trim().is_empty()
}

/// `text` as the inside of a JSON string.
fn escape(text: &str) -> String {
    let quoted = serde_json::to_string(text).unwrap_or_default();
    quoted.trim_start_matches('"').trim_end_matches('"').to_string()
}

/// A fake clock for timestamps, one second per line.
#[derive(Default)]
struct Clock {
    second: u32,
}

impl Clock {
    fn tick(&mut self) -> (u32, u32) {
        self.second += 1;
        (self.second / 60, self.second % 60)
    }

    fn github(&mut self, line: &str) -> String {
        let (m, s) = self.tick();
        format!("2026-05-01T10:{m:02}:{s:02}.{:07}Z {line}\r", self.second * 1234 % 10_000_000)
    }

    fn jenkins(&mut self, line: &str) -> String {
        let (m, s) = self.tick();
        format!("[2026-05-01T10:{m:02}:{s:02}.{:03}Z] {line}", self.second * 7 % 1000)
    }

    fn buildkit(&mut self, line: &str) -> String {
        self.tick();
        format!("#9 {}.{:03} {line}", self.second / 10, self.second * 37 % 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::Evidence;

    #[test]
    fn wrapped_logs_still_read_as_the_log() {
        let log = "go: m@v1: reading https://p/m/@v/v1.info: 500 Internal Server Error\n\tserver response: boom\n";
        for style in CiStyle::ALL {
            for exit in [None, Some(Exit::Code { code: 1 })] {
                let wrapped = ci_wrap(&CiJob { log, command: Some("go mod download"), exit }, style);
                assert_ne!(wrapped, log);
                let evidence = Evidence::from_log(&wrapped);
                assert!(
                    evidence.stderr.contains("reading https://p/m/@v/v1.info: 500"),
                    "{style:?}: {}\n{wrapped}",
                    evidence.stderr
                );
                assert!(
                    evidence.stderr.contains("server response: boom"),
                    "{style:?}: continuation lost: {}\n{wrapped}",
                    evidence.stderr
                );
                assert!(!evidence.stderr.contains("curl"), "{style:?}: another tool's line kept: {}", evidence.stderr);
            }
        }
    }
}
