//! Playbooks: named, reusable recoveries stored as `playbooks/<name>.yaml`, so that the
//! fix a diagnosis suggests and the fix a scenario proves are the same file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::at::At;
use super::checker::Checker;
use super::diag::{FileProblem, suggest};
use super::raw::RawPlaybook;
use crate::vocab::Category;

/// The playbooks shipped with modchaos (`scenarios/playbooks/`), compiled in so that
/// scenarios anywhere can name them; a `playbooks/` directory near a scenario wins.
pub const BUILTIN: &[(&str, &str)] = &[
    ("add-mirror", include_str!("../../scenarios/playbooks/add-mirror.yaml")),
    ("bypass-http-proxy", include_str!("../../scenarios/playbooks/bypass-http-proxy.yaml")),
    ("clean-module-cache", include_str!("../../scenarios/playbooks/clean-module-cache.yaml")),
    ("enable-goproxy", include_str!("../../scenarios/playbooks/enable-goproxy.yaml")),
    ("fix-cache-ownership", include_str!("../../scenarios/playbooks/fix-cache-ownership.yaml")),
    ("git-credentials", include_str!("../../scenarios/playbooks/git-credentials.yaml")),
    ("goproxy-credentials", include_str!("../../scenarios/playbooks/goproxy-credentials.yaml")),
    ("http-proxy-credentials", include_str!("../../scenarios/playbooks/http-proxy-credentials.yaml")),
    ("kill-lock-holder", include_str!("../../scenarios/playbooks/kill-lock-holder.yaml")),
    ("move-build-cache", include_str!("../../scenarios/playbooks/move-build-cache.yaml")),
    ("move-module-cache", include_str!("../../scenarios/playbooks/move-module-cache.yaml")),
    ("pin-toolchain", include_str!("../../scenarios/playbooks/pin-toolchain.yaml")),
    ("pipe-separated-goproxy", include_str!("../../scenarios/playbooks/pipe-separated-goproxy.yaml")),
    ("private-modules", include_str!("../../scenarios/playbooks/private-modules.yaml")),
    ("private-modules-nosumdb", include_str!("../../scenarios/playbooks/private-modules-nosumdb.yaml")),
    ("private-modules-via-proxy", include_str!("../../scenarios/playbooks/private-modules-via-proxy.yaml")),
    ("retry", include_str!("../../scenarios/playbooks/retry.yaml")),
    ("set-gosumdb", include_str!("../../scenarios/playbooks/set-gosumdb.yaml")),
    ("trust-ca", include_str!("../../scenarios/playbooks/trust-ca.yaml")),
    ("unset-http-proxy", include_str!("../../scenarios/playbooks/unset-http-proxy.yaml")),
    ("upgrade-go", include_str!("../../scenarios/playbooks/upgrade-go.yaml")),
    ("use-mirror", include_str!("../../scenarios/playbooks/use-mirror.yaml")),
];

/// Where a playbook comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlaybookSource {
    /// A file.
    File(PathBuf),
    /// One of [`BUILTIN`], by name.
    Builtin(&'static str),
}

/// A parsed playbook file.
#[derive(Debug)]
pub struct LoadedPlaybook {
    /// Where it lives.
    pub path: PathBuf,
    /// Its text, for error snippets.
    pub source: Arc<String>,
    /// Parameter names.
    pub params: Vec<String>,
    /// The parsed file; steps are validated where they are used, with parameters bound.
    pub raw: RawPlaybook,
}

/// Directories searched for `name`: `playbooks/` beside the scenario and in each parent
/// directory, then `extra` (from `--playbooks`).
pub fn search_dirs(scenario_dir: &Path, extra: &[PathBuf]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = scenario_dir.ancestors().map(|a| a.join("playbooks")).collect();
    if scenario_dir.as_os_str().is_empty() {
        dirs.insert(0, PathBuf::from("playbooks"));
    }
    dirs.extend(extra.iter().cloned());
    dirs
}

/// Why no playbook has a name; its text is a help line (the closest name, or where it
/// looked).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// The name cannot be a playbook's.
    #[error("playbook names are lower-case words joined by '-' (the file name without .yaml)")]
    BadName,
    /// There is no playbook anywhere.
    #[error("no playbooks/ directory was found beside the scenario or above it")]
    NoDirectory,
    /// The directories looked in hold no playbook at all.
    #[error("looked in {}", .0.join(", "))]
    Empty(Vec<String>),
    /// Playbooks exist, but not this one: the closest names.
    #[error("{0}")]
    Unknown(String),
}

/// Finds playbook `name`: a file in [`search_dirs`], else a built-in one.
pub fn resolve(name: &At<String>, scenario_dir: &Path, extra: &[PathBuf]) -> Result<PlaybookSource, ResolveError> {
    let dirs = search_dirs(scenario_dir, extra);
    // No file name is longer than 255 bytes: a longer name is refused before it is
    // looked at byte by byte and joined to every directory.
    if name.is_empty()
        || name.len() > 255
        || !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        return Err(ResolveError::BadName);
    }
    for dir in &dirs {
        for ext in ["yaml", "yml"] {
            let candidate = dir.join(format!("{}.{ext}", name.value));
            if candidate.is_file() {
                return Ok(PlaybookSource::File(candidate));
            }
        }
    }
    if let Some((builtin, _)) = BUILTIN.iter().find(|(n, _)| *n == name.value) {
        return Ok(PlaybookSource::Builtin(builtin));
    }
    let mut known: Vec<String> = dirs.iter().flat_map(|d| available(d)).collect();
    known.extend(BUILTIN.iter().map(|(n, _)| n.to_string()));
    if known.is_empty() {
        let looked: Vec<String> = dirs.iter().filter(|d| d.is_dir()).map(|d| d.display().to_string()).collect();
        return Err(if looked.is_empty() { ResolveError::NoDirectory } else { ResolveError::Empty(looked) });
    }
    Err(ResolveError::Unknown(suggest(name, known.iter().map(String::as_str), "playbooks")))
}

/// Names of the playbooks in `dir`.
pub fn available(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| {
            let path = e.ok()?.path();
            let ext = path.extension()?.to_str()?;
            (ext == "yaml" || ext == "yml").then(|| path.file_stem()?.to_str().map(str::to_string))?
        })
        .collect();
    names.sort();
    names
}

/// Reads and checks a playbook: its name matches the file, `fixes` are known
/// categories, parameters are well-formed.
pub fn load(source: &PlaybookSource) -> Result<LoadedPlaybook, Vec<FileProblem>> {
    let (path, text) = match source {
        PlaybookSource::File(path) => {
            let bytes = crate::userfile::read_regular(path, super::MAX_FILE_BYTES, "a playbook").map_err(|e| {
                vec![FileProblem::new(
                    path,
                    &Arc::new(String::new()),
                    Default::default(),
                    format!("cannot read playbook: {e}"),
                    None,
                )]
            })?;
            let text = super::utf8(path, bytes).map_err(|problem| vec![*problem])?;
            (path.clone(), text)
        }
        PlaybookSource::Builtin(name) => {
            let text = BUILTIN.iter().find(|(n, _)| n == name).map(|(_, t)| t.to_string()).unwrap_or_default();
            (PathBuf::from(format!("<builtin>/playbooks/{name}.yaml")), text)
        }
    };
    let path = path.as_path();
    let source = Arc::new(text);
    let raw: RawPlaybook = super::every_mistake::read_all(&source, super::read_yaml)
        .map_err(|errors| errors.iter().map(|e| FileProblem::from_yaml(path, &source, e)).collect::<Vec<_>>())?;
    let mut checker = Checker::new(path, source.clone());
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
    if raw.name.value != stem {
        checker.problem(
            raw.name.pos,
            format!("playbook name `{}` differs from its file name `{stem}`", raw.name.value),
            Some("scenarios find playbooks by file name: keep the two equal".into()),
        );
    }
    for fix in &raw.fixes {
        if Category::from_id(fix).is_none() {
            checker.problem(
                fix.pos,
                format!("unknown diagnosis category `{}`", fix.value),
                Some(suggest(fix, Category::ALL.iter().map(|c| c.id()), "categories")),
            );
        }
    }
    for p in &raw.params {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            checker.problem(
                p.pos,
                format!("`{}` is not a parameter name", p.value),
                Some("use letters, digits and _".into()),
            );
        }
    }
    if !checker.problems.is_empty() {
        return Err(checker.problems);
    }
    let params = raw.params.iter().map(|p| p.value.clone()).collect();
    Ok(LoadedPlaybook { path: path.to_path_buf(), source, params, raw })
}

/// What a built-in playbook does, in one sentence (the first of its `about`), for
/// diagnoses that suggest it.
pub fn summary(name: &str) -> Option<String> {
    let (_, text) = BUILTIN.iter().find(|(n, _)| *n == name)?;
    let raw: RawPlaybook = serde_saphyr::from_str(text).ok()?;
    let about = raw.about?.split_whitespace().collect::<Vec<_>>().join(" ");
    let first = about.split_inclusive(". ").next().unwrap_or(&about).trim().to_string();
    Some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_playbooks_are_the_shipped_files_and_all_load() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/playbooks");
        let shipped = available(&dir);
        let builtin: Vec<String> = BUILTIN.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(shipped, builtin, "compile every shipped playbook in, and nothing else");
        for (name, _) in BUILTIN {
            let book = load(&PlaybookSource::Builtin(name)).unwrap_or_else(|p| panic!("{name}: {:?}", p));
            assert_eq!(book.raw.name.value, *name);
        }
    }

    #[test]
    fn every_mistake_in_a_playbook_file_is_reported_with_a_plain_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fix-it.yaml");
        let text = "name: fix-it\nfixes: [hang]\nsteps:\n  - set: {GOPROXY: off}\n    colour: blue\n  - sett: {GOFLAGS: -mod=mod}\n";
        std::fs::write(&path, text).unwrap();
        let problems = load(&PlaybookSource::File(path)).unwrap_err();
        let plain: Vec<String> = problems.iter().map(FileProblem::plain).collect();
        assert_eq!(plain.len(), 2, "{plain:#?}");
        assert!(plain[0].contains("fix-it.yaml:5:5: `colour` is a second key"), "{plain:#?}");
        assert!(plain[1].contains("fix-it.yaml:6:5: unknown variant `sett`"), "{plain:#?}");
        assert!(plain[1].contains("did you mean `set`?"), "{plain:#?}");
    }
}
