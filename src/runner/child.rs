//! The sealed child (DESIGN §4): a scenario runs in a child process of its own, inside
//! new user, network, mount and pid namespaces, where the fakes listen on their real
//! names and ports (127.0.0.N:443), a fake resolver answers on 127.0.0.1:53, and nothing
//! else exists. The child is a program re-executed with a hidden argument
//! ([`CHILD_ARG`]) whose `main` calls [`super::dispatch`] first thing: it enters the
//! namespaces before any thread starts, re-loads the scenario from its text, runs it,
//! and sends back its progress and then its [`RunRecord`], one JSON line each.

use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _};

use super::events::{Progress, ProgressSink};
use super::options::RunOptions;
use super::record::RunRecord;
use super::run::run_here;
use crate::gobin::GoBinary;
use crate::scenario::{GoUser, LoadContext, RecoveryStep, Scenario};
use crate::sealed::{SealedSupport, ns};
use crate::vocab::{Account, NetworkMode};

/// First argument that turns a program into a sealed scenario runner.
pub const CHILD_ARG: &str = "__modchaos-sealed-child";

/// What the runner sends a sealed child on its stdin.
#[derive(Debug, Serialize, Deserialize)]
pub struct ChildRequest {
    /// The scenario file (for relative fixture paths and error positions).
    pub file: PathBuf,
    /// Its text, so that inline scenarios work too.
    pub source: String,
    /// Directories searched for playbooks.
    pub playbook_dirs: Vec<PathBuf>,
    /// The go command.
    pub go: PathBuf,
    /// `$(go env GOROOT)`, already known to the parent.
    pub goroot: Option<PathBuf>,
    /// `$(go env GOVERSION)`, already known to the parent: the child would otherwise
    /// start go once more (several ms) to record it.
    #[serde(default)]
    pub go_version: Option<String>,
    /// Whether to enter a pid namespace.
    pub with_pid: bool,
    /// The user namespace's id maps.
    pub ids: ns::IdMap,
    /// The directory to make the sandbox in: the parent made it and removes it when the
    /// child ends, however it ends.
    pub sandbox_base: PathBuf,
    /// Leave the sandbox on disk (`--keep`).
    #[serde(default)]
    pub keep_sandbox: bool,
    /// Which log events the parent wants (`RUST_LOG`-style directives; `None`: none).
    #[serde(default)]
    pub log_filter: Option<String>,
}

/// What a sealed child says on its stdout, one JSON line each.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "message", rename_all = "snake_case")]
enum ChildMessage {
    /// A step of the run.
    Progress {
        /// The step.
        progress: Progress,
    },
    /// A log event of the child, for the parent's subscriber.
    Log {
        /// The event.
        line: super::childlog::LogLine,
    },
    /// The run ended: what it did.
    Done {
        /// The record.
        record: Box<RunRecord>,
    },
}

/// Writes every message as one JSON line on stdout.
struct LineSink(std::sync::Mutex<std::io::Stdout>);

impl LineSink {
    fn send(&self, message: &ChildMessage) {
        let Ok(line) = serde_json::to_string(message) else { return };
        let mut out = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}

impl ProgressSink for LineSink {
    fn progress(&self, progress: &Progress) {
        self.send(&ChildMessage::Progress { progress: progress.clone() });
    }
}

/// The sealed child: read the request, load the scenario, enter the namespaces, run.
pub(super) fn child_main() -> i32 {
    let sink = LineSink(std::sync::Mutex::new(std::io::stdout()));
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        eprintln!("modchaos sealed child: cannot read the request: {e}");
        return 2;
    }
    let request: ChildRequest = match serde_json::from_str(&input) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("modchaos sealed child: bad request: {e}");
            return 2;
        }
    };
    // Every temporary directory of the run (sandbox, git repositories, resolver files)
    // goes into the directory the parent owns and removes, however this child ends.
    // SAFETY: no other thread exists yet (the runtime starts below).
    unsafe {
        std::env::set_var("MODCHAOS_TMPDIR", &request.sandbox_base);
        std::env::set_var("TMPDIR", &request.sandbox_base);
    }
    // The child's events travel to the parent as protocol lines (set before any thread).
    if let Some(filter) = request.log_filter.as_deref().and_then(|f| tracing_subscriber::EnvFilter::try_new(f).ok()) {
        use tracing_subscriber::layer::{Layer as _, SubscriberExt as _};
        let lines = LineSink(std::sync::Mutex::new(std::io::stdout()));
        let forward = super::childlog::Forward::new(move |line| lines.send(&ChildMessage::Log { line }));
        let subscriber = tracing_subscriber::registry().with(forward.with_filter(filter));
        let _ = tracing::subscriber::set_global_default(subscriber);
    }
    let go = GoBinary { path: request.go.clone() };
    if let Some(version) = &request.go_version {
        go.remember("GOVERSION", version);
    }
    let mut ctx = LoadContext::with_goroot(Some(go.clone()), request.goroot.clone());
    ctx.playbook_dirs = request.playbook_dirs.clone();
    let done = |record: RunRecord| sink.send(&ChildMessage::Done { record: Box::new(record) });
    let scenario = match crate::scenario::parse(&request.file, request.source.clone(), &ctx) {
        Ok(s) => s,
        Err(e) => {
            done(RunRecord::failed_before_start(
                &request.file.display().to_string(),
                &request.file,
                format!("the sealed child could not load the scenario:\n{e}"),
            ));
            return 0;
        }
    };
    if let Err(e) = ns::enter(&super::sealed_net::net_files(&scenario), request.with_pid, &request.ids) {
        done(RunRecord::failed_before_start(
            &scenario.name,
            &scenario.file,
            format!("cannot enter the sealed namespaces: {e}"),
        ));
        return 0;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("modchaos sealed child: cannot start the async runtime: {e}");
            return 2;
        }
    };
    let mut options = RunOptions::open(go, "this is the sealed child");
    options.sandbox_base = Some(request.sandbox_base.clone());
    options.keep_sandbox = request.keep_sandbox;
    let mut record = runtime.block_on(run_here(&scenario, &options, NetworkMode::Sealed, &sink));
    record.usage = super::usage::Usage::of_this_process();
    done(record);
    // Dropping the runtime ends every server; leaving the pid namespace ends every process.
    runtime.shutdown_timeout(Duration::from_secs(1));
    0
}

/// Runs `scenario` in a sealed child, forwards its progress to `sink` and returns its
/// record. Never panics: a child that crashes or says nothing becomes a record of a
/// failed start, with its stderr.
pub async fn run_in_child(
    scenario: &Scenario,
    go: &GoBinary,
    goroot: Option<PathBuf>,
    support: &SealedSupport,
    keep: bool,
    sink: &dyn ProgressSink,
) -> RunRecord {
    // A record made here, for a child that never reported, still says how long it took.
    let started = std::time::Instant::now();
    let fail = |reason: String| RunRecord {
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        ..RunRecord::failed_before_start(&scenario.name, &scenario.file, reason)
    };
    // The child's sandbox lives in a directory this process owns: removed when this
    // function ends or its future is dropped, even if the child was killed.
    let base = match crate::cleanup::owned_tempdir(&crate::fsutil::base_dir(), "modchaos-sealed-") {
        Ok(dir) => RemovedOnDrop(dir.keep(), keep),
        Err(e) => return fail(format!("cannot create the sealed run's directory: {e}")),
    };
    // go's user must be able to pass through it to its sandbox (it lists nothing here).
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Err(e) = std::fs::set_permissions(&base.0, std::fs::Permissions::from_mode(0o711)) {
            return fail(format!("cannot open the sealed run's directory to go's user: {e}"));
        }
    }
    let request = ChildRequest {
        file: scenario.file.clone(),
        source: scenario.source.to_string(),
        playbook_dirs: scenario.playbook_dirs.clone(),
        go: go.path.clone(),
        goroot,
        go_version: go.version().ok(),
        with_pid: support.with_pid,
        ids: id_map(scenario.go_user),
        sandbox_base: base.0.clone(),
        log_filter: super::childlog::child_filter(),
        keep_sandbox: keep,
    };
    let Ok(request) = serde_json::to_vec(&request) else {
        return fail("cannot encode the sealed child's request".into());
    };
    let mut command = tokio::process::Command::new(&support.helper);
    command.arg(CHILD_ARG).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
    // SAFETY: the hook only calls prctl and getppid (async-signal-safe); the kernel kills
    // the child if the thread that started it goes away (a runner killed mid-run leaves
    // nothing behind: its pid namespace ends with it).
    unsafe {
        command.pre_exec(crate::cleanup::die_with_parent(std::process::id()));
    }
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => return fail(format!("cannot start the sealed child {}: {e}", support.helper.display())),
    };
    if let Some(mut stdin) = child.stdin.take() {
        // A child that dies at once closes its stdin: the reason is then in its stderr.
        let _ = stdin.write_all(&request).await;
    }
    let stderr = child.stderr.take().map(|s| tokio::spawn(read_tail(s)));
    let mut report = None;
    if let Some(stdout) = child.stdout.take() {
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let watchdog = tokio::time::sleep(watchdog(scenario));
        tokio::pin!(watchdog);
        loop {
            tokio::select! {
                line = lines.next_line() => match line {
                    Ok(Some(line)) => match serde_json::from_str::<ChildMessage>(&line) {
                        Ok(ChildMessage::Done { record }) => report = Some(*record),
                        Ok(ChildMessage::Progress { progress }) => sink.progress(&progress),
                        Ok(ChildMessage::Log { line }) => line.emit(&scenario.name),
                        Err(_) => {}
                    },
                    _ => break,
                },
                _ = &mut watchdog => {
                    let _ = child.start_kill();
                    report = Some(fail("the sealed child outlived every deadline of the scenario and was killed".into()));
                    break;
                }
            }
        }
    }
    let status = child.wait().await;
    let said = match stderr {
        Some(task) => task.await.unwrap_or_default(),
        None => String::new(),
    };
    let mut report = report.unwrap_or_else(|| {
        let status = status.map_or_else(|e| e.to_string(), |s| s.to_string());
        fail(no_report(&status, &said))
    });
    report.network = Some(NetworkMode::Sealed);
    report
}

/// Why a sealed child's run has no record: how it ended and what it printed on stderr,
/// or that it printed nothing (killed from outside, as by the OOM killer).
fn no_report(status: &str, said: &str) -> String {
    if said.trim().is_empty() {
        format!("the sealed child ended ({status}) without a report and printed nothing")
    } else {
        format!("the sealed child ended ({status}) without a report; it said:\n{}", said.trim_end())
    }
}

/// The id maps of a sealed run: root outside maps root and the unprivileged user as
/// themselves (so that files can belong to either); an ordinary user maps only itself,
/// as the unprivileged user (or as root, for a scenario that wants go to run as root).
pub fn id_map(go_user: GoUser) -> ns::IdMap {
    if Account::current().is_root() {
        ns::IdMap::root_and(Account::UNPRIVILEGED)
    } else {
        ns::IdMap::own_as(match go_user {
            GoUser::Root => Account::ROOT,
            GoUser::Unprivileged => Account::UNPRIVILEGED,
        })
    }
}

/// A directory removed (module cache and all) when dropped, unless kept (`--keep`: the
/// judge of the run removes it if the scenario passed).
struct RemovedOnDrop(PathBuf, bool);

impl Drop for RemovedOnDrop {
    fn drop(&mut self) {
        if self.1 {
            crate::cleanup::disown(&self.0);
            return;
        }
        // A child killed a moment ago may still be writing into it while its pid
        // namespace winds down.
        crate::cleanup::remove_tree_patiently(&self.0, Duration::from_secs(3));
    }
}

/// Longer than any honest run of `scenario` can take: every go command at its deadline
/// plus the kill grace, three times (steady state, run and rerun), every go step of the
/// recovery at the run's deadline, plus a minute for everything else.
/// Saturating: a scenario built in code, unvalidated, may hold any deadline.
fn watchdog(scenario: &Scenario) -> Duration {
    let grace = super::gocmd::GRACE.saturating_mul(2);
    let steps =
        scenario.run.iter().map(|s| s.timeout.saturating_add(grace)).fold(Duration::ZERO, Duration::saturating_add);
    let go_steps = scenario.recover.iter().flat_map(|r| &r.steps).filter(|s| matches!(s, RecoveryStep::Go(_))).count();
    let recovery = super::run::recovery_step_timeout(scenario).saturating_add(grace).saturating_mul(go_steps as u32);
    steps.saturating_mul(3).saturating_add(recovery).saturating_add(Duration::from_secs(60))
}

/// The last 64 KiB of a stream.
async fn read_tail(mut stream: impl tokio::io::AsyncRead + Unpin) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    while let Ok(n) = stream.read(&mut chunk).await {
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > 1 << 16 {
            buf.drain(..buf.len() - (1 << 16));
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_that_printed_nothing_is_said_so_without_a_dangling_colon() {
        let reason = no_report("signal: 9 (SIGKILL)", "\n");
        assert_eq!(reason, "the sealed child ended (signal: 9 (SIGKILL)) without a report and printed nothing");
        let reason = no_report("exit status: 101", "thread 'main' panicked\n");
        assert_eq!(
            reason,
            "the sealed child ended (exit status: 101) without a report; it said:\nthread 'main' panicked"
        );
    }

    /// A child killed from outside (as by the OOM killer) after a while: its record says
    /// how long it ran, not 0 s.
    #[tokio::test]
    async fn regression_a_child_killed_from_outside_keeps_its_real_duration() {
        let dir = tempfile::tempdir().unwrap();
        let helper = dir.path().join("helper.sh");
        std::fs::write(&helper, "#!/bin/sh\n[ \"$1\" = ready ] && exit 0\nsleep 0.4\nkill -9 $$\n").unwrap();
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        // Runnable now: no other test's child still holds the file open for writing.
        crate::fsutil::retry_while_busy(|| std::process::Command::new(&helper).arg("ready").status()).unwrap();
        let source =
            "name: t\nhosts: {proxy.corp.example: {goproxy: {}}}\nrun: {go: mod download}\nexpect: {exit: success}\n";
        let ctx = LoadContext::default();
        let scenario = crate::scenario::parse(std::path::Path::new("t.yaml"), source.into(), &ctx).unwrap();
        let support = SealedSupport { helper, with_pid: false };
        let go = GoBinary { path: "go".into() };
        let record = run_in_child(&scenario, &go, None, &support, false, &super::super::events::NoEvents).await;
        let reason = record.reason.unwrap_or_default();
        assert!(reason.contains("signal: 9") && reason.ends_with("printed nothing"), "{reason}");
        assert!(record.duration_ms >= 400.0, "{}", record.duration_ms);
    }
}
