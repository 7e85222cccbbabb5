//! Open mode's guard refusing go. In open mode the fakes listen on loopback ports and
//! only the URLs of go's environment are rewritten to them; every name go dials itself
//! (a module fetched directly from its host, a URL a server handed it) goes through the
//! proxy variables to a guard that refuses it with 403. go's error then reads like a
//! corporate forward proxy's refusal, and the rules would blame one that does not exist:
//! the failure is modchaos's emulation, not the scenario's world, and the verdict says
//! so plainly. Never from a log (no world, no guard).

use super::{found, url_host};
use crate::diagnose::facts::Facts;
use crate::diagnose::{Category, Confidence, Diagnosis, EvidenceLine, Source};
use crate::world::OUTSIDE;

/// go's error names a host open mode's guard refused in this run.
pub fn refused(f: &Facts) -> Option<Diagnosis> {
    let map = f.evidence.hosts.as_ref().filter(|m| m.guard.is_some())?;
    let refused: Vec<_> = f.evidence.requests.iter().filter(|r| r.host == OUTSIDE).collect();
    let (error, target) = refused.iter().filter_map(|r| target(&r.path)).find_map(|target| {
        let error = f.errors.iter().find(|e| e.text.contains(target.as_str()))?;
        Some((error, target))
    })?;
    let summary = if map.hosts.iter().any(|h| h.name == target) {
        format!(
            "go dialled {target} by its name, not through a URL of its environment (which open mode rewrites to the \
             fake's address): open mode's guard refuses every name go dials itself (sealed mode would resolve it as \
             the scenario's DNS says); this run shows modchaos's open mode, not the scenario's world"
        )
    } else {
        format!(
            "go tried to reach {target}, which the scenario does not declare; open mode refuses it (sealed mode would \
             resolve it as the scenario's DNS says): this run shows modchaos's open mode, not the scenario's world"
        )
    };
    let mut evidence = vec![error.line()];
    evidence.extend(refused.iter().map(|r| EvidenceLine { source: Source::Requests, text: r.line() }));
    Some(found(Category::Unknown, Confidence::Low, summary, evidence, &[]))
}

/// The host a request to the guard asked for: a CONNECT's authority (`corp.example:443`)
/// or a proxied URL's host, without the port.
fn target(path: &str) -> Option<String> {
    let authority = if path.contains("://") { url_host(path) } else { path };
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (!host.is_empty()).then(|| host.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::evidence::Evidence;
    use crate::vocab::{Exit, Phase, RequestRecord};
    use crate::world::HostMap;

    /// A run whose go fell through to `direct` for corp.example/lib, in open mode or not.
    fn fell_through(open: bool, exit: i32) -> Evidence {
        let request = |seq, host: &str, method: &str, path: &str, status| RequestRecord {
            seq,
            phase: Phase::Run,
            host: host.into(),
            method: method.into(),
            path: path.into(),
            status: Some(status),
            bytes: 0,
            start_ms: 0.0,
            end_ms: Some(0.1),
            faults: Vec::new(),
            note: None,
        };
        let hosts =
            HostMap { hosts: Vec::new(), guard: open.then(|| "127.0.0.1:4999".parse().unwrap()), sealed: !open };
        Evidence {
            exit: Some(Exit::Code { code: exit }),
            stdout: "{\n\t\"Path\": \"corp.example/lib\",\n\t\"Version\": \"v1.0.0\",\n\t\"Error\": \
                     \"corp.example/lib@v1.0.0: unrecognized import path \\\"corp.example/lib\\\": https fetch: Get \
                     \\\"https://corp.example/lib?go-get=1\\\": Forbidden\"\n}\n"
                .into(),
            records: Vec::new(),
            requests: vec![
                request(1, "proxy.corp.example", "GET", "/corp.example/lib/@v/v1.0.0.info", 404),
                request(2, OUTSIDE, "CONNECT", "corp.example:443", 403),
            ],
            hosts: Some(hosts),
            ..Default::default()
        }
    }

    #[test]
    fn regression_open_modes_guard_is_no_corporate_forward_proxy() {
        let parsed = |mut e: Evidence| {
            e.records = crate::gooutput::parse_json_records(&e.stdout);
            e
        };
        let d = crate::diagnose::diagnose(&parsed(fell_through(true, 1)));
        assert_eq!(d.category, Category::Unknown, "{d:#?}");
        assert!(d.summary.starts_with("go tried to reach corp.example, which the scenario does not declare"), "{d:#?}");
        assert!(d.evidence.iter().any(|l| l.text.contains("<outside> CONNECT corp.example:443")), "{d:#?}");
        // Not in a sealed world (no guard), nor when go succeeded all the same.
        assert!(refused(&Facts::new(&parsed(fell_through(false, 1)))).is_none());
        let d = crate::diagnose::diagnose(&Evidence { stdout: String::new(), ..fell_through(true, 0) });
        assert_eq!(d.category, Category::None, "{d:#?}");
    }

    #[test]
    fn the_host_a_request_to_the_guard_asked_for() {
        assert_eq!(target("corp.example:443").as_deref(), Some("corp.example"));
        assert_eq!(target("http://corp.example/lib?go-get=1").as_deref(), Some("corp.example"));
        assert_eq!(target("[2001:db8::1]:443").as_deref(), Some("2001:db8::1"));
        assert_eq!(target(""), None);
    }
}
