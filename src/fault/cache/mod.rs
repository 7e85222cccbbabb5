//! Cache faults: a module cache put into a broken state before go runs. Each one
//! imitates a failure seen in the wild and was checked against the real go (1.26);
//! what go then prints is pinned by the tests in `fault::cache::tests`.
//!
//! Faults compose: apply several to the same cache, in order (e.g. `corrupt_zip` then
//! `empty_ziphash`). Two faults need more than files and live elsewhere: `disk_full`
//! and the root-proof `read_only` are mounts ([`mount`]), possible only inside
//! the sealed child's namespaces.

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub mod holder;
pub mod mount;

use holder::{HolderProgram, LockHolder};

use crate::modcache::layout::{VersionPaths, download_root};
use crate::vocab::Account;

/// Why a fault could not be put in place.
#[derive(Debug, Error)]
pub enum FaultError {
    /// A file operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The fault damages a file the cache does not have: seed the version first.
    #[error("{fault}: {} does not exist (seed {id} first)", missing.display())]
    NotSeeded {
        /// The fault.
        fault: &'static str,
        /// `path@version`.
        id: String,
        /// The file it needs.
        missing: PathBuf,
    },
    /// The fault would not change what go experiences, so applying it would make the
    /// scenario pass or fail for the wrong reason.
    #[error("{0}")]
    Ineffective(String),
    /// The lock holder process could not be started or did not get the lock.
    #[error(transparent)]
    Holder(#[from] holder::HolderError),
    /// A mount fault could not be made.
    #[error(transparent)]
    Mount(#[from] mount::MountError),
    /// A fault that makes files belong to another user than go's, where this process
    /// cannot change owners.
    #[error(
        "{0} needs modchaos to run as root: only root can give files to another owner than go's user (in the sealed namespace, root of the machine maps there as root)"
    )]
    NeedsRoot(&'static str),
}

/// How a cached zip is damaged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Corruption {
    /// Cut to half its length, as an interrupted copy leaves it: the central directory
    /// is gone (`zip: not a valid zip file`).
    #[default]
    Truncate,
    /// Replaced by bytes that are no zip at all (an HTML error page saved as the zip):
    /// `zip: not a valid zip file`.
    Garbage,
    /// One bit of the first entry's CRC-32 flipped, as bit rot does: the zip opens, but
    /// reading the entry fails with `zip: checksum error`.
    Checksum,
}

/// Where an interrupted operation stopped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PartialStage {
    /// Extraction stopped half-way: `<v>.partial` exists, the extracted directory holds
    /// only some files. go removes the directory and extracts again (no download).
    #[default]
    Extraction,
    /// The zip download stopped half-way: no zip, no ziphash, no extracted directory,
    /// a half-written `<v>.zip<digits>.tmp`. go deletes the temp file and downloads the
    /// zip again (so a failing proxy now fails the run).
    Download,
}

/// What is made read-only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReadOnlyScope {
    /// GOMODCACHE and everything in it (a cache created by another user).
    #[default]
    Cache,
    /// `cache/download` and everything in it (extracted trees untouched).
    Download,
}

/// What belongs to root instead of go's user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OwnerScope {
    /// GOMODCACHE and everything in it: a cache baked into a container image by root,
    /// used by a build that runs as another user.
    #[default]
    Cache,
    /// `cache/download` and everything in it.
    Download,
    /// The extracted module trees (`<module>@<version>/`).
    Extracted,
}

/// One broken state of a module cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheFault {
    /// Another live process holds `<v>.lock` (flock LOCK_EX) for at most `hold`. go
    /// blocks, printing nothing, whenever it must download or extract that version's
    /// zip; a fully extracted version is used without taking the lock.
    LockHeld {
        /// Module path.
        module: String,
        /// Version.
        version: String,
        /// Longest time the holder lives (it is normally killed when the fault is
        /// dropped; this bounds it if the harness itself dies).
        hold: Duration,
    },
    /// Write permission removed (`chmod -R a-w`). Refused with
    /// [`FaultError::Ineffective`] when this process ignores permissions (root, or the
    /// sealed namespace's root), since go, running as us, would too: use
    /// [`mount::read_only`] there.
    ReadOnly {
        /// What is made read-only.
        scope: ReadOnlyScope,
    },
    /// The cached zip damaged and the extracted directory removed, so go must read the
    /// zip again (an intact extracted directory would be used as it is).
    CorruptZip {
        /// Module path.
        module: String,
        /// Version.
        version: String,
        /// How.
        how: Corruption,
    },
    /// An interrupted extraction or download left behind.
    Partial {
        /// Module path.
        module: String,
        /// Version.
        version: String,
        /// Where it stopped.
        stage: PartialStage,
    },
    /// `<v>.ziphash` truncated to zero bytes. Alone go re-hashes the zip and carries on;
    /// with a corrupt zip it dies with `verifying <m>@<v>: zip: …`.
    EmptyZiphash {
        /// Module path.
        module: String,
        /// Version.
        version: String,
    },
    /// `<v>.mod` emptied, as a full disk or an interrupted write leaves it: go trusts the
    /// cached go.mod and hashes an empty file, so go.sum disagrees (`verifying
    /// <m>@<v>/go.mod: checksum mismatch`, `downloaded:` the empty file's `h1:`).
    EmptyGoMod {
        /// Module path.
        module: String,
        /// Version.
        version: String,
    },
    /// `<v>.ziphash` deleted. Alone go re-hashes the zip and carries on; with a corrupt
    /// zip the `-json` Error is a bare `zip: …` naming neither module nor file.
    MissingZiphash {
        /// Module path.
        module: String,
        /// Version.
        version: String,
    },
    /// Part of the cache belongs to root (modes unchanged), while go runs as another
    /// user: go reads it, and fails with `permission denied` at its first write. Needs
    /// this process to be root (in the sealed namespace, root of the machine).
    RootOwned {
        /// What belongs to root.
        scope: OwnerScope,
    },
}

/// A fault in place. Dropping it ends the lock holder, if any; file damage stays.
#[derive(Debug)]
pub struct AppliedFault {
    /// One line for reports: what was done to which files.
    pub description: String,
    holder: Option<LockHolder>,
}

impl AppliedFault {
    /// The process holding the lock, for `lock_held`.
    pub fn holder(&self) -> Option<&LockHolder> {
        self.holder.as_ref()
    }

    /// Ends the lock holder now and waits until the lock is free.
    pub fn release(mut self) {
        if let Some(holder) = self.holder.take() {
            holder.release();
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FaultError + '_ {
    move |source| FaultError::Io { path: path.to_path_buf(), source }
}

impl CacheFault {
    /// The fault's name as scenarios spell it.
    pub fn name(&self) -> &'static str {
        match self {
            CacheFault::LockHeld { .. } => "lock_held",
            CacheFault::ReadOnly { .. } => "read_only",
            CacheFault::CorruptZip { .. } => "corrupt_zip",
            CacheFault::Partial { .. } => "partial",
            CacheFault::EmptyZiphash { .. } => "empty_ziphash",
            CacheFault::EmptyGoMod { .. } => "empty_go_mod",
            CacheFault::MissingZiphash { .. } => "missing_ziphash",
            CacheFault::RootOwned { .. } => "root_owned",
        }
    }

    /// Breaks the cache at `modcache`, used by go running as `go_user`.
    pub fn apply(&self, modcache: &Path, go_user: Account) -> Result<AppliedFault, FaultError> {
        let done = |description: String| Ok(AppliedFault { description, holder: None });
        let paths = |module: &str, version: &str| VersionPaths::new(modcache, module, version);
        let need = |fault: &'static str, module: &str, version: &str, file: &Path| {
            if file.exists() {
                Ok(())
            } else {
                Err(FaultError::NotSeeded { fault, id: format!("{module}@{version}"), missing: file.to_path_buf() })
            }
        };
        match self {
            CacheFault::LockHeld { module, version, hold } => {
                let p = paths(module, version);
                std::fs::create_dir_all(&p.download_dir).map_err(io(&p.download_dir))?;
                let program = HolderProgram::available().ok_or(holder::HolderError::NoProgram)?;
                let holder = LockHolder::start(&p.lock, *hold, program)?;
                Ok(AppliedFault {
                    description: format!("{} held by pid {} ({program:?})", p.lock.display(), holder.pid),
                    holder: Some(holder),
                })
            }
            CacheFault::ReadOnly { scope } => {
                let target = match scope {
                    ReadOnlyScope::Cache => modcache.to_path_buf(),
                    ReadOnlyScope::Download => download_root(modcache),
                };
                std::fs::create_dir_all(&target).map_err(io(&target))?;
                remove_write_bits(&target)?;
                if go_user.is_root() {
                    return Err(FaultError::Ineffective(format!(
                        "read_only: {} stays writable for go, which runs as root (root ignores write bits): \
                         use a read-only bind mount in the sealed namespace instead",
                        target.display()
                    )));
                }
                done(format!("write permission removed from {} and everything below it", target.display()))
            }
            CacheFault::CorruptZip { module, version, how } => {
                let p = paths(module, version);
                need("corrupt_zip", module, version, &p.zip)?;
                let mut bytes = std::fs::read(&p.zip).map_err(io(&p.zip))?;
                match how {
                    Corruption::Truncate => bytes.truncate(bytes.len() / 2),
                    Corruption::Garbage => bytes = b"<html><body>502 Bad Gateway</body></html>\n".to_vec(),
                    Corruption::Checksum => flip_first_crc(&mut bytes).map_err(|why| {
                        FaultError::Ineffective(format!("corrupt_zip checksum: {}: {why}", p.zip.display()))
                    })?,
                }
                std::fs::write(&p.zip, &bytes).map_err(io(&p.zip))?;
                remove_extracted(&p)?;
                done(format!("{} damaged ({how:?}), {} removed", p.zip.display(), p.extracted.display()))
            }
            CacheFault::Partial { module, version, stage: PartialStage::Extraction } => {
                let p = paths(module, version);
                need("partial", module, version, &p.extracted)?;
                crate::fsutil::make_writable(&p.extracted);
                let mut files = Vec::new();
                list_files(&p.extracted, &mut files).map_err(io(&p.extracted))?;
                files.sort();
                let keep = files.len() / 2;
                for file in &files[keep..] {
                    std::fs::remove_file(file).map_err(io(file))?;
                }
                std::fs::write(&p.partial, b"").map_err(io(&p.partial))?;
                done(format!(
                    "{} left with {keep} of {} files, {} created",
                    p.extracted.display(),
                    files.len(),
                    p.partial.display()
                ))
            }
            CacheFault::Partial { module, version, stage: PartialStage::Download } => {
                let p = paths(module, version);
                need("partial", module, version, &p.zip)?;
                let bytes = std::fs::read(&p.zip).map_err(io(&p.zip))?;
                let temp = p.download_dir.join(format!("{}.zip{}.tmp", p.escaped_version, temp_digits()));
                let mut file = std::fs::File::create(&temp).map_err(io(&temp))?;
                file.write_all(&bytes[..bytes.len() / 2]).map_err(io(&temp))?;
                for gone in [&p.zip, &p.ziphash] {
                    remove_if_present(gone)?;
                }
                remove_extracted(&p)?;
                done(format!("zip download interrupted: {} holds half of it", temp.display()))
            }
            CacheFault::EmptyZiphash { module, version } => {
                let p = paths(module, version);
                need("empty_ziphash", module, version, &p.ziphash)?;
                std::fs::write(&p.ziphash, b"").map_err(io(&p.ziphash))?;
                done(format!("{} emptied", p.ziphash.display()))
            }
            CacheFault::EmptyGoMod { module, version } => {
                let p = paths(module, version);
                need("empty_go_mod", module, version, &p.go_mod)?;
                std::fs::write(&p.go_mod, b"").map_err(io(&p.go_mod))?;
                done(format!("{} emptied", p.go_mod.display()))
            }
            CacheFault::MissingZiphash { module, version } => {
                let p = paths(module, version);
                need("missing_ziphash", module, version, &p.ziphash)?;
                remove_if_present(&p.ziphash)?;
                done(format!("{} deleted", p.ziphash.display()))
            }
            CacheFault::RootOwned { scope } => {
                if !Account::current().is_root() {
                    return Err(FaultError::NeedsRoot("root_owned"));
                }
                if go_user.is_root() {
                    return Err(FaultError::Ineffective(
                        "root_owned: go runs as root, so files owned by root stop nothing".into(),
                    ));
                }
                std::fs::create_dir_all(modcache).map_err(io(modcache))?;
                let targets: Vec<PathBuf> = match scope {
                    OwnerScope::Cache => vec![modcache.to_path_buf()],
                    OwnerScope::Download => vec![download_root(modcache)],
                    OwnerScope::Extracted => std::fs::read_dir(modcache)
                        .map_err(io(modcache))?
                        .filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| p.file_name().is_some_and(|n| n != "cache"))
                        .collect(),
                };
                for target in &targets {
                    std::fs::create_dir_all(target).map_err(io(target))?;
                    crate::fsutil::chown_tree(target, Account::ROOT).map_err(io(target))?;
                }
                let names: Vec<String> = targets.iter().map(|t| t.display().to_string()).collect();
                done(format!("{} and everything below owned by root", names.join(", ")))
            }
        }
    }
}

/// Digits in the style of go's temp files (`<v>.zip<random>.tmp`), from the clock.
fn temp_digits() -> u32 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    nanos % 1_000_000_000
}

fn remove_if_present(path: &Path) -> Result<(), FaultError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(FaultError::Io { path: path.to_path_buf(), source: e })
        }
        _ => Ok(()),
    }
}

fn remove_extracted(p: &VersionPaths) -> Result<(), FaultError> {
    crate::fsutil::remove_tree(&p.extracted).map_err(io(&p.extracted))
}

fn list_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            list_files(&entry.path(), out)?;
        } else {
            out.push(entry.path());
        }
    }
    Ok(())
}

/// `chmod -R a-w`: every directory and file below `root` (symlinks left alone).
fn remove_write_bits(root: &Path) -> Result<(), FaultError> {
    let meta = std::fs::symlink_metadata(root).map_err(io(root))?;
    if meta.file_type().is_symlink() {
        return Ok(());
    }
    if meta.is_dir() {
        for entry in std::fs::read_dir(root).map_err(io(root))? {
            remove_write_bits(&entry.map_err(io(root))?.path())?;
        }
    }
    let mode = meta.permissions().mode();
    std::fs::set_permissions(root, std::fs::Permissions::from_mode(mode & !0o222)).map_err(io(root))
}

/// Why a cached zip's checksum cannot be damaged: what is wrong with the zip.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct NotAZip(&'static str);

/// Flips the lowest bit of the first central directory entry's CRC-32 (the CRC Go's
/// archive/zip checks after reading the entry), avoiding a result of 0, which means
/// "unchecked".
fn flip_first_crc(zip: &mut [u8]) -> Result<(), NotAZip> {
    const EOCD: &[u8] = b"PK\x05\x06";
    const CENTRAL: &[u8] = b"PK\x01\x02";
    let end = zip.windows(4).rposition(|w| w == EOCD).ok_or(NotAZip("no end of central directory record"))?;
    let entries = u16::from_le_bytes([zip[end + 10], zip[end + 11]]);
    if entries == 0 {
        return Err(NotAZip("the zip has no entries"));
    }
    let offset = zip.get(end + 16..end + 20).ok_or(NotAZip("truncated end record"))?;
    let offset = u32::from_le_bytes([offset[0], offset[1], offset[2], offset[3]]) as usize;
    if zip.get(offset..offset + 4) != Some(CENTRAL) {
        return Err(NotAZip("the central directory offset does not point at an entry"));
    }
    let crc = zip.get_mut(offset + 16..offset + 20).ok_or(NotAZip("truncated central directory entry"))?;
    let old = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
    let new = if old ^ 1 == 0 { old ^ 2 } else { old ^ 1 };
    crc.copy_from_slice(&new.to_le_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_corruption_changes_only_the_central_crc() {
        let m = crate::fixture::ModuleFixture::from_archive(
            "a.example/m",
            "v1.0.0",
            Path::new("t.txt"),
            &crate::fixture::txtar::Archive::parse(b"-- .mod --\nmodule a.example/m\n-- a.go --\npackage a\n"),
        )
        .unwrap();
        let mut bytes = m.zip.to_vec();
        flip_first_crc(&mut bytes).unwrap();
        let differing: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i] != m.zip[i]).collect();
        assert_eq!(differing.len(), 1, "{differing:?}");
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut entry = archive.by_index(0).unwrap();
        let mut sink = Vec::new();
        assert!(std::io::Read::read_to_end(&mut entry, &mut sink).is_err(), "the CRC is no longer checked");
        assert!(flip_first_crc(&mut b"not a zip".to_vec()).is_err());
    }

    #[test]
    fn an_emptied_go_mod_is_an_empty_file_where_go_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = VersionPaths::new(dir.path(), "a.example/M", "v1.0.0");
        std::fs::create_dir_all(&p.download_dir).unwrap();
        std::fs::write(&p.go_mod, b"module a.example/M\n").unwrap();
        let fault = CacheFault::EmptyGoMod { module: "a.example/M".into(), version: "v1.0.0".into() };
        fault.apply(dir.path(), crate::vocab::Account::current()).unwrap();
        assert_eq!(std::fs::read(dir.path().join("cache/download/a.example/!m/@v/v1.0.0.mod")).unwrap(), b"");
    }

    #[test]
    fn file_faults_on_a_missing_version_say_what_to_seed() {
        let dir = tempfile::tempdir().unwrap();
        let fault = CacheFault::EmptyZiphash { module: "a.example/m".into(), version: "v1.0.0".into() };
        let err = fault.apply(dir.path(), crate::vocab::Account::current()).unwrap_err().to_string();
        assert!(err.contains("seed a.example/m@v1.0.0 first") && err.contains("v1.0.0.ziphash"), "{err}");
    }
}
