//! Name resolution failures: a name that does not exist (NXDOMAIN), and a resolver that
//! fails (SERVFAIL, REFUSED — go words both `server misbehaving` — times out, or cannot be
//! reached). go's pure resolver words them `lookup <name> on <server>: …`; git (glibc)
//! says `Could not resolve host: <name>` for all of them.

use std::sync::LazyLock;

use regex::Regex;

use super::{found, subject};
use crate::diagnose::facts::Facts;
use crate::diagnose::{Category, Confidence, Diagnosis, EvidenceLine, Source};

/// `lookup H on S: no such host` (or `lookup H: no such host`).
pub fn nxdomain(f: &Facts) -> Option<Diagnosis> {
    static NXDOMAIN: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"lookup (\S+?)(?: on (\S+?))?: (?:no such host|getaddrinfow: No such host is known\.?",
            // glibc's getaddrinfo words for EAI_NONAME and EAI_NODATA, which older go's cgo
            // resolver printed as they were (go 1.26's net/cgo_unix.go maps both to `no
            // such host`).
            r"|Name or service not known|No address associated with hostname",
            // macOS's getaddrinfo words for EAI_NONAME; Windows' WSANO_DATA (the name has no
            // address), which go words `no such host` where it maps it.
            r"|nodename nor servname provided, or not known",
            r"|getaddrinfow: The requested name is valid, but no data of the requested type was found\.?)",
            // ssh's (git over ssh), with the same resolver words.
            r"|ssh: Could not resolve hostname (\S+?): (?:Name or service not known|No address associated with hostname",
            r"|nodename nor servname provided, or not known)",
        ))
        .expect("compiles")
    });
    let (error, caps) = f.matching(&NXDOMAIN).last()?;
    let name = caps.get(1).or(caps.get(3)).map_or("the host", |m| m.as_str()).to_string();
    let mut evidence = vec![error.line()];
    evidence.extend(queries(f, &name));
    evidence.extend(env_naming(f, &name));
    let what = subject(&error.text).map(|s| format!(" (go needed {s})")).unwrap_or_default();
    let summary = format!(
        "{name} does not resolve: the resolver{} answered that no such host exists{what}; a typo in the URL, a \
         name only an internal DNS knows (VPN, split horizon), or a host that was retired",
        caps.get(2).map(|s| format!(" {}", s.as_str())).unwrap_or_default()
    );
    Some(found(Category::DnsNxdomain, Confidence::High, summary, evidence, &["use-mirror"]))
}

/// How go words a resolver it could not reach at all (`lookup H on S: read udp …: read:
/// connection refused`, `… connect: network is unreachable`): every name fails alike, so
/// no playbook is offered, and `repro` takes the resolver down. A regex alternation, as
/// a literal for `concat!`.
macro_rules! unreachable_resolver {
    () => {
        "connection refused|network is unreachable|no route to host|connect: permission denied|connect: operation not \
         permitted"
    };
}
pub(crate) use unreachable_resolver;

/// The resolver itself failing: SERVFAIL/REFUSED, timeouts, an unreachable resolver,
/// and git's `Could not resolve host` (which does not say which).
pub fn failure(f: &Facts) -> Option<Diagnosis> {
    static FAILED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"lookup (\S+?)(?: on (\S+?))?: (?:",
            r"(server misbehaving)",
            r"|(?:(?:read|dial|write) (?:udp|tcp) [^\n]*?)?(i/o timeout|wsarecv: A connection attempt failed[^\n]*)",
            r"|[^\n]*?(",
            unreachable_resolver!(),
            ")",
            r"|[^\n]*?(Temporary failure in name resolution|no answer from DNS server|server failure",
            r"|getaddrinfow: This is usually a temporary error[^\n]*|getaddrinfow: [^\n]*",
            // go's resolver could not parse the answer (a broken resolver or middlebox), or
            // was answered by a server that does not recurse (`lame referral`: no records,
            // no recursion available — a resolver misconfigured, or an authoritative-only
            // server in resolv.conf).
            r"|cannot unmarshal DNS message|lame referral)",
            r")",
            // ssh's (git over ssh) words for a resolver that failed.
            r"|ssh: Could not resolve hostname (\S+?): (Temporary failure in name resolution)",
        ))
        .expect("compiles")
    });
    static GIT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"Could not resolve host: ([^\s'\x22]+)").expect("compiles"));
    if let Some((error, caps)) = f.matching(&FAILED).last() {
        let name = caps.get(1).or(caps.get(7)).map_or("the host", |m| m.as_str()).to_string();
        let server = caps.get(2).map_or("the resolver".to_string(), |s| s.as_str().to_string());
        let how = if caps.get(3).is_some() {
            // SERVFAIL and REFUSED read the same to go; the query log tells them apart.
            match refused_or_servfail(f, &name) {
                Some(rcode) => format!("answered {rcode}"),
                None => "answered SERVFAIL or REFUSED (go says `server misbehaving` for both)".to_string(),
            }
        } else if caps.get(4).is_some() {
            "did not answer in time".to_string()
        } else if let Some(why) = caps.get(5) {
            format!("is not reachable ({})", why.as_str())
        } else if let Some(why) = caps.get(8) {
            format!("failed ({})", why.as_str())
        } else {
            "failed".to_string()
        };
        let mut evidence = vec![error.line()];
        evidence.extend(queries(f, &name));
        evidence.extend(env_naming(f, &name));
        let what = subject(&error.text).map(|s| format!(" (go needed {s})")).unwrap_or_default();
        // A resolver that cannot be reached fails every name alike: a mirror, found by
        // name too, fails as well, and a rerun meets the same resolver.
        let unreachable = caps.get(5).is_some();
        let summary = if unreachable {
            format!(
                "looking up {name}, {server} {how}{what}: the name may be fine, the resolver is not; every name fails \
                 alike, so the cure is outside go (start the resolver, fix resolv.conf, or fetch modules before the \
                 network is taken away)"
            )
        } else {
            format!("looking up {name}, {server} {how}{what}: the name may be fine, the resolver is not")
        };
        // Windows' other getaddrinfo failures and an answer go cannot parse say the lookup
        // failed, not how: the resolver's own failure is the likeliest, not the only reading.
        let vague = caps.get(6).is_some_and(|m| {
            let why = m.as_str();
            why.starts_with("cannot unmarshal")
                || (why.starts_with("getaddrinfow: ") && !why.contains("temporary error"))
        });
        let confidence = if vague { Confidence::Medium } else { Confidence::High };
        let playbooks: &[&str] = if unreachable { &[] } else { &["retry", "use-mirror"] };
        return Some(found(Category::DnsFailure, confidence, summary, evidence, playbooks));
    }
    // Before go 1.21 a name lookup that outlasted the dial's deadline (~30 s) was worded
    // without a name or an address: `dial tcp: i/o timeout` (`calibrate` names the other
    // readings).
    static BARE_TIMEOUT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"dial tcp: i/o timeout").expect("compiles"));
    if let Some((error, _)) = f.matching_own(&BARE_TIMEOUT).last() {
        let what = subject(&error.text).map(|s| format!(" (go needed {s})")).unwrap_or_default();
        let summary = format!(
            "go's dial timed out before it had an address to connect to{what}: the name lookup took longer than the \
             dial's deadline (older go words a slow resolver so)"
        );
        return Some(found(
            Category::DnsFailure,
            Confidence::Medium,
            summary,
            vec![error.line()],
            &["retry", "use-mirror"],
        ));
    }
    let (error, caps) = f.matching(&GIT).last()?;
    let name = caps[1].to_string();
    let mut evidence = vec![error.line()];
    evidence.extend(queries(f, &name));
    let nx = f.evidence.dns.iter().any(|q| q.name == name && q.rcode.as_deref() == Some("NXDOMAIN"));
    if nx {
        let summary = format!("git could not resolve {name}: the resolver says no such host exists");
        return Some(found(Category::DnsNxdomain, Confidence::High, summary, evidence, &["retry", "use-mirror"]));
    }
    if !f.evidence.dns.is_empty() || super::well_known(&name) {
        // The resolver answered otherwise, or the name is one every resolver knows: the
        // resolver failed.
        let summary = format!("git could not resolve {name}, a name that exists: the resolver failed");
        let confidence = if f.evidence.dns.is_empty() { Confidence::Medium } else { Confidence::High };
        return Some(found(Category::DnsFailure, confidence, summary, evidence, &["retry", "use-mirror"]));
    }
    // git (curl, glibc) words a missing name and a failing resolver alike; a name not
    // known to exist most often does not, from where git ran (a typo, a retired host, a
    // name only an internal DNS serves).
    let summary = format!(
        "git could not resolve {name}: most likely no such host exists from here (a typo, a retired host, a name only \
         an internal DNS or VPN serves); git says the same when the resolver fails"
    );
    Some(found(Category::DnsNxdomain, Confidence::Low, summary, evidence, &["retry", "use-mirror"]).or(
        Category::DnsFailure,
        Confidence::Low,
        "the resolver itself may have failed (git says so alike)",
    ))
}

/// What the resolver's log says about `name`'s failed answers, when both agree on one.
fn refused_or_servfail(f: &Facts, name: &str) -> Option<String> {
    let rcodes: Vec<&str> = f
        .evidence
        .dns
        .iter()
        .filter(|q| q.name == name)
        .filter_map(|q| q.rcode.as_deref())
        .filter(|r| matches!(*r, "SERVFAIL" | "REFUSED"))
        .collect();
    let first = *rcodes.first()?;
    rcodes.iter().all(|r| *r == first).then(|| first.to_string())
}

/// The resolver's log lines for `name`, and go's own resolver trace for it
/// (`GODEBUG=netdns=go+2`: which resolver, in which order).
fn queries(f: &Facts, name: &str) -> Vec<EvidenceLine> {
    let trace = crate::evidence::resolver_trace(&f.evidence.stderr);
    let go_said = trace
        .iter()
        .filter(|l| l.contains(name) || l.starts_with("using "))
        .map(|l| EvidenceLine { source: Source::Trace, text: format!("{}{l}", crate::evidence::RESOLVER_TRACE) });
    let resolver_said =
        f.evidence.dns.iter().filter(|q| q.name == name).map(|q| EvidenceLine { source: Source::Dns, text: q.line() });
    go_said.chain(resolver_said).collect()
}

/// The configured variables whose value names `name` (where the name came from).
fn env_naming(f: &Facts, name: &str) -> Vec<EvidenceLine> {
    ["GOPROXY", "GOSUMDB", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"]
        .iter()
        .filter(|var| f.env(var).is_some_and(|v| v.contains(name)))
        .filter_map(|var| f.env_line(var))
        .collect()
}
