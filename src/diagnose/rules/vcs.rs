//! Direct VCS mode (`GOPROXY=direct`, GOPRIVATE modules): git asking for credentials, a
//! repository or revision that does not exist, and `?go-get=1` pages without (or with a
//! wrong) go-import meta tag. go wraps git's failures as `invalid version: git … exit
//! status 128:` followed by git's own `fatal:` line, so these rules run before the
//! module-version ones.

use std::sync::LazyLock;

use regex::Regex;

use super::{found, subject, url_host};
use crate::diagnose::facts::Facts;
use crate::diagnose::{Category, Confidence, Diagnosis};

/// git asked for a user name or password (which `GIT_TERMINAL_PROMPT=0` refuses), or
/// the server rejected the credentials.
pub fn auth(f: &Facts) -> Option<Diagnosis> {
    static AUTH: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"fatal: could not read (?:Username|Password) for '([^']+)': terminal prompts disabled",
            r"|fatal: Authentication failed for '([^']+)'",
            r"|remote: HTTP Basic: Access denied",
            r"|fatal: unable to access '([^']+)': The requested URL returned error: 40[13]",
            r"|Permission denied \(publickey\)",
            r"|terminal prompts disabled",
        ))
        .expect("compiles")
    });
    let (error, caps) = f.matching(&AUTH).last()?;
    let url = caps.get(1).or(caps.get(2)).or(caps.get(3)).map(|m| m.as_str().to_string());
    let host = url.as_deref().map_or_else(|| "the git host".to_string(), |u| url_host(u).to_string());
    let mut evidence = vec![error.line()];
    evidence.extend(f.notable_requests());
    evidence.extend(f.env_line("GOPRIVATE"));
    evidence.extend(f.env_line("GOPROXY"));
    let what = subject(&error.text).map(|s| format!(" for {s}")).unwrap_or_default();
    let summary = if error.text.contains("Authentication failed") || error.text.contains("Access denied") {
        format!("{host} rejected the credentials git sent{what}: they are wrong or lack access")
    } else if error.text.contains("publickey") {
        format!("the SSH key was refused{what}: git is using ssh and no authorised key is loaded")
    } else {
        format!(
            "git needed credentials for {host}{what} and had none (go disables git's prompts): add them to ~/.netrc \
             (git reads it itself) or a git credential helper"
        )
    };
    Some(found(Category::VcsAuth, Confidence::High, summary, evidence, &["git-credentials"]))
}

/// The repository, or the revision asked for, does not exist on the git host.
pub fn not_found(f: &Facts) -> Option<Diagnosis> {
    static REPO: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"fatal: repository '([^']+)' not found",
            r"|remote: (?:Repository|Project) not found",
            r"|fatal: '([^']+)' does not appear to be a git repository",
            r"|fatal: remote error: [^\n]*(?:not found|does not exist)",
        ))
        .expect("compiles")
    });
    let (error, caps) = f.matching(&REPO).last()?;
    let url = caps.get(1).or(caps.get(2)).map(|m| m.as_str().to_string());
    let mut evidence = vec![error.line()];
    evidence.extend(f.notable_requests());
    let what = subject(&error.text).map(|s| format!(" ({s})")).unwrap_or_default();
    let summary = match url {
        Some(url) => format!(
            "the repository {url} does not exist{what}: the go-import meta tag points at a moved or deleted \
             repository, or the token cannot see it (some hosts answer 404 rather than 403)"
        ),
        None => format!("the git host says the repository does not exist{what}"),
    };
    Some(found(Category::VcsNotFound, Confidence::High, summary, evidence, &["use-mirror"]))
}

/// `?go-get=1` pages: no go-import meta tag, one for another prefix, or no page at all.
pub fn meta(f: &Facts) -> Option<Diagnosis> {
    static META: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r#"unrecognized import path "([^"]+)": (?:"#,
            r"parse \S+: no go-import meta tags \((?:meta tag (\S+) did not match import path \S+)?\)",
            r"|reading (\S+\?go-get=1): (\d{3}[^\n]*)",
            r"|https fetch: [^\n]*",
            r")",
        ))
        .expect("compiles")
    });
    let (error, caps) = f.matching(&META).last()?;
    let path = caps[1].to_string();
    // A failed https fetch is a network problem whose own rule (DNS, TLS, refused, …)
    // says more; this rule only speaks about the page's content.
    if caps.get(3).is_none() && !error.text.contains("go-import meta tags") {
        return None;
    }
    let mut evidence = vec![error.line()];
    evidence.extend(f.notable_requests());
    evidence.extend(f.env_line("GOPROXY"));
    let summary = match (caps.get(2), caps.get(3), caps.get(4)) {
        (Some(prefix), _, _) => format!(
            "https://{path}?go-get=1 declares the module root {} (a go-import meta tag for another prefix), not one \
             covering {path}: the vanity page is out of date or the import path is wrong",
            prefix.as_str()
        ),
        (_, Some(url), Some(status)) => format!(
            "{} answered {}: the host serves no go-import page for {path} (wrong import path, or a vanity \
             server that does not know the module)",
            url.as_str(),
            status.as_str().trim()
        ),
        _ => format!("https://{path}?go-get=1 has no go-import meta tag: it is not a Go vanity page"),
    };
    Some(found(Category::VcsMeta, Confidence::High, summary, evidence, &["use-mirror"]))
}
