//! Declared faults that never fired, as leads for a failed scenario's story. A fault
//! whose `when` matches nothing (a regex written where a glob is expected, a path the
//! proxy is never asked for, a host go never reaches) leaves the scenario failing on
//! its expectations with nothing pointing at the fault; the request log says which
//! faults fired (`#1 respond 500`), so the ones that did not can be named.

use crate::fault::FaultWhen;
use crate::runner::record::WorldTraffic;
use crate::scenario::Scenario;

/// One lead per fault, DNS fault and TCP toxic of `scenario` that fired on no request,
/// query or connection of the scenario's world in `traffic` (the steady state's world,
/// which has no faults, is left out). Toxics count only on hosts whose connections went
/// through modchaos's own proxy, the one that logs them (a toxiproxy server does not).
pub fn unfired_faults(scenario: &Scenario, traffic: &[WorldTraffic]) -> Vec<String> {
    let worlds: Vec<&WorldTraffic> = traffic.iter().filter(|w| !w.steady).collect();
    let mut leads = Vec::new();
    for host in &scenario.hosts {
        let requests: Vec<&[String]> = worlds
            .iter()
            .flat_map(|w| &w.requests)
            .filter(|r| r.host == host.name && r.method != "TCP")
            .map(|r| r.faults.as_slice())
            .collect();
        for fault in &host.faults {
            if !fired(&requests, fault.number) {
                let action = crate::fault::FaultAction::label(&fault.action);
                let seen = Seen { count: requests.len(), noun: "request" };
                leads.push(lead("fault", fault.number, &action, &host.name, &fault.when, seen));
            }
        }
        let queries: Vec<&[String]> =
            worlds.iter().flat_map(|w| &w.dns).filter(|q| q.name == host.name).map(|q| q.faults.as_slice()).collect();
        for fault in &host.dns {
            if !fired(&queries, fault.number) {
                // Its path is the host's own name: not a condition the author wrote.
                let when = FaultWhen { path: None, ..fault.when.clone() };
                let action = crate::fault::FaultAction::label(&fault.action);
                let seen = Seen { count: queries.len(), noun: "DNS query for its name" };
                leads.push(lead("DNS fault", fault.number, &action, &host.name, &when, seen));
            }
        }
        let connections: Vec<&[String]> = worlds
            .iter()
            .flat_map(|w| &w.requests)
            .filter(|r| r.host == host.name && r.method == "TCP")
            .map(|r| r.faults.as_slice())
            .collect();
        if connections.is_empty() {
            continue;
        }
        for toxic in &host.toxics {
            if !fired(&connections, toxic.number) {
                let seen = Seen { count: connections.len(), noun: "connection" };
                leads.push(lead("toxic", toxic.number, &toxic.kind.label(), &host.name, &toxic.when, seen));
            }
        }
    }
    leads
}

/// True when a record's fault labels (`#2 delay 1s`) name fault `number`.
fn fired(records: &[&[String]], number: usize) -> bool {
    let mark = format!("#{number}");
    records.iter().any(|labels| labels.iter().any(|l| l.split(' ').next() == Some(mark.as_str())))
}

/// How many records of a kind the fault's host saw.
struct Seen {
    count: usize,
    noun: &'static str,
}

fn lead(kind: &str, number: usize, action: &str, host: &str, when: &FaultWhen, seen: Seen) -> String {
    let conditions = when.describe();
    let mut text = format!("{kind} #{number} ({action}) on {host} never fired");
    if seen.count == 0 {
        text += &format!(": {host} saw no {} at all (does go's configuration lead there?)", seen.noun);
        return text;
    }
    let plural = if seen.count == 1 { "" } else { "s" };
    text += &format!(" in the {} {}{plural} {host} saw", seen.count, seen.noun);
    if conditions.is_empty() {
        text += ": a fault before it on the host may have answered first";
        return text;
    }
    text += &format!(": check its `when` ({conditions})");
    if when.path.as_ref().is_some_and(crate::vocab::PathGlob::looks_like_regex) {
        text += "; paths are globs, not regular expressions (e.g. /corp.example/**)";
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::{DnsRecord, Phase, RequestRecord};

    const SCENARIO: &str = r#"
name: t
modules: [{module: corp.example/lib@v1.0.0}]
hosts:
  proxy.corp.example:
    goproxy: {}
    faults:
      - when: {path: "^/corp\\.example/.*$"}
        respond: {status: 500}
      - when: {path: "*.zip"}
        respond: {status: 404}
    tcp:
      - latency: {latency: 10ms}
  mirror.corp.example:
    goproxy: {}
    faults:
      - respond: {status: 502}
env: {GOPROXY: "https://proxy.corp.example,https://mirror.corp.example"}
run: {modules: [corp.example/lib@v1.0.0]}
expect: {exit: failure}
"#;

    fn scenario() -> Scenario {
        let ctx = crate::scenario::LoadContext::default();
        crate::scenario::parse(std::path::Path::new("t.yaml"), SCENARIO.into(), &ctx).unwrap()
    }

    fn request(host: &str, method: &str, path: &str, faults: &[&str]) -> RequestRecord {
        RequestRecord {
            seq: 1,
            phase: Phase::Run,
            host: host.into(),
            method: method.into(),
            path: path.into(),
            status: Some(200),
            bytes: 0,
            start_ms: 0.0,
            end_ms: Some(1.0),
            faults: faults.iter().map(|f| f.to_string()).collect(),
            note: None,
        }
    }

    fn world(steady: bool, requests: Vec<RequestRecord>) -> WorldTraffic {
        WorldTraffic { steady, start_ms: 0.0, requests, dns: Vec::<DnsRecord>::new() }
    }

    #[test]
    fn a_fault_that_fired_is_no_lead_and_one_that_did_not_is_named_with_its_when() {
        let traffic = [world(
            false,
            vec![
                request("proxy.corp.example", "TCP", "(connection 1)", &["#1 latency 10ms"]),
                request("proxy.corp.example", "GET", "/corp.example/lib/@v/v1.0.0.info", &[]),
                request("proxy.corp.example", "GET", "/corp.example/lib/@v/v1.0.0.zip", &["#2 respond 404"]),
            ],
        )];
        let leads = unfired_faults(&scenario(), &traffic);
        assert_eq!(leads.len(), 2, "{leads:#?}");
        assert_eq!(
            leads[0],
            "fault #1 (respond 500) on proxy.corp.example never fired in the 2 requests proxy.corp.example saw: \
             check its `when` (path \"^/corp\\.example/.*$\"); paths are globs, not regular expressions (e.g. /corp.example/**)"
        );
        assert!(
            leads[1].starts_with(
                "fault #1 (respond 502) on mirror.corp.example never fired: mirror.corp.example saw no request at all"
            ),
            "{leads:#?}"
        );
    }

    #[test]
    fn the_steady_state_world_does_not_count_and_toxics_count_only_where_connections_were_logged() {
        // The steady world saw the fault's path, but it has no faults: #2 never fired in
        // the scenario's world; no TCP record, so the toxic is not judged.
        let traffic = [
            world(
                true,
                vec![request("proxy.corp.example", "GET", "/corp.example/lib/@v/v1.0.0.zip", &["#2 respond 404"])],
            ),
            world(false, vec![request("proxy.corp.example", "GET", "/corp.example/lib/@v/list", &["#1 respond 500"])]),
        ];
        let leads = unfired_faults(&scenario(), &traffic);
        assert!(
            leads
                .iter()
                .any(|l| l.starts_with("fault #2 (respond 404) on proxy.corp.example never fired in the 1 request ")),
            "{leads:#?}"
        );
        assert!(!leads.iter().any(|l| l.starts_with("fault #1 (respond 500) on proxy")), "{leads:#?}");
        assert!(!leads.iter().any(|l| l.starts_with("toxic")), "{leads:#?}");
        let with_connection = [world(false, vec![request("proxy.corp.example", "TCP", "(connection 1)", &[])])];
        let leads = unfired_faults(&scenario(), &with_connection);
        assert!(
            leads.iter().any(
                |l| l.starts_with("toxic #1 (latency 10ms) on proxy.corp.example never fired in the 1 connection ")
            ),
            "{leads:#?}"
        );
    }
}
