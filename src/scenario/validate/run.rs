//! `files:` and `run:`: the work module's files and the go commands with their deadlines.

use std::path::Path;

use super::DEFAULT_TIMEOUT;
use crate::fixture::ModuleSet;
use crate::scenario::at::{At, Pos};
use crate::scenario::checker::Checker;
use crate::scenario::diag::closest;
use crate::scenario::keyed;
use crate::scenario::model::*;
use crate::scenario::raw::*;

pub(super) fn files(raw: &keyed::Keyed<String>, checker: &mut Checker) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for (name, content) in raw.iter() {
        let path = Path::new(name.as_str());
        let escapes = path.is_absolute() || path.components().any(|c| !matches!(c, std::path::Component::Normal(_)));
        if escapes || name.is_empty() {
            checker.problem(
                name.pos,
                format!("`{}` must be a relative path inside the work module", name.value),
                Some("write go.mod, go.sum or sub/dir/file.go".into()),
            );
            continue;
        }
        files.push((name.value.clone(), content.clone()));
    }
    files
}

pub(super) fn go_args(line: &At<String>, checker: &mut Checker) -> Option<Vec<String>> {
    let mut args = match shell_words::split(line) {
        Ok(a) => a,
        Err(e) => {
            checker.problem(
                line.pos,
                format!("cannot split the command line: {e}"),
                Some("quote arguments like a shell would".into()),
            );
            return None;
        }
    };
    if args.first().is_some_and(|a| a == "go") {
        args.remove(0);
    }
    if args.is_empty() {
        checker.problem(
            line.pos,
            "the go command line is empty",
            Some("for example: mod download -json rsc.io/quote@v1.5.2".into()),
        );
        return None;
    }
    Some(args)
}

pub(super) fn run(raw: &RawRun, modules: Option<&ModuleSet>, checker: &mut Checker) -> Option<Vec<GoStep>> {
    let timeout = raw.timeout.as_ref().map_or(Some(DEFAULT_TIMEOUT), |t| checker.duration(t));
    if let Some(list) = &raw.modules {
        for m in list {
            if m.split_once('@').is_none_or(|(p, v)| p.is_empty() || v.is_empty()) {
                checker.problem(
                    m.pos,
                    format!("`{}` is not path@version", m.value),
                    Some("for example rsc.io/quote@v1.5.2 (or @latest)".into()),
                );
            }
        }
    }
    let steps = match (&raw.go, &raw.steps) {
        (Some(go), Some(_)) => {
            checker.problem(
                go.pos,
                "`go` and `steps` cannot both be given",
                Some("put every command under steps:".into()),
            );
            return None;
        }
        (Some(go), None) => vec![GoStep { args: go_args(go, checker)?, timeout: timeout? }],
        (None, Some(steps)) => {
            let mut out = Vec::new();
            for step in steps {
                let args = go_args(&step.go, checker);
                let t = step.timeout.as_ref().map_or(timeout, |t| checker.duration(t));
                if let (Some(args), Some(timeout)) = (args, t) {
                    out.push(GoStep { args, timeout });
                }
            }
            if steps.is_empty() {
                checker.problem(Pos::default(), "`steps` is empty", None);
            }
            out
        }
        (None, None) => {
            let mut args: Vec<String> = ["mod", "download", "-json", "-x"].map(String::from).to_vec();
            match &raw.modules {
                Some(list) => args.extend(list.iter().map(|m| m.value.clone())),
                None => args.extend(modules?.iter().map(|m| m.id())),
            }
            vec![GoStep { args, timeout: timeout? }]
        }
    };
    Some(steps)
}

/// A warning for each `run.modules` entry whose path no module of the scenario has (nor
/// any host's own copies) while one a typo away does: asking for a missing module is
/// often the point (a 404 to reproduce), so it is no error, but a misspelt path fails
/// only at run time, as a 404 that reads like the fault under test.
/// (A path that extends a scenario module by whole elements — a package, a major version
/// suffix — is taken as meant.)
pub(super) fn misspelt_modules(raw: &RawRun, modules: Option<&ModuleSet>, hosts: &[HostSpec], checker: &mut Checker) {
    let (Some(list), Some(modules)) = (&raw.modules, modules) else { return };
    let overrides = hosts.iter().flat_map(|h| match &h.kind {
        HostKind::Goproxy(g) => Some(&g.overrides),
        HostKind::Git(g) => Some(&g.overrides),
        _ => None,
    });
    let mut known: Vec<&str> =
        modules.iter().chain(overrides.flat_map(ModuleSet::iter)).map(|m| m.path.as_str()).collect();
    known.sort_unstable();
    known.dedup();
    for requested in list {
        let Some((path, _)) = requested.split_once('@') else { continue };
        if path.is_empty() || known.contains(&path) {
            continue;
        }
        let within = |a: &str, b: &str| a.strip_prefix(b).is_some_and(|rest| rest.starts_with('/'));
        let candidates = known.iter().copied().filter(|k| !within(path, k) && !within(k, path));
        if let Some(best) = closest(path, candidates) {
            checker.warning(
                requested.pos,
                format!("{} is not among the scenario's modules", requested.value),
                Some(format!("did you mean {best}?")),
            );
        }
    }
}
