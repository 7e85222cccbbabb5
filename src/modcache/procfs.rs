//! Reading what the kernel knows about files and processes: `/proc/locks` (who holds or
//! waits for a lock on which inode), `/proc/<pid>/cmdline`, the live members of a process
//! group (`/proc/<pid>/stat`), and `/proc/self/mountinfo`
//! (which filesystem a path lives on). go prints nothing while it waits for a lock, so
//! these are the only witnesses of a stuck module cache.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Live (non-zombie) processes whose process group is `pgid`, read from `/proc`.
/// Zombies are dead already: they only wait for a parent (often init) to reap them.
pub fn live_group_members(pgid: i32) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            // Fields after the parenthesised command name: state, ppid, pgrp, …
            let Some((_, rest)) = stat.rsplit_once(')') else {
                return false;
            };
            let mut fields = rest.split_whitespace();
            let state = fields.next();
            let pgrp = fields.nth(1).and_then(|p| p.parse::<i32>().ok());
            state != Some("Z") && pgrp == Some(pgid)
        })
        .collect()
}

/// One line of `/proc/locks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockEntry {
    /// The lock's number; waiters carry the number of the lock they wait for.
    pub id: u64,
    /// True for a blocked waiter (a `->` line), false for a holder.
    pub waiting: bool,
    /// `FLOCK` (go's lockedfile, util-linux flock), `POSIX`, `OFDLCK`, `LEASE`…
    pub kind: String,
    /// `WRITE` (exclusive) or `READ` (shared).
    pub access: String,
    /// The process, in the pid namespace of the reader; 0 or -1 when it is not visible
    /// there (another pid namespace, or an OFD lock).
    pub pid: i32,
    /// Device major number of the locked inode's filesystem.
    pub major: u32,
    /// Device minor number.
    pub minor: u32,
    /// Inode number.
    pub inode: u64,
}

/// Parses `/proc/locks` text; lines that do not parse are skipped.
pub fn parse_locks(text: &str) -> Vec<LockEntry> {
    text.lines().filter_map(parse_lock_line).collect()
}

fn parse_lock_line(line: &str) -> Option<LockEntry> {
    let mut tokens = line.split_whitespace().peekable();
    let id = tokens.next()?.strip_suffix(':')?.parse().ok()?;
    let mut waiting = false;
    while tokens.peek() == Some(&"->") {
        waiting = true;
        tokens.next();
    }
    let kind = tokens.next()?.to_string();
    let _mandatory = tokens.next()?;
    let access = tokens.next()?.to_string();
    let pid = tokens.next()?.parse().ok()?;
    let mut device = tokens.next()?.split(':');
    let major = u32::from_str_radix(device.next()?, 16).ok()?;
    let minor = u32::from_str_radix(device.next()?, 16).ok()?;
    let inode = device.next()?.parse().ok()?;
    Some(LockEntry { id, waiting, kind, access, pid, major, minor, inode })
}

/// The system's current locks (empty when `/proc/locks` cannot be read).
pub fn locks() -> Vec<LockEntry> {
    std::fs::read_to_string("/proc/locks").map(|t| parse_locks(&t)).unwrap_or_default()
}

/// The argument vector of a live process; `None` when it is gone or not visible.
pub fn cmdline(pid: i32) -> Option<Vec<String>> {
    if pid <= 0 {
        return None;
    }
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let args: Vec<String> =
        raw.split(|b| *b == 0).filter(|a| !a.is_empty()).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
    (!args.is_empty()).then_some(args)
}

/// The mount a path lives on, from `/proc/self/mountinfo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountInfo {
    /// Where it is mounted.
    pub mount_point: PathBuf,
    /// `tmpfs`, `ext4`, `overlay`…
    pub fs_type: String,
    /// The mount's own options (`rw,nosuid,relatime`).
    pub options: String,
    /// The filesystem's options (`rw,size=8k` for a tmpfs: its size limit shows here).
    pub super_options: String,
    /// Device major number as `/proc/locks` prints it for files on this filesystem.
    pub major: u32,
    /// Device minor number.
    pub minor: u32,
}

/// Parses mountinfo text and returns the mount holding `path` (absolute, symlinks
/// resolved): the longest mount point above it, the last one mounted when several
/// share it.
pub fn mount_in(text: &str, path: &Path) -> Option<MountInfo> {
    let mut best: Option<MountInfo> = None;
    for line in text.lines() {
        let Some(info) = parse_mount_line(line) else { continue };
        if !path.starts_with(&info.mount_point) {
            continue;
        }
        let deeper =
            best.as_ref().is_none_or(|b| info.mount_point.as_os_str().len() >= b.mount_point.as_os_str().len());
        if deeper {
            best = Some(info);
        }
    }
    best
}

/// The mount holding `path` in this process's mount namespace.
pub fn mount_of(path: &Path) -> Option<MountInfo> {
    mount_in(&std::fs::read_to_string("/proc/self/mountinfo").ok()?, path)
}

fn parse_mount_line(line: &str) -> Option<MountInfo> {
    let (head, tail) = line.split_once(" - ")?;
    let head: Vec<&str> = head.split(' ').collect();
    let mut tail = tail.split(' ');
    let (major, minor) = head.get(2)?.split_once(':')?;
    Some(MountInfo {
        mount_point: PathBuf::from(unescape_octal(head.get(4)?)),
        options: head.get(5)?.to_string(),
        fs_type: tail.next()?.to_string(),
        super_options: tail.nth(1).unwrap_or_default().to_string(),
        major: major.parse().ok()?,
        minor: minor.parse().ok()?,
    })
}

/// mountinfo writes space, tab, newline and backslash as `\040`-style octal escapes.
fn unescape_octal(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escape =
            bytes.get(i + 1..i + 4).filter(|d| bytes[i] == b'\\' && d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match escape {
            Some(d) => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holders_and_waiters_with_hex_devices() {
        let text = "1: FLOCK  ADVISORY  WRITE 7864 fe:00:10068323 0 EOF\n1: -> FLOCK  ADVISORY  WRITE 7893 fe:00:10068323 0 EOF\n2: OFDLCK ADVISORY  READ  -1 00:1a:42 0 EOF\n3: POSIX  ADVISORY  WRITE 12 103:1f:9 0 100\ngarbage\n";
        let locks = parse_locks(text);
        assert_eq!(locks.len(), 4);
        assert_eq!(
            locks[0],
            LockEntry {
                id: 1,
                waiting: false,
                kind: "FLOCK".into(),
                access: "WRITE".into(),
                pid: 7864,
                major: 0xfe,
                minor: 0,
                inode: 10068323
            }
        );
        assert!(locks[1].waiting && locks[1].pid == 7893 && locks[1].id == 1);
        assert_eq!((locks[2].pid, locks[2].minor, locks[2].inode), (-1, 0x1a, 42));
        assert_eq!((locks[3].major, locks[3].minor), (0x103, 0x1f));
    }

    #[test]
    fn deepest_and_latest_mount_wins() {
        let text = "22 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n\
                    30 22 0:26 / /dev/shm rw,nosuid,nodev - tmpfs tmpfs rw,size=1024k\n\
                    40 30 0:51 / /dev/shm/my\\040box/mod rw,relatime - tmpfs tmpfs rw,size=8k\n\
                    41 40 0:52 / /dev/shm/my\\040box/mod ro,relatime - tmpfs tmpfs ro,size=4k\n";
        let m = mount_in(text, Path::new("/dev/shm/my box/mod/cache/download")).unwrap();
        assert_eq!((m.fs_type.as_str(), m.super_options.as_str(), m.major, m.minor), ("tmpfs", "ro,size=4k", 0, 52));
        assert_eq!(m.mount_point, Path::new("/dev/shm/my box/mod"));
        assert_eq!(mount_in(text, Path::new("/dev/shmx")).unwrap().fs_type, "ext4");
    }

    #[test]
    fn cmdline_of_this_process_and_of_nobody() {
        assert!(cmdline(std::process::id() as i32).is_some_and(|a| !a.is_empty()));
        assert_eq!(cmdline(0), None);
        assert_eq!(cmdline(-1), None);
    }
}
