//! `sandbox:`: files placed in HOME before the first run, directories that belong to
//! root instead of go's user, and sandbox variables go does not get.

use std::path::{Component, Path};

use crate::scenario::checker::Checker;
use crate::scenario::model::{SandboxDir, SandboxSetup};
use crate::scenario::raw::{RawSandbox, RawSandboxDir};

/// Sandbox variables a scenario may leave unset: go then falls back to its defaults
/// below HOME, still inside the sandbox.
pub(super) const UNSETTABLE: &[&str] = &["GOPATH", "GOMODCACHE", "GOCACHE", "GOENV"];

pub(super) fn sandbox(raw: Option<&RawSandbox>, checker: &mut Checker) -> SandboxSetup {
    let Some(raw) = raw else { return SandboxSetup::default() };
    let mut setup = SandboxSetup::default();
    for (path, content) in raw.home.iter() {
        let relative = Path::new(path.as_str());
        let inside = !path.is_empty()
            && relative.is_relative()
            && relative.components().all(|c| matches!(c, Component::Normal(_)));
        if !inside {
            checker.problem(
                path.pos,
                format!("`{}` is not a path below HOME", path.value),
                Some("write it relative to HOME, like .netrc or .config/go/env".into()),
            );
            continue;
        }
        setup.home_files.push((path.value.clone(), content.clone()));
    }
    for dir in &raw.root_owned {
        let dir = match dir.value {
            RawSandboxDir::Home => SandboxDir::Home,
            RawSandboxDir::Gopath => SandboxDir::Gopath,
            RawSandboxDir::BuildCache => SandboxDir::BuildCache,
        };
        if !setup.root_owned.contains(&dir) {
            setup.root_owned.push(dir);
        }
    }
    for var in &raw.unset {
        if UNSETTABLE.contains(&var.as_str()) {
            setup.unset.push(var.value.clone());
        } else {
            checker.problem(
                var.pos,
                format!("`{}` cannot be left unset", var.value),
                Some(format!("the sandbox variables a scenario may unset are {}", UNSETTABLE.join(", "))),
            );
        }
    }
    setup
}
