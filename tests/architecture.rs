//! Keeps the arrows of ARCHITECTURE.md honest: every module of the library sits in a
//! layer, and its code may use only the layers below its own (test code may reach
//! anywhere); inside a folder, sibling modules never use each other in a circle. A new
//! top-level module must be given a layer here and in ARCHITECTURE.md.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, lowest first. A module may use the modules of lower layers only.
const LAYERS: &[(&str, &[&str])] = &[
    ("vocabulary", &["vocab"]),
    ("reading user files", &["userfile"]),
    ("formats and mechanics", &["cleanup", "fixture", "fsutil", "gooutput", "pki", "redact", "sealed", "urlref"]),
    ("go's own data", &["gobin", "modcache", "sumdb"]),
    ("fakes", &["fake"]),
    ("faults", &["fault"]),
    ("scenario model", &["scenario"]),
    ("world", &["world"]),
    ("runner", &["runner"]),
    ("evidence", &["evidence"]),
    ("diagnosis", &["diagnose"]),
    ("judgement", &["judge"]),
    ("suite", &["suite"]),
    ("front ends", &["corpus", "doctor", "repro"]),
    ("reporters", &["report"]),
    ("test harness", &["testing"]),
];

fn layer_of(module: &str) -> Option<(usize, &'static str)> {
    LAYERS.iter().enumerate().find(|(_, (_, members))| members.contains(&module)).map(|(i, (name, _))| (i, *name))
}

/// One source file: its module path (`["fake", "http", "server"]`) and its code without
/// comments and test modules.
struct Source {
    file: PathBuf,
    module: Vec<String>,
    code: String,
}

fn sources() -> Vec<Source> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .filter_map(|file| {
            let relative = file.strip_prefix(&src).unwrap().with_extension("");
            let mut module: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
            match module.last().map(String::as_str) {
                // The crate root and the binary are above every layer; test files are test code.
                _ if module.len() == 1 && (module[0] == "lib" || module[0] == "main") => return None,
                Some("tests") => return None,
                Some("mod") => {
                    module.pop();
                }
                _ => {}
            }
            let text = std::fs::read_to_string(&file).unwrap();
            Some(Source { file, module, code: library_code(&text) })
        })
        .collect()
}

/// `text` without comments and without its `#[cfg(test)]` items.
fn library_code(text: &str) -> String {
    let mut code = String::new();
    let mut skip_depth: Option<i32> = None;
    let mut depth = 0i32;
    let mut test_attribute = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("//") {
            continue;
        }
        let opens = line.matches('{').count() as i32;
        let closes = line.matches('}').count() as i32;
        if skip_depth.is_none() && test_attribute {
            // The item after `#[cfg(test)]`: skipped, to its closing brace (or its `;`).
            test_attribute = false;
            if opens > closes {
                skip_depth = Some(depth);
            }
            depth += opens - closes;
            continue;
        }
        if trimmed.starts_with("#[cfg(test)]") {
            test_attribute = true;
            continue;
        }
        depth += opens - closes;
        if let Some(level) = skip_depth {
            if depth <= level {
                skip_depth = None;
            }
            continue;
        }
        code.push_str(line);
        code.push('\n');
    }
    code
}

/// Every module path the code names: `crate::a::b…` as written, `super::…` resolved
/// against `module` (a file's `super` is its folder's module; `mod.rs`'s is the parent
/// folder's), `use super::{a, b::c}` groups split.
fn references(source: &Source, is_folder: bool) -> Vec<Vec<String>> {
    let path = regex::Regex::new(r"\b(crate|super)((?:::[A-Za-z_][A-Za-z0-9_]*)*)(::\{([^}]*)\})?").unwrap();
    let mut found = Vec::new();
    for c in path.captures_iter(&source.code) {
        let mut base: Vec<String> = match &c[1] {
            "crate" => Vec::new(),
            _ => {
                let mut parent = source.module.clone();
                if !is_folder || !parent.is_empty() {
                    parent.pop();
                }
                parent
            }
        };
        base.extend(c[2].split("::").filter(|s| !s.is_empty()).map(str::to_string));
        match c.get(4) {
            Some(group) => {
                for item in group.as_str().split(',') {
                    let mut full = base.clone();
                    full.extend(
                        item.split("::").map(|s| s.trim().to_string()).filter(|s| !s.is_empty() && s != "self"),
                    );
                    found.push(full);
                }
            }
            None => found.push(base),
        }
    }
    found
}

#[test]
fn every_module_uses_only_lower_layers() {
    let lib = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let declared: BTreeSet<&str> = lib.lines().filter_map(|l| l.strip_prefix("pub mod ")?.strip_suffix(';')).collect();
    let placed: BTreeSet<&str> = LAYERS.iter().flat_map(|(_, m)| m.iter().copied()).collect();
    let unplaced: Vec<_> = declared.difference(&placed).collect();
    assert!(unplaced.is_empty(), "modules without a layer (add them to ARCHITECTURE.md and LAYERS): {unplaced:?}");

    let mut upward = Vec::new();
    for source in sources() {
        let top = &source.module[0];
        let (own, own_name) =
            layer_of(top).unwrap_or_else(|| panic!("{}: module {top} has no layer", source.file.display()));
        let is_folder = source.file.ends_with("mod.rs");
        for reference in references(&source, is_folder) {
            let Some(target) = reference.first() else { continue };
            if target == top || !declared.contains(target.as_str()) {
                continue;
            }
            let (theirs, their_name) = layer_of(target).unwrap();
            if theirs >= own {
                upward.push(format!(
                    "{}: {top} ({own_name}) uses {} ({their_name})",
                    source.file.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap().display(),
                    reference.join("::")
                ));
            }
        }
    }
    upward.sort();
    upward.dedup();
    assert!(upward.is_empty(), "imports that do not point down the layers:\n{}", upward.join("\n"));
}

#[test]
fn sibling_modules_never_use_each_other_in_a_circle() {
    let sources = sources();
    let modules: BTreeSet<Vec<String>> = sources.iter().map(|s| s.module.clone()).collect();
    // folder → sibling → siblings it uses
    let mut graphs: BTreeMap<Vec<String>, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for source in &sources {
        let Some((name, folder)) = source.module.split_last() else { continue };
        let is_folder = source.file.ends_with("mod.rs");
        for reference in references(source, is_folder) {
            if reference.len() > folder.len() && reference[..folder.len()] == *folder {
                let sibling = &reference[folder.len()];
                let mut sibling_path = folder.to_vec();
                sibling_path.push(sibling.clone());
                if sibling != name && modules.contains(&sibling_path) {
                    graphs.entry(folder.to_vec()).or_default().entry(name.clone()).or_default().insert(sibling.clone());
                }
            }
        }
    }
    let mut circles = Vec::new();
    for (folder, graph) in &graphs {
        for start in graph.keys() {
            // Is `start` reachable from its own successors?
            let mut seen = BTreeSet::new();
            let mut stack: Vec<(String, Vec<String>)> =
                graph[start].iter().map(|n| (n.clone(), vec![start.clone(), n.clone()])).collect();
            while let Some((node, trail)) = stack.pop() {
                if node == *start {
                    circles.push(format!("{}: {}", folder.join("::"), trail.join(" → ")));
                    break;
                }
                if seen.insert(node.clone())
                    && let Some(next) = graph.get(&node)
                {
                    for n in next {
                        let mut t = trail.clone();
                        t.push(n.clone());
                        stack.push((n.clone(), t));
                    }
                }
            }
        }
    }
    assert!(circles.is_empty(), "modules that use each other in a circle:\n{}", circles.join("\n"));
}

#[test]
fn the_checks_see_imports_at_all() {
    // A check that finds nothing because it reads nothing would pass forever.
    let sources = sources();
    let runner = sources.iter().find(|s| s.module == ["runner", "run"]).expect("src/runner/run.rs");
    let refs = references(runner, false);
    assert!(refs.iter().any(|r| r.first().is_some_and(|t| t == "world")), "{refs:?}");
    assert!(refs.iter().any(|r| r.starts_with(&["runner".to_string(), "gocmd".to_string()])), "{refs:?}");
    let code = library_code("use a;\n// crate::x\n#[cfg(test)]\nmod tests {\n    use crate::y;\n}\nuse crate::z;\n");
    assert_eq!(code, "use a;\nuse crate::z;\n");
}
