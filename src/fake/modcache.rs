//! Seeding: writing module versions into a module cache exactly as a successful
//! `go mod download` leaves them, so that a scenario can start from a warm cache (and
//! break it) without a network. "Exactly" is checked against the real go: same files,
//! same bytes, same permissions (see the tests in `fault::cache::tests`).
//!
//! What go leaves per version, in `cache/download/<escaped path>/@v/`: `<v>.info` (its
//! own re-encoding, see [`crate::modcache::goinfo`]), `<v>.mod` and `<v>.zip` (the proxy's
//! bytes), `<v>.ziphash` (the zip's `h1:`, no newline), an empty `<v>.lock`, and `list`
//! (every version with a `.mod` whose escaped name is a canonical semver, sorted); and
//! the extracted tree `<escaped path>@<escaped v>/` with files mode 0444 and directories
//! writable only with `-modcacherw`. Nothing is written for the checksum database: the
//! seeded state is that of a download with `GOSUMDB=off` or with go.sum already holding
//! the hashes.

use std::io::{Read as _, Write as _};
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Component, Path, PathBuf};

use thiserror::Error;

use crate::fixture::ModuleFixture;
use crate::fixture::dirhash;
use crate::fixture::semver::{self, Version};
use crate::modcache::goinfo;
use crate::modcache::layout::VersionPaths;

/// How the go command whose result is imitated was configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedOptions {
    /// `-modcacherw`: extracted directories stay writable (when the scenario's GOFLAGS say so);
    /// without it go makes them read-only (files are read-only either way).
    pub modcacherw: bool,
}

impl Default for SeedOptions {
    fn default() -> Self {
        SeedOptions { modcacherw: true }
    }
}

/// Why a module version could not be seeded.
#[derive(Debug, Error)]
pub enum SeedError {
    /// Writing the cache failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// go could never have downloaded this version successfully, so no cache state
    /// imitates it (use a cache fault to put broken files in a cache).
    #[error("{id} cannot be seeded: {reason}")]
    Unusable {
        /// `path@version`.
        id: String,
        /// Why go would have refused it.
        reason: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SeedError + '_ {
    move |source| SeedError::Io { path: path.to_path_buf(), source }
}

/// Seeds every module of `modules` into the cache at `modcache` (created if missing).
pub fn seed<'a>(
    modcache: &Path,
    modules: impl IntoIterator<Item = &'a crate::fixture::Module>,
    options: SeedOptions,
) -> Result<(), SeedError> {
    for module in modules {
        seed_module(modcache, module, options)?;
    }
    Ok(())
}

/// Seeds one module version; an existing copy of it is replaced.
pub fn seed_module(modcache: &Path, module: &ModuleFixture, options: SeedOptions) -> Result<VersionPaths, SeedError> {
    let unusable = |reason: String| SeedError::Unusable { id: module.id(), reason };
    if !is_canonical(&module.version) {
        return Err(unusable(format!("{:?} is not a canonical module version", module.version)));
    }
    let go_mod = module.go_mod.as_ref().ok_or_else(|| unusable("the fixture has no .mod".into()))?;
    if let Some(violation) = module.zip_violations.first() {
        return Err(unusable(format!("go rejects its zip: {violation}")));
    }
    let info = goinfo::canonical(&module.info, &module.version).map_err(|e| unusable(format!("its .info: {e}")))?;
    let entries = read_zip(&module.zip, &format!("{}/", module.id())).map_err(unusable)?;
    let ziphash = dirhash::hash1(entries.iter().map(|(name, data)| (name.as_str(), data.as_slice())))
        .map_err(|e| unusable(e.to_string()))?;

    let paths = VersionPaths::new(modcache, &module.path, &module.version);
    std::fs::create_dir_all(&paths.download_dir).map_err(io(&paths.download_dir))?;
    write(&paths.info, info.as_bytes())?;
    write(&paths.go_mod, go_mod)?;
    rewrite_list(&paths.download_dir)?;
    // go opens the lock with O_CREATE and never truncates it.
    std::fs::OpenOptions::new().append(true).create(true).open(&paths.lock).map_err(io(&paths.lock))?;
    write(&paths.zip, &module.zip)?;
    write(&paths.ziphash, ziphash.as_bytes())?;
    let _ = std::fs::remove_file(&paths.partial);
    extract(&paths.extracted, module, &entries, options)?;
    Ok(paths)
}

/// `module.CanonicalVersion(v) == v`: a full semver, build metadata only `+incompatible`.
pub fn is_canonical(version: &str) -> bool {
    Version::parse(version).is_some() && version.split_once('+').is_none_or(|(_, build)| build == "incompatible")
}

fn write(path: &Path, data: &[u8]) -> Result<(), SeedError> {
    std::fs::write(path, data).map_err(io(path))
}

/// Every entry of the zip as (name, content), after the checks go's download makes.
fn read_zip(bytes: &[u8], prefix: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| format!("its zip: {e}"))?;
    let mut entries = Vec::with_capacity(archive.len());
    for index in 0..archive.len() {
        let mut file = archive.by_index(index).map_err(|e| format!("its zip: {e}"))?;
        let name = file.name().map_err(|e| format!("its zip: {e}"))?.into_owned();
        if !name.starts_with(prefix) {
            return Err(format!("zip for {} has unexpected file {name}", prefix.trim_end_matches('/')));
        }
        let mut data = Vec::with_capacity(usize::try_from(file.size()).unwrap_or(0));
        file.read_to_end(&mut data).map_err(|e| format!("its zip: {name}: {e}"))?;
        entries.push((name, data));
    }
    Ok(entries)
}

/// Rewrites `list` from the `.mod` files present, as `modfetch.rewriteVersionList` does
/// (which is why versions with uppercase letters, escaped with `!`, never appear in it).
fn rewrite_list(download_dir: &Path) -> Result<(), SeedError> {
    let mut versions: Vec<String> = std::fs::read_dir(download_dir)
        .map_err(io(download_dir))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|name| name.strip_suffix(".mod").map(str::to_string))
        .filter(|v| is_canonical(v))
        .collect();
    versions.sort_by(|a, b| semver::compare(a, b).then_with(|| a.cmp(b)));
    let text: String = versions.iter().map(|v| format!("{v}\n")).collect();
    write(&download_dir.join("list"), text.as_bytes())
}

/// Extracts like `modzip.Unzip`: files created 0444, directories with the default mode;
/// then, without `-modcacherw`, every directory of the tree loses its write bits.
fn extract(
    dir: &Path,
    module: &ModuleFixture,
    entries: &[(String, Vec<u8>)],
    options: SeedOptions,
) -> Result<(), SeedError> {
    if dir.exists() {
        crate::fsutil::remove_tree(dir).map_err(io(dir))?;
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let prefix = format!("{}/", module.id());
    for (name, data) in entries {
        let relative = &name[prefix.len()..];
        if relative.is_empty() || relative.ends_with('/') {
            continue;
        }
        let relative = Path::new(relative);
        if !relative.components().all(|c| matches!(c, Component::Normal(_))) {
            return Err(SeedError::Unusable {
                id: module.id(),
                reason: format!("zip entry {name} is not a clean path"),
            });
        }
        let target = dir.join(relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        let mut file =
            std::fs::OpenOptions::new().write(true).create_new(true).mode(0o444).open(&target).map_err(io(&target))?;
        file.write_all(data).map_err(io(&target))?;
    }
    if !options.modcacherw {
        make_dirs_read_only(dir)?;
    }
    Ok(())
}

/// Removes the write bits of `dir` and every directory below it, children first.
fn make_dirs_read_only(dir: &Path) -> Result<(), SeedError> {
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        if entry.file_type().map_err(io(&entry.path()))?.is_dir() {
            make_dirs_read_only(&entry.path())?;
        }
    }
    let mode = std::fs::metadata(dir).map_err(io(dir))?.permissions().mode();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode & !0o222)).map_err(io(dir))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::txtar::Archive;

    fn module(path: &str, version: &str, txtar: &str) -> ModuleFixture {
        ModuleFixture::from_archive(path, version, Path::new("test.txt"), &Archive::parse(txtar.as_bytes())).unwrap()
    }

    #[test]
    fn canonical_versions_are_what_go_lists() {
        for v in ["v1.0.0", "v1.2.0-rc.1", "v2.0.0+incompatible", "v0.0.0-20190430073000-30950c05d534"] {
            assert!(is_canonical(v), "{v}");
        }
        for v in ["v1.0", "v1.0.0+meta", "v1.2.0-!r!c.1", "1.0.0", "v1.0.0+incompatible+x"] {
            assert!(!is_canonical(v), "{v}");
        }
    }

    #[test]
    fn writes_every_file_go_leaves() {
        let dir = tempfile::tempdir().unwrap();
        let m = module(
            "corp.example/Lib",
            "v1.0.0",
            "-- .mod --\nmodule corp.example/Lib\n-- go.mod --\nmodule corp.example/Lib\n-- sub/a.go --\npackage sub\n",
        );
        let paths = seed_module(dir.path(), &m, SeedOptions::default()).unwrap();
        assert_eq!(std::fs::read_to_string(&paths.ziphash).unwrap(), m.sum);
        assert_eq!(std::fs::read(&paths.zip).unwrap(), m.zip.as_ref());
        assert_eq!(std::fs::read_to_string(paths.list()).unwrap(), "v1.0.0\n");
        assert_eq!(std::fs::metadata(&paths.lock).unwrap().len(), 0);
        let file = paths.extracted.join("sub/a.go");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "package sub\n");
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o444);
        assert!(!paths.partial.exists());
    }

    #[test]
    fn without_modcacherw_the_tree_is_read_only_and_reseeding_copes() {
        let dir = tempfile::tempdir().unwrap();
        let m = module("m.example/x", "v0.1.0", "-- .mod --\nmodule m.example/x\n-- d/e/f.go --\npackage e\n");
        let options = SeedOptions { modcacherw: false };
        let paths = seed_module(dir.path(), &m, options).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&paths.extracted.join("d/e")) & 0o222, 0);
        assert_eq!(mode(&paths.extracted) & 0o222, 0);
        seed_module(dir.path(), &m, options).unwrap();
        assert_eq!(std::fs::read_to_string(paths.extracted.join("d/e/f.go")).unwrap(), "package e\n");
        crate::fsutil::make_writable(dir.path());
    }

    #[test]
    fn list_holds_canonical_unescaped_versions_in_semver_order() {
        let dir = tempfile::tempdir().unwrap();
        for v in ["v1.10.0", "v1.2.0-RC.1", "v1.2.0", "v1.9.0-rc.1"] {
            let m = module("corp.example/lib", v, "-- .mod --\nmodule corp.example/lib\n-- a.go --\npackage a\n");
            seed_module(dir.path(), &m, SeedOptions::default()).unwrap();
        }
        let list = std::fs::read_to_string(dir.path().join("cache/download/corp.example/lib/@v/list")).unwrap();
        assert_eq!(list, "v1.2.0\nv1.9.0-rc.1\nv1.10.0\n");
    }

    #[test]
    fn versions_go_could_not_have_downloaded_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let no_mod = module("a.example/m", "v1.0.0", "-- a.go --\npackage a\n");
        let bad_info =
            module("a.example/m", "v1.0.0", "-- .mod --\nmodule a.example/m\n-- .info --\n{\"Version\":\"v9.9.9\"}\n");
        let outside = module("a.example/m", "v1.0.0", "-- .mod --\nmodule a.example/m\n-- /evil.go --\npackage evil\n");
        for (m, needle) in [(no_mod, "no .mod"), (bad_info, "v9.9.9"), (outside, "evil.go")] {
            let err = seed_module(dir.path(), &m, SeedOptions::default()).unwrap_err().to_string();
            assert!(err.contains("a.example/m@v1.0.0") && err.contains(needle), "{err}");
        }
    }
}
