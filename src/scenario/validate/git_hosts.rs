//! A git host no module of the scenario can reach. go derives the host it asks from the
//! module path (`corp.example/lib` → `https://corp.example/lib?go-get=1`), so a git host
//! serves only modules whose path starts with its name. One named `git.acme.test` beside
//! modules `acme.test/...` passes every other check, and the run then fails as a DNS
//! failure for `acme.test`, far from the cause: a warning says so where it is written.

use std::collections::BTreeSet;

use crate::fixture::ModuleSet;
use crate::scenario::checker::Checker;
use crate::scenario::keyed::Keyed;
use crate::scenario::model::*;
use crate::scenario::raw::RawHost;

/// Warns at each git host whose name is the first path element of no module the scenario
/// declares (its fixtures, a git host's own `fixtures`) or names in a go command (its own,
/// its recovery's). A git host that another one's `repos:` points at is reached through
/// that one's pages, whatever its name.
pub(super) fn check(
    raw: &Keyed<RawHost>,
    hosts: &[HostSpec],
    modules: Option<&ModuleSet>,
    commands: &[&GoStep],
    recovery: Option<&Recovery>,
    checker: &mut Checker,
) {
    let git: Vec<(&str, &GitSpec)> = hosts
        .iter()
        .filter_map(|h| match &h.kind {
            HostKind::Git(spec) => Some((h.name.as_str(), spec)),
            _ => None,
        })
        .collect();
    if git.is_empty() {
        return;
    }
    let mut firsts: BTreeSet<&str> = BTreeSet::new();
    let declared = modules.into_iter().flat_map(ModuleSet::iter);
    let overrides = git.iter().flat_map(|(_, spec)| spec.overrides.iter());
    for module in declared.chain(overrides) {
        firsts.insert(first_element(&module.path));
    }
    let recovery_steps = recovery.into_iter().flat_map(|r| r.steps.iter()).filter_map(|s| match s {
        RecoveryStep::Go(args) => Some(args),
        _ => None,
    });
    let recovery_runs = recovery.into_iter().flat_map(|r| r.run.iter().flatten()).map(|s| &s.args);
    for args in commands.iter().map(|s| &s.args).chain(recovery_runs).chain(recovery_steps) {
        // Flags and words that are no module path add names no git host has.
        firsts.extend(args.iter().filter(|a| !a.starts_with('-')).map(|a| first_element(a)));
    }
    let targets: Vec<&str> = git.iter().filter_map(|(_, spec)| spec.repos.as_deref()).collect();
    for (name, _) in &git {
        if firsts.contains(name) || targets.contains(name) {
            continue;
        }
        let Some((at, _)) = raw.iter().find(|(n, _)| n.value == *name) else {
            continue;
        };
        let example = firsts.iter().find(|f| f.contains('.')).map_or_else(
            || "a module corp.example/lib is served by a git host named corp.example".to_string(),
            |f| format!("modules {f}/... are served by a git host named {f}"),
        );
        checker.warning(
            at.pos,
            format!("git host `{name}` serves no module of the scenario: no module path starts with `{name}/`"),
            Some(format!(
                "go derives the host from the module path, and git hosts serve `<host>/<repo>` modules: {example} \
                 (or, for a vanity host, name this one in its `repos:`)"
            )),
        );
    }
}

/// `corp.example` of `corp.example/lib@v1.0.0` (and of `corp.example@v1`).
fn first_element(path: &str) -> &str {
    let path = path.split('@').next().unwrap_or_default();
    path.split('/').next().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_element_is_the_host_go_asks() {
        assert_eq!(first_element("acme.test/lib@v1.0.0"), "acme.test");
        assert_eq!(first_element("corp.example/team/lib.git"), "corp.example");
        assert_eq!(first_element("corp.example@v1.0.0"), "corp.example");
        assert_eq!(first_element("download"), "download");
    }
}
