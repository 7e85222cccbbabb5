//! `hosts:`: host names, kinds and their settings, and the ports their URLs name.

use std::path::Path;

use super::faults::{dns_faults, fault, toxics};
use super::modules::modules;
use crate::fault::HttpFault;
use crate::scenario::LoadContext;
use crate::scenario::at::{At, Pos};
use crate::scenario::checker::Checker;
use crate::scenario::diag::suggest;
use crate::scenario::keyed;
use crate::scenario::model::*;
use crate::scenario::raw::*;
use crate::urlref;
use crate::vocab::BasicAuth;

/// A DNS name a scenario may declare: labels of lower-case letters, digits and inner
/// hyphens, at most 63 characters each and 253 in all.
pub(crate) fn valid_host_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

pub(super) fn hosts(
    raw: &keyed::Keyed<RawHost>,
    dir: &Path,
    ctx: &LoadContext,
    checker: &mut Checker,
) -> Vec<HostSpec> {
    let mut hosts = Vec::new();
    for (name, host) in raw.iter() {
        if !valid_host_name(name) {
            checker.problem(
                name.pos,
                format!("`{}` is not a host name", name.value),
                Some("hosts are keyed by lower-case DNS names like proxy.corp.example (no scheme, no port)".into()),
            );
        }
        let mut kinds: Vec<(Pos, HostKind)> = Vec::new();
        if let Some(g) = &host.goproxy {
            kinds.push((g.pos, HostKind::Goproxy(goproxy(g, dir, ctx, checker))));
        }
        if let Some(c) = &host.closed {
            kinds.push((c.pos, HostKind::Closed));
        }
        if let Some(b) = &host.blackhole {
            kinds.push((b.pos, HostKind::Blackhole));
        }
        if let Some(u) = &host.unreachable {
            kinds.push((u.pos, HostKind::Unreachable(u.error.unwrap_or_default())));
        }
        if let Some(db) = &host.sumdb {
            kinds.push((db.pos, HostKind::Sumdb(sumdb(name, db, checker))));
        }
        if let Some(p) = &host.forward_proxy {
            let spec = ForwardProxySpec {
                intercept: p.intercept.unwrap_or(false),
                auth: p.auth.as_ref().map(|a| BasicAuth { user: a.user.clone(), password: a.password.clone() }),
                connect: p.connect.unwrap_or_default(),
                block: module_globs(&p.block, checker),
            };
            kinds.push((p.pos, HostKind::ForwardProxy(spec)));
        }
        if let Some(g) = &host.git {
            let mut untagged = Vec::new();
            for entry in &g.untagged {
                match entry.split_once('@').filter(|(p, v)| !p.is_empty() && !v.is_empty()) {
                    Some((p, v)) => untagged.push((p.to_string(), v.to_string())),
                    None => checker.problem(
                        entry.pos,
                        format!("`{}` is not path@version", entry.value),
                        Some("for example corp.example/lib@v1.1.0".into()),
                    ),
                }
            }
            if let Some(pages) = g.auth_pages.as_ref().filter(|p| p.value && g.auth.is_none()) {
                checker.problem(
                    pages.pos,
                    "`auth_pages` puts the pages behind the host's `auth`, and the host has none",
                    Some("add auth: {user: …, password: …} to the git host".into()),
                );
            }
            let spec = GitSpec {
                auth_pages: g.auth_pages.as_ref().is_some_and(|p| p.value),
                overrides: g
                    .fixtures
                    .as_ref()
                    .map(|f| super::modules::modules(f, dir, checker, ctx).unwrap_or_default())
                    .unwrap_or_default(),
                untagged,
                http_only: g.http_only.unwrap_or(false),
                modules: g.modules.as_ref().map(|m| module_globs(m, checker)),
                auth: g.auth.as_ref().map(|a| BasicAuth { user: a.user.clone(), password: a.password.clone() }),
                meta: g.meta.unwrap_or_default(),
                repos: g.repos.as_ref().map(|r| {
                    let declared: Vec<&str> = raw.iter().map(|(n, _)| n.as_str()).collect();
                    if !declared.contains(&r.as_str()) {
                        checker.problem(
                            r.pos,
                            format!("`{}` is not a declared host", r.value),
                            Some(suggest(r, declared.iter().copied(), "hosts")),
                        );
                    }
                    r.value.clone()
                }),
            };
            kinds.push((g.pos, HostKind::Git(spec)));
        }
        let kind = match kinds.len() {
            0 => {
                checker.problem(
                    name.pos,
                    format!("host `{}` has no kind", name.value),
                    Some(
                        "give it one of: goproxy: {}, sumdb: {}, git: {}, forward_proxy: {}, closed: {}, blackhole: {}, unreachable: {}"
                            .into(),
                    ),
                );
                continue;
            }
            1 => kinds.remove(0).1,
            _ => {
                checker.problem(
                    kinds[1].0,
                    format!(
                        "host `{}` has more than one kind ({} and {})",
                        name.value,
                        kinds[0].1.name(),
                        kinds[1].1.name()
                    ),
                    Some("declare each server as its own host".into()),
                );
                continue;
            }
        };
        let faults: Vec<HttpFault> =
            host.faults.iter().enumerate().filter_map(|(i, f)| fault(i + 1, f, checker)).collect();
        if kind.is_silent()
            && let Some(first) = host.faults.first()
        {
            checker.problem(
                first.pos,
                format!("HTTP faults on a {} host never fire: nothing answers there", kind.name()),
                Some("remove the faults, or make the host a goproxy".into()),
            );
        }
        let cert = host.tls.as_ref().and_then(|t| t.certificate.as_ref()).map(|c| c.value).unwrap_or_default();
        let cert_names =
            host.tls.as_ref().map(|t| certificate_names(name, cert, &t.names, checker)).unwrap_or_default();
        let dns = dns_faults(name, &host.dns, checker);
        let toxics = toxics(&host.tcp, checker);
        if kind.is_silent()
            && let Some(first) = host.tcp.first()
        {
            checker.problem(
                first.pos,
                format!("TCP toxics on a {} host never act: nothing accepts connections there", kind.name()),
                Some("remove them, or give the host a kind that listens".into()),
            );
        }
        hosts.push(HostSpec {
            name: name.value.clone(),
            kind,
            cert,
            cert_names,
            faults,
            dns,
            toxics,
            ports: Vec::new(),
        });
    }
    hosts
}

/// A DNS name a certificate can carry: a host name ([`valid_host_name`], in any case)
/// with a dot, a `*.` wildcard first at most.
pub(crate) fn is_certificate_name(name: &str) -> bool {
    let bare = name.strip_prefix("*.").unwrap_or(name);
    bare.contains('.') && valid_host_name(&bare.to_ascii_lowercase())
}

/// Whether a certificate for `name` is valid for `host` (the name itself, or a wildcard
/// one level above it).
pub(crate) fn certificate_name_covers(name: &str, host: &str) -> bool {
    let parent = host.split_once('.').map(|(_, rest)| rest);
    name.eq_ignore_ascii_case(host)
        || name.strip_prefix("*.").is_some_and(|bare| parent.is_some_and(|p| p.eq_ignore_ascii_case(bare)))
}

/// The names a `wrong_host` certificate of host `host` is valid for: DNS names (a `*.`
/// wildcard first at most), none of them the host's own (go would accept it), and only
/// with `certificate: wrong_host`.
fn certificate_names(
    host: &At<String>,
    cert: crate::fault::tls::CertFault,
    names: &[At<String>],
    checker: &mut Checker,
) -> Vec<String> {
    if let Some(first) = names.first()
        && cert != crate::fault::tls::CertFault::WrongHost
    {
        checker.problem(
            first.pos,
            "`names` applies to `certificate: wrong_host` only",
            Some("write `tls: {certificate: wrong_host, names: [...]}`, or remove `names`".into()),
        );
        return Vec::new();
    }
    let mut kept = Vec::new();
    for name in names {
        if !is_certificate_name(name) {
            checker.problem(
                name.pos,
                format!("`{}` is no DNS name a certificate can carry", name.value),
                Some("write a name such as sinkhole.corp.example, or a wildcard such as *.corp.example".into()),
            );
        } else if certificate_name_covers(name, host) {
            checker.problem(
                name.pos,
                format!("`{}` covers the host `{}` itself, so go would accept the certificate", name.value, host.value),
                Some("name the hosts the wrong certificate was issued for, not this one".into()),
            );
        } else {
            kept.push(name.value.to_ascii_lowercase());
        }
    }
    kept
}

pub(super) fn module_globs(patterns: &[At<String>], checker: &mut Checker) -> Vec<globset::GlobMatcher> {
    let mut matchers = Vec::new();
    for p in patterns {
        match globset::Glob::new(p) {
            Ok(g) => matchers.push(g.compile_matcher()),
            Err(e) => checker.problem(p.pos, format!("invalid module glob `{}`: {}", p.value, e.kind()), None),
        }
    }
    matchers
}

pub(super) fn goproxy(raw: &At<RawGoproxy>, dir: &Path, ctx: &LoadContext, checker: &mut Checker) -> GoproxySpec {
    let mut spec = GoproxySpec::default();
    if let Some(patterns) = &raw.modules {
        spec.modules = Some(module_globs(patterns, checker));
    }
    if let Some(prefix) = &raw.prefix {
        if !prefix.starts_with('/') || (prefix.len() > 1 && prefix.ends_with('/')) {
            checker.problem(
                prefix.pos,
                format!("prefix `{}` must start with `/` and not end with one", prefix.value),
                Some("for https://host/goproxy write prefix: /goproxy".into()),
            );
        }
        spec.prefix = prefix.trim_end_matches('/').to_string();
    }
    spec.auth = raw.auth.as_ref().map(|a| BasicAuth { user: a.user.clone(), password: a.password.clone() });
    spec.sumdb = raw.sumdb.unwrap_or(false);
    if let Some(fixtures) = &raw.fixtures {
        spec.overrides = modules(fixtures, dir, checker, ctx).unwrap_or_default();
    }
    spec
}

pub(super) fn sumdb(host: &At<String>, raw: &At<RawSumdb>, checker: &mut Checker) -> SumdbSpec {
    let name = raw.name.as_ref().map_or(host.value.clone(), |n| n.value.clone());
    let valid =
        !name.is_empty() && !name.contains('+') && !name.chars().any(char::is_whitespace) && !name.ends_with('/');
    if !valid {
        let pos = raw.name.as_ref().map_or(host.pos, |n| n.pos);
        checker.problem(
            pos,
            format!("`{name}` is not a checksum database name"),
            Some("names look like host[/path], e.g. sum.golang.org".into()),
        );
    }
    SumdbSpec {
        name,
        modules: raw.modules.as_ref().map(|m| module_globs(m, checker)),
        via_proxy: raw.via_proxy.unwrap_or(false),
    }
}

/// Gives every host the ports the scenario's URLs name for it (the environment, and
/// the values recovery steps write), so that a sealed world listens there too.
pub(super) fn assign_ports(hosts: &mut [HostSpec], env: &[(String, String)], recovery: Option<&Recovery>) {
    let mut values: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    for step in recovery.map_or(&[][..], |r| &r.steps[..]) {
        match step {
            RecoveryStep::Set(vars) => values.extend(vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            RecoveryStep::Replace { var, to, .. } => values.push((var, to)),
            RecoveryStep::Append { var, value } | RecoveryStep::Prepend { var, value } => values.push((var, value)),
            _ => {}
        }
    }
    for (var, value) in values {
        for r in urlref::find(var, value) {
            if let (Some(port), Some(host)) = (r.port, hosts.iter_mut().find(|h| h.name == r.host))
                && !matches!(port, 80 | 443)
                && !host.ports.contains(&port)
            {
                host.ports.push(port);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names() {
        assert!(valid_host_name("proxy.corp.example"));
        assert!(valid_host_name("localhost"));
        assert!(!valid_host_name("https://proxy"));
        assert!(!valid_host_name("Proxy.example"));
        assert!(!valid_host_name("a..b"));
        assert!(!valid_host_name("proxy:8080"));
    }
}
