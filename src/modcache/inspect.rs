//! Looking at a module cache the way an expert does after a failed download: who holds
//! which lock (and who waits), interrupted extractions and downloads, zips whose hash
//! file is missing or empty, what is not writable, how much room is left. go says
//! nothing about most of this (a lock wait prints nothing at all), so the diagnosis
//! needs it from the cache and the process table.
//!
//! Inspection never writes (it opens nothing for writing, takes no lock, creates no
//! directory) and stays fast on a big cache: it reads at most the first bytes of an
//! odd-sized ziphash, hashes nothing, and enters extracted source trees only to add up
//! their size, within an entry budget.

use std::collections::HashMap;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::layout::download_root;
use super::procfs::{self, LockEntry, MountInfo};

/// Most entries of an extracted tree stat-ed for the size; beyond it the size is a
/// lower bound (`size_complete: false`).
const SIZE_BUDGET: u64 = 200_000;

/// Most items kept in one list; the total is still counted.
const MAX_LISTED: usize = 20;

/// A list that keeps its first `MAX_LISTED` items and counts the rest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listed<T> {
    /// The first items found.
    pub items: Vec<T>,
    /// How many there are in all.
    pub total: usize,
}

impl<T> Default for Listed<T> {
    fn default() -> Self {
        Listed { items: Vec::new(), total: 0 }
    }
}

impl<T> Listed<T> {
    fn push(&mut self, item: T) {
        self.total += 1;
        if self.items.len() < MAX_LISTED {
            self.items.push(item);
        }
    }

    /// True when nothing was found.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }
}

/// A process holding or waiting for a lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockProcess {
    /// Process id as seen from here (0 or -1: not visible from this pid namespace).
    pub pid: i32,
    /// `FLOCK`, `POSIX`, `OFDLCK`…
    pub kind: String,
    /// `WRITE` or `READ`.
    pub access: String,
    /// Its command line, when the process is visible.
    pub argv: Option<Vec<String>>,
}

/// A file of the cache that some process has locked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldLock {
    /// The file, relative to the cache root.
    pub path: String,
    /// Who holds it.
    pub holders: Vec<LockProcess>,
    /// Who is blocked waiting for it (go, typically).
    pub waiters: Vec<LockProcess>,
}

/// A `.partial` marker: an extraction that started and did not finish (or is running).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartialMarker {
    /// The marker, relative to the cache root.
    pub marker: String,
    /// The extracted directory it guards, relative to the cache root.
    pub extracted: String,
    /// Whether that directory exists.
    pub extracted_exists: bool,
}

/// A temporary file or directory a download or an old extraction left behind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TempFile {
    /// Relative to the cache root.
    pub path: String,
    /// Size in bytes (0 for a directory).
    pub bytes: u64,
}

/// A ziphash go would not accept as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadZiphash {
    /// Relative to the cache root.
    pub path: String,
    /// Its content, trimmed (empty for an empty file), at most 64 bytes.
    pub content: String,
}

/// Something go may need to write and cannot, or that has lost its write permission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotWritable {
    /// Relative to the cache root (`.` for the root itself).
    pub path: String,
    /// Permission bits.
    pub mode: u32,
    /// Why writing fails for this process (`read-only file system`, `permission
    /// denied`); `None` when it can still write (root ignores permission bits).
    pub denied: Option<String>,
}

/// The filesystem holding the cache.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filesystem {
    /// The mount, from `/proc/self/mountinfo`.
    pub mount: Option<MountInfo>,
    /// Total size in bytes.
    pub size_bytes: u64,
    /// Bytes available to unprivileged writers.
    pub free_bytes: u64,
    /// Inodes available.
    pub free_inodes: u64,
    /// Mounted read-only.
    pub read_only: bool,
}

/// What a module cache looks like right now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheState {
    /// The cache inspected (GOMODCACHE).
    pub root: PathBuf,
    /// Whether it exists at all.
    pub exists: bool,
    /// Module versions with a zip in `cache/download`.
    pub zips: usize,
    /// Extracted module directories (`<path>@<version>`).
    pub extracted: usize,
    /// Files in the cache.
    pub files: u64,
    /// Their apparent size.
    pub size_bytes: u64,
    /// False when the walk stopped at its budget: `files` and `size_bytes` are then
    /// lower bounds.
    pub size_complete: bool,
    /// Room left where the cache lives (that of the nearest existing parent when the
    /// cache does not exist).
    pub filesystem: Option<Filesystem>,
    /// Locked files of the cache, with holders and waiters.
    pub locks: Vec<HeldLock>,
    /// `.partial` markers.
    pub partial: Vec<PartialMarker>,
    /// Leftover temporary files (`<v>.zip123.tmp`, `<m>@<v>.tmp-123/`).
    pub temp_files: Vec<TempFile>,
    /// Zips without a ziphash next to them (go re-hashes them before use).
    pub zips_without_ziphash: Listed<String>,
    /// Extracted directories whose ziphash is missing (go treats them as not extracted).
    pub extracted_without_ziphash: Listed<String>,
    /// Ziphash files that are empty or do not hold an `h1:` hash.
    pub bad_ziphash: Listed<BadZiphash>,
    /// Directories go writes into, and files it opens for writing, that lack write
    /// permission or cannot be written by this process.
    pub not_writable: Listed<NotWritable>,
    /// What could not be read during inspection.
    pub problems: Vec<String>,
}

/// Locks on one inode, with the devices under which they may be reported.
struct LockIndex {
    by_inode: HashMap<u64, Vec<LockEntry>>,
}

impl LockIndex {
    fn new(devices: &[(u32, u32)]) -> LockIndex {
        let mut by_inode: HashMap<u64, Vec<LockEntry>> = HashMap::new();
        for lock in procfs::locks() {
            if devices.contains(&(lock.major, lock.minor)) {
                by_inode.entry(lock.inode).or_default().push(lock);
            }
        }
        LockIndex { by_inode }
    }
}

struct Walker<'a> {
    root: &'a Path,
    state: CacheState,
    locks: LockIndex,
    budget: u64,
}

impl CacheState {
    /// Inspects the module cache at `modcache` without changing anything.
    pub fn inspect(modcache: &Path) -> CacheState {
        let mut state = CacheState { root: modcache.to_path_buf(), size_complete: true, ..Default::default() };
        let existing = modcache.ancestors().find(|p| p.exists()).unwrap_or(Path::new("/"));
        let resolved = std::fs::canonicalize(existing).unwrap_or_else(|_| existing.to_path_buf());
        let mount = procfs::mount_of(&resolved);
        state.filesystem = filesystem(existing, mount.clone());
        let Ok(root_meta) = std::fs::metadata(modcache) else {
            return state;
        };
        state.exists = true;
        // /proc/locks names the superblock's device; stat may name another (btrfs
        // subvolumes): accept both.
        let dev = root_meta.dev();
        let mut devices = vec![(nix::sys::stat::major(dev) as u32, nix::sys::stat::minor(dev) as u32)];
        if let Some(m) = &mount {
            devices.push((m.major, m.minor));
        }
        let mut walker = Walker { root: modcache, state, locks: LockIndex::new(&devices), budget: SIZE_BUDGET };
        walker.check_writable(modcache, &root_meta);
        walker.walk_top(modcache);
        let mut state = walker.state;
        state.locks.sort_by(|a, b| a.path.cmp(&b.path));
        state.partial.sort_by(|a, b| a.marker.cmp(&b.marker));
        state.temp_files.sort_by(|a, b| a.path.cmp(&b.path));
        state
    }

    /// True when inspection found something wrong (locks held or waited for, partial or
    /// temporary files, hash problems, lack of write permission, a full filesystem).
    pub fn has_findings(&self) -> bool {
        !self.locks.is_empty()
            || !self.partial.is_empty()
            || !self.temp_files.is_empty()
            || !self.zips_without_ziphash.is_empty()
            || !self.extracted_without_ziphash.is_empty()
            || !self.bad_ziphash.is_empty()
            || !self.not_writable.is_empty()
            || self.filesystem.as_ref().is_some_and(|f| f.read_only || f.free_bytes == 0)
    }
}

fn filesystem(path: &Path, mount: Option<MountInfo>) -> Option<Filesystem> {
    let stat = nix::sys::statvfs::statvfs(path).ok()?;
    let fragment = stat.fragment_size() as u64;
    Some(Filesystem {
        mount,
        size_bytes: stat.blocks() as u64 * fragment,
        free_bytes: stat.blocks_available() as u64 * fragment,
        free_inodes: stat.files_available() as u64,
        read_only: stat.flags().contains(nix::sys::statvfs::FsFlags::ST_RDONLY),
    })
}

impl Walker<'_> {
    fn relative(&self, path: &Path) -> String {
        match path.strip_prefix(self.root) {
            Ok(r) if r.as_os_str().is_empty() => ".".into(),
            Ok(r) => r.display().to_string(),
            Err(_) => path.display().to_string(),
        }
    }

    fn entries(&mut self, dir: &Path) -> Vec<(PathBuf, String, std::fs::Metadata)> {
        let read = match std::fs::read_dir(dir) {
            Ok(r) => r,
            Err(e) => {
                let problem = format!("cannot read {}: {e}", self.relative(dir));
                self.state.problems.push(problem);
                return Vec::new();
            }
        };
        let mut out: Vec<_> = read
            .filter_map(Result::ok)
            .filter_map(|e| {
                let meta = e.metadata().ok()?;
                Some((e.path(), e.file_name().to_string_lossy().into_owned(), meta))
            })
            .collect();
        out.sort_by(|a, b| a.1.cmp(&b.1));
        out
    }

    fn count_file(&mut self, meta: &std::fs::Metadata) {
        self.state.files += 1;
        self.state.size_bytes += meta.len();
    }

    /// The cache root: `cache/` is inspected in full, everything else is the tree of
    /// extracted modules.
    fn walk_top(&mut self, dir: &Path) {
        for (path, name, meta) in self.entries(dir) {
            if name == "cache" && meta.is_dir() {
                self.check_writable(&path, &meta);
                self.walk_cache(&path);
            } else {
                self.walk_extracted_parents(&path, &name, &meta);
            }
        }
    }

    fn walk_cache(&mut self, dir: &Path) {
        for (path, name, meta) in self.entries(dir) {
            if meta.is_dir() {
                if path.starts_with(download_root(self.root)) {
                    self.check_writable(&path, &meta);
                }
                if name == "@v" {
                    self.walk_version_dir(&path);
                } else {
                    self.walk_cache(&path);
                }
            } else {
                self.count_file(&meta);
                self.check_lock(&path, &meta);
                if name == "lock" {
                    self.check_writable(&path, &meta);
                }
            }
        }
    }

    /// One module's `@v` directory: every file classified by its suffix.
    fn walk_version_dir(&mut self, dir: &Path) {
        let entries = self.entries(dir);
        let names: std::collections::HashSet<&str> = entries.iter().map(|(_, n, _)| n.as_str()).collect();
        let module_dir = dir.parent().map(|p| p.to_path_buf()).unwrap_or_default();
        let mut found = Vec::new();
        for (path, name, meta) in &entries {
            if meta.is_dir() {
                found.push(Finding::Dir(path.clone()));
                continue;
            }
            self.count_file(meta);
            self.check_lock(path, meta);
            if name.ends_with(".lock") || name.ends_with(".ziphash") || name == "list" {
                self.check_writable(path, meta);
            }
            if let Some(version) = name.strip_suffix(".zip") {
                self.state.zips += 1;
                if !names.contains(format!("{version}.ziphash").as_str()) {
                    found.push(Finding::ZipWithoutHash(self.relative(path)));
                }
            } else if name.ends_with(".ziphash") && meta.len() != 47 {
                found.push(Finding::OddZiphash(path.clone()));
            } else if let Some(version) = name.strip_suffix(".partial") {
                let extracted = self.extracted_dir(&module_dir, version);
                found.push(Finding::Partial {
                    marker: self.relative(path),
                    extracted_exists: extracted.exists(),
                    extracted: self.relative(&extracted),
                });
            } else if name.ends_with(".tmp") {
                found.push(Finding::Temp(TempFile { path: self.relative(path), bytes: meta.len() }));
            }
        }
        for finding in found {
            match finding {
                Finding::Dir(path) => self.walk_cache(&path),
                Finding::ZipWithoutHash(path) => self.state.zips_without_ziphash.push(path),
                Finding::OddZiphash(path) => self.check_ziphash(&path),
                Finding::Partial { marker, extracted, extracted_exists } => {
                    self.state.partial.push(PartialMarker { marker, extracted, extracted_exists })
                }
                Finding::Temp(temp) => self.state.temp_files.push(temp),
            }
        }
    }

    /// `<root>/<escaped path>@<v>` for the module whose download directory is
    /// `cache/download/<escaped path>`.
    fn extracted_dir(&self, module_dir: &Path, version: &str) -> PathBuf {
        let escaped = module_dir.strip_prefix(download_root(self.root)).unwrap_or(module_dir);
        let mut out = self.root.join(escaped).into_os_string();
        out.push(format!("@{version}"));
        PathBuf::from(out)
    }

    fn check_ziphash(&mut self, path: &Path) {
        use std::io::Read as _;
        let mut head = Vec::new();
        match std::fs::File::open(path) {
            Ok(f) => {
                let _ = f.take(128).read_to_end(&mut head);
            }
            Err(e) => {
                let problem = format!("cannot read {}: {e}", self.relative(path));
                self.state.problems.push(problem);
                return;
            }
        }
        let text = String::from_utf8_lossy(&head);
        let trimmed = text.trim();
        let valid = trimmed.len() == 47 && trimmed.starts_with("h1:");
        if !valid {
            let content: String = trimmed.chars().take(64).collect();
            let path = self.relative(path);
            self.state.bad_ziphash.push(BadZiphash { path, content });
        }
    }

    /// Directories outside `cache/` above the extracted modules (`rsc.io/`): go creates
    /// module directories in them. A name with `@` is an extracted module (or an old
    /// `.tmp-` extraction) and only its size is taken.
    fn walk_extracted_parents(&mut self, path: &Path, name: &str, meta: &std::fs::Metadata) {
        if !meta.is_dir() {
            self.count_file(meta);
            return;
        }
        if let Some((_, version)) = name.rsplit_once('@') {
            if version.contains(".tmp-") {
                self.state.temp_files.push(TempFile { path: self.relative(path), bytes: 0 });
            } else {
                self.state.extracted += 1;
                let module_dir = path.parent().and_then(|p| p.strip_prefix(self.root).ok()).unwrap_or(Path::new(""));
                let escaped_path = module_dir.join(&name[..name.len() - version.len() - 1]);
                let mut ziphash = download_root(self.root);
                ziphash.push(&escaped_path);
                ziphash.push("@v");
                ziphash.push(format!("{version}.ziphash"));
                if !ziphash.exists() {
                    let dir = self.relative(path);
                    self.state.extracted_without_ziphash.push(dir);
                }
            }
            self.add_tree_size(path);
            return;
        }
        self.check_writable(path, meta);
        for (child, child_name, child_meta) in self.entries(path) {
            self.walk_extracted_parents(&child, &child_name, &child_meta);
        }
    }

    fn add_tree_size(&mut self, dir: &Path) {
        let Ok(read) = std::fs::read_dir(dir) else { return };
        for entry in read.filter_map(Result::ok) {
            if self.budget == 0 {
                self.state.size_complete = false;
                return;
            }
            self.budget -= 1;
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                self.add_tree_size(&entry.path());
            } else {
                self.count_file(&meta);
            }
        }
    }

    fn check_writable(&mut self, path: &Path, meta: &std::fs::Metadata) {
        let mode = meta.permissions().mode() & 0o7777;
        let denied = match nix::unistd::access(path, nix::unistd::AccessFlags::W_OK) {
            Ok(()) => None,
            Err(nix::Error::EROFS) => Some("read-only file system".to_string()),
            Err(nix::Error::EACCES) => Some("permission denied".to_string()),
            Err(e) => Some(std::io::Error::from_raw_os_error(e as i32).to_string()),
        };
        if mode & 0o200 == 0 || denied.is_some() {
            let path = self.relative(path);
            self.state.not_writable.push(NotWritable { path, mode, denied });
        }
    }

    fn check_lock(&mut self, path: &Path, meta: &std::fs::Metadata) {
        let Some(entries) = self.locks.by_inode.get(&meta.ino()) else { return };
        let process = |l: &LockEntry| LockProcess {
            pid: l.pid,
            kind: l.kind.clone(),
            access: l.access.clone(),
            argv: procfs::cmdline(l.pid),
        };
        let holders = entries.iter().filter(|l| !l.waiting).map(process).collect();
        let waiters = entries.iter().filter(|l| l.waiting).map(process).collect();
        let path = self.relative(path);
        self.state.locks.push(HeldLock { path, holders, waiters });
    }
}

enum Finding {
    Dir(PathBuf),
    ZipWithoutHash(String),
    OddZiphash(PathBuf),
    Partial { marker: String, extracted: String, extracted_exists: bool },
    Temp(TempFile),
}
