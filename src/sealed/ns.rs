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
use nix::unistd::{ForkResult, fork};

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

/// One range of ids mapped into the user namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IdRange {
    /// The first id inside the namespace.
    pub inside: u32,
    /// The id it stands for outside.
    pub outside: u32,
}

/// The uid and gid maps of a sealed run's user namespace. Only a process that is root
/// outside may map more than its own ids; an ordinary user maps exactly one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IdMap {
    /// User ids.
    pub uids: Vec<IdRange>,
    /// Group ids.
    pub gids: Vec<IdRange>,
}

impl IdMap {
    /// This process's own ids, seen as `inside` in the namespace (the classic `0` makes
    /// it root there).
    pub fn own_as(inside: crate::vocab::Account) -> IdMap {
        let me = crate::vocab::Account::current();
        IdMap {
            uids: vec![IdRange { inside: inside.uid, outside: me.uid }],
            gids: vec![IdRange { inside: inside.gid, outside: me.gid }],
        }
    }

    /// Root as root, and `also` as itself (only root outside may write this map).
    pub fn root_and(also: crate::vocab::Account) -> IdMap {
        IdMap {
            uids: vec![IdRange { inside: 0, outside: 0 }, IdRange { inside: also.uid, outside: also.uid }],
            gids: vec![IdRange { inside: 0, outside: 0 }, IdRange { inside: also.gid, outside: also.gid }],
        }
    }

    fn text(ranges: &[IdRange]) -> String {
        ranges.iter().map(|r| format!("{} {} 1\n", r.inside, r.outside)).collect()
    }
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

/// Enters new user, network and mount namespaces, and a pid namespace when `with_pid`,
/// with `ids` mapped into the user namespace.
///
/// With a pid namespace the calling process forks: the parent waits and exits with the
/// child's status (it never returns), the child becomes pid 1 of the new namespace, dies
/// with its parent, and gets a `/proc` of its own. Then `lo` is brought up and `files`
/// are bind-mounted over the system's.
pub fn enter(files: &NetFiles, with_pid: bool, ids: &IdMap) -> Result<(), NsError> {
    let mut flags =
        CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNET | CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWUTS;
    if with_pid {
        flags |= CloneFlags::CLONE_NEWPID;
    }
    if ids.uids.len() > 1 || ids.gids.len() > 1 {
        // Only a process in the parent namespace may map more than its own ids (the
        // kernel's rule newuidmap exists for): a helper forked before unsharing writes
        // the maps, as root of the parent namespace.
        unshare_mapped_by_helper(flags, ids)?;
    } else {
        step("unshare user, network and mount namespaces", unshare(flags).map_err(errno))?;
        // An ordinary user must give up setgroups before writing a gid map.
        step("deny setgroups", std::fs::write("/proc/self/setgroups", "deny"))?;
        step("write the uid map", std::fs::write("/proc/self/uid_map", IdMap::text(&ids.uids)))?;
        step("write the gid map", std::fs::write("/proc/self/gid_map", IdMap::text(&ids.gids)))?;
    }
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

/// Unshares `flags` and has a forked helper, still in the parent user namespace (where
/// this process is root), write the new namespace's id maps. Everything here runs
/// single-threaded, before any runtime starts.
fn unshare_mapped_by_helper(flags: CloneFlags, ids: &IdMap) -> Result<(), NsError> {
    let (unshared_read, unshared_write) = step("create a pipe", nix::unistd::pipe().map_err(errno))?;
    let (mapped_read, mapped_write) = step("create a pipe", nix::unistd::pipe().map_err(errno))?;
    let me = nix::unistd::getpid();
    // SAFETY: single-threaded (see above); the helper only reads, writes files and exits.
    match step("fork the id map writer", unsafe { fork() }.map_err(errno))? {
        ForkResult::Child => {
            drop(unshared_write);
            drop(mapped_read);
            let mut byte = [0u8; 1];
            let ready = nix::unistd::read(&unshared_read, &mut byte).is_ok_and(|n| n == 1);
            let written = ready
                && std::fs::write(format!("/proc/{me}/uid_map"), IdMap::text(&ids.uids)).is_ok()
                && std::fs::write(format!("/proc/{me}/gid_map"), IdMap::text(&ids.gids)).is_ok();
            let _ = nix::unistd::write(&mapped_write, if written { b"1" } else { b"0" });
            // SAFETY: _exit ends the helper without running the parent's destructors.
            unsafe { libc::_exit(0) }
        }
        ForkResult::Parent { child } => {
            drop(unshared_read);
            drop(mapped_write);
            let unshared = unshare(flags).map_err(errno);
            let _ = nix::unistd::write(&unshared_write, if unshared.is_ok() { b"1" } else { b"0" });
            drop(unshared_write);
            let mut byte = [0u8; 1];
            let mapped = nix::unistd::read(&mapped_read, &mut byte).is_ok_and(|n| n == 1) && byte[0] == b'1';
            let _ = waitpid(child, None);
            step("unshare user, network and mount namespaces", unshared)?;
            if !mapped {
                return Err(NsError {
                    step: "write the id maps from the parent namespace".into(),
                    source: std::io::Error::other("the map writer failed (is this process root?)"),
                });
            }
            Ok(())
        }
    }
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

/// The kernel's `struct rtentry` (linux/route.h), for the `SIOCADDRT` ioctl.
#[repr(C)]
struct RtEntry {
    rt_pad1: libc::c_ulong,
    rt_dst: libc::sockaddr,
    rt_gateway: libc::sockaddr,
    rt_genmask: libc::sockaddr,
    rt_flags: libc::c_ushort,
    rt_pad2: libc::c_short,
    rt_pad3: libc::c_ulong,
    rt_pad4: *mut libc::c_void,
    rt_metric: libc::c_short,
    rt_dev: *mut libc::c_char,
    rt_mtu: libc::c_ulong,
    rt_window: libc::c_ulong,
    rt_irtt: libc::c_ushort,
}

/// `ip route add unreachable <address>/32`: connections to `address` then fail at once
/// with "no route to host". Only inside the sealed network namespace.
pub fn reject_route(address: std::net::Ipv4Addr) -> std::io::Result<()> {
    fn sockaddr(address: std::net::Ipv4Addr) -> libc::sockaddr {
        // SAFETY: sockaddr_in fits in sockaddr (both 16 bytes); zeroed is a valid value.
        unsafe {
            let mut raw: libc::sockaddr = std::mem::zeroed();
            let inet = &mut raw as *mut libc::sockaddr as *mut libc::sockaddr_in;
            (*inet).sin_family = libc::AF_INET as libc::sa_family_t;
            (*inet).sin_addr = libc::in_addr { s_addr: u32::from(address).to_be() };
            raw
        }
    }
    // SAFETY: a zeroed rtentry is valid; the socket is closed on every path.
    unsafe {
        let mut route: RtEntry = std::mem::zeroed();
        route.rt_dst = sockaddr(address);
        route.rt_genmask = sockaddr(std::net::Ipv4Addr::BROADCAST);
        route.rt_flags = libc::RTF_UP | libc::RTF_HOST | libc::RTF_REJECT;
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let result =
            if libc::ioctl(fd, libc::SIOCADDRT, &route) < 0 { Err(std::io::Error::last_os_error()) } else { Ok(()) };
        libc::close(fd);
        result
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
