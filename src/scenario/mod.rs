//! Scenario files: parsing (raw serde types), validation into the model, discovery of
//! files in directories, and the JSON Schema of the format.

pub mod at;
pub mod checker;
pub mod diag;
pub mod duration;
pub mod every_mistake;
pub mod excerpt;
pub mod keyed;
pub mod model;
pub mod playbook;
pub mod raw;
mod secrets;
pub mod validate;
mod yaml_error;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

pub use diag::FileProblem;
pub use model::*;

use crate::gobin::GoBinary;

/// What loading needs from outside the file: the go binary (for `$GOROOT/` fixture
/// paths) and extra playbook directories.
#[derive(Debug, Default, Clone)]
pub struct LoadContext {
    /// The go command, if one was found.
    pub go: Option<GoBinary>,
    /// Directories searched for playbooks after the ones beside the scenario.
    pub playbook_dirs: Vec<PathBuf>,
    goroot: OnceLock<Option<PathBuf>>,
}

impl LoadContext {
    /// A context using `go` to resolve `$GOROOT/`.
    pub fn new(go: Option<GoBinary>) -> LoadContext {
        LoadContext { go, ..Default::default() }
    }

    /// A context whose GOROOT is already known (a sealed child is told it, rather than
    /// asking go again).
    pub fn with_goroot(go: Option<GoBinary>, goroot: Option<PathBuf>) -> LoadContext {
        let context = LoadContext::new(go);
        let _ = context.goroot.set(goroot);
        context
    }

    /// `$(go env GOROOT)`, asked once.
    pub fn goroot(&self) -> Option<&Path> {
        self.goroot.get_or_init(|| self.go.as_ref().and_then(|g| g.goroot().ok())).as_deref()
    }
}

/// A scenario file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not something to read: a FIFO, a device, too large.
    #[error(transparent)]
    Read(crate::userfile::ReadError),
    /// The file has problems; each names its position.
    #[error("{}", problems.iter().map(FileProblem::plain).collect::<Vec<_>>().join("\n"))]
    Invalid {
        /// Every problem found.
        problems: Vec<FileProblem>,
    },
}

impl LoadError {
    /// The individual problems (one for an I/O error).
    pub fn problems(&self) -> Vec<FileProblem> {
        match self {
            LoadError::Invalid { problems } => problems.clone(),
            LoadError::Io { path, source } => {
                let help = (source.kind() == std::io::ErrorKind::NotFound)
                    .then(|| "check the path: relative paths are read from the current directory".to_string());
                vec![FileProblem::new(path, &Arc::new(String::new()), Default::default(), source.to_string(), help)]
            }
            LoadError::Read(error) => {
                let path = match error {
                    crate::userfile::ReadError::Io { path, .. }
                    | crate::userfile::ReadError::NotRegular { path, .. }
                    | crate::userfile::ReadError::TooLarge { path, .. } => path,
                };
                vec![FileProblem::new(path, &Arc::new(String::new()), Default::default(), error.to_string(), None)]
            }
        }
    }
}

/// The largest scenario or playbook file read: far above any real one, low enough that
/// a runaway file cannot fill memory.
pub const MAX_FILE_BYTES: u64 = 16 << 20;

/// Reads, parses and validates one scenario file (a regular file of at most
/// [`MAX_FILE_BYTES`], in UTF-8).
pub fn load(path: &Path, ctx: &LoadContext) -> Result<Scenario, LoadError> {
    parse(path, read_text(path, "a scenario file")?, ctx)
}

/// The text of the file at `path` (`what` it is, for the error): a regular file of at
/// most [`MAX_FILE_BYTES`], in UTF-8.
fn read_text(path: &Path, what: &'static str) -> Result<String, LoadError> {
    let bytes = crate::userfile::read_regular(path, MAX_FILE_BYTES, what).map_err(|e| match e {
        crate::userfile::ReadError::Io { path, source } => LoadError::Io { path, source },
        other => LoadError::Read(other),
    })?;
    utf8(path, bytes).map_err(|problem| LoadError::Invalid { problems: vec![*problem] })
}

/// Checks a file of shared definitions (`include:`) on its own: its keys and the shape of
/// its values (what they say is checked in each scenario that includes it).
pub fn check_shared(path: &Path) -> Result<(), LoadError> {
    let source = Arc::new(without_bom(read_text(path, "a shared definitions file")?));
    every_mistake::read_all::<raw::RawInclude>(&source, read_yaml).map(|_| ()).map_err(|errors| LoadError::Invalid {
        problems: errors.iter().map(|e| FileProblem::from_yaml(path, &source, e)).collect(),
    })
}

/// `bytes` as text, or a problem at the line, column and byte offset of the first byte
/// that is not UTF-8.
pub fn utf8(path: &Path, bytes: Vec<u8>) -> Result<String, Box<FileProblem>> {
    let error = match String::from_utf8(bytes) {
        Ok(text) => return Ok(text),
        Err(e) => e,
    };
    let offset = error.utf8_error().valid_up_to();
    let bytes = error.into_bytes();
    let valid = std::str::from_utf8(&bytes[..offset]).expect("the prefix is valid UTF-8");
    // The bad byte shows as U+FFFD in the snippet's (lossy) text.
    let pos = at::Pos::at_offset(valid, offset, char::REPLACEMENT_CHARACTER.len_utf8(), 0);
    let source = Arc::new(String::from_utf8_lossy(&bytes).into_owned());
    Err(Box::new(FileProblem::new(
        path,
        &source,
        pos,
        format!("byte 0x{:02x} at byte offset {offset} is not UTF-8", bytes[offset]),
        Some(if valid.contains('\0') {
            "this looks like a binary file, not a scenario: check the path".into()
        } else {
            "scenario files are UTF-8 text: save the file as UTF-8".into()
        }),
    )))
}

/// Parses and validates scenario text as if read from `path`.
pub fn parse(path: &Path, text: String, ctx: &LoadContext) -> Result<Scenario, LoadError> {
    let source = Arc::new(without_bom(text));
    let raw: raw::RawScenario = every_mistake::read_all(&source, read_yaml).map_err(|errors| LoadError::Invalid {
        problems: errors.iter().map(|e| FileProblem::from_yaml(path, &source, e)).collect(),
    })?;
    let mut checker = checker::Checker::new(path, source);
    match validate::scenario(raw, &mut checker, ctx) {
        Some(scenario) if checker.problems.is_empty() => Ok(scenario),
        _ => {
            FileProblem::sort_as_written(&mut checker.problems);
            Err(LoadError::Invalid { problems: checker.problems })
        }
    }
}

/// Reads YAML text as a `T`, the way every scenario file (and its includes and
/// playbooks) is read: without the reader's own snippet, since ours is printed.
pub fn read_yaml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, serde_saphyr::Error> {
    serde_saphyr::from_str_with_options(text, serde_saphyr::options! { with_snippet: false })
}

/// `text` without a leading UTF-8 byte order mark (which editors on Windows write): the
/// YAML reader skips it when it counts columns, so the snippets must not show it either,
/// or their columns would be three bytes off the reported ones.
pub fn without_bom(text: String) -> String {
    match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    }
}

/// Scenario files under `paths`: files as given; directories searched recursively for
/// `*.yaml` / `*.yml`, skipping `playbooks/`, `shared/` (files for `include:`) and hidden
/// directories. Sorted, deduplicated. The first path that cannot be read is the error
/// (see [`discover_each`] for every path's fate).
pub fn discover(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let discovery = discover_each(paths);
    match discovery.unreadable.into_iter().next() {
        Some((path, e)) => Err(std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))),
        None => Ok(discovery.files),
    }
}

/// What [`discover_each`] found: the files, and the paths that gave none, so that a
/// command can report each of them beside the problems of the files it did find.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Scenario files, sorted and deduplicated.
    pub files: Vec<PathBuf>,
    /// Paths that could not be read (missing, no permission), with the OS's error.
    pub unreadable: Vec<(PathBuf, std::io::Error)>,
    /// Directories that hold no scenario file.
    pub empty_dirs: Vec<PathBuf>,
}

impl Discovery {
    /// The unreadable paths as load errors, in the shape invalid files are reported in.
    pub fn unreadable_as_load_errors(self) -> Vec<(PathBuf, LoadError)> {
        self.unreadable.into_iter().map(|(path, source)| (path.clone(), LoadError::Io { path, source })).collect()
    }
}

/// Like [`discover`], but every path is looked at: one that cannot be read does not hide
/// the files the others hold.
pub fn discover_each(paths: &[PathBuf]) -> Discovery {
    let mut discovery = Discovery::default();
    for path in paths {
        let meta = match std::fs::metadata(path) {
            Ok(meta) => meta,
            Err(e) => {
                discovery.unreadable.push((path.clone(), e));
                continue;
            }
        };
        if meta.is_dir() {
            let mut found = Vec::new();
            match walk(path, &mut found) {
                Ok(()) if found.is_empty() => discovery.empty_dirs.push(path.clone()),
                Ok(()) => discovery.files.append(&mut found),
                Err(e) => discovery.unreadable.push((path.clone(), e)),
            }
        } else {
            discovery.files.push(path.clone());
        }
    }
    discovery.files.sort();
    // One file named two ways (`a.yaml` and `./a.yaml`, a directory and a file in it
    // through a symlink) runs once.
    let mut seen = std::collections::HashSet::new();
    discovery.files.retain(|file| seen.insert(std::fs::canonicalize(file).unwrap_or_else(|_| file.clone())));
    discovery
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    walk_once(dir, found, &mut std::collections::HashSet::new())
}

/// [`walk`], entering each directory once: a symbolic link back to a parent would
/// otherwise recurse until the stack overflows.
fn walk_once(
    dir: &Path,
    found: &mut Vec<PathBuf>,
    seen: &mut std::collections::HashSet<PathBuf>,
) -> std::io::Result<()> {
    if !seen.insert(std::fs::canonicalize(dir)?) {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if path.is_dir() {
            // Playbooks and shared definitions (`include:`) are not scenarios.
            if name != "playbooks" && name != "shared" && !name.starts_with('.') {
                walk_once(&path, found, seen)?;
            }
        } else if name.ends_with(".yaml") || name.ends_with(".yml") {
            found.push(path);
        }
    }
    Ok(())
}

/// The JSON Schema of scenario files, generated from the same types the parser uses.
pub fn schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(raw::RawScenario)).expect("schemas serialise")
}

/// The JSON Schema of playbook files.
pub fn playbook_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(raw::RawPlaybook)).expect("schemas serialise")
}
