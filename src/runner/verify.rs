//! Integrity after a successful recovery: every module go downloaded must carry exactly
//! the fixture's content. The harness re-hashes what go reported, what it cached and
//! what it extracted, and `go mod verify` must agree.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::gocmd::{self, GoInvocation, GoOutcome};
use crate::fixture::escape::escape;
use crate::fixture::{ModuleSet, dirhash};
use crate::gooutput::ModuleRecord;

/// What verification found.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Verification {
    /// Checks that passed, one line each.
    pub checks: Vec<String>,
    /// Checks that failed, one line each.
    pub problems: Vec<String>,
    /// The `go mod verify` run.
    pub go_mod_verify: Option<GoOutcome>,
}

/// Module versions a run downloaded: its `-json` records without error; without records,
/// the `path@version` arguments that name fixtures; without those, the fixtures the work
/// module's go.mod requires (a `go build` or `go mod tidy`, as a recovery may leave it).
pub fn downloaded(
    records: &[ModuleRecord],
    args: &[String],
    modules: &ModuleSet,
    work_go_mod: &str,
) -> Vec<(String, String)> {
    let from_records: Vec<_> =
        records.iter().filter(|r| r.error.is_none()).map(|r| (r.path.clone(), r.version.clone())).collect();
    if !from_records.is_empty() {
        return from_records;
    }
    let from_args: Vec<(String, String)> = args
        .iter()
        .filter_map(|a| a.split_once('@'))
        .filter(|(p, v)| modules.get(p, v).is_some())
        .map(|(p, v)| (p.to_string(), v.to_string()))
        .collect();
    if !from_args.is_empty() {
        return from_args;
    }
    let replaced = replacements(work_go_mod);
    requirements(work_go_mod)
        .into_iter()
        .filter_map(|(p, v)| {
            // The most specific rule wins: `old v => …` before `old => …`; a directory
            // replacement (no version) downloads nothing.
            let rule = replaced
                .iter()
                .find(|r| r.old == p && r.old_version.as_deref() == Some(&v))
                .or_else(|| replaced.iter().find(|r| r.old == p && r.old_version.is_none()));
            match rule {
                Some(Replace { new, new_version: Some(nv), .. }) => Some((new.clone(), nv.clone())),
                Some(_) => None,
                None => Some((p, v)),
            }
        })
        .filter(|(p, v)| modules.get(p, v).is_some())
        .collect()
}

/// One `replace` directive of a go.mod.
#[derive(Debug, PartialEq, Eq)]
pub struct Replace {
    /// The replaced module path.
    pub old: String,
    /// The replaced version, when the rule names one.
    pub old_version: Option<String>,
    /// The replacement: a module path, or a directory.
    pub new: String,
    /// The replacement's version (none for a directory).
    pub new_version: Option<String>,
}

/// The `replace` directives of a go.mod (single lines and blocks).
pub fn replacements(go_mod: &str) -> Vec<Replace> {
    directives(go_mod, "replace")
        .into_iter()
        .filter_map(|entry| {
            let (left, right) = entry.split_once("=>")?;
            let mut l = left.split_whitespace().map(|f| f.trim_matches('"').to_string());
            let mut r = right.split_whitespace().map(|f| f.trim_matches('"').to_string());
            Some(Replace { old: l.next()?, old_version: l.next(), new: r.next()?, new_version: r.next() })
        })
        .collect()
}

/// The entries of one kind of go.mod directive (`require`, `replace`), single lines and
/// blocks alike, comments removed.
fn directives(go_mod: &str, verb: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut in_block = false;
    let opening = format!("{verb} (");
    let single = format!("{verb} ");
    for line in go_mod.lines() {
        let line = line.split("//").next().unwrap_or("").trim();
        if in_block {
            if line == ")" {
                in_block = false;
            } else if !line.is_empty() {
                found.push(line.to_string());
            }
        } else if line == opening || line.replace(' ', "") == format!("{verb}(") {
            in_block = true;
        } else if let Some(rest) = line.strip_prefix(&single) {
            found.push(rest.trim().to_string());
        }
    }
    found
}

/// The `require` directives of a go.mod (single lines and blocks), as (path, version).
pub fn requirements(go_mod: &str) -> Vec<(String, String)> {
    directives(go_mod, "require")
        .into_iter()
        .filter_map(|entry| {
            let mut fields = entry.split_whitespace();
            Some((fields.next()?.trim_matches('"').to_string(), fields.next()?.to_string()))
        })
        .collect()
}

/// Checks the cache of `modcache` and the `-json` records against the fixtures.
pub fn check_cache(
    targets: &[(String, String)],
    records: &[ModuleRecord],
    modules: &ModuleSet,
    modcache: &Path,
) -> Verification {
    let mut v = Verification::default();
    if targets.is_empty() {
        v.problems.push(
            "nothing to verify: the run reported no downloaded module (a recovery's rerun is verified unless its \
             `expect` says `verified: false`, as a run that downloads nothing should)"
                .into(),
        );
    }
    // By module version: a run of thousands of modules must not search them all each time.
    let by_id: std::collections::HashMap<(&str, &str), &ModuleRecord> =
        records.iter().rev().map(|r| ((r.path.as_str(), r.version.as_str()), r)).collect();
    for (path, version) in targets {
        let id = format!("{path}@{version}");
        let Some(fixture) = modules.get(path, version) else {
            v.problems.push(format!("{id}: go downloaded it but no fixture defines it"));
            continue;
        };
        let mut expect = |what: &str, got: Option<String>, want: &str| match got {
            Some(got) if got == want => v.checks.push(format!("{id}: {what} is {want}")),
            Some(got) => v.problems.push(format!("{id}: {what} is {got}, the fixture's is {want}")),
            None => v.problems.push(format!("{id}: {what} is missing")),
        };
        if let Some(record) = by_id.get(&(path.as_str(), version.as_str())) {
            expect("Sum reported by go", record.sum.clone(), &fixture.sum);
            if let Some(mod_sum) = &fixture.go_mod_sum {
                expect("GoModSum reported by go", record.go_mod_sum.clone(), mod_sum);
            }
        }
        let download = modcache.join("cache/download").join(escape(path)).join("@v");
        let version_file = escape(version);
        expect("hash of the cached zip", hash_zip(&download.join(format!("{version_file}.zip"))), &fixture.sum);
        expect(
            "cached .ziphash",
            std::fs::read_to_string(download.join(format!("{version_file}.ziphash")))
                .ok()
                .map(|s| s.trim().to_string()),
            &fixture.sum,
        );
        let dir = modcache.join(format!("{}@{}", escape(path), version_file));
        expect("hash of the extracted directory", hash_dir(&dir, &id), &fixture.sum);
    }
    v
}

/// Runs `go mod verify` in a module that requires `targets`, with the recovered
/// environment (plus `-mod=mod`, so missing go.mod files of dependencies are fetched).
pub async fn go_mod_verify(
    go: &Path,
    targets: &[(String, String)],
    env: &BTreeMap<String, String>,
    dir: &Path,
    work: Option<&Path>,
    user: Option<crate::vocab::Account>,
    v: &mut Verification,
) {
    // A work module that requires what was downloaded is verified as it is (a recovery
    // may have changed its go.mod, go.sum or GOFLAGS); otherwise a module of its own
    // requires the targets.
    if let Some(work) =
        work.filter(|w| !requirements(&std::fs::read_to_string(w.join("go.mod")).unwrap_or_default()).is_empty())
    {
        run_verify(go, env, work, user, v).await;
        return;
    }
    let mut go_mod = String::from("module modchaos.test/verify\n\ngo 1.21\n\nrequire (\n");
    for (path, version) in targets {
        go_mod += &format!("\t{path} {version}\n");
    }
    go_mod += ")\n";
    let written =
        std::fs::create_dir_all(dir).and_then(|_| std::fs::write(dir.join("go.mod"), go_mod)).and_then(|_| match user
            .filter(|u| *u != crate::vocab::Account::current() && crate::vocab::Account::current().is_root())
        {
            Some(user) => crate::fsutil::chown_tree(dir, user),
            None => Ok(()),
        });
    if let Err(e) = written {
        v.problems.push(format!("go mod verify: cannot write its module: {e}"));
        return;
    }
    let mut env = env.clone();
    let flags = env.get("GOFLAGS").cloned().unwrap_or_default();
    env.insert("GOFLAGS".into(), format!("{flags} -mod=mod").trim().to_string());
    run_verify(go, &env, dir, user, v).await;
}

/// Runs `go mod verify` in `dir` and records what it said.
async fn run_verify(
    go: &Path,
    env: &BTreeMap<String, String>,
    dir: &Path,
    user: Option<crate::vocab::Account>,
    v: &mut Verification,
) {
    let args = ["mod".to_string(), "verify".to_string()];
    let inv =
        GoInvocation { go, args: &args, env, cwd: dir, timeout: Duration::from_secs(60), inspect_cache: None, user };
    match gocmd::run(&inv).await {
        Ok(outcome) => {
            if outcome.exit.success() && outcome.stdout.contains("all modules verified") {
                v.checks.push("go mod verify: all modules verified".into());
            } else {
                v.problems.push(format!(
                    "go mod verify did not say `all modules verified` ({}): {}",
                    outcome.exit.describe(),
                    (outcome.stdout.clone() + &outcome.stderr).trim()
                ));
            }
            v.go_mod_verify = Some(outcome);
        }
        Err(e) => v.problems.push(format!("go mod verify could not start: {e}")),
    }
}

/// `h1:` of a zip's file entries; `None` if it cannot be read.
pub fn hash_zip(path: &Path) -> Option<String> {
    let file = std::fs::File::open(path).ok()?;
    let mut archive = zip::ZipArchive::new(file).ok()?;
    let mut files = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).ok()?;
        if entry.is_dir() {
            continue;
        }
        let name = entry.name().ok()?.to_string();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut data).ok()?;
        files.push((name, data));
    }
    dirhash::hash1(files.iter().map(|(n, d)| (n.as_str(), d.as_slice()))).ok()
}

/// `h1:` of an extracted module directory, file names prefixed with `prefix/`.
pub fn hash_dir(dir: &Path, prefix: &str) -> Option<String> {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut stack: Vec<PathBuf> = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).ok()? {
            let path = entry.ok()?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).ok()?.to_str()?.to_string();
                files.push((format!("{prefix}/{rel}"), std::fs::read(&path).ok()?));
            }
        }
    }
    dirhash::hash1(files.iter().map(|(n, d)| (n.as_str(), d.as_slice()))).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GO_MOD: &str = "module corp.example/app\n\ngo 1.19\n\nrequire corp.example/lib v1.0.0 // indirect\n\
        require (\n\tcorp.example/util v0.3.0\n\t\"corp.example/quoted\" v1.2.3\n)\n\n\
        replace corp.example/lib => corp.example/lib-fork v1.0.1\n\
        replace (\n\tcorp.example/util v0.3.0 => ../util\n)\n";

    #[test]
    fn requirements_come_from_lines_and_blocks() {
        assert_eq!(
            requirements(GO_MOD),
            [("corp.example/lib", "v1.0.0"), ("corp.example/util", "v0.3.0"), ("corp.example/quoted", "v1.2.3")]
                .map(|(p, v)| (p.to_string(), v.to_string()))
        );
    }

    #[test]
    fn replacements_name_the_module_or_the_directory_that_stands_in() {
        let found = replacements(GO_MOD);
        assert_eq!(
            found[0],
            Replace {
                old: "corp.example/lib".into(),
                old_version: None,
                new: "corp.example/lib-fork".into(),
                new_version: Some("v1.0.1".into())
            }
        );
        assert_eq!(found[1].old_version.as_deref(), Some("v0.3.0"));
        assert_eq!((found[1].new.as_str(), found[1].new_version.as_deref()), ("../util", None));
    }
}
