//! Open mode's egress, checked before anything runs: variables that would let go or git
//! past open mode's guard (`NO_PROXY`, an empty `HTTPS_PROXY`, git configuration and ssh
//! commands, `REQUEST_METHOD`, …), in `env:` or set by a recovery, are an error in a
//! scenario that says `network: open`, and make any other scenario need sealed
//! networking (where nothing but the fakes resolves). URLs in recovery values and
//! playbook parameters must name declared hosts, as those in `env:` must. The runner's
//! guard (`runner::egress`) enforces all of it again on what go is finally given.

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
