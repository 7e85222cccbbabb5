//! `modchaos doctor`: live mode on a real machine. The user's go command runs in the
//! user's own environment (their HOME, their module cache, their network: nothing is
//! sandboxed) with the extra logging an expert would turn on ([`instrument`]), under a
//! deadline and in its own process group. Its output reaches the terminal as it comes
//! and is kept; the configuration go sees ([`config`]) and the module cache (inspected at
//! the deadline before go is killed, so a stuck lock shows go as its waiter) are
//! collected, and the lot is diagnosed by the same rules as a scenario run.
//!
//! Nothing here writes to the user's module cache: [`crate::modcache::CacheState::inspect`]
//! only reads, and the helper commands (`go env`, `go version`) write nothing either.

pub mod config;
pub mod instrument;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use tokio::sync::watch;

use crate::diagnose::{Diagnosis, diagnose};
use crate::evidence::{Evidence, parse_json_records, parse_trace};
use crate::runner::gocmd::{self, Echo, GoInvocation, Live, Stop};
use crate::vocab::Exit;
pub use config::{Setting, SettingSource};
pub use instrument::TraceFlag;

/// Deadline of each helper command (`go env`, `go version`): they answer at once unless
/// go must first fetch a toolchain.
const HELPER_TIMEOUT: Duration = Duration::from_secs(60);

/// What to run and how.
#[derive(Debug, Clone)]
pub struct DoctorOptions {
    /// The go command line as the user would type it: the program (`go`, a path,
    /// `go1.22.0`), then its arguments.
    pub command: Vec<String>,
    /// How long go may run before the cache is inspected and go killed.
    pub timeout: Duration,
    /// Where go runs (its go.mod and go.work decide much of what it does).
    pub cwd: PathBuf,
    /// Where go's standard output is copied as it comes (`None`: kept only).
    pub stdout_echo: Option<Echo>,
    /// Where go's standard error is copied as it comes.
    pub stderr_echo: Option<Echo>,
}

/// Why doctor could not run the command at all.
#[derive(Debug, Error)]
pub enum DoctorError {
    /// No command line was given.
    #[error("no go command line given (for example: modchaos doctor -- go mod download -json)")]
    Empty,
    /// The program could not be started (not found, not executable).
    #[error("cannot run `{program}`: {source}{hint}")]
    Spawn {
        /// The program as given.
        program: String,
        /// What the OS said.
        source: std::io::Error,
        /// A hint when the command line seems to lack the program.
        hint: String,
    },
    /// Stopped (Ctrl-C, SIGTERM) before go started.
    #[error("interrupted before the go command started")]
    Interrupted,
}

/// Everything doctor learned, for the terminal and for `--json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DoctorReport {
    /// The command line as given.
    pub command: String,
    /// The command line run, with `-x` where it was added.
    pub ran: String,
    /// What happened to `-x`.
    pub trace_flag: TraceFlag,
    /// The GODEBUG go was given (the user's settings plus the resolver trace).
    pub godebug: String,
    /// `go version`'s line, when it ran.
    pub go_version: Option<String>,
    /// Where go ran.
    pub cwd: PathBuf,
    /// The deadline, in ms.
    pub timeout_ms: u64,
    /// True when a stop request (Ctrl-C, SIGTERM) ended go early, handled as the deadline.
    pub interrupted: bool,
    /// `go env -changed` (masked), when this go supports it.
    pub go_env_changed: Option<BTreeMap<String, String>>,
    /// The settings a download depends on, as go sees them.
    pub configuration: Vec<Setting>,
    /// What could not be collected, and why.
    pub problems: Vec<String>,
    /// The verdict.
    pub diagnosis: Diagnosis,
    /// What it rests on: go's output, trace and records, exit, the environment and `go env`
    /// (masked), and the module cache's state.
    pub evidence: Evidence,
}

impl DoctorReport {
    /// How go ended.
    pub fn exit(&self) -> Option<Exit> {
        self.evidence.exit
    }
}

/// A stop future for one command: it completes once `stop` says true.
fn stop_future(mut stop: watch::Receiver<bool>) -> Stop {
    Box::pin(async move {
        if stop.wait_for(|s| *s).await.is_err() {
            // The sender is gone: nobody can ask for a stop any more.
            std::future::pending::<()>().await;
        }
    })
}

/// The environment go is started with: this process's, as text (values that are not
/// UTF-8 are passed to go untouched but shown lossily).
fn process_env() -> BTreeMap<String, String> {
    std::env::vars_os().map(|(k, v)| (k.to_string_lossy().into_owned(), v.to_string_lossy().into_owned())).collect()
}

/// Why a helper gave nothing.
enum HelperError {
    /// The program could not be started at all.
    Spawn(std::io::Error),
    /// It ran and failed, or printed nothing usable.
    Failed(String),
}

/// Runs one helper (`go env -json`, `go version`) quietly in the user's environment.
async fn helper(go: &Path, args: &[&str], cwd: &Path, stop: &watch::Receiver<bool>) -> Result<String, HelperError> {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let inv = GoInvocation {
        go,
        args: &args,
        env: &BTreeMap::new(),
        cwd,
        timeout: HELPER_TIMEOUT,
        inspect_cache: None,
        user: None,
    };
    let live = Live { inherit_env: true, stop: Some(stop_future(stop.clone())), ..Live::default() };
    let outcome = gocmd::run_live(&inv, live).await.map_err(HelperError::Spawn)?;
    if outcome.exit.success() {
        Ok(outcome.stdout)
    } else {
        Err(HelperError::Failed(format!(
            "{} {}: {}: {}",
            go.display(),
            args.join(" "),
            outcome.exit.describe(),
            outcome.stderr.trim()
        )))
    }
}

/// What the helpers found.
#[derive(Default)]
struct Collected {
    version: Option<String>,
    go_env: Option<BTreeMap<String, String>>,
    changed: Option<BTreeMap<String, String>>,
    problems: Vec<String>,
}

/// Runs the helpers; the error is the one of a program that cannot be started.
async fn collect(go: &Path, cwd: &Path, stop: &watch::Receiver<bool>) -> Result<Collected, std::io::Error> {
    let mut c = Collected::default();
    let as_env = |out: Result<String, HelperError>| match out {
        Ok(stdout) => config::parse_go_env(&stdout).map_err(|e| HelperError::Failed(e.to_string())),
        Err(e) => Err(e),
    };
    match helper(go, &["version"], cwd, stop).await {
        Ok(stdout) => c.version = Some(stdout.trim().to_string()),
        Err(HelperError::Spawn(e)) => return Err(e),
        Err(HelperError::Failed(e)) => c.problems.push(e),
    }
    match as_env(helper(go, &["env", "-json"], cwd, stop).await) {
        Ok(env) => c.go_env = Some(env),
        Err(HelperError::Spawn(e)) => return Err(e),
        Err(HelperError::Failed(e)) => c.problems.push(e),
    }
    match as_env(helper(go, &["env", "-json", "-changed"], cwd, stop).await) {
        Ok(env) => c.changed = Some(env),
        Err(HelperError::Spawn(e)) => return Err(e),
        // go before 1.23 has no -changed: nothing is missing then.
        Err(HelperError::Failed(e)) if e.contains("flag provided but not defined: -changed") => {}
        Err(HelperError::Failed(e)) => c.problems.push(e),
    }
    Ok(c)
}

/// Runs the user's go command with the extra logging, collects the evidence and
/// diagnoses it. `stop` turning true ends go early exactly as the deadline does.
pub async fn doctor(options: &DoctorOptions, stop: watch::Receiver<bool>) -> Result<DoctorReport, DoctorError> {
    let (program, args) = options.command.split_first().ok_or(DoctorError::Empty)?;
    let go = Path::new(program);
    let spawn_error = |source: std::io::Error| {
        let hint = if instrument::subcommand(&options.command).0.first().is_some_and(|w| is_go_subcommand(w)) {
            format!(
                "; the command line starts with the go program: modchaos doctor -- go {}",
                options.command.join(" ")
            )
        } else {
            String::new()
        };
        DoctorError::Spawn { program: program.clone(), source, hint }
    };
    let collected = collect(go, &options.cwd, &stop).await.map_err(spawn_error)?;
    if *stop.borrow() {
        return Err(DoctorError::Interrupted);
    }
    let user_env = process_env();
    let godebug = instrument::godebug_with_resolver_trace(user_env.get("GODEBUG").map(String::as_str));
    let (run_args, trace_flag) = instrument::add_trace_flag(args);
    let overrides = BTreeMap::from([("GODEBUG".to_string(), godebug.clone())]);
    let modcache = config::module_cache(collected.go_env.as_ref(), &user_env);
    let inv = GoInvocation {
        go,
        args: &run_args,
        env: &overrides,
        cwd: &options.cwd,
        timeout: options.timeout,
        inspect_cache: modcache.as_deref(),
        user: None,
    };
    let live = Live {
        stdout: options.stdout_echo,
        stderr: options.stderr_echo,
        inherit_env: true,
        stop: Some(stop_future(stop.clone())),
    };
    let mut outcome = gocmd::run_live(&inv, live).await.map_err(spawn_error)?;
    // The runner looks at the cache only when go fails; on a real machine its state is
    // worth a look whatever happened (it is only read).
    if outcome.cache.is_none() {
        outcome.cache = modcache.as_deref().map(crate::modcache::CacheState::inspect);
    }
    let interrupted = outcome.exit == Exit::Timeout && *stop.borrow();
    let user_settings = config::relevant_env(&user_env);
    let mut go_env_given = user_env;
    go_env_given.extend(overrides);
    let evidence = Evidence {
        command: Some(shell_words::join(std::iter::once(program).chain(&run_args))),
        exit: Some(outcome.exit),
        duration_ms: Some(outcome.duration_ms),
        pid: Some(outcome.pid),
        records: parse_json_records(&outcome.stdout),
        trace: parse_trace(&outcome.stderr),
        stderr: outcome.stderr,
        stdout: outcome.stdout,
        requests: Vec::new(),
        dns: Vec::new(),
        env: config::relevant_env(&go_env_given),
        go_env: collected.go_env,
        go_version: collected.version.as_deref().and_then(|v| v.split_whitespace().nth(2)).map(str::to_string),
        cache: outcome.cache,
        hosts: None,
        // The run context: what this machine changed from go's defaults.
        env_changes: collected.changed.iter().flatten().map(|(k, v)| format!("{k}: (go's default) → {v}")).collect(),
        ..Default::default()
    };
    let diagnosis = diagnose(&evidence);
    let configuration = config::settings(evidence.go_env.as_ref(), collected.changed.as_ref(), &user_settings);
    let mut problems = collected.problems;
    if modcache.is_none() {
        problems.push("the module cache's location is unknown (no go env, GOMODCACHE, GOPATH or HOME)".into());
    }
    Ok(DoctorReport {
        command: shell_words::join(&options.command),
        ran: evidence.command.clone().unwrap_or_default(),
        trace_flag,
        godebug,
        go_version: collected.version,
        cwd: options.cwd.clone(),
        timeout_ms: options.timeout.as_millis().try_into().unwrap_or(u64::MAX),
        interrupted,
        go_env_changed: collected.changed,
        configuration,
        problems,
        diagnosis,
        evidence,
    })
}

/// go's subcommands, to recognise a command line given without the program.
fn is_go_subcommand(word: &str) -> bool {
    matches!(
        word,
        "bug"
            | "build"
            | "clean"
            | "doc"
            | "env"
            | "fix"
            | "fmt"
            | "generate"
            | "get"
            | "install"
            | "list"
            | "mod"
            | "work"
            | "run"
            | "telemetry"
            | "test"
            | "tool"
            | "version"
            | "vet"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::Category;

    /// A go that answers the helpers like go 1.22 (no `-changed`) and fails the command.
    fn fake_go(dir: &Path, modcache: &Path) -> PathBuf {
        use std::os::unix::fs::PermissionsExt as _;
        let path = dir.join("go");
        let body = format!(
            r#"#!/bin/sh
case "$*" in
  version) echo "go version go1.22.0 fake/arch" ;;
  "env -json") printf '{{\n\t"GOMODCACHE": "{}",\n\t"GOPROXY": "https://u:secret@p.example,direct"\n}}\n' ;;
  "env -json -changed") echo "flag provided but not defined: -changed" >&2; exit 2 ;;
  *) echo "args: $*"; echo "GODEBUG=$GODEBUG" >&2; echo "go: something odd" >&2; exit 3 ;;
esac
"#,
            modcache.display()
        );
        std::fs::write(&path, body).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn options(command: Vec<String>, cwd: &Path) -> DoctorOptions {
        DoctorOptions {
            command,
            timeout: Duration::from_secs(60),
            cwd: cwd.to_path_buf(),
            stdout_echo: None,
            stderr_echo: None,
        }
    }

    #[tokio::test]
    async fn the_command_runs_instrumented_and_the_helpers_fill_the_report() {
        let dir = tempfile::tempdir().unwrap();
        let modcache = dir.path().join("modcache");
        let go = fake_go(dir.path(), &modcache);
        let command = vec![go.display().to_string(), "mod".into(), "download".into(), "m.example/a@v1.0.0".into()];
        let (_tx, rx) = watch::channel(false);
        let report = doctor(&options(command, dir.path()), rx).await.unwrap();
        let evidence = &report.evidence;
        assert_eq!(evidence.exit, Some(Exit::Code { code: 3 }));
        assert_eq!(evidence.stdout, "args: mod download -x m.example/a@v1.0.0\n");
        assert!(evidence.stderr.contains("netdns=go+2"), "{}", evidence.stderr);
        assert_eq!(report.trace_flag, TraceFlag::Added { after: "mod download".into() });
        assert_eq!(report.go_version.as_deref(), Some("go version go1.22.0 fake/arch"));
        // No -changed in this go: nothing is reported missing for it.
        assert_eq!(report.go_env_changed, None);
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        let go_env = evidence.go_env.as_ref().unwrap();
        assert_eq!(go_env["GOPROXY"], "https://u:xxxxx@p.example,direct");
        assert_eq!(evidence.cache.as_ref().map(|c| c.root.clone()), Some(modcache.clone()));
        assert!(!modcache.exists(), "doctor created the module cache");
        assert_eq!(report.diagnosis.category, Category::Unknown);
        let shown = report.configuration.iter().find(|s| s.name == "GOPROXY").unwrap();
        assert_eq!((shown.value.as_str(), shown.source), ("https://u:xxxxx@p.example,direct", SettingSource::GoEnv));
    }

    #[tokio::test]
    async fn a_missing_program_is_a_spawn_error_with_a_hint() {
        let dir = tempfile::tempdir().unwrap();
        let (_tx, rx) = watch::channel(false);
        let command = vec!["mod".to_string(), "download".to_string()];
        let err = doctor(&options(command, dir.path()), rx).await.unwrap_err();
        assert!(matches!(err, DoctorError::Spawn { .. }), "{err:?}");
        assert!(err.to_string().contains("modchaos doctor -- go mod download"), "{err}");
        let (_tx, rx) = watch::channel(false);
        assert!(matches!(doctor(&options(Vec::new(), dir.path()), rx).await, Err(DoctorError::Empty)));
    }
}
