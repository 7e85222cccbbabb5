//! Sixteen more CI and build systems' ways of showing a step's output, written from their
//! logs as public issue threads and their documentation quote them (2026-11-27), after the
//! rules were written, to measure how far the reading of a log carries to formats it was
//! not tuned on. They are split like the corpus: the rules may be
//! tuned on the [`FurtherCi::DEV`] half, and the [`FurtherCi::HELD_OUT`] half measures.
//! (The split was drawn by a hash of each name before any log was wrapped.)

use crate::vocab::Exit;

use super::CiJob;

/// A CI or build system not among [`super::CiStyle`]'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FurtherCi {
    /// `tkn pipelinerun logs`: `[task : step] ` before every line.
    Tekton,
    /// A failed bitbake task: the task's log after `Log data follows:`, each line behind `| `.
    Bitbake,
    /// `kubectl logs --timestamps`: an RFC 3339 timestamp with nanoseconds.
    Kubectl,
    /// Earthly: the target's name, padded, and `| ` before every line.
    Earthly,
    /// `journalctl -u`: syslog's date, the host and the unit's process.
    Journald,
    /// AWS CodeBuild: `[Container] ` lines around the command's plain output.
    CodeBuild,
    /// Travis CI: fold and timing markers, `The command "…" exited with 1.`
    Travis,
    /// Azure Pipelines' raw log: ISO timestamps, `##[section]`, `##[error]`.
    AzurePipelines,
    /// Google Cloud Build: `Step #1 - "build": ` before every line.
    CloudBuild,
    /// CircleCI: the shell's shebang line, the command, `Exited with code exit status 1`.
    CircleCi,
    /// A failed nix build: the last log lines indented behind `> `.
    Nix,
    /// `drone exec`: the step and the line's number before every line. (It took the slot
    /// drawn for Woodpecker's web UI, whose copied form no public log showed.)
    DroneExec,
    /// Buildkite's raw log: an APC timestamp escape before every line.
    Buildkite,
    /// TeamCity's build log: `[HH:MM:SS]` and the step before every line.
    TeamCity,
    /// Bitbucket Pipelines: the command echoed with `+ `, the output plain.
    Bitbucket,
    /// `docker compose up`: the container's name, padded, and `| `.
    DockerCompose,
}

impl FurtherCi {
    /// The half the rules may be tuned on.
    pub const DEV: [FurtherCi; 8] = [
        FurtherCi::Tekton,
        FurtherCi::Bitbake,
        FurtherCi::Kubectl,
        FurtherCi::Earthly,
        FurtherCi::Journald,
        FurtherCi::CodeBuild,
        FurtherCi::Travis,
        FurtherCi::AzurePipelines,
    ];

    /// The half that measures: no rule is written from how these wrap a log.
    pub const HELD_OUT: [FurtherCi; 8] = [
        FurtherCi::CloudBuild,
        FurtherCi::CircleCi,
        FurtherCi::Nix,
        FurtherCi::DroneExec,
        FurtherCi::Buildkite,
        FurtherCi::TeamCity,
        FurtherCi::Bitbucket,
        FurtherCi::DockerCompose,
    ];
}

/// How the job ended, as the CI system tells it.
#[derive(Clone, Copy)]
enum End {
    /// Killed at the system's timeout (or by a signal).
    Killed,
    /// A non-zero exit status.
    Failed(i32),
    /// Exit status 0.
    Passed,
    /// Not shown: the paste stops before the end.
    Unshown,
}

impl End {
    fn of(exit: Option<Exit>) -> End {
        match super::ciwrap::killed_as_timeout(exit) {
            Some(Exit::Timeout | Exit::Signal { .. }) => End::Killed,
            Some(Exit::Code { code: 0 }) => End::Passed,
            Some(Exit::Code { code }) => End::Failed(code),
            None => End::Unshown,
        }
    }
}

/// `job`'s log as `system` shows it.
pub fn further_wrap(job: &CiJob, system: FurtherCi) -> String {
    let cmd = job.command.unwrap_or("make deps");
    let end = End::of(job.exit);
    let go: Vec<&str> = job.log.lines().collect();
    let mut out: Vec<String> = Vec::new();
    let mut t = 0u32;
    let mut tick = || {
        t += 1;
        t
    };
    match system {
        FurtherCi::Tekton => {
            // tkn prints why the task failed before the steps' logs.
            match end {
                End::Failed(code) => {
                    out.push(format!("task build has failed: \"step-go-mod-download\" exited with code {code}: Error"))
                }
                End::Killed => out.push("PipelineRun \"build-run-x7k2p\" failed to finish within \"1h0m0s\"".into()),
                _ => {}
            }
            let p = "[build : go-mod-download] ";
            out.push(format!("{p}+ {cmd}"));
            out.extend(go.iter().map(|l| format!("{p}{l}")));
        }
        FurtherCi::Bitbake => {
            let log_ends = !matches!(end, End::Passed | End::Unshown);
            if log_ends {
                out.push("ERROR: app-1.0-r0 do_compile: Execution of '/build/tmp/work/core2-64-poky-linux/app/1.0-r0/temp/run.do_compile.2741' failed with exit code 1".into());
                out.push("ERROR: Logfile of failure stored in: /build/tmp/work/core2-64-poky-linux/app/1.0-r0/temp/log.do_compile.2741".into());
                out.push("Log data follows:".into());
            }
            out.push("| DEBUG: Executing shell function do_compile".into());
            out.push(format!("| + {cmd}"));
            out.extend(go.iter().map(|l| format!("| {l}")));
            if log_ends {
                out.push("| WARNING: exit code 1 from a shell command.".into());
                out.push(
                    "ERROR: Task (/build/meta-app/recipes-app/app/app_1.0.bb:do_compile) failed with exit code '1'"
                        .into(),
                );
            }
        }
        FurtherCi::Kubectl => {
            for l in go.iter() {
                let s = tick();
                out.push(format!(
                    "2026-05-01T10:{:02}:{:02}.{:09}Z {l}",
                    s / 60,
                    s % 60,
                    u64::from(s) * 123_456_789 % 1_000_000_000
                ));
            }
        }
        FurtherCi::Earthly => {
            let p = "               +deps | ";
            out.push(format!("{p}--> RUN {cmd}"));
            out.extend(go.iter().map(|l| format!("{p}{l}")));
            if let End::Failed(code) = end {
                out.push(format!("{p}ERROR Earthfile:9:3"));
                out.push(format!("{p}      The command"));
                out.push(format!("{p}          RUN {cmd}"));
                out.push(format!("{p}      did not complete successfully. Exit code {code}"));
                out.push("================================== ❌ FAILURE ===================================".into());
                out.push("Repeating the failure error...".into());
                out.extend(go.iter().map(|l| format!("        +deps *failed* | {l}")));
            }
        }
        FurtherCi::Journald => {
            for l in go.iter() {
                let s = tick();
                out.push(format!("May 01 10:{:02}:{:02} build-01 build.sh[2345]: {l}", s / 60, s % 60));
            }
            match end {
                End::Failed(code) => {
                    out.push(format!("May 01 10:59:59 build-01 systemd[1]: build.service: Main process exited, code=exited, status={code}/FAILURE"));
                    out.push(
                        "May 01 10:59:59 build-01 systemd[1]: build.service: Failed with result 'exit-code'.".into(),
                    );
                }
                End::Killed => {
                    out.push(
                        "May 01 10:59:59 build-01 systemd[1]: build.service: start operation timed out. Terminating."
                            .into(),
                    );
                    out.push(
                        "May 01 10:59:59 build-01 systemd[1]: build.service: Failed with result 'timeout'.".into(),
                    );
                }
                End::Passed => {
                    out.push("May 01 10:59:59 build-01 systemd[1]: build.service: Deactivated successfully.".into())
                }
                End::Unshown => {}
            }
        }
        FurtherCi::CodeBuild => {
            out.push("[Container] 2026/05/01 10:00:01.123456 Entering phase BUILD".into());
            out.push(format!("[Container] 2026/05/01 10:00:01.123789 Running command {cmd}"));
            out.extend(go.iter().map(|l| l.to_string()));
            out.push(String::new());
            match end {
                End::Failed(code) => {
                    out.push(format!("[Container] 2026/05/01 10:00:09.456123 Command did not exit successfully {cmd} exit status {code}"));
                    out.push("[Container] 2026/05/01 10:00:09.460001 Phase complete: BUILD State: FAILED".into());
                    out.push(format!("[Container] 2026/05/01 10:00:09.460002 Phase context status code: COMMAND_EXECUTION_ERROR Message: Error while executing command: {cmd}. Reason: exit status {code}"));
                }
                // (No public log showed what a timed-out build prints.)
                End::Killed => {}
                End::Passed => {
                    out.push("[Container] 2026/05/01 10:00:09.460001 Phase complete: BUILD State: SUCCEEDED".into())
                }
                End::Unshown => {}
            }
        }
        FurtherCi::Travis => {
            out.push("travis_fold:start:install\r\u{1b}[0Ktravis_time:start:0f4c1a2b\r\u{1b}[0K$ go version".into());
            out.push("go version go1.22.3 linux/amd64".into());
            out.push(
                "travis_time:end:0f4c1a2b:start=1714557600,finish=1714557601,duration=1000000000\r\u{1b}[0K".into(),
            );
            out.push(format!("travis_time:start:1a2b3c4d\r\u{1b}[0K$ {cmd}"));
            out.extend(go.iter().map(|l| l.to_string()));
            match end {
                End::Failed(code) => {
                    out.push(
                        "travis_time:end:1a2b3c4d:start=1714557601,finish=1714557609,duration=8000000000\r\u{1b}[0K"
                            .into(),
                    );
                    out.push(format!(
                        "\u{1b}[31;1mThe command \"{cmd}\" failed and exited with {code} during .\u{1b}[0m"
                    ));
                    out.push(String::new());
                    out.push("Your build has been stopped.".into());
                }
                End::Killed => {
                    out.push(String::new());
                    out.push("No output has been received in the last 10m0s, this potentially indicates a stalled build or something wrong with the build itself.".into());
                    out.push("Check the details on how to adjust your build configuration on: https://docs.travis-ci.com/user/common-build-problems/#Build-times-out-because-no-output-was-received".into());
                    out.push("The build has been terminated".into());
                }
                End::Passed => out.push(format!("The command \"{cmd}\" exited with 0.")),
                End::Unshown => {}
            }
        }
        FurtherCi::AzurePipelines => {
            let mut line = |l: &str| {
                let s = tick();
                format!("2026-05-01T10:{:02}:{:02}.{:07}Z {l}", s / 60, s % 60, u64::from(s) * 1_234_567 % 10_000_000)
            };
            out.push(line("##[section]Starting: go mod download"));
            out.push(line("=============================================================================="));
            out.push(line("Task         : Bash"));
            out.push(line("Version      : 3.227.0"));
            out.push(line("=============================================================================="));
            out.push(line("Generating script."));
            out.push(line("========================== Starting Command Output ==========================="));
            out.push(line("[command]/usr/bin/bash --noprofile --norc /home/vsts/work/_temp/4f1e2d3c-9a8b.sh"));
            for l in &go {
                out.push(line(l));
            }
            match end {
                End::Failed(code) => out.push(line(&format!("##[error]Bash exited with code '{code}'."))),
                End::Killed => {
                    out.push(line("##[error]The job running on agent Azure Pipelines 3 ran longer than the maximum time of 60 minutes. For more information, see https://go.microsoft.com/fwlink/?linkid=2077134"));
                    out.push(line("##[error]The operation was canceled."));
                }
                _ => {}
            }
            if !matches!(end, End::Unshown) {
                out.push(line("##[section]Finishing: go mod download"));
            }
        }
        FurtherCi::CloudBuild => {
            let p = "Step #1 - \"build\": ";
            out.push("Starting Step #1 - \"build\"".into());
            out.push(format!("{p}Already have image (with digest): golang:1.22"));
            out.extend(go.iter().map(|l| format!("{p}{l}")));
            match end {
                End::Failed(code) => {
                    out.push("Finished Step #1 - \"build\"".into());
                    out.push("ERROR".into());
                    out.push(format!(
                        "ERROR: build step 1 \"golang:1.22\" failed: step exited with non-zero status: {code}"
                    ));
                }
                End::Killed => {
                    out.push("ERROR: context deadline exceeded".into());
                    out.push(
                        "Your build timed out. Use the [--timeout=DURATION] flag to change the timeout threshold."
                            .into(),
                    );
                }
                End::Passed => out.push("Finished Step #1 - \"build\"".into()),
                End::Unshown => {}
            }
        }
        FurtherCi::CircleCi => {
            out.push("#!/bin/bash -eo pipefail".into());
            out.push(cmd.to_string());
            out.extend(go.iter().map(|l| l.to_string()));
            match end {
                End::Failed(code) => {
                    out.push(String::new());
                    out.push(format!("Exited with code exit status {code}"));
                    out.push(format!("CircleCI received exit code {code}"));
                }
                End::Killed => out.push("Too long with no output (exceeded 10m0s): context deadline exceeded".into()),
                _ => {}
            }
        }
        FurtherCi::Nix => {
            if matches!(end, End::Passed | End::Unshown) {
                out.extend(go.iter().map(|l| format!("app-go-modules> {l}")));
            } else {
                // nix shows the last 10 lines (its log-lines setting) of a failed build.
                let shown = &go[go.len().saturating_sub(10)..];
                out.push(
                    "error: builder for '/nix/store/8q2m1xk3v9c7-app-go-modules.drv' failed with exit code 1;".into(),
                );
                out.push(format!("       last {} log lines:", shown.len()));
                out.extend(shown.iter().map(|l| format!("       > {l}")));
                out.push("       For full logs, run 'nix log /nix/store/8q2m1xk3v9c7-app-go-modules.drv'.".into());
            }
        }
        FurtherCi::DroneExec => {
            let lines: Vec<String> =
                std::iter::once(format!("+ {cmd}")).chain(go.iter().map(|l| l.to_string())).collect();
            for (n, l) in lines.iter().enumerate() {
                // drone prints an empty line as its bare prefix.
                out.push(if l.is_empty() { format!("[build:{}]", n + 1) } else { format!("[build:{}] {l}", n + 1) });
            }
        }
        FurtherCi::Buildkite => {
            let mut line = |l: &str| format!("\u{1b}_bk;t={}\u{7}{l}", 1_714_557_600_000u64 + u64::from(tick()) * 137);
            out.push(line("~~~ Running commands"));
            out.push(line(&format!("$ {cmd}")));
            for l in &go {
                out.push(line(l));
            }
            match end {
                End::Failed(code) => {
                    out.push(line("^^^ +++"));
                    out.push(line(&format!("\u{1b}[31m🚨 Error: The command exited with status {code}\u{1b}[0m")));
                    out.push(line(&format!("user command error: exit status {code}")));
                }
                End::Killed => {
                    out.push(line("# Received cancellation signal, interrupting"));
                    out.push(line("Terminated"));
                    out.push(line("🚨 Error: The command was interrupted by a signal"));
                }
                _ => {}
            }
        }
        FurtherCi::TeamCity => {
            let mut line = |kind: char, l: &str| {
                let s = tick();
                format!("[10:{:02}:{:02}]{kind}:\t [Step 1/1] {l}", s / 60, s % 60)
            };
            out.push(line('i', &format!("Starting: /bin/sh -c {cmd}")));
            for l in &go {
                out.push(line('W', l));
            }
            match end {
                End::Failed(code) => {
                    out.push(line('W', &format!("Process exited with code {code}")));
                    out.push(line('E', "Step Build (Command Line) failed"));
                }
                End::Killed => {
                    out.push(line(
                        'E',
                        "The build Corp::Build #1387 {buildId=32147} has been running for more than 60 minutes. Terminating...",
                    ));
                    out.push(line('E', "Execution timeout"));
                }
                End::Passed => out.push(line('i', "Process exited with code 0")),
                End::Unshown => {}
            }
        }
        FurtherCi::Bitbucket => {
            // Each script line is echoed by a `printf "\x1d+ …"` of Bitbucket's.
            out.push(format!("\u{1d}+ {cmd}"));
            out.extend(go.iter().map(|l| l.to_string()));
            if matches!(end, End::Killed) {
                out.push("Exceeded build time limit of 120 minutes".into());
            }
        }
        FurtherCi::DockerCompose => {
            let p = "\u{1b}[36mbuilder-1  | \u{1b}[0m";
            out.extend(go.iter().map(|l| format!("{p}{l}")));
            match end {
                End::Failed(code) => out.push(format!("builder-1 exited with code {code}")),
                End::Killed => out.push("builder-1 exited with code 137".into()),
                End::Passed => out.push("builder-1 exited with code 0".into()),
                End::Unshown => {}
            }
        }
    }
    let mut text = out.join("\n");
    text.push('\n');
    text
}
