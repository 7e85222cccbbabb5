//! The name resolution a sealed world sees: its own resolv.conf pointing at the fake
//! resolver (or, when the scenario takes the resolver down, where nothing answers), with
//! the scenario's resolver options, and hosts files that know only
//! localhost, so every declared name goes through the fake resolver and its faults.

use crate::scenario::Scenario;
use crate::sealed::{RESOLVER, ns};

/// The resolver files of a sealed world.
pub fn net_files(scenario: &Scenario) -> ns::NetFiles {
    let mut options = Vec::new();
    if let Some(t) = scenario.resolver.timeout {
        options.push(format!("timeout:{}", t.as_secs().max(1)));
    }
    if let Some(a) = scenario.resolver.attempts {
        options.push(format!("attempts:{a}"));
    }
    // A resolver that is down is named at an address where nothing answers; the fake
    // resolver still runs, and sees no query.
    let nameserver = scenario.resolver.down.map_or(RESOLVER, |down| down.nameserver());
    let mut resolv_conf = format!("# modchaos sealed world\nnameserver {nameserver}\n");
    if !options.is_empty() {
        resolv_conf += &format!("options {}\n", options.join(" "));
    }
    // Declared names resolve through the fake resolver only, so that DNS faults apply.
    ns::NetFiles {
        resolv_conf,
        hosts: "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n".into(),
        nsswitch: "hosts: files dns\n".into(),
    }
}
