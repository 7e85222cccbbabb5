//! Turning raw scenario files into the validated model, one module per section of the
//! file. Every check reports at the position of the offending value and keeps going, so
//! one run shows every problem.

use std::path::Path;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::scenario::LoadContext;
use crate::scenario::checker::Checker;
use crate::scenario::model::*;
use crate::scenario::raw::*;

mod cache;
mod egress;
mod env;
mod expect;
mod faults;
mod git_hosts;
mod home;
mod hosts;
mod include;
mod modules;
mod recover;
mod run;

pub use env::{MANAGED_ENV, check_host_refs};
pub(crate) use hosts::{certificate_name_covers, is_certificate_name, valid_host_name};
pub use recover::recovery_step;

/// Default deadline of a go command.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Validates a parsed scenario. `None` when `checker` recorded problems.
pub fn scenario(mut raw: RawScenario, checker: &mut Checker, ctx: &LoadContext) -> Option<Scenario> {
    include::merge(&mut raw, checker);
    let dir = checker.file.parent().map(Path::to_path_buf).unwrap_or_default();
    if raw.name.trim().is_empty() {
        checker.problem(raw.name.pos, "the name is empty", Some("give the scenario a short unique name".into()));
    }
    let modules = modules::modules(&raw.modules, &dir, checker, ctx);
    let mut hosts = hosts::hosts(&raw.hosts, &dir, ctx, checker);
    let host_names: Vec<String> = hosts.iter().map(|h| h.name.clone()).collect();
    let explicit_network = raw.network.as_ref().map(|n| n.value);
    let sandbox = home::sandbox(raw.sandbox.as_ref(), checker);
    let preset = sandbox.go_env_file_vars();
    let env = env::env(&raw.env, &hosts, explicit_network == Some(RawNetwork::Sealed), &preset, checker);
    let cache = cache::cache(raw.cache.as_ref(), modules.as_ref(), checker);
    let files = run::files(&raw.files, checker);
    let run = run::run(&raw.run, modules.as_ref(), checker);
    run::misspelt_modules(&raw.run, modules.as_ref(), &hosts, checker);
    let expect = expect::expectation(&raw.expect, &host_names, checker, None);
    let e = &raw.expect;
    if e.exit.is_none()
        && e.diagnosis.is_none()
        && e.error.is_none()
        && e.stderr.is_none()
        && e.stdout.is_none()
        && e.requests.is_empty()
        && e.duration.is_none()
        && e.verified.is_none()
        && e.dns.is_empty()
    {
        checker.problem(
            raw.name.pos,
            "the scenario expects nothing, so it cannot fail",
            Some("add an expectation, e.g. expect: {exit: failure, diagnosis: proxy.server_error}".into()),
        );
    }
    let recover =
        raw.recover.as_ref().and_then(|r| recover::recovery(r, &host_names, &dir, modules.as_ref(), checker, ctx));
    let commands: Vec<&GoStep> = run.iter().flatten().collect();
    git_hosts::check(&raw.hosts, &hosts, modules.as_ref(), &commands, recover.as_ref(), checker);
    let resolver = env::resolver(raw.resolver.as_ref(), checker);
    // DNS expectations, the scenario's own and its recovery's.
    let recovery_dns = raw.recover.as_ref().and_then(|r| r.expect.as_ref()).map(|e| e.dns.as_slice()).unwrap_or(&[]);
    let resolver_down = raw.resolver.as_ref().and_then(|r| r.down.as_ref());
    if let Some(down) = resolver_down {
        env::nothing_reaches_a_down_resolver(down, &hosts, raw.expect.dns.iter().chain(recovery_dns), checker);
    }
    let min_go = raw.min_go.as_ref().and_then(|v| {
        let release = crate::gobin::parse_release(v);
        if release.is_none() {
            checker.problem(v.pos, format!("`{}` is not a go release", v.value), Some("write it like \"1.21\"".into()));
        }
        release
    });
    let needs_sealed_for_egress = egress::check(&raw, recover.as_ref(), &hosts, explicit_network, checker);
    if !checker.problems.is_empty() {
        return None;
    }
    hosts::assign_ports(&mut hosts, &env, recover.as_ref());
    // DNS expectations count the sealed world's resolver's queries.
    let dns_expected = raw.expect.dns.first().or(recovery_dns.first()).map(|d| d.pos);
    let ip_only = hosts.iter().find(|h| h.cert == crate::fault::tls::CertFault::IpOnly);
    let network_pos = raw.network.as_ref().map(|n| n.pos).unwrap_or_default();
    let network = match explicit_network {
        Some(RawNetwork::Sealed) => NetworkNeed::Sealed("the scenario says `network: sealed`".into()),
        Some(RawNetwork::Open) => NetworkNeed::Open("the scenario says `network: open`".into()),
        None => match hosts.iter().find(|h| !h.dns.is_empty()) {
            Some(h) => {
                NetworkNeed::Sealed(format!("host `{}` has DNS faults, and only sealed worlds have a resolver", h.name))
            }
            None if ip_only.is_some() => NetworkNeed::Sealed(
                "a certificate for IP addresses only is valid for the loopback address open mode connects to".into(),
            ),
            None if resolver.down.is_some() => {
                NetworkNeed::Sealed("the resolver is down, and only a sealed world has a resolver of its own".into())
            }
            None if dns_expected.is_some() => NetworkNeed::Sealed(
                "`expect.dns` counts the queries of the sealed world's resolver, and open mode has none".into(),
            ),
            // Routes exist only in the sealed namespace.
            None if hosts.iter().any(|h| matches!(h.kind, HostKind::Unreachable(_))) => {
                NetworkNeed::Sealed("an unreachable host needs the routes of a network namespace of its own".into())
            }
            // go-get pages and git remotes name git hosts: only a sealed world resolves them
            // (and only there can a host listen on port 80 alone).
            None if hosts.iter().any(|h| matches!(h.kind, HostKind::Git(_))) => {
                NetworkNeed::Sealed("a git host is reached by its name".into())
            }
            // Files in HOME name hosts as written; only a sealed world resolves them.
            None if sandbox.home_files.iter().any(|(_, content)| hosts.iter().any(|h| content.contains(&h.name))) => {
                NetworkNeed::Sealed("files in HOME name hosts, which only a sealed world resolves by name".into())
            }
            // go never sends loopback addresses (open mode's) through a forward proxy.
            None if hosts.iter().any(|h| matches!(h.kind, HostKind::ForwardProxy(_)))
                || env.iter().any(|(k, _)| env::FORWARD_PROXY_VARS.contains(&k.as_str())) =>
            {
                NetworkNeed::Sealed(
                    "go uses a forward proxy only for host names, never for open mode's loopback addresses".into(),
                )
            }
            None => match cache
                .faults
                .iter()
                .find(|f| matches!(f, CacheFaultSpec::ReadOnly(_) | CacheFaultSpec::DiskFull(_)))
            {
                Some(f) => NetworkNeed::Sealed(format!(
                    "cache fault `{}` mounts a filesystem, which only the sealed namespaces allow",
                    f.name()
                )),
                None => NetworkNeed::Any,
            },
        },
    };
    if let (Some(RawNetwork::Open), Some(h)) =
        (explicit_network, hosts.iter().find(|h| matches!(h.kind, HostKind::Unreachable(_))))
    {
        checker.problem(
            network_pos,
            format!("host `{}` is unreachable, which needs `network: sealed`", h.name),
            Some("open mode shares this machine's routes: only a sealed world can take one away".into()),
        );
        return None;
    }
    if let (Some(RawNetwork::Open), Some(h)) = (explicit_network, ip_only) {
        checker.problem(
            network_pos,
            format!("host `{}` has a certificate for IP addresses only, which needs `network: sealed`", h.name),
            Some("open mode's go connects to 127.0.0.1, which such a certificate is valid for".into()),
        );
        return None;
    }
    if let (Some(RawNetwork::Open), Some(down)) = (explicit_network, resolver_down) {
        checker.problem(
            down.pos,
            "a resolver that is down needs `network: sealed`",
            Some("open mode has no resolver (go is given addresses): there is none to take down".into()),
        );
        return None;
    }
    if let (Some(RawNetwork::Open), Some(pos)) = (explicit_network, dns_expected) {
        checker.problem(
            pos,
            "DNS expectations need `network: sealed`",
            Some("open mode has no resolver (go is given addresses): there are no queries to count".into()),
        );
        return None;
    }
    let network = match (network, needs_sealed_for_egress) {
        (NetworkNeed::Any, Some(why)) => NetworkNeed::Sealed(why),
        (network, _) => network,
    };
    let network = match (network, modules.as_ref(), run.as_deref()) {
        (NetworkNeed::Any, Some(modules), Some(run)) => match egress::direct_by_name(&env, &hosts, modules, run) {
            Some(why) => NetworkNeed::Sealed(why),
            None => NetworkNeed::Any,
        },
        (network, ..) => network,
    };
    if let (Some(RawNetwork::Open), Some(h)) = (explicit_network, hosts.iter().find(|h| !h.dns.is_empty())) {
        checker.problem(
            network_pos,
            format!("host `{}` has DNS faults, which need `network: sealed`", h.name),
            Some("open mode has no resolver: go is given addresses".into()),
        );
        return None;
    }
    let seed = raw.seed.unwrap_or_else(|| {
        let digest = Sha256::digest(raw.name.as_bytes());
        u64::from_le_bytes(digest[..8].try_into().expect("sha256 has 8 bytes"))
    });
    let trust = raw
        .trust
        .as_ref()
        .map_or_else(|| vec![crate::pki::Authority::Scenario], |t| t.iter().map(|a| a.value).collect());
    Some(Scenario {
        name: raw.name.value.clone(),
        source: checker.source.clone(),
        playbook_dirs: ctx.playbook_dirs.clone(),
        network,
        resolver,
        min_go,
        trust,
        about: raw.about.clone(),
        file: checker.file.clone(),
        seed,
        warnings: checker.warnings.clone(),
        modules: modules?,
        hosts,
        env,
        cache,
        steady_state: raw.steady_state.unwrap_or(false),
        go_user: match raw.go_user.as_ref().map(|u| u.value) {
            Some(RawGoUser::Root) => GoUser::Root,
            _ => GoUser::Unprivileged,
        },
        sandbox,
        files,
        run: run?,
        expect,
        recover,
    })
}
