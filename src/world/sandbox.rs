//! The per-run workspace: fresh HOME, GOPATH, module cache, build cache, work module and
//! temp dir under one temporary directory, and the hermetic environment go runs with
//! (DESIGN §4). Nothing of the user's environment leaks in except PATH.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::fsutil::{base_dir, chown_tree, disable_go_telemetry, make_writable, remove_tree};
use crate::vocab::Account;

/// The default work module's go.mod.
pub const DEFAULT_GO_MOD: &str = "module modchaos.test/work\n\ngo 1.21\n";

/// Where everything of one run lives.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SandboxPaths {
    /// The temporary directory holding everything below.
    pub root: PathBuf,
    /// HOME (so `~/.netrc`, `~/.gitconfig` and go's config dir are the sandbox's own).
    pub home: PathBuf,
    /// GOPATH.
    pub gopath: PathBuf,
    /// GOMODCACHE.
    pub modcache: PathBuf,
    /// GOCACHE.
    pub gocache: PathBuf,
    /// The work module the go commands run in.
    pub work: PathBuf,
    /// A directory first on PATH (where a recovery installs a newer go command).
    pub bin: PathBuf,
    /// TMPDIR.
    pub tmp: PathBuf,
    /// GIT_CONFIG_GLOBAL.
    pub gitconfig: PathBuf,
    /// SSL_CERT_FILE: the certificate authorities go trusts.
    pub trust_bundle: PathBuf,
    /// SSL_CERT_DIR: empty, so that the system's authorities are not trusted too.
    pub trust_dir: PathBuf,
}

/// A sandbox; removed (module cache included, read-only or not) when dropped.
#[derive(Debug)]
pub struct Sandbox {
    /// The paths.
    pub paths: SandboxPaths,
    /// Who its files belong to: go's user once [`Sandbox::hand_over`] ran.
    owner: Account,
    dir: Option<tempfile::TempDir>,
}

impl Sandbox {
    /// Creates the directories and an empty git config under [`crate::fsutil::base_dir`].
    pub fn create() -> std::io::Result<Sandbox> {
        Sandbox::create_in(&base_dir())
    }

    /// Like [`Sandbox::create`], under `parent` (a sealed run's parent owns that
    /// directory, so that it is removed even when the child is killed).
    pub fn create_in(parent: &Path) -> std::io::Result<Sandbox> {
        // Owned: if this process is killed, the next run removes it.
        let dir = crate::cleanup::owned_tempdir(parent, "modchaos-")?;
        let root = dir.path().to_path_buf();
        let gopath = root.join("gopath");
        let paths = SandboxPaths {
            home: root.join("home"),
            modcache: gopath.join("pkg").join("mod"),
            gopath,
            gocache: root.join("gocache"),
            work: root.join("work"),
            bin: root.join("bin"),
            tmp: root.join("tmp"),
            gitconfig: root.join("home").join(".gitconfig"),
            trust_bundle: root.join("trust").join("bundle.pem"),
            trust_dir: root.join("trust").join("certs"),
            root,
        };
        for d in [&paths.home, &paths.gopath, &paths.gocache, &paths.work, &paths.tmp, &paths.trust_dir, &paths.bin] {
            std::fs::create_dir_all(d)?;
        }
        std::fs::write(&paths.gitconfig, "")?;
        std::fs::write(&paths.trust_bundle, "")?;
        disable_go_telemetry(&paths.home.join(".config"))?;
        Ok(Sandbox { paths, owner: Account::current(), dir: Some(dir) })
    }

    /// Gives the sandbox and everything in it to `owner`, the user go runs as, so that go
    /// meets the permissions a customer's user would (this process, when root, would
    /// otherwise own everything it wrote).
    pub fn hand_over(&mut self, owner: Account) -> std::io::Result<()> {
        self.owner = owner;
        self.give(&self.paths.root)
    }

    /// Gives `path` (and everything below it) to the sandbox's owner, after this process
    /// wrote it.
    pub fn give(&self, path: &Path) -> std::io::Result<()> {
        let me = Account::current();
        if me == self.owner || !me.is_root() || !path.exists() {
            return Ok(());
        }
        chown_tree(path, self.owner)
    }

    /// Who the sandbox's files belong to.
    pub fn owner(&self) -> Account {
        self.owner
    }

    /// Writes files into HOME (paths below HOME).
    pub fn write_home_files(&self, files: &[(String, String)]) -> std::io::Result<()> {
        for (name, content) in files {
            let path = self.paths.home.join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&path, content)?;
            self.give(&path)?;
        }
        Ok(())
    }

    /// Writes the work module's files; `go.mod` defaults to [`DEFAULT_GO_MOD`].
    pub fn write_work_files(&self, files: &[(String, String)]) -> std::io::Result<()> {
        if !files.iter().any(|(name, _)| name == "go.mod") {
            std::fs::write(self.paths.work.join("go.mod"), DEFAULT_GO_MOD)?;
        }
        for (name, content) in files {
            let path = self.paths.work.join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(path, content)?;
        }
        Ok(())
    }

    /// Replaces go's trust bundle (PEM certificates).
    pub fn write_trust(&self, pem: &str) -> std::io::Result<()> {
        std::fs::write(&self.paths.trust_bundle, pem)
    }

    /// Empties the module cache (a recovery step), coping with read-only directories.
    pub fn clean_module_cache(&self) -> std::io::Result<()> {
        if self.paths.modcache.exists() {
            make_writable(&self.paths.modcache);
            std::fs::remove_dir_all(&self.paths.modcache)?;
        }
        Ok(())
    }

    /// Leaves the sandbox on disk for a person to look at (`--keep`): dropping it no
    /// longer removes it.
    pub fn keep(mut self) {
        if let Some(dir) = self.dir.take() {
            let path = dir.keep();
            crate::cleanup::disown(&path);
            tracing::info!(target: "modchaos::cleanup", sandbox = %path.display(), "sandbox kept");
        }
    }

    /// Removes everything now, reporting failure (dropping does the same silently).
    pub fn remove(mut self) -> std::io::Result<()> {
        let Some(dir) = self.dir.take() else {
            return Ok(());
        };
        remove_tree(&dir.keep())
    }

    /// Like [`Sandbox::remove`], but returns once the sandbox's path is gone: what it
    /// holds (a module cache of hundreds of files takes milliseconds) is deleted on a
    /// background thread, which this process waits for before it exits
    /// ([`crate::cleanup::remove_later`]). Where it cannot be set aside, it is removed now.
    pub fn remove_soon(mut self) -> std::io::Result<()> {
        let Some(dir) = self.dir.take() else {
            return Ok(());
        };
        let root = dir.keep();
        match crate::cleanup::remove_later(&root) {
            Ok(()) => Ok(()),
            Err(_) => remove_tree(&root),
        }
    }

    /// The hermetic base environment of every go command run here.
    pub fn base_env(&self) -> BTreeMap<String, String> {
        let p = &self.paths;
        let path_of = |p: &Path| p.display().to_string();
        let mut env = BTreeMap::new();
        let path = std::env::var("PATH").unwrap_or_default();
        env.insert("PATH".into(), format!("{}:{path}", path_of(&p.bin)).trim_end_matches(':').to_string());
        env.insert("HOME".into(), path_of(&p.home));
        env.insert("XDG_CONFIG_HOME".into(), path_of(&p.home.join(".config")));
        env.insert("XDG_CACHE_HOME".into(), path_of(&p.home.join(".cache")));
        env.insert("GOPATH".into(), path_of(&p.gopath));
        env.insert("GOMODCACHE".into(), path_of(&p.modcache));
        env.insert("GOCACHE".into(), path_of(&p.gocache));
        env.insert("TMPDIR".into(), path_of(&p.tmp));
        env.insert("GOTOOLCHAIN".into(), "local".into());
        env.insert("GOENV".into(), "off".into());
        env.insert("GOWORK".into(), "off".into());
        for var in ["GOPRIVATE", "GONOPROXY", "GONOSUMDB", "GOINSECURE", "NO_PROXY", "no_proxy"] {
            env.insert(var.into(), String::new());
        }
        // Until the fake checksum database exists, nothing may reach sum.golang.org.
        env.insert("GOSUMDB".into(), "off".into());
        env.insert("GIT_TERMINAL_PROMPT".into(), "0".into());
        env.insert("GIT_CONFIG_GLOBAL".into(), path_of(&p.gitconfig));
        env.insert("GIT_CONFIG_NOSYSTEM".into(), "1".into());
        env.insert("LC_ALL".into(), "C".into());
        env.insert("SSL_CERT_FILE".into(), path_of(&p.trust_bundle));
        env.insert("SSL_CERT_DIR".into(), path_of(&p.trust_dir));
        // git (libcurl, often with GnuTLS) ignores SSL_CERT_FILE: it must be told too.
        env.insert("GIT_SSL_CAINFO".into(), path_of(&p.trust_bundle));
        env
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take() {
            let path = dir.keep();
            match remove_tree(&path) {
                Ok(()) => tracing::debug!(target: "modchaos::cleanup", sandbox = %path.display(), "sandbox removed"),
                Err(e) => tracing::warn!(
                    target: "modchaos::cleanup",
                    sandbox = %path.display(),
                    error = %e,
                    "sandbox could not be removed"
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn removal_copes_with_read_only_module_directories() {
        let sandbox = Sandbox::create().unwrap();
        let module_dir = sandbox.paths.modcache.join("rsc.io").join("quote@v1.5.2");
        std::fs::create_dir_all(&module_dir).unwrap();
        std::fs::write(module_dir.join("quote.go"), "package quote\n").unwrap();
        std::fs::set_permissions(&module_dir, std::fs::Permissions::from_mode(0o555)).unwrap();
        let root = sandbox.paths.root.clone();
        sandbox.remove().unwrap();
        assert!(!root.exists());
    }

    #[test]
    fn removal_soon_leaves_nothing_once_finished() {
        let parent = tempfile::tempdir().unwrap();
        let sandbox = Sandbox::create_in(parent.path()).unwrap();
        let module_dir = sandbox.paths.modcache.join("rsc.io").join("quote@v1.5.2");
        std::fs::create_dir_all(&module_dir).unwrap();
        std::fs::write(module_dir.join("quote.go"), "package quote\n").unwrap();
        std::fs::set_permissions(&module_dir, std::fs::Permissions::from_mode(0o555)).unwrap();
        let root = sandbox.paths.root.clone();
        sandbox.remove_soon().unwrap();
        assert!(!root.exists(), "the sandbox's path is gone at once");
        assert!(crate::cleanup::finish_removals(std::time::Duration::from_secs(10)));
        let left: Vec<_> = std::fs::read_dir(parent.path()).unwrap().flatten().map(|e| e.path()).collect();
        assert!(left.is_empty(), "left behind: {left:?}");
    }

    #[test]
    fn base_env_points_everything_into_the_sandbox() {
        let sandbox = Sandbox::create().unwrap();
        let env = sandbox.base_env();
        let root = sandbox.paths.root.display().to_string();
        for var in ["HOME", "GOPATH", "GOMODCACHE", "GOCACHE", "TMPDIR", "GIT_CONFIG_GLOBAL"] {
            assert!(env[var].starts_with(&root), "{var}={}", env[var]);
        }
        assert_eq!(env["GOTOOLCHAIN"], "local");
        assert!(!env.contains_key("GOFLAGS"), "a scenario decides on -modcacherw");
    }
}
