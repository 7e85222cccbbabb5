//! Where go keeps one module version in the module cache. Seeding, faults and inspection
//! all name the same files, so the names live in one place.

use std::path::{Path, PathBuf};

use crate::fixture::escape::escape;

/// The directory holding every download (`$GOMODCACHE/cache/download`).
pub fn download_root(modcache: &Path) -> PathBuf {
    modcache.join("cache").join("download")
}

/// The files and directories of one module version, as cmd/go names them
/// (`modfetch.CachePath` and `DownloadDir`): `!`-escaped path and version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionPaths {
    /// `cache/download/<escaped path>/@v`: every file below sits here.
    pub download_dir: PathBuf,
    /// `<v>.info`: go's JSON about the version.
    pub info: PathBuf,
    /// `<v>.mod`: the module's go.mod as the proxy served it.
    pub go_mod: PathBuf,
    /// `<v>.zip`: the module zip, byte for byte as downloaded.
    pub zip: PathBuf,
    /// `<v>.ziphash`: the zip's `h1:` hash; without it go treats the version as not
    /// extracted and re-hashes the zip.
    pub ziphash: PathBuf,
    /// `<v>.lock`: flocked (LOCK_EX) while go downloads or extracts the zip.
    pub lock: PathBuf,
    /// `<v>.partial`: exists while the zip is being extracted.
    pub partial: PathBuf,
    /// `<escaped path>@<escaped v>`: the extracted source tree.
    pub extracted: PathBuf,
    /// The escaped version, the stem of every file name above.
    pub escaped_version: String,
}

impl VersionPaths {
    /// The paths of `module@version` in the cache at `modcache`.
    pub fn new(modcache: &Path, module: &str, version: &str) -> VersionPaths {
        let escaped_path = escape(module);
        let escaped_version = escape(version);
        let mut download_dir = download_root(modcache);
        download_dir.extend(escaped_path.split('/'));
        download_dir.push("@v");
        let file = |ext: &str| download_dir.join(format!("{escaped_version}.{ext}"));
        let mut extracted = modcache.to_path_buf();
        extracted.extend(format!("{escaped_path}@{escaped_version}").split('/'));
        VersionPaths {
            info: file("info"),
            go_mod: file("mod"),
            zip: file("zip"),
            ziphash: file("ziphash"),
            lock: file("lock"),
            partial: file("partial"),
            extracted,
            download_dir,
            escaped_version,
        }
    }

    /// The `list` file of the module's `@v` directory.
    pub fn list(&self) -> PathBuf {
        self.download_dir.join("list")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_go_with_escaping() {
        let p = VersionPaths::new(Path::new("/m"), "corp.example/Lib", "v1.2.0-RC.1");
        assert_eq!(p.download_dir, Path::new("/m/cache/download/corp.example/!lib/@v"));
        assert_eq!(p.zip, Path::new("/m/cache/download/corp.example/!lib/@v/v1.2.0-!r!c.1.zip"));
        assert_eq!(p.ziphash, Path::new("/m/cache/download/corp.example/!lib/@v/v1.2.0-!r!c.1.ziphash"));
        assert_eq!(p.lock, Path::new("/m/cache/download/corp.example/!lib/@v/v1.2.0-!r!c.1.lock"));
        assert_eq!(p.partial, Path::new("/m/cache/download/corp.example/!lib/@v/v1.2.0-!r!c.1.partial"));
        assert_eq!(p.extracted, Path::new("/m/corp.example/!lib@v1.2.0-!r!c.1"));
        assert_eq!(p.list(), Path::new("/m/cache/download/corp.example/!lib/@v/list"));
    }
}
