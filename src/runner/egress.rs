//! Open mode's egress guard, applied to the environment go gets, whatever the scenario
//! (or a recovery step, or a playbook) put there. In open mode the fakes listen on
//! 127.0.0.1 ports, which go always reaches directly (it never proxies a loopback
//! address); everything else must go through the proxy variables to the world's guard,
//! a proxy that refuses and records every request. So:
//!
//! - each proxy variable pair (HTTPS_PROXY/https_proxy, HTTP_PROXY/http_proxy,
//!   ALL_PROXY/all_proxy) points at the guard, unless the scenario points it at one of
//!   the fakes (a declared forward proxy, already rewritten to its address); an empty or
//!   missing one, or one naming anything else, gets the guard;
//! - NO_PROXY and no_proxy are emptied: they would send the hosts they name around the
//!   guard;
//! - variables that steer go or git past the proxies altogether (`REQUEST_METHOD`, git
//!   configuration and ssh commands, `LD_PRELOAD`, …: [`steers_past_proxies`]) are
//!   removed;
//! - a URL naming a loopback address that is not one of the fakes (a local service of
//!   this machine: `http://127.0.0.1:5432`, `localhost`) is pointed at the guard;
//! - git, whatever its configuration files say, may speak only http and https
//!   (`GIT_ALLOW_PROTOCOL`: an `insteadOf` to `ssh://` or `git://` would connect past any
//!   HTTP proxy) and uses the guard as `http.proxy` (given in the environment, which
//!   outranks a configuration file's `http.proxy`; a URL-specific `http.<url>.proxy` in a
//!   file would still outrank it, so git configuration files a scenario can write must
//!   be checked where they are validated — the sandbox's own is empty).
//!
//! Public names and IP literals anywhere else (GOPROXY=direct, GOPRIVATE, a GOSUMDB URL,
//! GOINSECURE, `https://1.1.1.1`) then reach the guard through the proxy variables: go
//! dials nothing but the fakes, and every attempt shows in the guard's request log and
//! in go's error (403 from the guard).

use std::collections::BTreeMap;
use std::net::SocketAddr;

use crate::urlref;
use crate::vocab::proxyenv::{NO_PROXY_VARS, PROXY_PAIRS, is_proxy_var, steers_past_proxies};
use crate::world::HostMap;

/// Confines `env` (what go is given, host names already rewritten to addresses) to the
/// fakes of `map`'s world, as the module documentation says. Does nothing outside open
/// mode (a world without a guard: sealed worlds resolve nothing but the fakes).
pub fn confine(env: &mut BTreeMap<String, String>, map: &HostMap) {
    let Some(guard) = map.guard else { return };
    let fakes: Vec<SocketAddr> = map.hosts.iter().map(|h| h.addr).chain([guard]).collect();
    env.retain(|name, _| steers_past_proxies(name).is_none());
    for name in NO_PROXY_VARS {
        env.insert(name.to_string(), String::new());
    }
    for (upper, lower) in PROXY_PAIRS {
        // go's choice: the upper-case variable unless it is empty.
        let chosen = [upper, lower].iter().find_map(|n| env.get(*n).filter(|v| !v.trim().is_empty()).cloned());
        let value = chosen.filter(|v| names_a_fake(upper, v, &fakes)).unwrap_or_else(|| format!("http://{guard}"));
        env.insert(upper.to_string(), value.clone());
        env.insert(lower.to_string(), value);
    }
    for (name, value) in env.iter_mut() {
        if !is_proxy_var(name) {
            *value = local_services_to_guard(name, value, &fakes, guard);
        }
    }
    env.insert("GIT_ALLOW_PROTOCOL".into(), "http:https".into());
    env.insert("GIT_CONFIG_COUNT".into(), "1".into());
    env.insert("GIT_CONFIG_KEY_0".into(), "http.proxy".into());
    env.insert("GIT_CONFIG_VALUE_0".into(), env["HTTPS_PROXY"].clone());
}

/// True when the proxy value `value` (of variable `var`) names one of `fakes`.
fn names_a_fake(var: &str, value: &str, fakes: &[SocketAddr]) -> bool {
    let refs = urlref::find(var, value);
    !refs.is_empty() && refs.iter().all(|r| is_fake(r, fakes))
}

/// True when `r` names one of `fakes` by address and port.
fn is_fake(r: &urlref::UrlRef, fakes: &[SocketAddr]) -> bool {
    let Ok(ip) = r.host.parse::<std::net::IpAddr>() else { return false };
    let port = r.port.unwrap_or(if r.scheme == "http" { 80 } else { 443 });
    fakes.contains(&SocketAddr::new(ip, port))
}

/// `value` with every URL naming a loopback address or `localhost` that is not one of
/// `fakes` pointed at the guard instead (go reaches loopback addresses directly).
fn local_services_to_guard(var: &str, value: &str, fakes: &[SocketAddr], guard: SocketAddr) -> String {
    let mut out = value.to_string();
    let mut refs = urlref::find(var, value);
    refs.sort_by_key(|r| std::cmp::Reverse(r.authority.start));
    for r in refs.iter().filter(|r| r.is_loopback() && !is_fake(r, fakes)) {
        out.replace_range(r.authority.clone(), &guard.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::MappedHost;

    fn map() -> HostMap {
        HostMap {
            hosts: vec![MappedHost {
                name: "proxy.corp.example".into(),
                kind: "goproxy".into(),
                addr: "127.0.0.1:4012".parse().unwrap(),
                ports: Vec::new(),
                sumdb: None,
            }],
            guard: Some("127.0.0.1:4999".parse().unwrap()),
            sealed: false,
        }
    }

    fn confined(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut env: BTreeMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        confine(&mut env, &map());
        env
    }

    #[test]
    fn every_proxy_variable_points_at_the_guard_whatever_the_scenario_says() {
        let guard = "http://127.0.0.1:4999";
        for pairs in [
            vec![],
            vec![("HTTPS_PROXY", "")],
            vec![("HTTPS_PROXY", ""), ("https_proxy", "")],
            vec![("http_proxy", "http://93.184.216.34:3128")],
            vec![("HTTPS_PROXY", "1.1.1.1:80")],
            vec![("ALL_PROXY", "socks5://1.1.1.1:1080")],
            vec![("HTTPS_PROXY", "http://127.0.0.1:5432")],
            vec![("HTTP_PROXY", "http://proxy.corp.example:3128")],
        ] {
            let env = confined(&pairs);
            for (upper, lower) in PROXY_PAIRS {
                assert_eq!(env[upper], guard, "{pairs:?}");
                assert_eq!(env[lower], guard, "{pairs:?}");
            }
        }
    }

    #[test]
    fn a_proxy_variable_naming_a_fake_is_kept_for_both_cases() {
        let env = confined(&[("https_proxy", "http://user:pw@127.0.0.1:4012")]);
        assert_eq!(env["HTTPS_PROXY"], "http://user:pw@127.0.0.1:4012");
        assert_eq!(env["https_proxy"], "http://user:pw@127.0.0.1:4012");
        assert_eq!(env["HTTP_PROXY"], "http://127.0.0.1:4999");
    }

    #[test]
    fn exemptions_and_ways_around_the_proxies_are_dropped() {
        let env = confined(&[
            ("NO_PROXY", "*"),
            ("no_proxy", ".example.com,1.1.1.1"),
            ("REQUEST_METHOD", "GET"),
            ("GIT_CONFIG_COUNT", "1"),
            ("GIT_CONFIG_KEY_0", "url.https://github.com/.insteadOf"),
            ("GIT_CONFIG_VALUE_0", "https://gitlab.com/"),
            ("GIT_SSH_COMMAND", "ssh -o ProxyCommand=none"),
            ("GOPRIVATE", "*"),
        ]);
        assert_eq!((env["NO_PROXY"].as_str(), env["no_proxy"].as_str()), ("", ""));
        for gone in ["REQUEST_METHOD", "GIT_SSH_COMMAND"] {
            assert!(!env.contains_key(gone), "{gone} survived");
        }
        // The scenario's git configuration is gone; the guard's own is there instead.
        assert_eq!(env["GIT_CONFIG_COUNT"], "1");
        assert_eq!(env["GIT_CONFIG_KEY_0"], "http.proxy");
        assert_eq!(env["GIT_CONFIG_VALUE_0"], "http://127.0.0.1:4999");
        assert!(!env.contains_key("GIT_CONFIG_KEY_1"));
        assert_eq!(env["GIT_ALLOW_PROTOCOL"], "http:https");
        assert_eq!(env["GOPRIVATE"], "*");
    }

    #[test]
    fn local_services_that_are_not_fakes_are_the_guard() {
        let env = confined(&[
            ("GOPROXY", "https://127.0.0.1:4012,http://127.0.0.1:5432|localhost:8080|direct"),
            ("GOSUMDB", "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ze6wMC4p9UjMFA https://[::1]:8443"),
            ("GOINSECURE", "*"),
        ]);
        assert_eq!(env["GOPROXY"], "https://127.0.0.1:4012,http://127.0.0.1:4999|127.0.0.1:4999|direct");
        assert!(env["GOSUMDB"].ends_with(" https://127.0.0.1:4999"), "{}", env["GOSUMDB"]);
        assert_eq!(env["GOINSECURE"], "*");
    }

    #[test]
    fn sealed_worlds_are_left_alone() {
        let mut env = BTreeMap::from([("NO_PROXY".to_string(), "*".to_string())]);
        confine(&mut env, &HostMap { sealed: true, ..HostMap::default() });
        assert_eq!(env["NO_PROXY"], "*");
    }
}
