//! `env:` and `resolver:`: variables go gets (never the ones the sandbox owns), URLs that
//! must name declared hosts, and the sealed resolver's options.

use crate::scenario::at::{At, Pos};
use crate::scenario::checker::Checker;
use crate::scenario::diag::closest;
use crate::scenario::keyed;
use crate::scenario::model::*;
use crate::scenario::raw::*;
use crate::urlref;

/// Variables the sandbox owns: letting a scenario set them would break hermeticity.
pub const MANAGED_ENV: &[&str] = &[
    "HOME",
    "PATH",
    "GOPATH",
    "GOMODCACHE",
    "GOCACHE",
    "GOENV",
    "GOTOOLCHAIN",
    "GOWORK",
    "TMPDIR",
    "XDG_CONFIG_HOME",
    "XDG_CACHE_HOME",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_NOSYSTEM",
    "GIT_TERMINAL_PROMPT",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
];

/// Variables that send go through a forward proxy.
pub(super) const FORWARD_PROXY_VARS: &[&str] =
    &["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"];

pub(super) fn valid_env_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

pub(super) fn env(
    raw: &keyed::Keyed<At<String>>,
    hosts: &[HostSpec],
    sealed: bool,
    checker: &mut Checker,
) -> Vec<(String, String)> {
    let mut env = Vec::new();
    for (name, value) in raw.iter() {
        if !valid_env_name(name) {
            checker.problem(name.pos, format!("`{}` is not an environment variable name", name.value), None);
            continue;
        }
        if MANAGED_ENV.contains(&name.as_str()) {
            checker.problem(
                name.pos,
                format!("{} is managed by the sandbox and cannot be set", name.value),
                Some(
                    "every run gets its own HOME, GOPATH, GOMODCACHE, GOCACHE and GOTOOLCHAIN=local, GOENV=off".into(),
                ),
            );
            continue;
        }
        if !fits_the_kernel(name, value, checker) {
            continue;
        }
        if !sealed {
            check_host_refs(name, value, hosts, checker);
        }
        env.push((name.value.clone(), value.value.clone()));
    }
    let goproxy_hosts: Vec<&HostSpec> = hosts.iter().filter(|h| matches!(h.kind, HostKind::Goproxy(_))).collect();
    if !env.iter().any(|(k, _)| k == "GOPROXY") {
        match goproxy_hosts.as_slice() {
            [only] => env.insert(0, ("GOPROXY".into(), format!("https://{}", only.name))),
            [] => {}
            several => {
                let pos = raw.iter().next().map(|(k, _)| k.pos).unwrap_or_default();
                checker.problem(
                    pos,
                    format!("{} goproxy hosts are declared but GOPROXY is not set", several.len()),
                    Some(format!(
                        "say how go uses them, e.g. GOPROXY: https://{},https://{}",
                        several[0].name, several[1].name
                    )),
                );
            }
        }
    }
    let databases: Vec<&str> = hosts
        .iter()
        .filter_map(|h| match &h.kind {
            HostKind::Sumdb(db) => Some(db.name.as_str()),
            _ => None,
        })
        .collect();
    if !env.iter().any(|(k, _)| k == "GOSUMDB") {
        match databases.as_slice() {
            [only] => env.push(("GOSUMDB".into(), only.to_string())),
            [] => {}
            several => {
                let pos = raw.iter().next().map(|(k, _)| k.pos).unwrap_or_default();
                checker.problem(
                    pos,
                    format!("{} checksum databases are declared but GOSUMDB is not set", several.len()),
                    Some(format!("name the one go uses, e.g. GOSUMDB: {}", several[0])),
                );
            }
        }
    }
    env
}

/// The most the kernel passes of one environment string (`NAME=value` and its NUL):
/// Linux's MAX_ARG_STRLEN, 32 pages. go could not even be started with a longer one.
pub const MAX_ENV_STRING: usize = 32 * 4096;

/// Whether `name=value` fits in one environment string; a problem at the value if not.
pub(super) fn fits_the_kernel(name: &At<String>, value: &At<String>, checker: &mut Checker) -> bool {
    let size = name.len() + 1 + value.len() + 1;
    if size <= MAX_ENV_STRING {
        return true;
    }
    checker.problem(
        value.pos,
        format!(
            "{} is {} bytes long: the kernel passes at most {MAX_ENV_STRING} bytes per variable",
            name.value,
            value.len()
        ),
        Some("environment values are settings and URLs, not data".into()),
    );
    false
}

/// Every URL in an env value must name a declared host (or loopback): anything else
/// would send go out of the sandbox.
pub fn check_host_refs(name: &At<String>, value: &At<String>, hosts: &[HostSpec], checker: &mut Checker) {
    for r in urlref::find(name, value) {
        let declared = |h: &HostSpec| h.name == r.host || matches!(&h.kind, HostKind::Sumdb(db) if db.name == r.host);
        if r.is_loopback() || hosts.iter().any(declared) {
            continue;
        }
        let names = hosts.iter().map(|h| h.name.as_str());
        let help = match closest(&r.host, names) {
            Some(best) => format!("did you mean `{best}`?"),
            None => "declare it under hosts: (go must not reach real hosts), or say `network: sealed`, where undeclared names do not resolve".to_string(),
        };
        let pos = inner_pos(&checker.source, value, r.authority.clone());
        checker.problem(
            pos,
            format!("{} refers to host `{}`, which this scenario does not declare", name.value, r.host),
            Some(help),
        );
    }
}

/// The position of `range` (a byte range of the parsed value) in the source, when the
/// value is written plainly or simply quoted there; else the whole value's position.
pub(super) fn inner_pos(source: &str, value: &At<String>, range: std::ops::Range<usize>) -> Pos {
    let Some(offset) = value.pos.offset else {
        return value.pos;
    };
    let quoted = matches!(source.as_bytes().get(offset), Some(b'"' | b'\''));
    let start = offset + usize::from(quoted) + range.start;
    let end = start + range.len();
    if source.get(start..end) != value.get(range.clone()) {
        return value.pos;
    }
    let column = value.pos.column + usize::from(quoted) + value[..range.start].chars().count();
    Pos { line: value.pos.line, column, offset: Some(start), len: range.len() }
}

pub(super) fn resolver(raw: Option<&RawResolver>, checker: &mut Checker) -> ResolverOptions {
    let Some(raw) = raw else { return ResolverOptions::default() };
    let timeout = raw.timeout.as_ref().and_then(|t| checker.duration(t));
    if let (Some(d), Some(at)) = (timeout, &raw.timeout)
        && d.subsec_nanos() != 0
    {
        checker.problem(
            at.pos,
            "the resolver timeout is in whole seconds",
            Some("resolv.conf's `options timeout:N` counts seconds: write 1s, 2s…".into()),
        );
    }
    if let Some(a) = &raw.attempts
        && !(1..=5).contains(&a.value)
    {
        checker.problem(a.pos, format!("{} attempts: resolv.conf allows 1 to 5", a.value), None);
    }
    ResolverOptions { timeout, attempts: raw.attempts.as_ref().map(|a| a.value) }
}
