//! The go command switching to another toolchain (`GOTOOLCHAIN`, or a go.mod asking for
//! a newer go) and failing: the download of `golang.org/toolchain` goes through GOPROXY
//! like any module and fails like one, or `GOTOOLCHAIN=local` forbids the switch.
//! These run before the network rules: the network error inside is the detail, the
//! failed switch is what the user must fix.

use std::sync::LazyLock;

use regex::Regex;

use super::found;
use crate::diagnose::facts::Facts;
use crate::diagnose::{Category, Confidence, Diagnosis};

/// `go: download goX: …`, `toolchain not available`, and `go.mod requires go >= X
/// (running go Y; GOTOOLCHAIN=local)`.
pub fn download(f: &Facts) -> Option<Diagnosis> {
    static SWITCH: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"go: download (go\d\S*?)(?: for (\S+))?: ([^\n]+)",
            r"|(?:go: )?(?:go\.mod|go\.work|\S+@\S+) requires go >= (\S+) \(running go (\S+); GOTOOLCHAIN=local\)",
            r"|go: switching to (go\S+): ([^\n]+)",
            r"|invalid GOTOOLCHAIN[^\n]*|invalid toolchain[^\n]*|cannot find \x22go\d[^\x22]*\x22 in PATH",
            // The toolchain module as go names what it fetches, not a GOROOT inside the module
            // cache (`/root/go/pkg/mod/golang.org/toolchain@v0.0.1-go1.27.3.linux-amd64/src/…`
            // in any error of a go that was itself switched to).
            r#"|(?:^|[\s"'(])golang\.org/toolchain@v0\.0\.1-go[^\n]*|go: go@\S+: [^\n]*"#,
        ))
        .expect("compiles")
    });
    let (error, caps) = f.matching(&SWITCH).last()?;
    // `go get go@1.24` asks for the latest 1.24.x: no version matched, before any switch.
    // Either no such release exists yet, or GOPROXY serves none of golang.org/toolchain's
    // versions (direct, or a private proxy without it): the log cannot say which.
    if caps[0].starts_with("go: go@") && caps[0].contains("no matching versions for query") {
        let summary = format!(
            "no go release matched the version asked for ({}): the release does not exist yet, or GOPROXY lists no \
             versions of golang.org/toolchain (GOPROXY=direct, a private proxy without it)",
            caps[0].trim()
        );
        return Some(found(Category::ModuleInvalidVersion, Confidence::Low, summary, vec![error.line()], &[]).or(
            Category::ToolchainDownload,
            Confidence::Low,
            "the toolchain module's versions come through GOPROXY: a proxy that lacks them answers the same",
        ));
    }
    let summary = if let Some(version) = caps.get(1) {
        let why = caps[3].trim();
        let hint = if why.contains("toolchain not available") {
            "no such toolchain exists for this platform, or GOPROXY=off / a proxy without golang.org/toolchain hides it"
        } else {
            "the toolchain is downloaded through GOPROXY like a module: fix the proxy, or install that go and run it with GOTOOLCHAIN=local"
        };
        format!("go needed {} and could not download it ({why}): {hint}", version.as_str())
    } else if let (Some(want), Some(have)) = (caps.get(4), caps.get(5)) {
        format!(
            "the module needs go >= {} but this is go {} and GOTOOLCHAIN=local forbids switching: install a newer go, \
             or allow the switch (GOTOOLCHAIN=auto) where the toolchain can be downloaded",
            want.as_str(),
            have.as_str()
        )
    } else if let Some(version) = caps.get(6) {
        format!("switching to {} failed: {}", version.as_str(), caps[7].trim())
    } else if caps[0].contains("toolchain@") || caps[0].starts_with("go: go@") {
        format!(
            "go could not fetch the toolchain module golang.org/toolchain ({}): toolchains come through GOPROXY like \
             any module; use a proxy that serves golang.org/toolchain, or install that go",
            caps[0].trim()
        )
    } else if caps[0].contains("in PATH") {
        format!("GOTOOLCHAIN=path forbids downloading, and {}", caps[0].trim())
    } else {
        format!("the GOTOOLCHAIN setting (or the go.mod toolchain line) is invalid: {}", caps[0].trim())
    };
    let mut evidence = vec![error.line()];
    evidence.extend(f.env_line("GOTOOLCHAIN"));
    evidence.extend(f.env_line("GOPROXY"));
    Some(found(Category::ToolchainDownload, Confidence::High, summary, evidence, &[]))
}
