//! Problems with the module itself rather than with getting it: a go.mod declaring
//! another path than the one required, and versions that do not exist or do not fit the
//! module path (unknown revisions, `+incompatible`, major-version suffixes).

use std::sync::LazyLock;

use regex::Regex;

use super::{found, subject};
use crate::diagnose::facts::Facts;
use crate::diagnose::{Category, Confidence, Diagnosis};

/// `module declares its path as: X but was required as: Y`.
pub fn path_mismatch(f: &Facts) -> Option<Diagnosis> {
    static MISMATCH: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"module declares its path as: (\S+)\s+but was required as: (\S+)").expect("compiles")
    });
    let (error, caps) = f.matching(&MISMATCH).last()?;
    let (declared, required) = (caps[1].to_string(), caps[2].to_string());
    let summary = format!(
        "the module's go.mod says it is {declared}, but it was required as {required}: require it by its declared \
         path (or add a replace directive), or fix the go.mod upstream — a fork or a renamed module"
    );
    Some(found(Category::ModulePathMismatch, Confidence::High, summary, vec![error.line()], &[]))
}

/// Versions that do not exist or do not fit the module path.
pub fn invalid_version(f: &Facts) -> Option<Diagnosis> {
    static INVALID: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"invalid version: (unknown revision \S+)",
            r"|invalid version: (module contains a go\.mod file, so (?:module path must match major version|major version must be compatible)[^\n]*)",
            r"|invalid version: (should be v\d+(?:\.\d+)*(?: or v\d+)?, not v\d+[^\n]*)",
            r"|invalid (?:version|module): (go\.mod has (?:post|non)-v\d+ module path [^\n]*)",
            r"|(\+incompatible suffix not allowed[^\n]*)",
            r"|invalid (?:pseudo-)?version[^:\n]*: ([^\n]*)",
            r"|(no matching versions for query \S+)",
            r"|(unknown revision \S+)",
        ))
        .expect("compiles")
    });
    let (error, caps) = f.matching(&INVALID).last()?;
    let detail = (1..=8).find_map(|i| caps.get(i)).map_or("", |m| m.as_str()).trim().to_string();
    static VERSIONED: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(\S+@v[^\s:]+): invalid").expect("compiles"));
    let what = VERSIONED
        .captures(&error.text)
        .map(|c| c[1].to_string())
        .or_else(|| subject(&error.text))
        .unwrap_or_else(|| "the requested version".into());
    let hint = if detail.starts_with("unknown revision") || detail.starts_with("no matching versions") {
        "the tag or commit does not exist where go looked (not pushed, deleted, or a typo)"
    } else if detail.contains("major version") || detail.contains("should be v") || detail.contains("module path") {
        "from v2 on, the module path must end in the major version (/v2) — or the version must carry +incompatible for a module without go.mod"
    } else {
        "the version string is not one go accepts for this module"
    };
    let summary = format!("{what}: {detail}: {hint}");
    Some(found(Category::ModuleInvalidVersion, Confidence::High, summary, vec![error.line()], &[]))
}
