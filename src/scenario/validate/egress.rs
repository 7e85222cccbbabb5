//! Open mode's egress, checked before anything runs: variables that would let go or git
//! past open mode's guard (`NO_PROXY`, an empty `HTTPS_PROXY`, git configuration and ssh
//! commands, `REQUEST_METHOD`, …), in `env:` or set by a recovery, are an error in a
//! scenario that says `network: open`, and make any other scenario need sealed
//! networking (where nothing but the fakes resolves). URLs in recovery values and
//! playbook parameters must name declared hosts, as those in `env:` must. The runner's
//! guard (`runner::egress`) enforces all of it again on what go is finally given.
//!
//! The guard also refuses every name go dials itself rather than through a URL of the
//! environment (which open mode rewrites to a fake's address): a module fetched
//! directly from its own host. Where go may do that ([`direct_by_name`]), the scenario
//! needs sealed networking, where the name resolves as the scenario's DNS says.

use crate::fault::HttpAction;
use crate::fixture::ModuleSet;
use crate::scenario::at::{At, Pos};
use crate::scenario::checker::Checker;
use crate::scenario::model::*;
use crate::scenario::raw::*;
use crate::vocab::proxyenv::bypass;

use super::env::check_host_refs;

/// What open mode's guard needs of the scenario: problems for a scenario that says
/// `network: open` (when `open`), else the reason it needs sealed networking, if any.
/// `sealed`: the scenario says `network: sealed`, where none of this matters.
pub(super) fn check(
    raw: &RawScenario,
    recovery: Option<&Recovery>,
    hosts: &[HostSpec],
    network: Option<RawNetwork>,
    checker: &mut Checker,
) -> Option<String> {
    if network == Some(RawNetwork::Sealed) {
        return None;
    }
    let open = network == Some(RawNetwork::Open);
    let mut found = Vec::new();
    for (name, value) in raw.env.iter() {
        if let Some(why) = bypass(name, Some(value)) {
            found.push((name.pos, name.value.clone(), why));
        }
    }
    const GIT_CONFIG: &str = "is a git configuration file, whose URL-specific http.<url>.proxy or insteadOf \
                              rules outrank the guard git is given";
    for (path, _) in raw.sandbox.iter().flat_map(|s| s.home.iter()) {
        if is_git_config(path) {
            found.push((path.pos, format!("~/{}", path.value), GIT_CONFIG));
        }
    }
    if let (Some(raw_recover), Some(recovery)) = (&raw.recover, recovery) {
        let inline = raw_recover.steps.len();
        let from_playbook = recovery.steps.len().saturating_sub(inline);
        let playbook_pos = raw_recover.playbook.as_ref().map(|p| p.pos).unwrap_or_default();
        for (index, step) in recovery.steps.iter().enumerate() {
            let pos = match index.checked_sub(from_playbook) {
                Some(i) => raw_recover.steps.get(i).map_or(playbook_pos, |s| s.pos),
                None => playbook_pos,
            };
            for (var, value) in changed_vars(step) {
                if let Some(why) = bypass(var, value) {
                    found.push((pos, var.to_string(), why));
                }
            }
            if let RecoveryStep::WriteFile { file, home: true, .. } = step
                && is_git_config(file)
            {
                found.push((pos, format!("~/{file}"), GIT_CONFIG));
            }
        }
        for (param, value) in raw_recover.with.iter() {
            check_host_refs(param, &At { value: value.clone(), pos: param.pos }, hosts, checker);
        }
        for step in &raw_recover.steps {
            if let RawRecoveryStep::Set(vars) = &step.value {
                for (name, value) in vars.iter() {
                    check_host_refs(name, &At { value: value.clone(), pos: name.pos }, hosts, checker);
                }
            }
        }
    }
    if !open {
        let (_, var, why) = found.first()?;
        return Some(format!("{var} {why}; only a sealed world keeps go from reaching the network then"));
    }
    for (pos, var, why) in found {
        problem(checker, pos, &var, why);
    }
    None
}

/// A file below HOME that git reads as its own configuration.
fn is_git_config(path: &str) -> bool {
    let path = path.trim_start_matches("./");
    path == ".gitconfig" || path.starts_with(".config/git/")
}

fn problem(checker: &mut Checker, pos: Pos, var: &str, why: &str) {
    checker.problem(
        pos,
        format!("{var} {why}, which `network: open` cannot allow"),
        Some(
            "open mode keeps go in by sending every host it does not declare to a guard proxy; say `network: sealed` (nothing but the fakes resolves there), or drop the variable".into(),
        ),
    );
}

/// The variables a recovery step changes, with the value it sets (`None` when the new
/// value depends on the old one).
fn changed_vars(step: &RecoveryStep) -> Vec<(&str, Option<&str>)> {
    match step {
        RecoveryStep::Set(vars) => vars.iter().map(|(k, v)| (k.as_str(), Some(v.as_str()))).collect(),
        RecoveryStep::Replace { var, .. } | RecoveryStep::Append { var, .. } | RecoveryStep::Prepend { var, .. } => {
            vec![(var.as_str(), None)]
        }
        _ => Vec::new(),
    }
}

/// Why go may fetch a module by its own host's name, if it may — which open mode cannot
/// let it do (its guard refuses every name go dials: only the URLs of the environment are
/// rewritten to the fakes' addresses), while a sealed world resolves the name as the
/// scenario's DNS says (NXDOMAIN for a host it does not declare). go fetches a module
/// directly when GONOPROXY (GOPRIVATE by default) matches its path, or when GOPROXY
/// reaches `direct` for it: first in the list, or after entries that may all pass it on —
/// one joined by `,` when it may answer 404 or 410 for it (it does not serve that version,
/// or a fault answers so), one joined by `|` when it may fail at all. The modules are
/// those the run names (`path@version` arguments) and the scenario's own. A module whose
/// host is a declared git host is left out: git hosts need sealed networking anyway. The
/// GOPROXY go's default would give (no value at all) is validation's warning, not this.
pub(super) fn direct_by_name(
    env: &[(String, String)],
    hosts: &[HostSpec],
    modules: &ModuleSet,
    run: &[GoStep],
) -> Option<String> {
    let var = |name: &str| env.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let goproxy = var("GOPROXY")?;
    let noproxy = var("GONOPROXY").or_else(|| var("GOPRIVATE")).unwrap_or_default();
    let named =
        run.iter().flat_map(|step| &step.args).filter(|a| !a.starts_with('-')).filter_map(|a| a.split_once('@'));
    let mut wanted: Vec<(&str, &str)> =
        named.chain(modules.iter().map(|m| (m.path.as_str(), m.version.as_str()))).collect();
    wanted.dedup();
    let entries = crate::urlref::goproxy_entries(goproxy);
    for (path, version) in wanted {
        let host = path.split('/').next().unwrap_or_default();
        if !host.contains('.') || hosts.iter().any(|h| h.name == host && matches!(h.kind, HostKind::Git(_))) {
            continue;
        }
        let id = format!("{path}@{version}");
        let why = if crate::vocab::glob::matches_prefix_patterns(noproxy, path) {
            Some(format!("GONOPROXY (or GOPRIVATE) sends {id} to its own host: go fetches it from {host}"))
        } else {
            falls_to_direct(&entries, hosts, modules, path, version).map(|when| match when {
                None => format!("GOPROXY starts with `direct`: go fetches {id} from {host}"),
                Some(when) => {
                    format!("GOPROXY may fall through to `direct` for {id} ({when}): go then fetches it from {host}")
                }
            })
        };
        if let Some(why) = why {
            return Some(format!(
                "{why} by name, which open mode's guard refuses; only a sealed world resolves that name, as the \
                 scenario's DNS says"
            ));
        }
    }
    None
}

/// Whether GOPROXY's `entries` may reach `direct` for `path@version`: `Some(None)` when
/// `direct` comes first, `Some(Some(when))` when the entries before it may pass the
/// module on (`when` says how).
fn falls_to_direct(
    entries: &[(String, Option<char>)],
    hosts: &[HostSpec],
    modules: &ModuleSet,
    path: &str,
    version: &str,
) -> Option<Option<String>> {
    let mut passed: Vec<String> = Vec::new();
    for (entry, separator) in entries {
        if entry == "direct" {
            return Some((!passed.is_empty()).then(|| format!("when {}", passed.join(" and "))));
        }
        let name = crate::urlref::find("GOPROXY", entry).into_iter().next().map(|r| r.host)?;
        let spec = hosts.iter().find(|h| h.name == name)?;
        let misses = may_miss(spec, modules, path, version);
        let passes = match separator {
            Some(',') if misses => format!("{name} answers 404 or 410 for it"),
            Some('|') if misses || may_fail(spec) => format!("{name} fails"),
            _ => return None,
        };
        passed.push(passes);
    }
    None
}

/// Whether `spec`, as a GOPROXY entry, may answer 404 or 410 for `path@version`: a module
/// proxy that does not serve that version (a query, `@latest`, counts as served when it
/// serves the path) or has a fault answering so; a host that speaks no module proxy
/// protocol (a checksum database, a git host) answers so to everything. A host where
/// nothing answers fails otherwise.
fn may_miss(spec: &HostSpec, modules: &ModuleSet, path: &str, version: &str) -> bool {
    let faulted = spec.faults.iter().any(|f| matches!(f.action, HttpAction::Respond { status: 404 | 410, .. }));
    match &spec.kind {
        HostKind::Goproxy(proxy) => {
            let filtered = proxy.modules.as_ref().is_some_and(|globs| !globs.iter().any(|g| g.is_match(path)));
            let has = |set: &ModuleSet| match crate::fixture::semver::Version::parse(version) {
                Some(_) => set.get(path, version).is_some(),
                None => set.has_path(path),
            };
            let served = (!filtered && has(modules)) || has(&proxy.overrides);
            !served || faulted
        }
        kind if kind.is_silent() => false,
        _ => true,
    }
}

/// Whether `spec`, as a GOPROXY entry, may fail at all: it has faults, toxics or a
/// certificate go refuses, or nothing answers there.
fn may_fail(spec: &HostSpec) -> bool {
    !spec.faults.is_empty() || !spec.toxics.is_empty() || spec.cert != Default::default() || spec.kind.is_silent()
}
