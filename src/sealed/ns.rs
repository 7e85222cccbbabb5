//! Entering the namespaces of a sealed run: a new user namespace (so an ordinary user
//! may do the rest), a network namespace holding only `lo`, a mount namespace whose
//! `/etc/resolv.conf`, `/etc/hosts` and `/etc/nsswitch.conf` are the scenario's own, a
//! UTS namespace with a dotless host name (go derives a DNS search domain from a dotted
//! one, which would add queries the scenario never asked for), and a pid namespace whose
//! end kills every process left in it.
//!
//! Everything here must run before any thread exists (`unshare(CLONE_NEWUSER)` refuses
//! multi-threaded callers), so the child process calls it first thing in `main`.

use std::path::{Path, PathBuf};

use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};
use nix::sys::signal::Signal;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Gid, Uid, fork};

/// The host name inside a sealed world: without a dot, so go derives no search domain.
pub const HOSTNAME: &str = "modchaos-sealed";

/// What the sealed resolver configuration consists of: file contents that replace the
/// system's while the run lasts.
#[derive(Debug, Clone, Default)]
pub struct NetFiles {
    /// `/etc/resolv.conf`.
    pub resolv_conf: String,
    /// `/etc/hosts`.
    pub hosts: String,
    /// `/etc/nsswitch.conf` (only replaced when the system has one).
    pub nsswitch: String,
}

/// Why the namespaces could not be set up. The message names the step, so "sealed mode
/// unavailable" says what the kernel refused.
#[derive(Debug, thiserror::Error)]
#[error("{step}: {source}")]
pub struct NsError {
    /// What was being done.
    pub step: String,
    /// The OS error.
    pub source: std::io::Error,
}

fn step<T, E: Into<std::io::Error>>(what: &str, result: Result<T, E>) -> Result<T, NsError> {
    result.map_err(|e| NsError { step: what.to_string(), source: e.into() })
}

fn errno(e: nix::Error) -> std::io::Error {
    std::io::Error::from_raw_os_error(e as i32)
}

/// Enters new user, network and mount namespaces, and a pid namespace when `with_pid`.
///
/// With a pid namespace the calling process forks: the parent waits and exits with the
/// child's status (it never returns), the child becomes pid 1 of the new namespace, dies
/// with its parent, and gets a `/proc` of its own. Then `lo` is brought up and `files`
/// are bind-mounted over the system's.
pub fn enter(files: &NetFiles, with_pid: bool) -> Result<(), NsError> {
    let uid = Uid::current();
    let gid = Gid::current();
    let mut flags =
        CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNET | CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWUTS;
    if with_pid {
        flags |= CloneFlags::CLONE_NEWPID;
    }
    step("unshare user, network and mount namespaces", unshare(flags).map_err(errno))?;
    step("deny setgroups", std::fs::write("/proc/self/setgroups", "deny"))?;
    step("write the uid map", std::fs::write("/proc/self/uid_map", format!("0 {uid} 1\n")))?;
    step("write the gid map", std::fs::write("/proc/self/gid_map", format!("0 {gid} 1\n")))?;
    if with_pid {
        become_pid_one()?;
    }
    step(
        "make mounts private",
        mount(None::<&str>, "/", None::<&str>, MsFlags::MS_REC | MsFlags::MS_PRIVATE, None::<&str>).map_err(errno),
    )?;
    if with_pid {
        step(
            "mount /proc for the new pid namespace",
            mount(
                Some("proc"),
                "/proc",
                Some("proc"),
                MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
                None::<&str>,
            )
            .map_err(errno),
        )?;
    }
    step("set the host name", nix::unistd::sethostname(HOSTNAME).map_err(errno))?;
    step("bring lo up", loopback_up())?;
    bind_files(files)
}

/// Forks into the new pid namespace. The parent only relays the child's exit status.
fn become_pid_one() -> Result<(), NsError> {
    // SAFETY: the process is single-threaded here (this runs first thing in main), so the
    // child may keep running arbitrary code after fork.
    match step("fork into the pid namespace", unsafe { fork() }.map_err(errno))? {
        ForkResult::Parent { child } => {
            let code = loop {
                match waitpid(child, None) {
                    Ok(WaitStatus::Exited(_, code)) => break code,
                    Ok(WaitStatus::Signaled(_, signal, _)) => break 128 + signal as i32,
                    Ok(_) => continue,
                    Err(nix::Error::EINTR) => continue,
                    Err(_) => break 70,
                }
            };
            std::process::exit(code);
        }
        ForkResult::Child => {
            // The parent only waits for us, so it cannot die between fork and prctl
            // unless killed, and then the runner has given up on this run anyway.
            step("die with the parent", nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(errno))?;
            Ok(())
        }
    }
}

/// `ip link set lo up`, by ioctl.
fn loopback_up() -> std::io::Result<()> {
    // SAFETY: plain socket/ioctl calls on a zeroed, correctly sized ifreq; the socket is
    // closed on every path.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let mut request: libc::ifreq = std::mem::zeroed();
        for (slot, byte) in request.ifr_name.iter_mut().zip(b"lo\0") {
            *slot = *byte as libc::c_char;
        }
        let result = if libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut request) < 0 {
            Err(std::io::Error::last_os_error())
        } else {
            request.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
            if libc::ioctl(fd, libc::SIOCSIFFLAGS, &request) < 0 {
                Err(std::io::Error::last_os_error())
            } else {
                Ok(())
            }
        };
        libc::close(fd);
        result
    }
}

/// Writes `files` into a private temporary directory, bind-mounts them over the
/// system's, and removes the directory again (the mounts keep the files alive), so
/// nothing is left behind however the run ends.
fn bind_files(files: &NetFiles) -> Result<(), NsError> {
    let dir = step("create the resolver files", tempfile::Builder::new().prefix("modchaos-net-").tempdir())?;
    let mut targets: Vec<(&str, &str)> =
        vec![(files.resolv_conf.as_str(), "/etc/resolv.conf"), (files.hosts.as_str(), "/etc/hosts")];
    if Path::new("/etc/nsswitch.conf").exists() {
        targets.push((files.nsswitch.as_str(), "/etc/nsswitch.conf"));
    }
    for (content, target) in targets {
        let name = Path::new(target).file_name().unwrap_or_default();
        let source: PathBuf = dir.path().join(name);
        step(&format!("write {}", source.display()), std::fs::write(&source, content))?;
        step(
            &format!("bind-mount over {target}"),
            mount(Some(&source), target, None::<&str>, MsFlags::MS_BIND, None::<&str>).map_err(errno),
        )?;
    }
    step("remove the resolver files' directory", dir.close())
}
