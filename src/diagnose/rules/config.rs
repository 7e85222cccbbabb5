//! go's own configuration it cannot use: a GOPROXY with an unknown scheme or no entry, a
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
    let (setting, fix) = if caps.get(1).is_some() || caps.get(2).is_some() {
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
