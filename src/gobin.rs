//! Finding the go command the scenarios run: `--go PATH`, then `MODCHAOS_GO`, then `PATH`.

use std::path::{Path, PathBuf};
use std::process::Command;

use thiserror::Error;

/// The go binary could not be found or does not work.
#[derive(Debug, Error)]
pub enum GoBinaryError {
    /// Nothing named go on PATH and nothing configured.
    #[error("no go command found: pass --go PATH, set MODCHAOS_GO, or put go on PATH (Go 1.21 or newer)")]
    NotFound,
    /// The configured path does not exist or is not executable.
    #[error("go command {0} does not exist or is not executable")]
    NotExecutable(PathBuf),
    /// The user go runs as in scenarios cannot run it (typically a go below /root).
    #[error(
        "go command {} cannot be run by uid {uid}, the unprivileged user scenarios run go as: {detail}\n\
         help: a go below a directory only root may enter (such as /root/sdk or root's module cache) is out of its reach; \
         copy its GOROOT somewhere everyone may read (cp -a \"$(go env GOROOT)\" /opt/go) and pass --go /opt/go/bin/go",
        path.display()
    )]
    NotUsableBy {
        /// The binary.
        path: PathBuf,
        /// The user that cannot run it.
        uid: u32,
        /// What happened.
        detail: String,
    },
    /// Running it failed.
    #[error("running `{} {args}` failed: {detail}", path.display())]
    Broken {
        /// The binary.
        path: PathBuf,
        /// Arguments given.
        args: String,
        /// What happened.
        detail: String,
    },
}

/// A go command to run scenarios with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoBinary {
    /// Absolute path of the binary.
    pub path: PathBuf,
}

impl GoBinary {
    /// Resolves the go binary: `explicit` (from `--go`), else `$MODCHAOS_GO`, else `go` on PATH.
    pub fn find(explicit: Option<&Path>) -> Result<GoBinary, GoBinaryError> {
        // MODCHAOS_GO may list a matrix (`find_all`); one go means its first entry.
        let configured = explicit.map(Path::to_path_buf).or_else(|| {
            std::env::var_os("MODCHAOS_GO").and_then(|v| std::env::split_paths(&v).find(|p| !p.as_os_str().is_empty()))
        });
        let path = match configured {
            Some(p) if p.components().count() > 1 => p,
            Some(name) => which(&name).ok_or(GoBinaryError::NotExecutable(name))?,
            None => which(Path::new("go")).ok_or(GoBinaryError::NotFound)?,
        };
        if !is_executable(&path) {
            return Err(GoBinaryError::NotExecutable(path));
        }
        Ok(GoBinary { path: std::fs::canonicalize(&path).unwrap_or(path) })
    }

    /// The go commands of a version matrix: `explicit` (from repeated `--go`), else those
    /// `MODCHAOS_GO` lists (separated by `:`, like PATH), else `go` on PATH.
    pub fn find_all(explicit: &[PathBuf]) -> Result<Vec<GoBinary>, GoBinaryError> {
        let listed: Vec<PathBuf> = if explicit.is_empty() {
            std::env::var_os("MODCHAOS_GO").map(|v| std::env::split_paths(&v).collect()).unwrap_or_default()
        } else {
            explicit.to_vec()
        };
        let listed: Vec<PathBuf> = listed.into_iter().filter(|p| !p.as_os_str().is_empty()).collect();
        if listed.is_empty() {
            return GoBinary::find(None).map(|go| vec![go]);
        }
        let mut found: Vec<GoBinary> = Vec::new();
        for path in &listed {
            let go = GoBinary::find(Some(path))?;
            if !found.contains(&go) {
                found.push(go);
            }
        }
        Ok(found)
    }

    /// Runs `go <args>` with a minimal hermetic environment and returns trimmed stdout.
    pub fn query(&self, args: &[&str]) -> Result<String, GoBinaryError> {
        self.query_as(args, None)
    }

    /// Checks that `account` (the user scenarios run go as) can run this go and read its
    /// GOROOT, by asking it `go env GOROOT` as that user. Only root can switch users, so
    /// for anyone else this is the check `version` already made.
    pub fn check_usable_by(&self, account: crate::vocab::Account) -> Result<(), GoBinaryError> {
        let me = crate::vocab::Account::current();
        if account == me || !me.is_root() {
            return Ok(());
        }
        match self.query_as(&["env", "GOROOT"], Some(account)) {
            Ok(_) => Ok(()),
            Err(GoBinaryError::Broken { detail, .. }) => {
                Err(GoBinaryError::NotUsableBy { path: self.path.clone(), uid: account.uid, detail })
            }
            Err(e) => Err(e),
        }
    }

    fn query_as(&self, args: &[&str], account: Option<crate::vocab::Account>) -> Result<String, GoBinaryError> {
        use std::os::unix::process::CommandExt as _;
        let broken = |detail: String| GoBinaryError::Broken { path: self.path.clone(), args: args.join(" "), detail };
        let scratch =
            tempfile::Builder::new().prefix("modchaos-goquery-").tempdir().map_err(|e| broken(e.to_string()))?;
        crate::fsutil::disable_go_telemetry(&scratch.path().join(".config")).map_err(|e| broken(e.to_string()))?;
        let mut command = Command::new(&self.path);
        if let Some(account) = account {
            crate::fsutil::chown_tree(scratch.path(), account).map_err(|e| broken(e.to_string()))?;
            command.uid(account.uid).gid(account.gid); // std drops root's groups
        }
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", scratch.path())
            .env("XDG_CONFIG_HOME", scratch.path().join(".config"))
            .env("GOENV", "off")
            .env("GOTOOLCHAIN", "local")
            .env("GOCACHE", scratch.path().join("gocache"))
            .env("GOPATH", scratch.path().join("gopath"))
            .env("GOFLAGS", "-modcacherw")
            .current_dir(scratch.path());
        let output = crate::fsutil::retry_while_busy(|| command.output()).map_err(|e| broken(e.to_string()))?;
        if !output.status.success() {
            return Err(broken(String::from_utf8_lossy(&output.stderr).trim().to_string()));
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
    }

    /// `$(go env GOROOT)`, asked once per binary.
    pub fn goroot(&self) -> Result<PathBuf, GoBinaryError> {
        self.env_once("GOROOT").map(PathBuf::from)
    }

    /// The version go reports (`go1.26.8`), asked once per binary.
    pub fn version(&self) -> Result<String, GoBinaryError> {
        self.env_once("GOVERSION")
    }

    /// Takes `value` as this binary's `$(go env VAR)` without asking go: for a process
    /// told the answer by one that asked (a sealed child, by its parent). An answer already
    /// remembered is kept.
    pub fn remember(&self, var: &'static str, value: &str) {
        let mut list = env_cache().lock().unwrap_or_else(|e| e.into_inner());
        if !list.iter().any(|(p, v, _)| *p == self.path && *v == var) {
            list.push((self.path.clone(), var, value.to_string()));
        }
    }

    /// `$(go env VAR)`, remembered per binary and variable for the life of the process:
    /// each query starts go (~20 ms), and a run asks the same ones from several places.
    fn env_once(&self, var: &'static str) -> Result<String, GoBinaryError> {
        let known = |path: &Path| {
            let list = env_cache().lock().unwrap_or_else(|e| e.into_inner());
            list.iter().find(|(p, v, _)| p == path && *v == var).map(|(_, _, value)| value.clone())
        };
        if let Some(value) = known(&self.path) {
            return Ok(value);
        }
        // Every run needs both of these: one go start answers both (`go env A B` prints
        // one value per line).
        if ASKED_TOGETHER.contains(&var) {
            let answer = self.query(&["env", ASKED_TOGETHER[0], ASKED_TOGETHER[1]])?;
            let values: Vec<&str> = answer.lines().map(str::trim).collect();
            if values.len() != ASKED_TOGETHER.len() || values.iter().any(|v| v.is_empty()) {
                return Err(GoBinaryError::Broken {
                    path: self.path.clone(),
                    args: format!("env {}", ASKED_TOGETHER.join(" ")),
                    detail: format!("expected one value per line for {}, got {answer:?}", ASKED_TOGETHER.join(" and ")),
                });
            }
            for (asked, value) in ASKED_TOGETHER.into_iter().zip(values) {
                self.remember(asked, value);
            }
            return known(&self.path).ok_or_else(|| GoBinaryError::Broken {
                path: self.path.clone(),
                args: format!("env {var}"),
                detail: "not remembered".into(),
            });
        }
        let value = self.query(&["env", var])?;
        self.remember(var, &value);
        Ok(value)
    }

    /// The release as (major, minor): `go1.26.8` → (1, 26); `None` for development builds.
    pub fn release(&self) -> Option<(u32, u32)> {
        parse_release(&self.version().ok()?)
    }
}

/// The `go env` variables asked in one go start: every run needs go's version (for the
/// report) and its GOROOT (Go's own test fixtures, the sealed child's bind mounts).
const ASKED_TOGETHER: [&str; 2] = ["GOVERSION", "GOROOT"];

/// The `go env` answers this process knows: (binary, variable, value).
fn env_cache() -> &'static std::sync::Mutex<Vec<(PathBuf, &'static str, String)>> {
    static KNOWN: std::sync::Mutex<Vec<(PathBuf, &'static str, String)>> = std::sync::Mutex::new(Vec::new());
    &KNOWN
}

/// `go1.26.8` / `1.21` → (1, 26) / (1, 21).
pub fn parse_release(version: &str) -> Option<(u32, u32)> {
    let digits = version.strip_prefix("go").unwrap_or(version);
    let mut parts = digits.split(|c: char| !c.is_ascii_digit());
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

fn which(name: &Path) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remembered_answer_is_used_without_starting_go() {
        // No go lives here: asking it would fail.
        let go = GoBinary { path: PathBuf::from("/nonexistent/modchaos-test/bin/go") };
        assert!(go.goroot().is_err());
        go.remember("GOVERSION", "go1.99.1");
        go.remember("GOVERSION", "go1.0");
        assert_eq!(go.version().unwrap(), "go1.99.1", "the first answer stays");
        assert_eq!(go.release(), Some((1, 99)));
    }

    #[test]
    fn version_and_goroot_cost_one_go_start() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let starts = dir.path().join("starts");
        let fake = dir.path().join("go");
        // Answers `go env A B` as go does, one value per line, and counts its starts.
        let script = format!(
            "#!/bin/sh\necho start >> '{}'\nfor v in \"$@\"; do case $v in GOVERSION) echo go1.98.0;; GOROOT) echo /opt/go198;; esac; done\n",
            starts.display()
        );
        std::fs::write(&fake, script).unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let go = GoBinary { path: fake };
        assert_eq!(go.version().unwrap(), "go1.98.0");
        assert_eq!(go.goroot().unwrap(), PathBuf::from("/opt/go198"));
        assert_eq!(go.version().unwrap(), "go1.98.0");
        assert_eq!(std::fs::read_to_string(&starts).unwrap().lines().count(), 1, "go started once for both");
        // A go that answers one line for two variables is broken, not half-remembered.
        let odd = dir.path().join("odd-go");
        std::fs::write(&odd, "#!/bin/sh\necho\necho /opt/go\n").unwrap();
        std::fs::set_permissions(&odd, std::fs::Permissions::from_mode(0o755)).unwrap();
        let odd = GoBinary { path: odd };
        assert!(matches!(odd.version(), Err(GoBinaryError::Broken { .. })), "{:?}", odd.version());
        assert!(odd.goroot().is_err());
    }
}
