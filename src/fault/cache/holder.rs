//! Another process holding a module-cache lock: what happens when a second `go` (an
//! IDE's gopls, a parallel CI job, a hung build) sits on `<v>.lock`. go then waits in
//! `flock(LOCK_EX)` forever and prints nothing. The holder must be a real, separate
//! process (a lock taken by the harness itself would look like a lock held by the
//! harness, and `flock` locks held in one process do not block other descriptors of the
//! same process the way a foreign holder does); it runs in its own process group so
//! that the whole of it (util-linux `flock` and the `sleep` it starts, which shares the
//! lock) can be killed at once.

use std::os::unix::fs::MetadataExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use crate::modcache::procfs;

/// Why the lock holder could not be started or did not get the lock.
#[derive(Debug, thiserror::Error)]
pub enum HolderError {
    /// Neither util-linux `flock` nor `perl` is on PATH.
    #[error("lock_held needs util-linux flock (or perl) on PATH to hold the lock")]
    NoProgram,
    /// The holder did not start, exited, or never got the lock.
    #[error("{0}")]
    Failed(String),
}

/// How long [`LockHolder::start`] waits for the holder to own the lock.
const ACQUIRE_LIMIT: Duration = Duration::from_secs(10);

/// Which program takes the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HolderProgram {
    /// util-linux `flock -x <file> sleep <secs>` (Debian has it in util-linux).
    Flock,
    /// `perl` with `flock(LOCK_EX)`, where util-linux flock is missing.
    Perl,
}

impl HolderProgram {
    /// The first program found on PATH, util-linux flock preferred.
    pub fn available() -> Option<HolderProgram> {
        [(HolderProgram::Flock, "flock"), (HolderProgram::Perl, "perl")]
            .into_iter()
            .find(|(_, name)| on_path(name))
            .map(|(program, _)| program)
    }

    fn command(self, lock: &Path, hold: Duration) -> Command {
        let seconds = hold.as_secs_f64().ceil().max(1.0).to_string();
        match self {
            HolderProgram::Flock => {
                let mut c = Command::new("flock");
                c.arg("-x").arg(lock);
                // flock forks the command, which shares the lock: it must die with flock
                // (which dies with the harness), or a killed harness leaves it holding the
                // lock. util-linux setpriv gives it that parent-death signal.
                if on_path("setpriv") {
                    c.args(["setpriv", "--pdeathsig", "KILL"]);
                }
                c.arg("sleep").arg(seconds);
                c
            }
            HolderProgram::Perl => {
                let mut c = Command::new("perl");
                c.arg("-MFcntl=:flock")
                    .arg("-e")
                    .arg(r#"open(my $f, ">>", $ARGV[0]) or die "$ARGV[0]: $!\n"; flock($f, LOCK_EX) or die "flock: $!\n"; sleep($ARGV[1]);"#)
                    .arg(lock)
                    .arg(seconds);
                c
            }
        }
    }
}

fn on_path(name: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(name).is_file()))
}

/// A live process holding an exclusive flock on a file; killed (its whole process
/// group) when dropped or [released](LockHolder::release).
#[derive(Debug)]
pub struct LockHolder {
    child: Child,
    /// Set once the group was killed and the holder reaped: its pid may be reused after.
    ended: bool,
    /// The locked file.
    pub lock: PathBuf,
    /// Process id of the holder; also its process group id.
    pub pid: i32,
    /// The program holding it.
    pub program: HolderProgram,
}

impl LockHolder {
    /// Starts a holder of an exclusive lock on `lock` (created if missing; its directory
    /// must exist) for at most `hold`, and returns once `/proc/locks` shows that it owns
    /// the lock.
    pub fn start(lock: &Path, hold: Duration, program: HolderProgram) -> Result<LockHolder, HolderError> {
        let mut command = program.command(lock, hold);
        command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).process_group(0);
        // SAFETY: the hook only calls prctl and getppid (async-signal-safe): the holder
        // dies with the harness, even a killed one.
        unsafe {
            command.pre_exec(crate::cleanup::die_with_parent(std::process::id()));
        }
        let child = command
            .spawn()
            .map_err(|e| HolderError::Failed(format!("cannot start {program:?} to hold {}: {e}", lock.display())))?;
        let pid = i32::try_from(child.id()).map_err(|_| HolderError::Failed("pid out of range".into()))?;
        let mut holder = LockHolder { child, ended: false, lock: lock.to_path_buf(), pid, program };
        holder.wait_until_held()?;
        Ok(holder)
    }

    fn wait_until_held(&mut self) -> Result<(), HolderError> {
        let deadline = Instant::now() + ACQUIRE_LIMIT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                self.ended = true;
                let mut said = String::new();
                if let Some(mut stderr) = self.child.stderr.take() {
                    use std::io::Read as _;
                    let _ = stderr.read_to_string(&mut said);
                }
                return Err(HolderError::Failed(format!(
                    "the lock holder for {} exited ({status}): {}",
                    self.lock.display(),
                    said.trim()
                )));
            }
            let inode = std::fs::metadata(&self.lock).map(|m| m.ino()).ok();
            let locks = procfs::locks();
            let on_file = |l: &&procfs::LockEntry| Some(l.inode) == inode && !l.waiting;
            if locks.iter().filter(on_file).any(|l| l.pid == self.pid) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let others: Vec<String> = locks.iter().filter(on_file).map(|l| l.pid.to_string()).collect();
                return Err(HolderError::Failed(format!(
                    "the lock holder did not get {} within {ACQUIRE_LIMIT:?}{}",
                    self.lock.display(),
                    if others.is_empty() { String::new() } else { format!(" (held by pid {})", others.join(", ")) }
                )));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The process group to kill to end the holder (equal to its pid).
    pub fn pgid(&self) -> i32 {
        self.pid
    }

    /// Kills the holder's process group and waits until the lock is free again.
    pub fn release(mut self) {
        self.kill();
        let inode = std::fs::metadata(&self.lock).map(|m| m.ino()).ok();
        let deadline = Instant::now() + ACQUIRE_LIMIT;
        while Instant::now() < deadline
            && procfs::locks().iter().any(|l| Some(l.inode) == inode && !l.waiting && l.pid == self.pid)
        {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn kill(&mut self) {
        if !self.ended {
            let _ = killpg(Pid::from_raw(self.pid), Signal::SIGKILL);
            let _ = self.child.wait();
            // Reaping the leader is not the end of the group: the holder's own child may
            // still be exiting.
            let deadline = Instant::now() + ACQUIRE_LIMIT;
            while Instant::now() < deadline && !procfs::live_group_members(self.pid).is_empty() {
                std::thread::sleep(Duration::from_millis(2));
            }
            self.ended = true;
        }
    }
}

impl Drop for LockHolder {
    fn drop(&mut self) {
        self.kill();
    }
}
