//! `include:`: files of shared definitions (fixtures, hosts, environment) added to the
//! scenario before it is validated. A scenario adds faults to a shared host by naming it
//! with only `faults`, `dns`, `tcp` or `tls`. Each included value keeps the position it has in
//! its own file (`Pos::source`), so a problem in a shared host points at that file, and
//! relative paths in it are resolved against it.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use super::super::at::{At, reading_source};
use super::super::checker::Checker;
use super::super::diag::FileProblem;
use super::super::raw::{RawHost, RawInclude, RawScenario};

/// Files an include may be: scenario-sized.
const MAX_INCLUDE_BYTES: u64 = 4 << 20;

/// Adds the definitions of every file `raw` includes to it: modules and hosts before the
/// scenario's own, env values the scenario does not set itself.
pub(super) fn merge(raw: &mut RawScenario, checker: &mut Checker) {
    let dir = checker.file.parent().map(Path::to_path_buf).unwrap_or_default();
    let includes = std::mem::take(&mut raw.include);
    let mut modules = Vec::new();
    let mut hosts = Vec::new();
    for (index, entry) in includes.iter().enumerate() {
        // Named without `..` when that names the same file (a `..` after a link to a
        // directory leads elsewhere than the text says: then the OS's reading stands).
        let physical = dir.join(&entry.value);
        let lexical = lexical_join(&dir, Path::new(&entry.value));
        let path = if same_file(&lexical, &physical) { lexical } else { physical };
        if same_file(&path, &checker.file) {
            checker.problem(
                entry.pos,
                "a scenario cannot include itself",
                Some("include names a file of shared modules, hosts and env, like ../shared/corp.yaml".into()),
            );
            continue;
        }
        let text = match read(&path) {
            Ok(text) => Arc::new(text),
            Err(why) => {
                checker.problem(
                    entry.pos,
                    format!("cannot include {}: {why}", path.display()),
                    Some("include names a YAML file of shared modules, hosts and env, relative to this file".into()),
                );
                continue;
            }
        };
        let Ok(source) = u16::try_from(index + 1) else {
            checker.problem(entry.pos, "too many includes", None);
            break;
        };
        checker.includes.push((path.clone(), text.clone()));
        let parsed: Result<RawInclude, _> =
            reading_source(source, || crate::scenario::every_mistake::read_all(&text, crate::scenario::read_yaml));
        let shared = match parsed {
            Ok(shared) => shared,
            Err(errors) => {
                // Said once per scenario that includes the file: each says which it is.
                let by = format!(
                    " (in a file {} includes at line {})",
                    checker.file.file_name().map(|n| n.to_string_lossy()).unwrap_or_default(),
                    entry.pos.line
                );
                checker.problems.extend(errors.iter().map(|e| {
                    let mut problem = reading_source(source, || FileProblem::from_yaml(&path, &text, e));
                    problem.message.push_str(&by);
                    problem
                }));
                continue;
            }
        };
        modules.extend(shared.modules);
        for (name, mut host) in shared.hosts.0 {
            if let Some(earlier) = hosts.iter().find(|(n, _): &&(At<String>, RawHost)| n.value == name.value) {
                let pos = earlier.0.pos;
                checker.problem(
                    pos,
                    format!("host `{}` is declared here and again in {}", name.value, path.display()),
                    Some("declare each host once: drop one, or give it another name".into()),
                );
                continue;
            }
            // The scenario may add faults to a shared host: its entry then names no kind.
            if let Some(i) = raw.hosts.0.iter().position(|(n, _)| n.value == name.value) {
                let (own_name, own) = raw.hosts.0.remove(i);
                if has_kind(&own) {
                    checker.problem(
                        own_name.pos,
                        format!("host `{}` is declared here and again in {}", name.value, path.display()),
                        Some(
                            "to add faults to the shared host, give only faults, dns, tcp or tls here (no kind)".into(),
                        ),
                    );
                    continue;
                }
                host.faults.extend(own.faults);
                host.dns.extend(own.dns);
                host.tcp.extend(own.tcp);
                if own.tls.is_some() {
                    host.tls = own.tls;
                }
            }
            hosts.push((name, host));
        }
        for (name, value) in shared.env.0 {
            if !raw.env.iter().any(|(n, _)| n.value == name.value) {
                raw.env.0.push((name, value));
            }
        }
    }
    modules.append(&mut raw.modules);
    raw.modules = modules;
    hosts.append(&mut raw.hosts.0);
    raw.hosts.0 = hosts;
}

/// Whether a host entry says what kind of host it is (rather than only adding faults).
fn has_kind(host: &RawHost) -> bool {
    host.goproxy.is_some()
        || host.closed.is_some()
        || host.blackhole.is_some()
        || host.unreachable.is_some()
        || host.sumdb.is_some()
        || host.forward_proxy.is_some()
        || host.git.is_some()
}

/// An include's text: a regular file of reasonable size, UTF-8.
fn read(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > MAX_INCLUDE_BYTES {
        return Err(format!("{} bytes, more than an include may have ({MAX_INCLUDE_BYTES})", meta.len()));
    }
    std::fs::read_to_string(path).map(crate::scenario::without_bom).map_err(|e| e.to_string())
}

/// Whether `a` and `b` name the same file (through links and `..` too).
fn same_file(a: &Path, b: &Path) -> bool {
    matches!((std::fs::canonicalize(a), std::fs::canonicalize(b)), (Ok(a), Ok(b)) if a == b)
}

/// `dir` joined with `relative`, with `.` dropped and each `..` taking away the name
/// before it, in the text alone (links are not followed): the path every problem in the
/// included file is reported at reads as the author would write it, not
/// `scenarios/bad/../shared/x.yaml`. A `..` with no name before it stays.
fn lexical_join(dir: &Path, relative: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in dir.join(relative).components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                // The parent of `/` is `/`.
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_paths_are_normalised_in_their_text() {
        let join = |dir: &str, rel: &str| lexical_join(Path::new(dir), Path::new(rel)).display().to_string();
        assert_eq!(
            join("/tmp/x/bad", "../team-repo/scenarios/./shared/broken.yaml"),
            "/tmp/x/team-repo/scenarios/shared/broken.yaml"
        );
        assert_eq!(join("scenarios/a", "../../shared/c.yaml"), "shared/c.yaml");
        assert_eq!(join("a", "../../../c.yaml"), "../../c.yaml");
        assert_eq!(join("", "../c.yaml"), "../c.yaml");
        assert_eq!(join("/", "../c.yaml"), "/c.yaml");
        assert_eq!(join("/tmp/x", "/etc/./shared.yaml"), "/etc/shared.yaml");
    }
}
