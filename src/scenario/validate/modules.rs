//! `modules:`: fixture files and directories, `$GOROOT/` paths, modules made up inline.

use std::path::Path;

use crate::fixture::ModuleSet;
use crate::scenario::LoadContext;
use crate::scenario::at::At;
use crate::scenario::checker::Checker;
use crate::scenario::diag::closest;
use crate::scenario::raw::*;

pub(super) fn modules(
    list: &[At<RawModuleSource>],
    dir: &Path,
    checker: &mut Checker,
    ctx: &LoadContext,
) -> Option<ModuleSet> {
    let mut paths = Vec::new();
    let mut set = Vec::new();
    let mut ok = true;
    for entry in list {
        let text = match &entry.value {
            RawModuleSource::Fixtures(text) => text,
            RawModuleSource::Inline(inline) => {
                let module = match (&inline.module, &inline.toolchain) {
                    (Some(module), None) => module,
                    (None, Some(go)) => {
                        match inline_toolchain(go, inline, checker) {
                            Some(m) => set.push(std::sync::Arc::new(m)),
                            None => ok = false,
                        }
                        continue;
                    }
                    _ => {
                        checker.problem(
                            entry.pos,
                            "a made-up module is either `module: path@version` or `toolchain: goX.Y.Z`",
                            Some("write {module: corp.example/lib@v1.0.0} or {toolchain: go1.99.0}".into()),
                        );
                        ok = false;
                        continue;
                    }
                };
                let Some((path, version)) = module.split_once('@').filter(|(p, v)| !p.is_empty() && !v.is_empty())
                else {
                    checker.problem(
                        module.pos,
                        format!("`{}` is not path@version", module.value),
                        Some("for example corp.example/lib@v1.0.0".into()),
                    );
                    ok = false;
                    continue;
                };
                let how = crate::fixture::synth::Synthesis {
                    declares: inline.declares.clone(),
                    variant: inline.variant.clone(),
                };
                match crate::fixture::synth::synthesize(path, version, &how) {
                    Ok(m) => set.push(std::sync::Arc::new(m)),
                    Err(e) => {
                        ok = false;
                        checker.problem(module.pos, e.to_string(), None);
                    }
                }
                continue;
            }
        };
        let from_goroot = text.starts_with("$GOROOT/");
        let resolved = if let Some(rest) = text.strip_prefix("$GOROOT/") {
            match ctx.goroot() {
                Some(goroot) => goroot.join(rest),
                None => {
                    checker.problem(
                        entry.pos,
                        "`$GOROOT/` is used but no go toolchain was found to ask for GOROOT",
                        Some("install go, or pass --go / set MODCHAOS_GO".into()),
                    );
                    continue;
                }
            }
        } else if entry.pos.source == 0 {
            dir.join(text)
        } else {
            // Written in an included file: relative to that file.
            checker.dir_for(entry.pos).join(text)
        };
        if !resolved.exists() {
            let help = nearby_name(&resolved).map(|n| format!("did you mean `{n}`?")).unwrap_or_else(|| "module fixtures are txtar files (Go's cmd/go/testdata/mod format), named like rsc.io_quote_v1.5.2.txt".into());
            checker.problem(entry.pos, format!("fixture file not found: {}", resolved.display()), Some(help));
            continue;
        }
        paths.push((entry.pos, resolved, from_goroot));
    }
    for (pos, path, from_goroot) in &paths {
        match ModuleSet::load(std::slice::from_ref(path)) {
            Ok(loaded) => {
                // Go's own fixtures break the rules on purpose (that is what they test);
                // a scenario's own must be sound: a broken response is a fault's job.
                if !from_goroot {
                    for module in loaded.set.iter().filter(|m| !m.defects().is_empty()) {
                        ok = false;
                        checker.problem(
                            *pos,
                            format!("fixture {}: {}", module.source.display(), module.defects().join("; ")),
                            Some(FIXTURE_HELP.into()),
                        );
                    }
                }
                set.extend(loaded.set.iter().cloned());
            }
            Err(e) => {
                ok = false;
                checker.problem(*pos, e.to_string(), None);
            }
        }
    }
    if !ok {
        return None;
    }
    match ModuleSet::from_modules(set) {
        Ok(s) => Some(s),
        Err(e) => {
            checker.problem(list.first().map(|m| m.pos).unwrap_or_default(), e.to_string(), None);
            None
        }
    }
}

/// What a problem with a fixture's content suggests.
const FIXTURE_HELP: &str = "a fixture is a txtar file: `-- .mod --` (the go.mod a proxy serves), `-- .info --` ({\"Version\":…,\"Time\":…}), then the module's files under valid paths; to serve a broken module, give its host a fault (replace_body, truncate, corrupt)";

/// The closest existing file name next to a missing path.
pub(super) fn nearby_name(missing: &Path) -> Option<String> {
    let name = missing.file_name()?.to_str()?;
    let entries: Vec<String> =
        std::fs::read_dir(missing.parent()?).ok()?.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect();
    closest(name, entries.iter().map(String::as_str)).map(str::to_string)
}

/// A toolchain release written `goX.Y.Z` (a release, or a release candidate `go1.99rc1`).
pub(super) fn valid_toolchain(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("go") else { return false };
    let numbers = rest.split(['r', 'c', 'b', 'e', 't', 'a']).next().unwrap_or("");
    let parts: Vec<&str> = numbers.split('.').collect();
    (2..=3).contains(&parts.len()) && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The toolchain module of `{toolchain: goX.Y.Z}`.
fn inline_toolchain(
    go: &At<String>,
    inline: &RawInlineModule,
    checker: &mut Checker,
) -> Option<crate::fixture::ModuleFixture> {
    if !valid_toolchain(go) {
        checker.problem(
            go.pos,
            format!("`{}` is not a go toolchain release", go.value),
            Some("write it as go names its releases, like go1.99.0".into()),
        );
        return None;
    }
    if inline.declares.is_some() {
        checker.problem(go.pos, "a toolchain declares no module path: `declares` does not apply", None);
        return None;
    }
    match crate::fixture::synth::synthesize_toolchain(go, inline.variant.as_deref()) {
        Ok(m) => Some(m),
        Err(e) => {
            checker.problem(go.pos, e.to_string(), None);
            None
        }
    }
}
