//! `recover:`: a playbook and inline steps, with `${param}`s substituted.

use std::path::Path;

use super::env::{MANAGED_ENV, valid_env_name};
use super::expect::expectation;
use crate::scenario::LoadContext;
use crate::scenario::at::{At, Pos};
use crate::scenario::checker::Checker;
use crate::scenario::diag::suggest;
use crate::scenario::model::*;
use crate::scenario::playbook;
use crate::scenario::raw::*;

pub(super) fn recovery(
    raw: &RawRecover,
    hosts: &[String],
    dir: &Path,
    modules: Option<&crate::fixture::ModuleSet>,
    checker: &mut Checker,
    ctx: &LoadContext,
) -> Option<Recovery> {
    let mut steps = Vec::new();
    let mut playbook_name = None;
    if let Some(name) = &raw.playbook {
        playbook_name = Some(name.value.clone());
        match playbook::resolve(name, dir, &ctx.playbook_dirs) {
            Ok(source) => match playbook::load(&source) {
                Ok(book) => {
                    let mut book_checker = Checker::new(&book.path, book.source.clone());
                    // Only declared parameters are bound: a `${name}` in the body is then
                    // a parameter of the playbook exactly when it is bound.
                    let params: Vec<(String, String)> = raw
                        .with
                        .iter()
                        .filter(|(k, _)| book.params.contains(&k.value))
                        .map(|(k, v)| (k.value.clone(), v.clone()))
                        .collect();
                    for (k, _) in raw.with.iter() {
                        if !book.params.iter().any(|p| p == &k.value) {
                            checker.problem(
                                k.pos,
                                format!("playbook `{}` has no parameter `{}`", name.value, k.value),
                                Some(if book.params.is_empty() {
                                    format!("`{}` takes no parameters: remove `with:`", name.value)
                                } else {
                                    suggest(k, book.params.iter().map(String::as_str), "parameters")
                                }),
                            );
                        }
                    }
                    let mut missing = false;
                    for p in &book.params {
                        if !raw.with.iter().any(|(k, _)| &k.value == p) {
                            missing = true;
                            checker.problem(
                                name.pos,
                                format!("playbook `{}` needs parameter `{p}`", name.value),
                                Some(format!("add `{p}` under the recovery's `with:` mapping")),
                            );
                        }
                    }
                    // With a parameter missing, the body would be checked with `${p}`
                    // left in it: every problem found there would be a false one.
                    let body = if missing { &[][..] } else { &book.raw.steps[..] };
                    for step in body {
                        if let Some(s) = recovery_step(step, &params, hosts, &mut book_checker) {
                            steps.push(s);
                        }
                    }
                    checker.problems.extend(book_checker.problems);
                }
                Err(problems) => checker.problems.extend(problems),
            },
            Err(help) => {
                checker.problem(name.pos, format!("no playbook named `{}`", name.value), Some(help.to_string()))
            }
        }
    } else if !raw.with.0.is_empty() {
        checker.problem(raw.with.0[0].0.pos, "`with` gives playbook parameters, but no playbook is named", None);
    }
    for step in &raw.steps {
        if let Some(s) = recovery_step(step, &[], hosts, checker) {
            steps.push(s);
        }
    }
    let default_expect = RawExpect::default();
    let expect = expectation(raw.expect.as_ref().unwrap_or(&default_expect), hosts, checker, Some(()));
    let run = raw.run.as_ref().map(|r| super::run::run(r, modules, checker));
    let run = match run {
        Some(Some(steps)) => Some(steps),
        Some(None) => return None,
        None => None,
    };
    Some(Recovery { playbook: playbook_name, steps, run, expect })
}

/// Converts one step, substituting `${param}`s.
pub fn recovery_step(
    raw: &At<RawRecoveryStep>,
    params: &[(String, String)],
    hosts: &[String],
    checker: &mut Checker,
) -> Option<RecoveryStep> {
    let mut bad_param = None;
    let mut s = |text: &str| {
        substitute(text, params).unwrap_or_else(|unknown| {
            bad_param.get_or_insert(unknown.0);
            text.to_string()
        })
    };
    let var_ok = |var: &At<String>, checker: &mut Checker| {
        if !valid_env_name(var) || MANAGED_ENV.contains(&var.as_str()) {
            checker.problem(
                var.pos,
                format!("`{}` cannot be changed by a recovery step", var.value),
                Some("name an environment variable the scenario may set".into()),
            );
        }
    };
    let step = match &raw.value {
        RawRecoveryStep::Set(vars) => {
            for (k, _) in vars.iter() {
                var_ok(k, checker);
            }
            RecoveryStep::Set(vars.iter().map(|(k, v)| (k.value.clone(), s(v))).collect())
        }
        RawRecoveryStep::Unset(vars) => {
            for k in vars {
                var_ok(k, checker);
            }
            RecoveryStep::Unset(vars.iter().map(|k| k.value.clone()).collect())
        }
        RawRecoveryStep::Replace { var, from, to } => {
            var_ok(var, checker);
            if from.is_empty() {
                checker.problem(raw.pos, "`from` is empty", None);
            }
            RecoveryStep::Replace { var: var.value.clone(), from: s(from), to: s(to) }
        }
        RawRecoveryStep::Append { var, value } => {
            var_ok(var, checker);
            RecoveryStep::Append { var: var.value.clone(), value: s(value) }
        }
        RawRecoveryStep::Prepend { var, value } => {
            var_ok(var, checker);
            RecoveryStep::Prepend { var: var.value.clone(), value: s(value) }
        }
        RawRecoveryStep::Netrc { host, login, password } => {
            let host_name = s(host);
            if !hosts.contains(&host_name) {
                checker.problem(
                    host.pos,
                    format!("host `{host_name}` is not declared"),
                    Some(suggest(&host_name, hosts.iter().map(String::as_str), "hosts")),
                );
            }
            RecoveryStep::Netrc { host: host_name, login: s(login), password: s(password) }
        }
        RawRecoveryStep::CleanCache(_) => RecoveryStep::CleanCache,
        RawRecoveryStep::ReleaseLocks(_) => RecoveryStep::ReleaseLocks,
        RawRecoveryStep::MoveCache(_) => RecoveryStep::MoveCache,
        RawRecoveryStep::Go(line) => {
            let line = At { value: s(line), pos: line.pos };
            let args = super::run::go_args(&line, checker)?;
            RecoveryStep::Go(args)
        }
        RawRecoveryStep::WriteFile { file, content, place } => {
            let file = At { value: s(file), pos: file.pos };
            if !work_path(&file, checker) {
                return None;
            }
            RecoveryStep::WriteFile { file: file.value, content: s(content), home: *place == Some(RawFilePlace::Home) }
        }
        RawRecoveryStep::DeleteLines { file, matching } => {
            let file = At { value: s(file), pos: file.pos };
            let matching = At { value: s(matching), pos: matching.pos };
            if !work_path(&file, checker) || checker.regex(&matching).is_none() {
                return None;
            }
            RecoveryStep::DeleteLines { file: file.value, matching: matching.value }
        }
        RawRecoveryStep::FixOwnership(dirs) => {
            let mut owned = Vec::new();
            for dir in dirs {
                let name = s(dir);
                match OwnedDir::from_name(&name) {
                    Some(d) => owned.push(d),
                    None => checker.problem(
                        dir.pos,
                        format!("unknown directory `{name}`"),
                        Some(suggest(&name, OwnedDir::NAMES.iter().copied(), "directories")),
                    ),
                }
            }
            RecoveryStep::FixOwnership(owned)
        }
        RawRecoveryStep::MoveBuildCache(_) => RecoveryStep::MoveBuildCache,
        RawRecoveryStep::InstallToolchain(go) => {
            let go = At { value: s(go), pos: go.pos };
            if !super::modules::valid_toolchain(&go) {
                checker.problem(
                    go.pos,
                    format!("`{}` is not a go toolchain release", go.value),
                    Some("write it as go names its releases, like go1.99.0".into()),
                );
                return None;
            }
            RecoveryStep::InstallToolchain(go.value)
        }
        RawRecoveryStep::Trust(cas) => {
            let mut authorities = Vec::new();
            for ca in cas {
                let name = s(ca);
                match crate::pki::Authority::ALL.iter().find(|a| a.name() == name) {
                    Some(a) => authorities.push(*a),
                    None => checker.problem(
                        ca.pos,
                        format!("unknown certificate authority `{name}`"),
                        Some(suggest(&name, crate::pki::Authority::ALL.iter().map(|a| a.name()), "authorities")),
                    ),
                }
            }
            RecoveryStep::Trust(authorities)
        }
    };
    if let Some(unknown) = bad_param {
        let known: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
        let help = match crate::scenario::diag::closest(&unknown, known.iter().copied()) {
            Some(best) => format!("did you mean `${{{best}}}`?"),
            None => "declare it under params: and pass it with with:".to_string(),
        };
        let pos = written_at(checker, raw.pos, &format!("${{{unknown}}}")).unwrap_or(raw.pos);
        checker.problem(pos, format!("`${{{unknown}}}` is not a parameter of this playbook"), Some(help));
        return None;
    }
    Some(step)
}

/// Where `needle` is first written in the checked file at or after `from` (a step's
/// start), as a position of its own.
fn written_at(checker: &Checker, from: Pos, needle: &str) -> Option<Pos> {
    let source = checker.source.as_str();
    let start = from.offset.filter(|o| *o <= source.len() && source.is_char_boundary(*o))?;
    let offset = start + source[start..].find(needle)?;
    Some(Pos::at_offset(source, offset, needle.len(), from.source))
}

/// True when `file` is a path inside the work module; a problem otherwise.
fn work_path(file: &At<String>, checker: &mut Checker) -> bool {
    let path = Path::new(file.as_str());
    let inside = !file.is_empty()
        && path.is_relative()
        && path.components().all(|c| matches!(c, std::path::Component::Normal(_)));
    if !inside {
        checker.problem(
            file.pos,
            format!("`{}` is not a path inside the work module", file.value),
            Some("write it relative to the work module, like go.sum".into()),
        );
    }
    inside
}

/// A `${name}` the playbook has no parameter for.
#[derive(Debug, thiserror::Error)]
#[error("unknown parameter `{0}`")]
pub(super) struct UnknownParam(pub(super) String);

/// Replaces `${name}` by its value; the error names the first unknown parameter.
pub(super) fn substitute(text: &str, params: &[(String, String)]) -> Result<String, UnknownParam> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let name = &after[..end];
        match params.iter().find(|(k, _)| k == name) {
            Some((_, v)) => out.push_str(v),
            None => return Err(UnknownParam(name.to_string())),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitution_replaces_known_and_reports_unknown() {
        let params = [("mirror".to_string(), "https://m.example".to_string())];
        assert_eq!(substitute("a|${mirror}", &params).unwrap(), "a|https://m.example");
        assert_eq!(substitute("${nope}", &params).unwrap_err().0, "nope");
        assert_eq!(substitute("no params", &params).unwrap(), "no params");
    }
}
