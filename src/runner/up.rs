//! `modchaos up`: a scenario's world kept running, faults live, for a person's own go
//! command and project — how support reproduces a customer's failure by hand. Open mode
//! serves the world from this process and prints what to export; sealed mode starts a
//! child in the scenario's namespaces (where the hosts have their real names) and runs a
//! shell, or a given command, inside it. Requests are logged as they come.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::fault::toxiproxy::ToxicBackend;
use crate::scenario::{LoadContext, Scenario};
use crate::sealed::{SealedSupport, ns};
use crate::vocab::{Account, NetworkMode};
use crate::world::World;

/// First argument that turns a program into the sealed side of `modchaos up`.
pub const UP_ARG: &str = "__modchaos-sealed-up";

/// What to do once the world runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum UpAction {
    /// Serve until interrupted (Ctrl-C, SIGTERM).
    Serve,
    /// Run this command with the world's environment; stop when it ends.
    Command(Vec<String>),
    /// Run an interactive shell with the world's environment; stop when it exits.
    Shell,
}

/// Why `up` could not run.
#[derive(Debug, Error)]
pub enum UpError {
    /// The world did not start.
    #[error("cannot start the scenario's world: {0}")]
    World(std::io::Error),
    /// Its files could not be written.
    #[error("cannot write the world's files in {path}: {source}")]
    Files {
        /// The directory.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// The command could not be started.
    #[error("cannot run `{command}`: {source}")]
    Command {
        /// The command line.
        command: String,
        /// What failed.
        source: std::io::Error,
    },
    /// The sealed side could not be started or set up.
    #[error("{0}")]
    Sealed(String),
}

/// The variables that point a person's own go command at a running world: the
/// scenario's environment (names rewritten to addresses in open mode), its checksum
/// database, the certificate authorities it trusts, a module cache of its own (the
/// fakes' modules must not mix with one's real cache) and, in open mode, the guard for
/// every host the scenario does not declare. Files go into `dir`.
pub fn world_env(scenario: &Scenario, world: &World, dir: &Path) -> Result<Vec<(String, String)>, UpError> {
    let files = |source| UpError::Files { path: dir.to_path_buf(), source };
    std::fs::create_dir_all(dir.join("certs")).map_err(files)?;
    let trust = dir.join("trust.pem");
    std::fs::write(&trust, world.pki.bundle(&scenario.trust)).map_err(files)?;
    let modcache = dir.join("modcache");
    std::fs::create_dir_all(&modcache).map_err(files)?;
    let path = |p: &Path| p.display().to_string();
    let mut env: Vec<(String, String)> = vec![
        ("GOTOOLCHAIN".into(), "local".into()),
        ("GOSUMDB".into(), "off".into()),
        ("GOPRIVATE".into(), String::new()),
        ("GONOPROXY".into(), String::new()),
        ("GONOSUMDB".into(), String::new()),
        ("GOINSECURE".into(), String::new()),
        ("GOFLAGS".into(), "-modcacherw".into()),
        ("GOMODCACHE".into(), path(&modcache)),
        ("SSL_CERT_FILE".into(), path(&trust)),
        ("SSL_CERT_DIR".into(), path(&dir.join("certs"))),
        ("GIT_SSL_CAINFO".into(), path(&trust)),
    ];
    if let Some(guard) = world.map.guard {
        for var in ["HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"] {
            env.push((var.into(), format!("http://{guard}")));
        }
        env.push(("NO_PROXY".into(), String::new()));
        env.push(("no_proxy".into(), String::new()));
    }
    for (k, v) in &scenario.env {
        let value = world.map.to_go(k, v);
        match env.iter_mut().find(|(name, _)| name == k) {
            Some(slot) => slot.1 = value,
            None => env.push((k.clone(), value)),
        }
    }
    // The scenario's GOFLAGS, plus what lets the module cache be removed afterwards.
    if let Some(flags) = env.iter_mut().find(|(k, _)| k == "GOFLAGS")
        && !flags.1.split_whitespace().any(|f| f == "-modcacherw")
    {
        flags.1 = format!("{} -modcacherw", flags.1).trim().to_string();
    }
    env.sort();
    Ok(env)
}

/// `export NAME='value'` lines for a POSIX shell.
pub fn exports(env: &[(String, String)]) -> String {
    env.iter().map(|(k, v)| format!("export {k}={}\n", shell_words::quote(v))).collect()
}

/// Serves `scenario`'s world from this process (open mode) until `action` is done.
/// Returns the exit status to leave with.
pub async fn up_open(scenario: &Scenario, toxics: &ToxicBackend, action: &UpAction) -> Result<i32, UpError> {
    let mut world = World::start_with(scenario, NetworkMode::Open, toxics).await.map_err(UpError::World)?;
    let dir = crate::cleanup::owned_tempdir(&crate::fsutil::base_dir(), "modchaos-up-")
        .map_err(|source| UpError::Files { path: crate::fsutil::base_dir(), source })?;
    let env = world_env(scenario, &world, dir.path())?;
    banner(scenario, &world, &env, NetworkMode::Open);
    let status = match action {
        UpAction::Serve => {
            wait_for_interrupt().await;
            0
        }
        UpAction::Command(command) => run_command(command, &env).await?,
        UpAction::Shell => run_command(&[shell()], &env).await?,
    };
    world.stop().await;
    crate::fsutil::make_writable(dir.path());
    drop(dir);
    Ok(status)
}

/// What the sealed side is asked to do (a JSON file named on its command line: its
/// standard streams belong to the person's terminal).
#[derive(Debug, Serialize, Deserialize)]
pub struct UpRequest {
    /// The scenario file.
    pub file: PathBuf,
    /// Its text.
    pub source: String,
    /// Playbook directories (for loading).
    pub playbook_dirs: Vec<PathBuf>,
    /// Whether to enter a pid namespace.
    pub with_pid: bool,
    /// Where the world's files go (a directory the parent owns).
    pub dir: PathBuf,
    /// What to do.
    pub action: UpAction,
    /// Log directives for the sealed side's stderr.
    pub log_filter: String,
}

/// Runs `scenario`'s world in its sealed namespaces, in a child re-executing `support`'s
/// helper, which runs `action` there; returns the child's exit status.
pub async fn up_sealed(
    scenario: &Scenario,
    support: &SealedSupport,
    action: UpAction,
    log_filter: String,
) -> Result<i32, UpError> {
    let sealed = |e: String| UpError::Sealed(e);
    let dir = crate::cleanup::owned_tempdir(&crate::fsutil::base_dir(), "modchaos-up-")
        .map_err(|e| sealed(format!("cannot create the world's directory: {e}")))?;
    let request = UpRequest {
        file: scenario.file.clone(),
        source: scenario.source.to_string(),
        playbook_dirs: scenario.playbook_dirs.clone(),
        with_pid: support.with_pid,
        dir: dir.path().join("world"),
        action,
        log_filter,
    };
    let request_file = dir.path().join("request.json");
    let text = serde_json::to_vec(&request).map_err(|e| sealed(e.to_string()))?;
    std::fs::write(&request_file, text).map_err(|e| sealed(format!("cannot write the request: {e}")))?;
    // The child owns the terminal now: Ctrl-C is for the shell or the command inside
    // (the child stops the world when they end, or on Ctrl-C when it only serves).
    let mut command = tokio::process::Command::new(&support.helper);
    command.arg(UP_ARG).arg(&request_file).kill_on_drop(true);
    // SAFETY: the hook only calls prctl and getppid (async-signal-safe).
    unsafe {
        command.pre_exec(crate::cleanup::die_with_parent(std::process::id()));
    }
    let mut child = command.spawn().map_err(|e| sealed(format!("cannot start the sealed side: {e}")))?;
    let status = loop {
        tokio::select! {
            status = child.wait() => break status.map_err(|e| sealed(e.to_string()))?,
            // Interrupts reach the child directly (same terminal); this side only waits.
            _ = tokio::signal::ctrl_c() => continue,
        }
    };
    crate::fsutil::make_writable(dir.path());
    drop(dir);
    Ok(status.code().unwrap_or(130))
}

/// The sealed side: enters the namespaces, starts the world, does what was asked, and
/// exits with the status to report. Called by [`super::dispatch`].
pub fn sealed_main(request_file: &Path) -> i32 {
    let fail = |what: String| {
        say(&format!("modchaos up: {what}\n"));
        3
    };
    let request: UpRequest = match std::fs::read(request_file).map(|t| serde_json::from_slice(&t)) {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return fail(format!("bad request: {e}")),
        Err(e) => return fail(format!("cannot read the request: {e}")),
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&request.log_filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("modchaos=info"));
    let color = std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .without_time()
        .with_ansi(color)
        .with_writer(std::io::stderr)
        .try_init();
    let mut ctx = LoadContext::default();
    ctx.playbook_dirs = request.playbook_dirs.clone();
    let scenario = match crate::scenario::parse(&request.file, request.source.clone(), &ctx) {
        Ok(s) => s,
        Err(e) => return fail(format!("cannot load the scenario:\n{e}")),
    };
    // The person's own command runs as the person: their uid, mapped to itself.
    let ids = if Account::current().is_root() {
        ns::IdMap::root_and(Account::UNPRIVILEGED)
    } else {
        ns::IdMap::own_as(Account::current())
    };
    if let Err(e) = ns::enter(&super::sealed_net::net_files(&scenario), request.with_pid, &ids) {
        return fail(format!("cannot enter the sealed namespaces: {e}"));
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(r) => r,
        Err(e) => return fail(format!("cannot start the async runtime: {e}")),
    };
    let result = runtime.block_on(async {
        let mut world = World::start_with(&scenario, NetworkMode::Sealed, &ToxicBackend::InProcess)
            .await
            .map_err(UpError::World)?;
        let env = world_env(&scenario, &world, &request.dir)?;
        banner(&scenario, &world, &env, NetworkMode::Sealed);
        let status = match &request.action {
            UpAction::Serve => {
                wait_for_interrupt().await;
                0
            }
            UpAction::Command(command) => run_command(command, &env).await?,
            UpAction::Shell => run_command(&[shell()], &env).await?,
        };
        world.stop().await;
        Ok::<i32, UpError>(status)
    });
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        Ok(status) => status,
        Err(e) => fail(e.to_string()),
    }
}

/// What the person sees when the world is up.
fn banner(scenario: &Scenario, world: &World, env: &[(String, String)], mode: NetworkMode) {
    let mut text =
        format!("modchaos up: {} ({}), {} mode, faults live\n", scenario.name, scenario.file.display(), mode.name());
    for line in world.map.describe() {
        text += &format!("  {line}\n");
    }
    text += "go's environment for this world (as `modchaos up` gives it to the command or shell):\n";
    text += &exports(env);
    say(&crate::redact::text(&text));
}

/// Writes to stderr, never panicking (the reader may be gone: a closed pipe).
fn say(text: &str) {
    use std::io::Write as _;
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// The person's shell (`$SHELL`, else `sh`).
fn shell() -> String {
    std::env::var("SHELL").ok().filter(|s| !s.is_empty()).unwrap_or_else(|| "sh".into())
}

/// Runs `command` with the person's environment plus `env`, on the same terminal;
/// interrupts are the command's to handle meanwhile. Returns its exit status.
async fn run_command(command: &[String], env: &[(String, String)]) -> Result<i32, UpError> {
    let line = shell_words::join(command);
    let Some((program, args)) = command.split_first() else {
        return Err(UpError::Command { command: line, source: std::io::Error::other("empty command") });
    };
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::inherit())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|source| UpError::Command { command: line.clone(), source })?;
    loop {
        tokio::select! {
            status = child.wait() => {
                let status = status.map_err(|source| UpError::Command { command: line.clone(), source })?;
                return Ok(status.code().unwrap_or(130));
            }
            _ = tokio::signal::ctrl_c() => continue,
        }
    }
}

/// Until Ctrl-C or SIGTERM.
async fn wait_for_interrupt() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
    }
    say("modchaos up: stopping the world\n");
}
