//! Where a scenario runs: in a sealed child where this machine allows it and the
//! scenario accepts it, in this process in open mode otherwise, or nowhere — skipped,
//! with the reason — when it needs what is not available here.

use super::child::run_in_child;
use super::events::{Progress, ProgressSink};
use super::options::{Network, RunOptions};
use super::record::RunRecord;
use super::run::run_here;
use crate::fault::toxiproxy::ToxicBackend;
use crate::scenario::{NetworkNeed, Scenario};
use crate::vocab::NetworkMode;

/// Runs `scenario` to the end and records what happened: in a sealed child where the
/// options allow it, in this process in open mode otherwise, or skipped (with the
/// reason) when it needs sealed networking that is not available. With the toxiproxy
/// backend, a scenario with TCP toxics runs in open mode, or is skipped when it needs
/// sealed mode or has a toxic toxiproxy cannot express; scenarios without toxics are not
/// concerned. Never panics on a harness problem: it becomes the record's `reason`.
pub async fn run_scenario(scenario: &Scenario, options: &RunOptions, sink: &dyn ProgressSink) -> RunRecord {
    if let (Some(min), Some(have)) = (scenario.min_go, options.go.release())
        && have < min
    {
        let reason = format!("needs go {}.{} or newer (this is go {}.{})", min.0, min.1, have.0, have.1);
        return skip(scenario, sink, reason);
    }
    let me = crate::vocab::Account::current();
    if let (Some(what), false) = (scenario.needs_second_user(), me.is_root()) {
        let reason = format!(
            "needs files that belong to root while go runs unprivileged ({what}), which only a modchaos running as root \
             can set up (this is uid {}): run it as root, e.g. in a container",
            me.uid
        );
        return skip(scenario, sink, reason);
    }
    let has_toxics = scenario.hosts.iter().any(|h| !h.toxics.is_empty());
    if let (ToxicBackend::Toxiproxy(client), true) = (&options.toxics, has_toxics) {
        let toxics = scenario.hosts.iter().map(|h| (h.name.as_str(), h.toxics.as_slice()));
        let reason = match (crate::fault::toxiproxy::unsupported(toxics), &scenario.network) {
            (Some(why), _) => Some(format!("toxiproxy cannot express it: {why}")),
            (None, NetworkNeed::Sealed(need)) => Some(format!(
                "needs sealed networking ({need}), but the toxiproxy backend ({}) works in open mode only: toxiproxy's server runs outside modchaos's sealed namespaces",
                client.url()
            )),
            (None, _) => None,
        };
        return match reason {
            Some(reason) => skip(scenario, sink, reason),
            None => run_here(scenario, options, NetworkMode::Open, sink).await,
        };
    }
    match (&scenario.network, &options.network) {
        (NetworkNeed::Sealed(need), Network::Open { why }) => {
            skip(scenario, sink, format!("needs sealed networking ({need}), but {why}"))
        }
        (NetworkNeed::Open(_), _) | (_, Network::Open { .. }) => {
            run_here(scenario, options, NetworkMode::Open, sink).await
        }
        (_, Network::Sealed { support, goroot }) => {
            run_in_child(scenario, &options.go, goroot.clone(), support, options.keep_sandbox, sink).await
        }
    }
}

/// Records `scenario` as skipped for `reason`.
fn skip(scenario: &Scenario, sink: &dyn ProgressSink, reason: String) -> RunRecord {
    sink.progress(&Progress::ScenarioStarted {
        name: scenario.name.clone(),
        file: scenario.file.display().to_string(),
    });
    RunRecord::skipped(&scenario.name, &scenario.file, reason)
}
