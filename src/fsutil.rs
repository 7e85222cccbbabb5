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
