//! Applying recovery steps: environment edits, `.netrc` credentials, trust, cache
//! cleaning, stopping lock holders, moving the cache. The environment is kept in scenario terms (host names); the host map
//! translates it for go.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::modcache::CacheState;
use crate::pki::Authority;
use crate::scenario::{OwnedDir, RecoveryStep, SandboxDir};
use crate::world::HostMap;
use crate::world::sandbox::Sandbox;

/// What recovery steps change: the environment (scenario terms), the trusted CAs and
/// where the module cache lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// Environment variables, in order.
    pub env: Vec<(String, String)>,
    /// Certificate authorities in go's trust bundle.
    pub trust: Vec<Authority>,
    /// GOMODCACHE (the sandbox's, until a recovery moves it).
    pub modcache: PathBuf,
    /// GOCACHE (the sandbox's, until a recovery moves it).
    pub gocache: PathBuf,
    /// Sandbox variables go does not get (it falls back to its defaults).
    pub unset: Vec<String>,
}

/// Stops every process holding a lock in `modcache` (and its process group, which a
/// `flock … cmd` holder shares with the command keeping the lock open); returns one line
/// per process stopped.
pub fn release_locks(modcache: &Path) -> Vec<String> {
    let state = CacheState::inspect(modcache);
    let mut stopped = Vec::new();
    for lock in &state.locks {
        for holder in lock.holders.iter().filter(|h| h.pid > 0) {
            let pid = nix::unistd::Pid::from_raw(holder.pid);
            let group = nix::unistd::getpgid(Some(pid)).ok();
            let own = nix::unistd::getpgid(None).ok();
            match group.filter(|g| Some(*g) != own) {
                Some(group) => {
                    let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
                }
                None => {
                    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
                }
            }
            let command = holder.argv.as_ref().map_or_else(|| "?".to_string(), |a| a.join(" "));
            stopped.push(format!("stopped pid {} ({command}) holding {}", holder.pid, lock.path));
        }
    }
    // Wait until the kernel has dropped the locks, so the rerun does not race them.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::time::Instant::now() < deadline && !CacheState::inspect(modcache).locks.is_empty() {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    stopped
}

/// Applies `step` to `config` and the sandbox; returns the line that says what was done.
/// Go commands are the runner's to run: this refuses them.
pub fn apply(
    step: &RecoveryStep,
    config: &mut ClientConfig,
    sandbox: &Sandbox,
    map: &HostMap,
) -> std::io::Result<String> {
    let env = &mut config.env;
    {
        match step {
            RecoveryStep::Set(vars) => {
                for (k, v) in vars {
                    set(env, k, v.clone());
                }
            }
            RecoveryStep::Unset(vars) => env.retain(|(k, _)| !vars.contains(k)),
            RecoveryStep::Replace { var, from, to } => {
                if let Some(current) = get(env, var) {
                    let replaced = current.replace(from.as_str(), to);
                    set(env, var, replaced);
                }
            }
            RecoveryStep::Append { var, value } => {
                let new = format!("{}{value}", get(env, var).unwrap_or_default());
                set(env, var, new);
            }
            RecoveryStep::Prepend { var, value } => {
                let new = format!("{value}{}", get(env, var).unwrap_or_default());
                set(env, var, new);
            }
            RecoveryStep::Netrc { host, login, password } => {
                let mut file =
                    std::fs::OpenOptions::new().create(true).append(true).open(sandbox.paths.home.join(".netrc"))?;
                for machine in map.netrc_machines(host) {
                    writeln!(file, "machine {machine} login {login} password {password}")?;
                }
                sandbox.give(&sandbox.paths.home.join(".netrc"))?;
            }
            RecoveryStep::CleanCache => crate::fsutil::remove_tree(&config.modcache)?,
            RecoveryStep::ReleaseLocks => {
                let stopped = release_locks(&config.modcache);
                return Ok(match stopped.is_empty() {
                    true => "no process held a module cache lock".to_string(),
                    false => stopped.join("; "),
                });
            }
            RecoveryStep::MoveCache => {
                let moved = fresh_dir(&sandbox.paths.root, "modcache")?;
                sandbox.give(&moved)?;
                let line = format!("moved the module cache to {}", moved.display());
                config.modcache = moved;
                config.unset.retain(|v| v != "GOMODCACHE");
                return Ok(line);
            }
            RecoveryStep::MoveBuildCache => {
                let moved = fresh_dir(&sandbox.paths.root, "gocache")?;
                sandbox.give(&moved)?;
                let line = format!("moved GOCACHE to {}", moved.display());
                config.gocache = moved;
                config.unset.retain(|v| v != "GOCACHE");
                return Ok(line);
            }
            RecoveryStep::WriteFile { file, content, home } => {
                let path = if *home { sandbox.paths.home.join(file) } else { sandbox.paths.work.join(file) };
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::write(&path, content)?;
                sandbox.give(&path)?;
            }
            RecoveryStep::DeleteLines { file, matching } => {
                let pattern = regex::Regex::new(matching).map_err(std::io::Error::other)?;
                let path = sandbox.paths.work.join(file);
                let text = std::fs::read_to_string(&path)?;
                let kept: String =
                    text.split_inclusive('\n').filter(|line| !pattern.is_match(line.trim_end())).collect();
                let deleted = text.lines().count() - kept.lines().count();
                std::fs::write(&path, kept)?;
                return Ok(format!("{} ({deleted} line(s))", step.describe()));
            }
            RecoveryStep::FixOwnership(dirs) => {
                for dir in dirs {
                    let path = match dir {
                        OwnedDir::ModuleCache => &config.modcache,
                        OwnedDir::Sandbox(SandboxDir::Home) => &sandbox.paths.home,
                        OwnedDir::Sandbox(SandboxDir::Gopath) => &sandbox.paths.gopath,
                        OwnedDir::Sandbox(SandboxDir::BuildCache) => &sandbox.paths.gocache,
                    };
                    sandbox.give(path)?;
                }
            }
            RecoveryStep::InstallToolchain(go) => {
                use std::os::unix::fs::PermissionsExt as _;
                let path = sandbox.paths.bin.join(go);
                std::fs::write(&path, crate::fixture::synth::fake_go_script(go))?;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
                sandbox.give(&path)?;
            }
            RecoveryStep::Go(_) => {
                return Err(std::io::Error::other("a go command step is run by the runner, not applied"));
            }
            RecoveryStep::Trust(cas) => {
                for ca in cas {
                    if !config.trust.contains(ca) {
                        config.trust.push(*ca);
                    }
                }
            }
        }
    }
    Ok(step.describe())
}

/// A new directory `<name>-N` under `root`.
fn fresh_dir(root: &Path, name: &str) -> std::io::Result<PathBuf> {
    for n in 1.. {
        let dir = root.join(format!("{name}-{n}"));
        if !dir.exists() {
            std::fs::create_dir_all(&dir)?;
            return Ok(dir);
        }
    }
    unreachable!("some directory name is free")
}

fn get(env: &[(String, String)], var: &str) -> Option<String> {
    env.iter().rev().find(|(k, _)| k == var).map(|(_, v)| v.clone())
}

fn set(env: &mut Vec<(String, String)>, var: &str, value: String) {
    match env.iter_mut().find(|(k, _)| k == var) {
        Some(entry) => entry.1 = value,
        None => env.push((var.to_string(), value)),
    }
}

/// One line per variable that differs between `before` and `after`
/// (`GOPROXY: a,b → a|b`, `GONOSUMDB: (unset) → corp.example`).
pub fn env_changes(before: &[(String, String)], after: &[(String, String)]) -> Vec<String> {
    let get = |env: &[(String, String)], k: &str| env.iter().rev().find(|(v, _)| v == k).map(|(_, v)| v.clone());
    let mut names: Vec<&String> = before.iter().chain(after).map(|(k, _)| k).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter_map(|k| {
            let (old, new) = (get(before, k), get(after, k));
            (old != new).then(|| {
                let show = |v: Option<String>| v.unwrap_or_else(|| "(unset)".into());
                format!("{k}: {} → {}", show(old), show(new))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_differences_name_every_changed_variable() {
        let before = [("GOPROXY".to_string(), "a,b".to_string()), ("GOFLAGS".to_string(), "-x".to_string())];
        let after = [("GOPROXY".to_string(), "a|b".to_string()), ("GONOSUMDB".to_string(), "corp.example".to_string())];
        assert_eq!(
            env_changes(&before, &after),
            ["GOFLAGS: -x → (unset)", "GONOSUMDB: (unset) → corp.example", "GOPROXY: a,b → a|b"]
        );
        assert!(env_changes(&before, &before).is_empty());
    }

    #[test]
    fn env_edits() {
        let sandbox = Sandbox::create().unwrap();
        let map = HostMap::default();
        let env =
            vec![("GOPROXY".to_string(), "https://a,https://b".to_string()), ("GOFLAGS".to_string(), "-x".to_string())];
        let mut config = ClientConfig {
            env,
            trust: vec![Authority::Scenario],
            modcache: sandbox.paths.modcache.clone(),
            gocache: sandbox.paths.gocache.clone(),
            unset: Vec::new(),
        };
        let steps = [
            RecoveryStep::Replace { var: "GOPROXY".into(), from: ",".into(), to: "|".into() },
            RecoveryStep::Append { var: "GOPROXY".into(), value: "|direct".into() },
            RecoveryStep::Unset(vec!["GOFLAGS".into()]),
            RecoveryStep::Set(vec![("GONOSUMDB".into(), "corp.example".into())]),
            RecoveryStep::Netrc { host: "a".into(), login: "u".into(), password: "p".into() },
            RecoveryStep::Trust(vec![Authority::Private, Authority::Scenario]),
        ];
        let lines: Vec<String> = steps.iter().map(|step| apply(step, &mut config, &sandbox, &map).unwrap()).collect();
        assert_eq!(config.trust, [Authority::Scenario, Authority::Private]);
        let env = config.env;
        assert_eq!(
            env,
            [
                ("GOPROXY".to_string(), "https://a|https://b|direct".to_string()),
                ("GONOSUMDB".to_string(), "corp.example".to_string())
            ]
        );
        assert_eq!(lines.len(), 6);
        assert_eq!(
            std::fs::read_to_string(sandbox.paths.home.join(".netrc")).unwrap(),
            "machine a login u password p\n"
        );
    }
}
