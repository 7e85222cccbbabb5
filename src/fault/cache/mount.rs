//! Cache faults that need a mount: a full disk (a tiny tmpfs over GOMODCACHE) and a
//! read-only cache that even root cannot write (a read-only bind mount). Mounting is
//! only possible, and only safe, inside a private user + mount namespace: the sealed
//! child calls these after `sealed::ns::enter` and before seeding (a mount hides what
//! was below it). Outside such a namespace they refuse, so that a harness running as
//! real root never changes the host's mount table.
//!
//! Before the sandbox is removed, the child must call [`unmount`]: a directory that is
//! a mount point cannot be removed (EBUSY) while the namespace lives.

use std::path::Path;

use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sys::statvfs::{FsFlags, statvfs};

/// Why a mount fault could not be made (or unmade).
#[derive(Debug, thiserror::Error)]
pub enum MountError {
    /// A mount outside a private user + mount namespace.
    #[error(
        "{0} needs the sealed child's private user and mount namespaces (refused here: it would change this machine's mounts, or fail)"
    )]
    NeedsNamespace(String),
    /// The mount system call failed, or was refused.
    #[error("{0}")]
    Failed(String),
    /// The mount point could not be created.
    #[error("{}: {source}", path.display())]
    Io {
        /// The directory.
        path: std::path::PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
}

fn os(what: String) -> impl FnOnce(nix::Error) -> MountError {
    move |e| MountError::Failed(format!("{what}: {}", std::io::Error::from_raw_os_error(e as i32)))
}

/// True when this process is in a user namespace other than the initial one (so its
/// mounts are private to the scenario): `/proc/self/uid_map` is not the identity map of
/// every uid.
pub fn in_private_namespace() -> bool {
    std::fs::read_to_string("/proc/self/uid_map").is_ok_and(|map| {
        let fields: Vec<&str> = map.split_whitespace().collect();
        fields != ["0", "0", "4294967295"]
    })
}

fn require_namespace(what: &str) -> Result<(), MountError> {
    if in_private_namespace() { Ok(()) } else { Err(MountError::NeedsNamespace(what.to_string())) }
}

/// `disk_full`: mounts a tmpfs of `size_bytes` (rounded up to whole pages by the kernel)
/// over `path`, created if missing, its root belonging to `owner` (go's user). Whatever was in `path` is hidden: seed afterwards.
/// Size 0 is refused (to tmpfs it means "no limit").
pub fn tmpfs(path: &Path, size_bytes: u64, owner: crate::vocab::Account) -> Result<(), MountError> {
    require_namespace("a tmpfs over the module cache (disk_full)")?;
    if size_bytes == 0 {
        return Err(MountError::Failed("a tmpfs of size 0 would have no size limit at all".into()));
    }
    std::fs::create_dir_all(path).map_err(|source| MountError::Io { path: path.to_path_buf(), source })?;
    let options = format!("size={size_bytes},mode=0755,uid={},gid={}", owner.uid, owner.gid);
    mount(Some("tmpfs"), path, Some("tmpfs"), MsFlags::MS_NOSUID | MsFlags::MS_NODEV, Some(options.as_str()))
        .map_err(os(format!("mount a {size_bytes}-byte tmpfs on {}", path.display())))
}

/// `read_only` for processes that ignore permissions (root, and the sealed namespace's
/// root): bind-mounts `path` (created if missing) on itself and makes that mount
/// read-only, so every write below it fails with EROFS ("read-only file system").
pub fn read_only(path: &Path) -> Result<(), MountError> {
    require_namespace("a read-only bind mount of the module cache")?;
    std::fs::create_dir_all(path).map_err(|source| MountError::Io { path: path.to_path_buf(), source })?;
    mount(Some(path), path, None::<&str>, MsFlags::MS_BIND | MsFlags::MS_REC, None::<&str>)
        .map_err(os(format!("bind-mount {} on itself", path.display())))?;
    // A remount inside a user namespace must keep the flags the outer mount locked
    // (nosuid, nodev, noexec, atime): carry over what the mount has now.
    let current = statvfs(path).map_err(os(format!("statvfs {}", path.display())))?.flags();
    let mut flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
    for (have, keep) in [
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
    ] {
        if current.contains(have) {
            flags |= keep;
        }
    }
    mount(None::<&str>, path, None::<&str>, flags, None::<&str>)
        .map_err(os(format!("remount {} read-only", path.display())))
}

/// Detaches whatever [`tmpfs`] or [`read_only`] mounted on `path` (every layer), so the
/// directory can be removed.
pub fn unmount(path: &Path) -> Result<(), MountError> {
    let mut detached = false;
    loop {
        match umount2(path, MntFlags::MNT_DETACH) {
            Ok(()) => detached = true,
            Err(nix::Error::EINVAL) if detached => return Ok(()),
            Err(e) => return Err(os(format!("unmount {}", path.display()))(e)),
        }
    }
}
