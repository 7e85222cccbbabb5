//! File system chores every layer needs: where temporary trees go (and a test binary's
//! `target/tmp/`), how go's read-only module caches are removed, and turning go's
//! telemetry off in a fresh config dir.

use std::path::{Path, PathBuf};

/// Removes `root`. Module caches are writable here (`-modcacherw`), so the plain removal
/// normally works; only when it fails is the tree made writable and removed again.
pub fn remove_tree(root: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(root) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(_) => {
            make_writable(root);
            std::fs::remove_dir_all(root)
        }
    }
}

/// Where sandboxes are made: `$MODCHAOS_TMPDIR` if set; else `/dev/shm` when it is a
/// writable tmpfs with at least 1 GiB free (a scenario writes and deletes hundreds of
/// small files: in memory that costs a fraction of a disk's time, and spares the disk);
/// else the system temp dir.
pub fn base_dir() -> PathBuf {
    static BASE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BASE.get_or_init(|| {
        if let Some(dir) = std::env::var_os("MODCHAOS_TMPDIR").filter(|d| !d.is_empty()) {
            return PathBuf::from(dir);
        }
        let shm = Path::new("/dev/shm");
        let roomy = nix::sys::statvfs::statvfs(shm).is_ok_and(|s| s.blocks_available() * s.fragment_size() >= 1 << 30);
        let writable = nix::unistd::access(shm, nix::unistd::AccessFlags::W_OK).is_ok();
        if roomy && writable { shm.to_path_buf() } else { std::env::temp_dir() }
    })
    .clone()
}

/// Why a temporary directory the environment names cannot hold modchaos's sandboxes (or
/// the scratch directories it runs go in): said once, before any scenario, rather than
/// as a harness problem of every scenario.
#[derive(Debug, thiserror::Error)]
pub enum TempDirError {
    /// A relative path means something else in a sealed child and in go's sandbox.
    #[error("{var}={} is not an absolute path", path.display())]
    Relative {
        /// The variable.
        var: &'static str,
        /// Its value.
        path: PathBuf,
    },
    /// Nothing is there.
    #[error("{var}={} names a directory that does not exist", path.display())]
    Missing {
        /// The variable.
        var: &'static str,
        /// Its value.
        path: PathBuf,
    },
    /// Something other than a directory is there.
    #[error("{var}={} is not a directory", path.display())]
    NotADirectory {
        /// The variable.
        var: &'static str,
        /// Its value.
        path: PathBuf,
    },
    /// A directory cannot be made in it (permissions, a read-only file system).
    #[error("{var}={}: cannot create a directory in it: {source}", path.display())]
    Unwritable {
        /// The variable.
        var: &'static str,
        /// Its value.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
}

impl TempDirError {
    /// The variable at fault, for the help line.
    pub fn var(&self) -> &'static str {
        match self {
            TempDirError::Relative { var, .. }
            | TempDirError::Missing { var, .. }
            | TempDirError::NotADirectory { var, .. }
            | TempDirError::Unwritable { var, .. } => var,
        }
    }
}

/// Checks the temporary directories the environment names: `MODCHAOS_TMPDIR` (where
/// sandboxes go; it must be absolute) and `TMPDIR` (where go's scratch directories go),
/// each when set and not empty: it must be a directory this process can create a
/// directory in.
pub fn check_temp_dirs() -> Result<(), TempDirError> {
    for (var, absolute) in [("MODCHAOS_TMPDIR", true), ("TMPDIR", false)] {
        if let Some(path) = std::env::var_os(var).filter(|d| !d.is_empty()) {
            check_temp_dir(var, Path::new(&path), absolute)?;
        }
    }
    Ok(())
}

/// Checks one temporary directory named by `var` (see [`check_temp_dirs`]).
pub fn check_temp_dir(var: &'static str, path: &Path, absolute: bool) -> Result<(), TempDirError> {
    let path_buf = || path.to_path_buf();
    if absolute && !path.is_absolute() {
        return Err(TempDirError::Relative { var, path: path_buf() });
    }
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(TempDirError::Missing { var, path: path_buf() });
        }
        Err(source) => return Err(TempDirError::Unwritable { var, path: path_buf(), source }),
        Ok(meta) if !meta.is_dir() => return Err(TempDirError::NotADirectory { var, path: path_buf() }),
        Ok(_) => {}
    }
    // A directory of a name no other process uses, made and removed at once: the OS's
    // own words if it cannot be (tempfile's error would add the probe's path).
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let probe = path.join(format!("modchaos-probe-{}-{nanos}", std::process::id()));
    std::fs::create_dir(&probe).map_err(|source| TempDirError::Unwritable { var, path: path_buf(), source })?;
    let _ = std::fs::remove_dir(&probe);
    Ok(())
}

/// Turns go's telemetry off for a fresh config dir: it cannot be set through the
/// environment, and left on it writes counter files (and may start a helper process)
/// that are nobody's business in a sandbox.
pub fn disable_go_telemetry(config_dir: &Path) -> std::io::Result<()> {
    let dir = config_dir.join("go").join("telemetry");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("mode"), "off")
}

/// Gives `root` and everything below it (symbolic links themselves, not their targets)
/// to `owner`. Needs the privilege to change owners (root, or root in a user namespace
/// where `owner` is mapped).
pub fn chown_tree(root: &Path, owner: crate::vocab::Account) -> std::io::Result<()> {
    std::os::unix::fs::lchown(root, Some(owner.uid), Some(owner.gid))?;
    if std::fs::symlink_metadata(root)?.is_dir() {
        for entry in std::fs::read_dir(root)? {
            chown_tree(&entry?.path(), owner)?;
        }
    }
    Ok(())
}

/// Adds owner write permission to every directory below `root`: go leaves module
/// directories read-only unless told `-modcacherw`, and removal needs write access.
pub fn make_writable(root: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = std::fs::symlink_metadata(root) else {
        return;
    };
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

/// The `tmp/` directory of the cargo target directory the running binary was built in,
/// when it lives where cargo puts test binaries (`<target>/<profile>/deps/<binary>`):
/// where a test binary keeps what outlives one run (remembered durations, a shared Go
/// build cache). Cargo names it to integration tests only (`CARGO_TARGET_TMPDIR`).
pub fn cargo_target_tmp() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let deps = exe.parent().filter(|d| d.file_name().is_some_and(|n| n == "deps"))?;
    Some(deps.parent()?.parent()?.join("tmp"))
}

/// Runs `start` (a spawn) again while the kernel says the program is busy (ETXTBSY), for
/// up to a second. An executable written a moment ago by this process (a test's fake go,
/// a tool written into a sandbox) stays "busy" while any thread's fork still holds the
/// file's write handle before that child's exec closes it: a race of every
/// multi-threaded program that writes and runs files (golang/go#22315,
/// rust-lang/rust#114554). It clears within milliseconds; the wait blocks, as a spawn
/// does, and only in that case.
pub fn retry_while_busy<T>(mut start: impl FnMut() -> std::io::Result<T>) -> std::io::Result<T> {
    let pause = std::time::Duration::from_millis(10);
    let mut waited = std::time::Duration::ZERO;
    loop {
        match start() {
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && waited < std::time::Duration::from_secs(1) => {
                std::thread::sleep(pause);
                waited += pause;
            }
            result => return result,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_program_is_started_again_and_other_errors_are_not() {
        let busy = || std::io::Error::from_raw_os_error(libc::ETXTBSY);
        let mut tries = 0;
        let started = retry_while_busy(|| {
            tries += 1;
            if tries < 3 { Err(busy()) } else { Ok(tries) }
        });
        assert_eq!(started.unwrap(), 3);
        let mut tries = 0;
        let refused = retry_while_busy(|| -> std::io::Result<()> {
            tries += 1;
            Err(std::io::Error::from_raw_os_error(libc::ENOENT))
        });
        assert_eq!((refused.unwrap_err().raw_os_error(), tries), (Some(libc::ENOENT), 1));
    }
}

#[cfg(test)]
mod temp_dir_tests {
    use super::*;

    #[test]
    fn an_unusable_temp_dir_is_named_with_its_variable_and_why() {
        let dir = tempfile::tempdir().unwrap();
        assert!(check_temp_dir("MODCHAOS_TMPDIR", dir.path(), true).is_ok());
        let e = check_temp_dir("MODCHAOS_TMPDIR", Path::new("rel/dir"), true).unwrap_err();
        assert_eq!(e.to_string(), "MODCHAOS_TMPDIR=rel/dir is not an absolute path");
        let missing = dir.path().join("gone");
        let e = check_temp_dir("TMPDIR", &missing, false).unwrap_err();
        assert_eq!(e.to_string(), format!("TMPDIR={} names a directory that does not exist", missing.display()));
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        let e = check_temp_dir("MODCHAOS_TMPDIR", &file, true).unwrap_err();
        assert!(matches!(e, TempDirError::NotADirectory { var: "MODCHAOS_TMPDIR", .. }), "{e}");
        // No directory can be made under /proc, root or not.
        let e = check_temp_dir("MODCHAOS_TMPDIR", Path::new("/proc"), true).unwrap_err();
        assert!(e.to_string().starts_with("MODCHAOS_TMPDIR=/proc: cannot create a directory in it: "), "{e}");
    }
}
