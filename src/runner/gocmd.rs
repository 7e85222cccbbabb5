//! Running the real go command: hermetic environment, its own process group, output
//! captured, and at the deadline SIGTERM to the whole group, then SIGKILL after a grace
//! period, so that no go or git process outlives the scenario. [`run_live`] is the same
//! for a person watching (`modchaos doctor`): their environment, output copied to the
//! terminal as it comes, and an early stop (Ctrl-C) handled like the deadline.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;
use tokio::process::Command;
use tracing::Instrument as _;

/// Which processes of a group are still alive (tests and callers check that none survive).
pub use crate::modcache::procfs::live_group_members;

pub use crate::vocab::Exit;

/// Time between SIGTERM and SIGKILL.
pub const GRACE: Duration = Duration::from_secs(2);

/// Most output kept per stream; the rest is dropped with a marker.
const MAX_OUTPUT: usize = 16 << 20;

/// What one go command did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GoOutcome {
    /// The command line, as a person would type it.
    pub command: String,
    /// How it ended.
    pub exit: Exit,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Wall time until exit (or until killed).
    pub duration_ms: f64,
    /// Process id of go, which is also its process group id.
    pub pid: u32,
    /// The module cache when go failed (or at the deadline, before it was killed);
    /// `None` after a success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<crate::modcache::CacheState>,
}

/// One go command to run.
#[derive(Debug, Clone)]
pub struct GoInvocation<'a> {
    /// The go binary.
    pub go: &'a Path,
    /// Arguments after `go`.
    pub args: &'a [String],
    /// The complete environment (nothing else is inherited).
    pub env: &'a BTreeMap<String, String>,
    /// Working directory.
    pub cwd: &'a Path,
    /// Deadline.
    pub timeout: Duration,
    /// The module cache to inspect when the command fails — at the deadline before go is
    /// killed, so that a lock go is blocked on still shows go as its waiter.
    pub inspect_cache: Option<&'a Path>,
    /// Who go runs as, when not this process's user (its groups are dropped).
    pub user: Option<crate::vocab::Account>,
}

/// Kills a process group when dropped, so a cancelled run leaves nothing behind.
struct GroupGuard(Option<i32>);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pgid) = self.0 {
            let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
        }
    }
}

/// Where a stream of go's output is copied as it arrives (it is captured all the same).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Echo {
    /// This process's standard output.
    Stdout,
    /// This process's standard error.
    Stderr,
}

/// A stop request: when it completes, the run ends as at the deadline.
pub type Stop = Pin<Box<dyn Future<Output = ()> + Send>>;

/// How a run watched by a person differs from a scenario's hermetic one.
#[derive(Default)]
pub struct Live {
    /// Where go's standard output is copied as it comes.
    pub stdout: Option<Echo>,
    /// Where go's standard error is copied as it comes.
    pub stderr: Option<Echo>,
    /// Keep this process's environment (the user's), `env` only adding to it, instead of
    /// giving go `env` alone. Variables that are not UTF-8 pass through untouched.
    pub inherit_env: bool,
    /// Ends the run early, exactly as the deadline does (cache inspected, then the group
    /// killed): the user's Ctrl-C.
    pub stop: Option<Stop>,
}

/// Runs the command to completion or deadline.
pub async fn run(inv: &GoInvocation<'_>) -> std::io::Result<GoOutcome> {
    run_live(inv, Live::default()).await
}

/// Runs the command to completion, deadline or stop request, copying its output as
/// `live` says.
pub async fn run_live(inv: &GoInvocation<'_>, live: Live) -> std::io::Result<GoOutcome> {
    let command = format!("go {}", shell_words::join(inv.args));
    let started = Instant::now();
    let mut command_builder = Command::new(inv.go);
    command_builder.args(inv.args);
    // SAFETY: the hook only calls prctl and getppid, which are async-signal-safe. go
    // dies with the harness, even when the harness is killed.
    unsafe {
        command_builder.pre_exec(crate::cleanup::die_with_parent(std::process::id()));
    }
    if !live.inherit_env {
        command_builder.env_clear();
    }
    if let Some(user) = inv.user.filter(|u| *u != crate::vocab::Account::current()) {
        command_builder.uid(user.uid).gid(user.gid);
    }
    let spawn_span = tracing::debug_span!(target: "modchaos::phase", "go_spawn").entered();
    command_builder
        .envs(inv.env)
        .current_dir(inv.cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = crate::fsutil::retry_while_busy(|| command_builder.spawn())?;
    tracing::info!(target: "modchaos::go", command = %command, pid = child.id().unwrap_or(0), "go started");
    let pid = child.id().ok_or_else(|| std::io::Error::other("go exited before its pid was known"))?;
    drop(spawn_span);
    let mut guard = GroupGuard(Some(pid as i32));
    let stdout = tokio::spawn(read_capped(child.stdout.take(), live.stdout));
    let stderr = tokio::spawn(read_capped(child.stderr.take(), live.stderr));
    let mut cache = None;
    let stop = async move {
        match live.stop {
            Some(stop) => stop.await,
            None => std::future::pending().await,
        }
    };
    let waited = tokio::select! {
        status = child.wait() => Some(status),
        () = tokio::time::sleep(inv.timeout) => None,
        () = stop => None,
    };
    let exit = match waited {
        Some(status) => {
            let status = status?;
            use std::os::unix::process::ExitStatusExt;
            match (status.code(), status.signal()) {
                (Some(code), _) => Exit::Code { code },
                (None, Some(signal)) => Exit::Signal { signal },
                (None, None) => Exit::Code { code: -1 },
            }
        }
        None => {
            cache = inv.inspect_cache.map(crate::modcache::CacheState::inspect);
            let _ = killpg(Pid::from_raw(pid as i32), Signal::SIGTERM);
            if tokio::time::timeout(GRACE, child.wait()).await.is_err() {
                let _ = killpg(Pid::from_raw(pid as i32), Signal::SIGKILL);
                let _ = child.wait().await;
            }
            Exit::Timeout
        }
    };
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    let reap_span = tracing::debug_span!(target: "modchaos::phase", "go_reap");
    // Children of go (git, …) that outlived it would hold the pipes open and keep
    // writing into the sandbox: end them and wait until they are gone.
    let _ = killpg(Pid::from_raw(pid as i32), Signal::SIGKILL);
    guard.0 = None;
    wait_for_group_exit(pid as i32, GRACE).instrument(reap_span).await;
    // Members go left behind became this process's children if it is a subreaper.
    crate::cleanup::reap_group(pid as i32);
    let collect = |h: tokio::task::JoinHandle<String>| async move {
        tokio::time::timeout(GRACE, h).await.ok().and_then(Result::ok).unwrap_or_default()
    };
    let (stdout, stderr) = async { tokio::join!(collect(stdout), collect(stderr)) }
        .instrument(tracing::debug_span!(target: "modchaos::phase", "go_output"))
        .await;
    // A failure's cause may lie in the cache (permissions, corrupt files, a full disk);
    // a success needs no inspection, and a large cache takes milliseconds to walk.
    if cache.is_none() && !exit.success() {
        cache = inv.inspect_cache.map(crate::modcache::CacheState::inspect);
    }
    tracing::info!(target: "modchaos::go", command = %command, exit = %exit.describe(), ms = duration_ms, "go ended");
    Ok(GoOutcome { command, exit, stdout, stderr, duration_ms, pid, cache })
}

/// Waits until no live process of group `pgid` is left, or `limit` passes, reaping the
/// members that are this process's children (a subreaper inherits go's orphans) as
/// they die.
async fn wait_for_group_exit(pgid: i32, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        crate::cleanup::reap_group(pgid);
        // No process left in the group at all, not even a zombie: the usual end of a go
        // command, known from one kill(2) instead of reading every process's stat file
        // (about a millisecond on a busy machine).
        if killpg(Pid::from_raw(pgid), None) == Err(nix::errno::Errno::ESRCH) {
            return;
        }
        if Instant::now() >= deadline || live_group_members(pgid).is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Writes `chunk` to this process's stdout or stderr, off the async threads (a stalled
/// terminal must not stall the deadline); false once that fails.
async fn copy_out(to: Echo, chunk: Vec<u8>) -> bool {
    use std::io::Write as _;
    let write = move || match to {
        Echo::Stdout => {
            let mut out = std::io::stdout().lock();
            out.write_all(&chunk).and_then(|()| out.flush())
        }
        Echo::Stderr => {
            let mut out = std::io::stderr().lock();
            out.write_all(&chunk).and_then(|()| out.flush())
        }
    };
    matches!(tokio::task::spawn_blocking(write).await, Ok(Ok(())))
}

async fn read_capped(stream: Option<impl tokio::io::AsyncRead + Unpin>, echo: Option<Echo>) -> String {
    let Some(mut stream) = stream else {
        return String::new();
    };
    let mut echo = echo;
    let mut kept = Vec::new();
    let mut dropped = 0usize;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                // A closed terminal or pipe ends the copy, never the capture.
                if let Some(to) = echo
                    && !copy_out(to, buf[..n].to_vec()).await
                {
                    echo = None;
                }
                let room = MAX_OUTPUT.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
                dropped += n.saturating_sub(room);
            }
        }
    }
    let mut text = String::from_utf8_lossy(&kept).into_owned();
    if dropped > 0 {
        text += &format!("\n[modchaos: {dropped} more bytes of output dropped]\n");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(body: &str) -> tempfile::TempPath {
        use std::io::Write as _;
        use std::os::unix::fs::PermissionsExt;
        let mut file = tempfile::Builder::new().prefix("modchaos-fake-go-").tempfile().unwrap();
        writeln!(file, "#!/bin/sh\n{body}").unwrap();
        let path = file.into_temp_path();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[tokio::test]
    async fn the_whole_group_dies_at_the_deadline_even_children_ignoring_sigterm() {
        // A "go" that starts a child which ignores SIGTERM, then waits forever.
        let fake = script("sh -c 'trap \"\" TERM; sleep 300' &\necho started >&2\nsleep 300");
        let env = BTreeMap::from([("PATH".to_string(), std::env::var("PATH").unwrap())]);
        let cwd = std::env::temp_dir();
        let inv = GoInvocation {
            go: &fake,
            args: &[],
            env: &env,
            cwd: &cwd,
            timeout: Duration::from_millis(500),
            inspect_cache: None,
            user: None,
        };
        let outcome = run(&inv).await.unwrap();
        assert_eq!(outcome.exit, Exit::Timeout);
        assert!(outcome.stderr.contains("started"));
        assert!(live_group_members(outcome.pid as i32).is_empty(), "processes of group {} survived", outcome.pid);
    }

    #[tokio::test]
    async fn exit_status_and_output_are_captured() {
        let fake = script("echo out; echo err >&2; exit 3");
        let env = BTreeMap::new();
        let cwd = std::env::temp_dir();
        let inv = GoInvocation {
            go: &fake,
            args: &[],
            env: &env,
            cwd: &cwd,
            timeout: Duration::from_secs(10),
            inspect_cache: None,
            user: None,
        };
        let outcome = run(&inv).await.unwrap();
        assert_eq!(outcome.exit, Exit::Code { code: 3 });
        assert_eq!((outcome.stdout.as_str(), outcome.stderr.as_str()), ("out\n", "err\n"));
    }

    #[tokio::test]
    async fn a_stop_request_ends_the_run_as_the_deadline_does() {
        let fake = script("sleep 300 &\nsleep 300");
        let env = BTreeMap::new();
        let cwd = std::env::temp_dir();
        let inv = GoInvocation {
            go: &fake,
            args: &[],
            env: &env,
            cwd: &cwd,
            timeout: Duration::from_secs(120),
            inspect_cache: None,
            user: None,
        };
        let stop: Stop = Box::pin(tokio::time::sleep(Duration::from_millis(300)));
        let outcome = run_live(&inv, Live { stop: Some(stop), ..Live::default() }).await.unwrap();
        assert_eq!(outcome.exit, Exit::Timeout);
        assert!(outcome.duration_ms < 60_000.0, "the stop request was ignored: {} ms", outcome.duration_ms);
        assert!(live_group_members(outcome.pid as i32).is_empty(), "processes of group {} survived", outcome.pid);
    }

    #[tokio::test]
    async fn a_live_run_keeps_this_process_environment_and_adds_to_it() {
        // Any variable of ours that a shell does not set by itself.
        let shell_own = ["PATH", "PWD", "OLDPWD", "SHLVL", "IFS", "PS1", "PS2", "PS4", "OPTIND", "_"];
        let (name, value) = std::env::vars()
            .find(|(k, v)| {
                !v.is_empty()
                    && !v.contains(['"', '$', '`', '\\', '\n'])
                    && k.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
                    && !shell_own.contains(&k.as_str())
            })
            .expect("the test process has some environment");
        let fake = script(&format!("echo \"v=${{{name}-unset}} added=$MODCHAOS_ADDED\""));
        let env = BTreeMap::from([("MODCHAOS_ADDED".to_string(), "yes".to_string())]);
        let cwd = std::env::temp_dir();
        let inv = GoInvocation {
            go: &fake,
            args: &[],
            env: &env,
            cwd: &cwd,
            timeout: Duration::from_secs(30),
            inspect_cache: None,
            user: None,
        };
        let live = run_live(&inv, Live { inherit_env: true, ..Live::default() }).await.unwrap();
        assert_eq!(live.stdout, format!("v={value} added=yes\n"), "{name}");
        let hermetic = run(&inv).await.unwrap();
        assert_eq!(hermetic.stdout, "v=unset added=yes\n", "a hermetic run inherited {name}");
    }
}
