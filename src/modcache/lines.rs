//! [`CacheState`] as report lines, one finding per line, paths relative to the cache:
//!
//! ```text
//! module cache /tmp/x/gopath/pkg/mod: 2 versions downloaded, 1 extracted, 3.1 KiB in 14 files
//! filesystem full: tmpfs on /tmp/x/gopath/pkg/mod (rw,nosuid,nodev,relatime; rw,size=8k,mode=755): 0 B free of 8.0 KiB, 1021 inodes free
//! lock held: cache/download/corp.example/lib/@v/v1.0.0.lock by pid 1234 (flock -x $GOMODCACHE/cache/download/corp.example/lib/@v/v1.0.0.lock sleep 3600), 1 waiter: pid 1240 (go mod download -json corp.example/lib@v1.0.0)
//! partial extraction: corp.example/lib@v1.0.0 (cache/download/corp.example/lib/@v/v1.0.0.partial exists)
//! ```

use super::inspect::{CacheState, Listed, LockProcess, NotWritable};

/// Longest command line shown for a process.
const MAX_COMMAND: usize = 120;

impl CacheState {
    /// One line per finding, the cache summary and its filesystem first.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        let root = self.root.display().to_string();
        if self.exists {
            let at_least = if self.size_complete { "" } else { "at least " };
            lines.push(format!(
                "module cache {root}: {} downloaded, {} extracted, {at_least}{} in {} files",
                plural(self.zips, "version"),
                self.extracted,
                bytes(self.size_bytes),
                self.files
            ));
        } else {
            lines.push(format!("module cache {root} does not exist"));
        }
        if let Some(fs) = &self.filesystem {
            let place = match &fs.mount {
                Some(m) => format!("{} on {} ({}; {})", m.fs_type, m.mount_point.display(), m.options, m.super_options),
                None => "unknown".into(),
            };
            let full = if fs.free_bytes == 0 { "full: " } else { "" };
            let read_only = if fs.read_only { ", mounted read-only" } else { "" };
            lines.push(format!(
                "filesystem {full}{place}: {} free of {}, {} inodes free{read_only}",
                bytes(fs.free_bytes),
                bytes(fs.size_bytes),
                fs.free_inodes
            ));
        }
        for lock in &self.locks {
            let waiters = match lock.waiters.len() {
                0 => String::new(),
                n => format!(", {}: {}", plural(n, "waiter"), processes(&lock.waiters, &root)),
            };
            if lock.holders.is_empty() {
                lines.push(format!("lock waited for: {} (holder not visible){waiters}", lock.path));
            } else {
                lines.push(format!("lock held: {} by {}{waiters}", lock.path, processes(&lock.holders, &root)));
            }
        }
        for p in &self.partial {
            let missing = if p.extracted_exists { "" } else { "; the directory is missing" };
            lines.push(format!("partial extraction: {} ({} exists{missing})", p.extracted, p.marker));
        }
        for t in &self.temp_files {
            lines.push(format!("temporary file left behind: {} ({})", t.path, bytes(t.bytes)));
        }
        listed(&mut lines, &self.zips_without_ziphash, |p| format!("zip without ziphash: {p}"));
        listed(&mut lines, &self.extracted_without_ziphash, |p| format!("extracted without ziphash: {p}"));
        listed(&mut lines, &self.bad_ziphash, |z| {
            if z.content.is_empty() {
                format!("empty ziphash: {}", z.path)
            } else {
                format!("invalid ziphash: {}: {:?}", z.path, z.content)
            }
        });
        listed(&mut lines, &self.not_writable, not_writable);
        for problem in &self.problems {
            lines.push(format!("could not inspect: {problem}"));
        }
        lines
    }
}

fn listed<T>(lines: &mut Vec<String>, list: &Listed<T>, line: impl Fn(&T) -> String) {
    lines.extend(list.items.iter().map(line));
    if list.total > list.items.len() {
        lines.push(format!("… and {} more like the line above", list.total - list.items.len()));
    }
}

fn not_writable(n: &NotWritable) -> String {
    let why = match &n.denied {
        Some(reason) => format!("; {reason}"),
        None => "; this process can write it anyway (root)".into(),
    };
    format!("not writable: {} (mode {:04o}{why})", n.path, n.mode)
}

fn processes(list: &[LockProcess], root: &str) -> String {
    list.iter().map(|p| process(p, root)).collect::<Vec<_>>().join(", ")
}

fn process(p: &LockProcess, root: &str) -> String {
    if p.pid <= 0 {
        return format!("a process in another pid namespace ({} {})", p.kind, p.access);
    }
    match &p.argv {
        Some(argv) => format!("pid {} ({})", p.pid, command(argv, root)),
        None => format!("pid {} (gone or not visible)", p.pid),
    }
}

/// The command line with the program's directory dropped, the cache root written as
/// `$GOMODCACHE`, cut at [`MAX_COMMAND`] characters.
fn command(argv: &[String], root: &str) -> String {
    let mut words: Vec<String> = argv.to_vec();
    if let Some(first) = words.first_mut()
        && let Some((_, base)) = first.rsplit_once('/')
    {
        *first = base.to_string();
    }
    let text = words.join(" ");
    let text = if root.is_empty() { text } else { text.replace(root, "$GOMODCACHE") };
    if text.chars().count() > MAX_COMMAND {
        let cut: String = text.chars().take(MAX_COMMAND - 1).collect();
        format!("{cut}…")
    } else {
        text
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
}

/// `812 B`, `8.0 KiB`, `3.4 MiB`, `1.2 GiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}
