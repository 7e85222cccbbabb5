//! go's own configuration it cannot use: a GOPROXY with an unknown scheme or no entry (the
//! latter is `proxy.off`: go may fetch from nowhere, as with GOPROXY=off), a
//! GOFLAGS value this go does not know, `go get -insecure` (removed), modules turned off,
//! credentials in a plain-http GOPROXY URL.
//! No category is about configuration, so the verdict is `unknown`, but it names the
//! setting and the fix rather than saying that nothing matched.

use std::sync::LazyLock;

use regex::Regex;

use super::found;
use crate::diagnose::facts::Facts;
use crate::diagnose::{Category, Confidence, Diagnosis};

/// A setting go refused before it fetched anything, in go's words (go 1.19–1.27).
pub fn unusable(f: &Facts) -> Option<Diagnosis> {
    static REFUSED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"(invalid proxy URL (?:scheme \(must be https, http, file\)|missing scheme): \S+)",
            r"|(GOPROXY list is not the empty string, but contains no entries)",
            r"|((?:parsing \$GOFLAGS: [^\n]+|[^\n]* \(from \$GOFLAGS\)[^\n]*))",
            r"|(-insecure flag is no longer supported; use GOINSECURE instead)",
            r"|(modules disabled by GO111MODULE=off)",
            r"|(refusing to pass credentials to insecure URL: \S+)",
        ))
        .expect("compiles")
    });
    let (error, caps) = f.matching(&REFUSED).next()?;
    let said = caps[0].trim();
    // A GOPROXY with no entry (`GOPROXY=","`, a go whose GOROOT/go.env is missing and a
    // blank value): go has no module proxy and no `direct` to fetch from, as with
    // GOPROXY=off, and the fix is the same: set GOPROXY. (Readers of such logs split
    // between that and configuration no category covers: low, with the other named.)
    if caps.get(2).is_some() {
        let mut evidence = vec![error.line()];
        evidence.extend(f.env_line("GOPROXY"));
        return Some(
            found(
                Category::ProxyOff,
                Confidence::Low,
                format!(
                    "GOPROXY lists no proxy and no `direct` ({said}), so go may fetch no module: set GOPROXY \
                 (https://proxy.golang.org,direct by default; a go installed without its GOROOT/go.env has no default)"
                ),
                evidence,
                &["enable-goproxy"],
            )
            .or(
                Category::Unknown,
                Confidence::Low,
                "a GOPROXY value go refuses is configuration no category covers",
            ),
        );
    }
    let (setting, fix) = if caps.get(1).is_some() {
        ("GOPROXY", "write each entry as https://host[/path], http://…, file://…, direct or off, separated by , or |")
    } else if caps.get(3).is_some() {
        ("GOFLAGS", "fix or remove the flag or value this go cannot use (go env GOFLAGS shows where it comes from)")
    } else if caps.get(4).is_some() {
        ("-insecure", "drop -insecure and list the hosts in GOINSECURE (and GONOSUMDB) instead")
    } else if caps.get(5).is_some() {
        ("GO111MODULE", "unset GO111MODULE (or set it to on): go's module commands need modules")
    } else {
        (
            "GOPROXY",
            "the entry carries credentials (user:password@) over plain http, which go will not send: serve the proxy \
             over https, or give the credentials in ~/.netrc for an https URL",
        )
    };
    let mut evidence = vec![error.line()];
    evidence.extend(f.env_line(setting));
    Some(found(
        Category::Unknown,
        Confidence::Low,
        format!("go refused its own configuration ({setting}) before fetching anything ({said}): {fix}"),
        evidence,
        &[],
    ))
}

/// The go command's own arguments or flags, refused before anything was fetched: a flag's
/// value (`go: -exclude=m@bad: version "bad" invalid: …`), an argument that is no package
/// or module path (`go: x.go: arguments must be package or module paths`), a module path
/// given on the command line that is none (`go get appengine`: `malformed module path …`),
/// `go mod init` without a path where go cannot guess one, a flag go does not know, and a
/// value `go env -w` will not write. No category is about how go was called, so the
/// verdict is `unknown`, saying what go refused (for a malformed path, go.mod is named as
/// the other reading: the same path there reads the same).
pub fn usage(f: &Facts) -> Option<Diagnosis> {
    static REFUSED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"(?m)^go: (-[\w.-]+=[^\s:]*): ([^\n]+)",
            r"|^go: (\S+): (arguments must be package or module paths)",
            r#"|^go: malformed module path "([^"]*)": ([^\n]+)"#,
            r"|^go: (cannot determine module path for source directory \S+)",
            r"|^(flag provided but not defined: -\S+)",
        ))
        .expect("compiles")
    });
    // What only `go env -w` says of a value it will not write, without the command in view:
    // go running with such a GOPATH or GOMODCACHE ends the sentence with a period (and
    // says `For more details see: 'go help gopath'`), `go env -w` does not (cmd/go's
    // envcmd against main.go and modfetch). (A leading `~` both word alike: main.go
    // refuses it on every run, as a Dockerfile's `ENV GOPATH=~/go` meets it.)
    static ENV_WRITE_REFUSED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?m)^go: ((?:GOPATH|GOMODCACHE) entry is relative; must be absolute path: "[^"\n]*")$"#)
            .expect("compiles")
    });
    let command = f.evidence.command.as_deref().unwrap_or_default();
    if !command.starts_with("go ")
        && let Some((error, caps)) = f.matching(&ENV_WRITE_REFUSED).next()
    {
        let summary = format!(
            "go env -w refused the value it was asked to write ({}): nothing was changed; write an absolute path",
            &caps[1]
        );
        return Some(found(Category::Unknown, Confidence::Low, summary, vec![error.line()], &[]).or(
            Category::CachePermission,
            Confidence::Low,
            "if go ran with that value (not go env -w), its caches cannot be set up",
        ));
    }
    // `go env -w` refusing the value it was asked to write: the command line's, not the
    // configuration go runs with (go running with a relative GOMODCACHE says the same, with
    // a period after it).
    // (Only an error about a variable it was given: `writing go env config: permission
    // denied` is the machine's, not the value's.)
    if command.starts_with("go env -w ") || command.starts_with("go env -u ") {
        let variables: Vec<&str> = command
            .split_whitespace()
            .skip(3)
            .map(|a| a.split('=').next().unwrap_or(a))
            .filter(|v| !v.is_empty())
            .collect();
        let error = f.errors.iter().find(|e| {
            let text = e.text.trim_start();
            text.starts_with("go: ") && variables.iter().any(|v| text.contains(v))
        })?;
        let summary =
            format!("go env refused the setting it was asked to write ({}): fix the value", error.text.trim());
        return Some(found(Category::Unknown, Confidence::Low, summary, vec![error.line()], &[]));
    }
    // The command's own arguments, unquoted, without their `@version`.
    let arguments: Vec<&str> = command
        .split_whitespace()
        .skip(1)
        .map(|a| a.trim_matches(['\'', '"']))
        .map(|a| a.split('@').next().unwrap_or(a))
        .collect();
    // go's flag parsing says `flag provided but not defined` and then `usage: go …`; any
    // Go program's flag package says the first line too, with its own `Usage of …`.
    let go_usage = f.errors.iter().any(|e| e.text.trim_start().starts_with("usage: go "));
    let (error, caps) = f.matching(&REFUSED).find(|(_, caps)| {
        if let Some(path) = caps.get(5) {
            // A malformed path is the command's only when it is one of the command's
            // arguments: go says the same of a path in a tool's module configuration.
            let path = path.as_str();
            command.starts_with("go ")
                && !path.is_empty()
                && (arguments.contains(&path) || command.contains(&format!("'{path}'")))
        } else {
            caps.get(8).is_none() || go_usage
        }
    })?;
    let summary = if let Some(flag) = caps.get(1) {
        format!("go refused the value of its flag {} ({}): fix the flag's value", flag.as_str(), caps[2].trim())
    } else if let Some(argument) = caps.get(3) {
        format!(
            "go refused the argument {} ({}): name packages or modules by their import path (a file belongs to go \
             build or go run)",
            argument.as_str(),
            caps[4].trim()
        )
    } else if let Some(path) = caps.get(5) {
        format!(
            "the command's argument {:?} is no module path ({}): name the module by its full path \
             (host/owner/repository)",
            path.as_str(),
            caps[6].trim()
        )
    } else if let Some(flag) = caps.get(8) {
        format!("go does not know the flag ({}): see `go help` for the command's flags", flag.as_str())
    } else {
        format!(
            "go mod init was given no module path and cannot guess one ({}): give it one (go mod init \
             example.com/m)",
            caps[7].trim()
        )
    };
    let diagnosis = found(Category::Unknown, Confidence::Low, summary, vec![error.line()], &[]);
    Some(if caps.get(5).is_some() {
        diagnosis.or(Category::ModuleGoMod, Confidence::Low, "the same path in go.mod reads the same")
    } else {
        diagnosis
    })
}
