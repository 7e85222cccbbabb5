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
    preset: &[String],
    checker: &mut Checker,
) -> Vec<(String, String)> {
    let mut env = Vec::new();
    for (name, value) in raw.iter() {
        if !valid_env_name(name) {
            checker.problem(name.pos, format!("`{}` is not an environment variable name", name.value), None);
            continue;
        }
        // go reads its variables (and git's) in capitals only: `goproxy:` sets nothing.
        let upper = name.to_ascii_uppercase();
        if upper != name.as_str() && (upper.starts_with("GO") || upper.starts_with("GIT_")) {
            checker.warning(
                name.pos,
                format!("`{}` is not {upper}: go reads its variables in capitals only", name.value),
                Some(format!("write `{upper}`")),
            );
        }
        if MANAGED_ENV.contains(&name.as_str()) {
            checker.problem(
                name.pos,
                format!("{} is managed by the sandbox and cannot be set", name.value),
                Some(
                    "every run gets its own HOME, GOPATH, GOMODCACHE, GOCACHE and GOENV=off (a scenario may leave some unset: sandbox: {unset: [...]})".into(),
                ),
            );
            continue;
        }
        if !fits_the_kernel(name, value, checker) {
            continue;
        }
        check_ports(name, value, checker);
        if name.value == "GOSUMDB" {
            check_gosumdb(value, hosts, sealed, checker);
        } else if !sealed {
            check_host_refs(name, value, hosts, checker);
        }
        env.push((name.value.clone(), value.value.clone()));
    }
    let goproxy_hosts: Vec<&HostSpec> = hosts.iter().filter(|h| matches!(h.kind, HostKind::Goproxy(_))).collect();
    // Variables the go env file in HOME sets are left to it.
    if !env.iter().any(|(k, _)| k == "GOPROXY") && !preset.iter().any(|k| k == "GOPROXY") {
        match goproxy_hosts.as_slice() {
            [only] => env.insert(0, ("GOPROXY".into(), format!("https://{}", only.name))),
            // go's default then: proxy.golang.org, which no host here answers. Sealed, that
            // may be the point (a canary); otherwise the scenario tests the open mode's
            // guard, not the world it declares, and would pass on "failure" vacuously.
            [] if !sealed => {
                let pos = raw.iter().next().map(|(k, _)| k.pos).unwrap_or_default();
                checker.warning(
                    pos,
                    "GOPROXY is not set and no goproxy host is declared: go asks its default, proxy.golang.org, \
                     which no host of this scenario answers",
                    Some(
                        "declare a goproxy host, set GOPROXY (`direct` for git hosts, `off`), or say `network: \
                         sealed` if reaching nothing is the point"
                            .into(),
                    ),
                );
            }
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
    if !env.iter().any(|(k, _)| k == "GOSUMDB") && !preset.iter().any(|k| k == "GOSUMDB") {
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

/// Checksum database names go knows without a key.
const KNOWN_SUMDBS: &[&str] = &["sum.golang.org", "sum.golang.google.cn"];

/// What go makes of a GOSUMDB value (cmd/go's checksum database configuration).
#[derive(Debug, PartialEq, Eq)]
enum SumdbForm<'a> {
    /// `off`.
    Off,
    /// A database name alone.
    Name(&'a str),
    /// A verifier key, with a URL or not.
    Key { name: &'a str, url: Option<&'a str> },
    /// Something go refuses before dialing, with go's own words for it.
    Malformed(&'static str),
}

fn gosumdb_form(value: &str) -> SumdbForm<'_> {
    let fields: Vec<&str> = value.split_whitespace().collect();
    match fields.as_slice() {
        ["off"] => SumdbForm::Off,
        [] => SumdbForm::Name("sum.golang.org"),
        [_, _, _, ..] => SumdbForm::Malformed("invalid GOSUMDB: too many fields"),
        [id, rest @ ..] => {
            let url = rest.first().copied();
            // The key's base64 may itself hold '+': the id is name+hash+rest.
            match id.splitn(3, '+').collect::<Vec<_>>().as_slice() {
                [name] if url.is_none() => SumdbForm::Name(name),
                [_] => SumdbForm::Malformed("invalid GOSUMDB: malformed verifier id"),
                [name, hash, key] => {
                    let hash_ok = hash.len() == 8 && hash.bytes().all(|b| b.is_ascii_hexdigit());
                    let key_ok = !key.is_empty()
                        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=');
                    if hash_ok && key_ok {
                        SumdbForm::Key { name, url }
                    } else {
                        SumdbForm::Malformed("invalid GOSUMDB: malformed verifier id")
                    }
                }
                _ => SumdbForm::Malformed("invalid GOSUMDB: malformed verifier id"),
            }
        }
    }
}

/// A GOSUMDB value: `off`, a declared database's name (given to go with its key), a name
/// go knows, or a verifier key with an optional URL naming a declared host. Values go
/// refuses before it dials anything (a bare unknown name, a malformed key) are allowed
/// anywhere: reproducing them is the point of a scenario. What would reach the real public
/// database, or a host nobody declared, needs `network: sealed`, where it leads nowhere.
fn check_gosumdb(value: &At<String>, hosts: &[HostSpec], sealed: bool, checker: &mut Checker) {
    let declared =
        |name: &str| hosts.iter().any(|h| matches!(&h.kind, HostKind::Sumdb(db) if db.name == name || h.name == name));
    let help_sealed = "to reproduce that on purpose, say `network: sealed`, where it leads nowhere";
    match gosumdb_form(value) {
        SumdbForm::Off | SumdbForm::Malformed(_) => {}
        SumdbForm::Name(name) if declared(name) || sealed || !KNOWN_SUMDBS.contains(&name) => {}
        SumdbForm::Name(name) => checker.problem(
            value.pos,
            format!("GOSUMDB `{name}` is the real public checksum database, which go must not reach"),
            Some(format!("declare a sumdb host standing in for it (sumdb: {{name: {name}}}); {help_sealed}")),
        ),
        SumdbForm::Key { .. } if sealed => {}
        SumdbForm::Key { name, url: None } if !declared(name) => checker.problem(
            value.pos,
            format!(
                "GOSUMDB names `{name}` without a URL, so go would dial https://{name}/, which no declared host answers"
            ),
            Some(format!("declare a sumdb host named {name}, add the URL of a declared one, or {help_sealed}")),
        ),
        SumdbForm::Key { url: None, .. } => {}
        SumdbForm::Key { .. } => {
            let name = At { value: "GOSUMDB".to_string(), pos: value.pos };
            check_host_refs(&name, value, hosts, checker);
        }
    }
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

/// Every port written in a URL of an env value must be one a connection can use (1 to
/// 65535): go refuses 0 and larger numbers as it parses the URL (sealed runs fail on
/// them), while open mode rewrites the host and port to a fake's and would hide that.
fn check_ports(name: &At<String>, value: &At<String>, checker: &mut Checker) {
    for r in urlref::find(name, value) {
        let Some(range) = r.port_range.clone() else { continue };
        let digits = &value[range.clone()];
        if digits.parse::<u32>().is_ok_and(|p| (1..=65535).contains(&p)) {
            continue;
        }
        let pos = inner_pos(&checker.source, value, range);
        checker.problem(
            pos,
            format!("{} has port {digits} for host `{}`: ports are 1 to 65535", name.value, r.host),
            Some(format!(
                "leave the port out for the scheme's own (https: 443), or write one from 1 to 65535, e.g. {}:8443",
                r.host
            )),
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
    Pos { line: value.pos.line, column, offset: Some(start), len: range.len(), source: value.pos.source }
}

/// With the resolver down, no query reaches the fake resolver: DNS faults could never
/// fire, and an expectation of a query (any count above zero; none given means
/// `at_least: 1`) could never be met.
pub(super) fn nothing_reaches_a_down_resolver<'a>(
    down: &At<ResolverDown>,
    hosts: &[HostSpec],
    expected: impl Iterator<Item = &'a At<RawDnsExpect>>,
    checker: &mut Checker,
) {
    if let Some(h) = hosts.iter().find(|h| !h.dns.is_empty()) {
        checker.problem(
            down.pos,
            format!("the resolver is down, so the DNS faults of host `{}` can never fire", h.name),
            Some("no query reaches the fake resolver then: take the resolver down, or fault names, not both".into()),
        );
    }
    for expected in expected {
        let wants_some = expected.count.map_or(expected.at_least.unwrap_or(1) > 0, |n| n > 0);
        if wants_some {
            checker.problem(
                expected.pos,
                format!("the resolver is down, so no query for `{}` can reach it", expected.name.value),
                Some("expect count: 0 (the fake resolver sees nothing), or do not take the resolver down".into()),
            );
        }
    }
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
    ResolverOptions {
        timeout,
        attempts: raw.attempts.as_ref().map(|a| a.value),
        down: raw.down.as_ref().map(|d| d.value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gosumdb_values_read_as_go_reads_them() {
        assert_eq!(gosumdb_form("off"), SumdbForm::Off);
        assert_eq!(gosumdb_form("sum.golang.org"), SumdbForm::Name("sum.golang.org"));
        assert_eq!(gosumdb_form("on"), SumdbForm::Name("on"));
        let key = "sum.corp.example+3ed4d606+AQtvltDrN3T+aT48q+y+H+vP6VBoOaD8spA1jq42BJAn";
        assert_eq!(gosumdb_form(key), SumdbForm::Key { name: "sum.corp.example", url: None });
        assert_eq!(
            gosumdb_form(&format!("{key} https://sum.corp.example")),
            SumdbForm::Key { name: "sum.corp.example", url: Some("https://sum.corp.example") }
        );
        assert!(matches!(gosumdb_form("sum.golang.org+bad"), SumdbForm::Malformed(_)));
        assert!(matches!(gosumdb_form("a b c"), SumdbForm::Malformed("invalid GOSUMDB: too many fields")));
    }
}
