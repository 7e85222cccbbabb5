//! Nothing left behind, however the harness ends. Its children (go, lock holders, git
//! backends, sealed children) die with it: each is started with a parent-death signal
//! ([`die_with_parent`]). Orphans of its descendants (git under a killed go) come back to
//! it rather than to PID 1 ([`become_subreaper`]), and none is left unreaped when it
//! exits ([`reap_children`]), even where PID 1 reaps nothing, as in many containers.
//! Every temporary directory it makes says who owns it — the owner's pid, start time and
//! pid namespace ([`owned_tempdir`]) — so that the next run can remove the ones a killed
//! run left ([`sweep_stale`]), and only those.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

/// The file in an owned directory that names its owner.
pub const OWNER_FILE: &str = ".modchaos-owner";

/// What to run in a child between fork and exec (`pre_exec`) so that it gets SIGKILL
/// when this process dies; `parent` is this process's pid, to catch a parent that died
/// before the signal was set. Only async-signal-safe calls.
pub fn die_with_parent(parent: u32) -> impl FnMut() -> std::io::Result<()> + Send + Sync + 'static {
    move || {
        // SAFETY: prctl and getppid are async-signal-safe.
        if unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        if u32::try_from(unsafe { libc::getppid() }).ok() != Some(parent) {
            return Err(std::io::Error::other("the parent died before the child started"));
        }
        Ok(())
    }
}

/// Makes this process the reaper of its descendants' orphans (PR_SET_CHILD_SUBREAPER).
pub fn become_subreaper() -> std::io::Result<()> {
    nix::sys::prctl::set_child_subreaper(true).map_err(std::io::Error::from)
}

/// Kills every remaining child of this process and reaps it (orphans a subreaper
/// inherited included), until none is left or `limit` passes; returns how many were
/// reaped. Call it when nothing else waits for children any more (at exit).
pub fn reap_children(limit: Duration) -> usize {
    let me = std::process::id() as i32;
    let deadline = Instant::now() + limit;
    let mut reaped = 0;
    loop {
        for pid in children_of(me) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
        loop {
            match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) => break,
                Ok(_) => reaped += 1,
                Err(_) => return reaped,
            }
        }
        if Instant::now() >= deadline {
            return reaped;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Reaps the dead members of process group `pgid` that became this process's children
/// (a subreaper inherits the orphans of a killed go); never blocks.
pub fn reap_group(pgid: i32) {
    while let Ok(status) = waitpid(Pid::from_raw(-pgid), Some(WaitPidFlag::WNOHANG)) {
        if status == WaitStatus::StillAlive {
            break;
        }
    }
}

/// Pids whose parent is `parent`, from `/proc`.
pub fn children_of(parent: i32) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| stat_field(*pid, 1).and_then(|p| p.parse::<i32>().ok()) == Some(parent))
        .collect()
}

/// Field `n` (0-based) after the parenthesised command name of `/proc/<pid>/stat`:
/// 0 state, 1 ppid, 2 pgrp, … 19 start time.
fn stat_field(pid: i32, n: usize) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(n).map(str::to_string)
}

/// Who owns a directory: a process, told apart from a later one with the same pid by
/// its start time, in a pid namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// Process id, as seen in `pid_ns`.
    pub pid: i32,
    /// Start time, in clock ticks since boot (`/proc/<pid>/stat`).
    pub start: u64,
    /// The pid namespace the pid belongs to (`pid:[4026531836]`).
    pub pid_ns: String,
}

impl Owner {
    /// This process.
    pub fn me() -> Option<Owner> {
        let pid = std::process::id() as i32;
        Some(Owner { pid, start: stat_field(pid, 19)?.parse().ok()?, pid_ns: own_pid_ns()? })
    }

    /// Whether the owner still runs: `None` when it cannot be told from here (another
    /// pid namespace).
    pub fn alive(&self) -> Option<bool> {
        if Some(&self.pid_ns) != own_pid_ns().as_ref() {
            return None;
        }
        let start = stat_field(self.pid, 19).and_then(|s| s.parse::<u64>().ok());
        Some(start == Some(self.start))
    }

    fn line(&self) -> String {
        format!("{} {} {}\n", self.pid, self.start, self.pid_ns)
    }

    fn parse(text: &str) -> Option<Owner> {
        let mut fields = text.split_whitespace();
        Some(Owner {
            pid: fields.next()?.parse().ok()?,
            start: fields.next()?.parse().ok()?,
            pid_ns: fields.next()?.to_string(),
        })
    }
}

fn own_pid_ns() -> Option<String> {
    std::fs::read_link("/proc/self/ns/pid").ok().map(|p| p.display().to_string())
}

/// A temporary directory `<parent>/<prefix>XXXXXX` owned by this process: it holds an
/// [`OWNER_FILE`], so that [`sweep_stale`] removes it once this process is gone.
pub fn owned_tempdir(parent: &Path, prefix: &str) -> std::io::Result<tempfile::TempDir> {
    let dir = tempfile::Builder::new().prefix(prefix).tempdir_in(parent)?;
    if let Some(owner) = Owner::me() {
        std::fs::File::create(dir.path().join(OWNER_FILE))?.write_all(owner.line().as_bytes())?;
    }
    Ok(dir)
}

/// Takes the owner's name off `dir`, so that no later sweep removes it (a sandbox kept
/// for a person to look at).
pub fn disown(dir: &Path) {
    let _ = std::fs::remove_file(dir.join(OWNER_FILE));
}

/// The owner of `dir`, if it names one.
pub fn owner_of(dir: &Path) -> Option<Owner> {
    Owner::parse(&std::fs::read_to_string(dir.join(OWNER_FILE)).ok()?)
}

/// Removes every `modchaos-*` directory directly in each of `parents` whose owner is
/// known to be gone (no marker, or an owner this process cannot judge, keeps a
/// directory); returns the directories removed.
pub fn sweep_stale(parents: &[PathBuf]) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    for parent in parents {
        let Ok(entries) = std::fs::read_dir(parent) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let ours = entry.file_name().to_str().is_some_and(|n| n.starts_with("modchaos-"));
            if !ours || !entry.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            if owner_of(&path).and_then(|o| o.alive()) == Some(false) && remove_tree_patiently(&path, Duration::ZERO) {
                removed.push(path);
            }
        }
    }
    removed
}

/// Removes `root` (module caches and all), retrying until `limit` passes while
/// processes that are dying may still write into it; true once it is gone.
pub fn remove_tree_patiently(root: &Path, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if std::fs::remove_dir_all(root).is_ok() || !root.exists() {
            return true;
        }
        make_writable(root);
        if std::fs::remove_dir_all(root).is_ok() || !root.exists() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Removes `root` off the caller's path: renames it aside at once (so that its path is
/// gone when this returns) and deletes what it held on a background thread, which this
/// process waits for before it exits ([`finish_removals`], also run at `exit`). Deleting
/// a module cache of a few hundred files takes milliseconds: a run reports its result
/// first. The renamed directory keeps its owner file, so that if this process is killed
/// first, the next run's [`sweep_stale`] removes it. Fails (and leaves `root` as it was)
/// when it cannot be renamed; the caller then removes it itself.
pub fn remove_later(root: &Path) -> std::io::Result<()> {
    let name = root.file_name().ok_or_else(|| std::io::Error::other("no directory name"))?;
    let mut aside = name.to_os_string();
    aside.push(".removing");
    let aside = root.with_file_name(aside);
    let remover = remover().ok_or_else(|| std::io::Error::other("no thread to remove it"))?;
    std::fs::rename(root, &aside)?;
    let mut state = remover.state.lock().unwrap_or_else(|e| e.into_inner());
    state.queue.push(aside);
    remover.changed.notify_all();
    Ok(())
}

/// Waits until every directory given to [`remove_later`] is gone (or given up on: a
/// failure is logged), for at most `limit`; true if none is left pending.
pub fn finish_removals(limit: Duration) -> bool {
    let Some(Some(remover)) = REMOVER.get() else { return true };
    let deadline = Instant::now() + limit;
    let mut state = remover.state.lock().unwrap_or_else(|e| e.into_inner());
    while !state.queue.is_empty() || state.busy {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        state = remover.changed.wait_timeout(state, left).unwrap_or_else(|e| e.into_inner()).0;
    }
    true
}

/// The background remover: directories waiting, whether one is being removed now, and
/// the process it belongs to (a forked child inherits the memory, not the thread).
struct Remover {
    state: std::sync::Mutex<RemoverState>,
    changed: std::sync::Condvar,
    pid: u32,
}

#[derive(Default)]
struct RemoverState {
    queue: Vec<PathBuf>,
    busy: bool,
}

/// `None` when its thread could not be started.
static REMOVER: std::sync::OnceLock<Option<Remover>> = std::sync::OnceLock::new();

/// The remover, its thread started and the wait at exit registered on first use.
fn remover() -> Option<&'static Remover> {
    REMOVER
        .get_or_init(|| {
            // The thread waits for this initialisation to end before it looks at the queue.
            std::thread::Builder::new().name("modchaos-remover".into()).spawn(remove_queued).ok()?;
            // SAFETY: registers a plain function; atexit only fails when out of memory, and
            // then finish_removals still runs wherever a caller asks for it.
            unsafe { libc::atexit(finish_at_exit) };
            Some(Remover { state: Default::default(), changed: std::sync::Condvar::new(), pid: std::process::id() })
        })
        .as_ref()
}

/// The remover thread: removes what is queued, one directory at a time, forever, at
/// the lowest priority (nice 19, this thread only): on a busy machine it must not take
/// the CPU from the runs whose leftovers it deletes.
fn remove_queued() {
    // SAFETY: plain system calls about this thread.
    unsafe { libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, 19) };
    let Some(remover) = remover() else { return };
    let mut state = remover.state.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        match state.queue.pop() {
            Some(dir) => {
                state.busy = true;
                drop(state);
                if remove_tree_patiently(&dir, Duration::ZERO) {
                    tracing::debug!(target: "modchaos::cleanup", dir = %dir.display(), "removed");
                } else {
                    tracing::warn!(target: "modchaos::cleanup", dir = %dir.display(), "could not be removed");
                }
                state = remover.state.lock().unwrap_or_else(|e| e.into_inner());
                state.busy = false;
                remover.changed.notify_all();
            }
            None => state = remover.changed.wait(state).unwrap_or_else(|e| e.into_inner()),
        }
    }
}

/// Run by `exit`: nothing this process set aside for removal outlives it. A forked
/// child that exits (it has no remover thread) does not wait.
extern "C" fn finish_at_exit() {
    if REMOVER.get().and_then(Option::as_ref).is_some_and(|r| r.pid == std::process::id()) {
        finish_removals(Duration::from_secs(30));
    }
}

/// Adds owner write permission to every directory below `root` (go leaves module
/// directories read-only). The same walk as `fsutil::make_writable`, which this layer
/// may not use (modules of one layer stay independent: tests/architecture.rs).
fn make_writable(root: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = std::fs::symlink_metadata(root) else { return };
    if !meta.is_dir() {
        return;
    }
    let mode = meta.permissions().mode();
    if mode & 0o700 != 0o700 {
        let _ = std::fs::set_permissions(root, std::fs::Permissions::from_mode(mode | 0o700));
    }
    if let Ok(entries) = std::fs::read_dir(root) {
        for entry in entries.flatten() {
            make_writable(&entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt as _;

    #[test]
    fn an_owned_directory_names_this_process_and_is_kept_while_it_lives() {
        let parent = tempfile::tempdir().unwrap();
        let dir = owned_tempdir(parent.path(), "modchaos-test-").unwrap();
        let owner = owner_of(dir.path()).unwrap();
        assert_eq!(owner, Owner::me().unwrap());
        assert_eq!(owner.alive(), Some(true));
        assert!(sweep_stale(&[parent.path().to_path_buf()]).is_empty());
        assert!(dir.path().exists());
    }

    #[test]
    fn directories_of_dead_owners_are_swept_and_no_others() {
        let parent = tempfile::tempdir().unwrap();
        let me = Owner::me().unwrap();
        let make = |name: &str, owner: Option<Owner>| {
            let dir = parent.path().join(name);
            std::fs::create_dir_all(dir.join("gopath/pkg/mod/x@v1")).unwrap();
            std::fs::set_permissions(
                dir.join("gopath/pkg/mod/x@v1"),
                std::os::unix::fs::PermissionsExt::from_mode(0o555),
            )
            .unwrap();
            if let Some(o) = owner {
                std::fs::write(dir.join(OWNER_FILE), o.line()).unwrap();
            }
            dir
        };
        // A process that has exited: its pid and start time name nobody now.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead_pid = child.id() as i32;
        child.wait().unwrap();
        let dead = make("modchaos-dead", Some(Owner { pid: dead_pid, start: 1, pid_ns: me.pid_ns.clone() }));
        let reused = make("modchaos-reused", Some(Owner { start: me.start + 1, ..me.clone() }));
        let live = make("modchaos-live", Some(me.clone()));
        let elsewhere = make("modchaos-other-ns", Some(Owner { pid_ns: "pid:[1]".into(), ..me.clone() }));
        let unmarked = make("modchaos-unmarked", None);
        let not_ours = make("other-dead", Some(Owner { pid: dead_pid, start: 1, pid_ns: me.pid_ns.clone() }));
        let mut removed = sweep_stale(&[parent.path().to_path_buf()]);
        removed.sort();
        assert_eq!(removed, [dead.clone(), reused.clone()]);
        assert!(!dead.exists() && !reused.exists());
        assert!(live.exists() && elsewhere.exists() && unmarked.exists() && not_ours.exists());
    }

    #[test]
    fn a_child_started_with_die_with_parent_is_killed_when_its_parent_goes() {
        // The parent-death signal fires when the thread that started the child ends:
        // the closest a test can come to the harness dying without dying itself.
        let started = std::thread::spawn(|| {
            let mut command = std::process::Command::new("sleep");
            command.arg("300");
            unsafe { command.pre_exec(die_with_parent(std::process::id())) };
            command.spawn().unwrap()
        });
        let mut child = started.join().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "the child outlived its parent");
            std::thread::sleep(Duration::from_millis(10));
        };
        use std::os::unix::process::ExitStatusExt as _;
        assert_eq!(status.signal(), Some(libc::SIGKILL));
    }
}
