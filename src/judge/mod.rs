//! Judging a run: what was observed becomes [`crate::evidence::Evidence`], the
//! evidence gets its [`Diagnosis`](crate::diagnose::Diagnosis), and both are checked
//! against the scenario's expectations ([`expect`]) — for the run, the recovery's rerun
//! and the integrity checks — into a [`ScenarioReport`], everything a person needs to see
//! why a scenario passed or failed.

pub mod expect;
pub mod report;
pub mod unfired;

pub use expect::Failure;
pub use report::{PhaseReport, RecoveryReport, ScenarioReport, Status};

use crate::diagnose::diagnose;
use crate::evidence::Evidence;
use crate::runner::verify::Verification;
use crate::runner::{PhaseRecord, ProgressSink, RunOptions, RunRecord};
use crate::scenario::{Expectation, Scenario};
use crate::vocab::Phase;

/// Runs `scenario` (see [`crate::runner::run_scenario`]) and judges what it did.
pub async fn run_scenario(scenario: &Scenario, options: &RunOptions, sink: &dyn ProgressSink) -> ScenarioReport {
    let record = crate::runner::run_scenario(scenario, options, sink).await;
    let mut report = tracing::debug_span!(target: "modchaos::phase", "judge").in_scope(|| judge(scenario, record));
    report.go_version = options.go.version().ok();
    report
}

/// The report of `record`, a run of `scenario`: each phase's evidence and diagnosis, and
/// every expectation that did not hold, in the order the run met them.
pub fn judge(scenario: &Scenario, record: RunRecord) -> ScenarioReport {
    let mut report = ScenarioReport::empty(&scenario.name, &record.file);
    report.secrets = scenario.secrets();
    report.name = record.name;
    report.duration_ms = record.duration_ms;
    report.commands = record.commands;
    report.hosts = record.hosts;
    report.sandbox = record.sandbox;
    report.sandbox_removed = record.sandbox_removed;
    report.cache = record.cache;
    report.network = record.network;
    report.usage = record.usage;
    report.seed = Some(scenario.seed);
    report.started_at = record.started_at;
    report.traffic = record.traffic;
    if let Some(reason) = record.skipped {
        return ScenarioReport { status: Status::Skipped, reason: Some(reason), ..report };
    }
    report.reason = record.reason;
    if let Some(phase) = record.steady {
        // The world without its faults must let go succeed.
        let calm = Expectation { exit: Some(crate::vocab::ExitExpectation::Success), ..Default::default() };
        report.steady = Some(phase_report(&calm, phase, Phase::Steady, &mut report.failures));
    }
    if let Some(phase) = record.run {
        report.run = Some(phase_report(&scenario.expect, phase, Phase::Run, &mut report.failures));
    }
    if let Some(v) = &record.verification {
        report.failures.extend(verification_failures(v));
    }
    report.verification = record.verification;
    if let (Some(recovery), Some(done)) = (&scenario.recover, record.recovery) {
        let before = report.failures.len();
        let rerun = match &done.failed_step {
            Some(command) => failed_step_report(command, done.rerun, &mut report.failures),
            None => phase_report(&recovery.expect, done.rerun, Phase::Recover, &mut report.failures),
        };
        if let Some(v) = &done.verification {
            report.failures.extend(verification_failures(v));
        }
        report.recovery = Some(RecoveryReport {
            playbook: done.playbook,
            steps: done.steps,
            rerun,
            failed_step: done.failed_step,
            verification: done.verification,
            recovered: report.failures.len() == before,
            start_ms: done.start_ms,
            end_ms: done.end_ms,
        });
    }
    report.status = if report.reason.is_none() && report.failures.is_empty() { Status::Passed } else { Status::Failed };
    // Leads say which faults the traffic never met: only worth saying when go ran in the
    // scenario's world and what that world saw is known (a sealed child killed from
    // outside, or a harness problem before go started, left no record of it).
    let traffic_known =
        report.traffic.iter().any(|w| !w.steady) && report.commands.iter().any(|c| c.phase == Phase::Run);
    // A passed scenario's faults that never fired are said too: it passed without them,
    // which a chaos scenario rarely means to (a `when` that matches nothing).
    if report.status != Status::Skipped && traffic_known {
        report.leads = unfired::unfired_faults(scenario, &report.traffic);
    }
    report
}

/// A phase's evidence and diagnosis, with the expectations it misses added to `failures`.
fn phase_report(
    expect: &Expectation,
    record: PhaseRecord,
    phase: Phase,
    failures: &mut Vec<expect::Failure>,
) -> PhaseReport {
    let evidence = Evidence::from_phase(record);
    let diagnosis = diagnose(&evidence);
    failures.extend(expect::check(expect, &evidence, &diagnosis, phase));
    PhaseReport { evidence, diagnosis }
}

/// A recovery's go step that failed or hit its deadline: the recovery failed there (the
/// rerun never ran), told with what the step printed.
fn failed_step_report(command: &str, record: PhaseRecord, failures: &mut Vec<expect::Failure>) -> PhaseReport {
    let evidence = Evidence::from_phase(record);
    let diagnosis = diagnose(&evidence);
    let how = evidence.exit.map_or_else(|| "no exit status".to_string(), |e| e.describe());
    let output = format!("{}\n{}", evidence.stderr.trim(), evidence.stdout.trim());
    let got = match output.trim() {
        "" => format!("{how}; it printed nothing"),
        text => format!("{how}; it printed:\n{text}"),
    };
    failures.push(Failure {
        phase: Phase::Recover,
        what: format!("recovery step `{command}`"),
        expected: "success within the run's timeout".into(),
        got,
    });
    PhaseReport { evidence, diagnosis }
}

/// Each integrity problem as a failure.
fn verification_failures(v: &Verification) -> impl Iterator<Item = Failure> + '_ {
    v.problems.iter().map(|problem| Failure {
        phase: Phase::Verify,
        what: "integrity".into(),
        expected: "content equal to the fixture".into(),
        got: problem.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::record::{CommandReport, WorldTraffic};
    use crate::vocab::Exit;

    fn scenario() -> Scenario {
        let source = "name: t\nhosts:\n  proxy.corp.example:\n    goproxy: {}\n    faults: [{when: {path: '*.zip'}, hang: {}}]\n\
                      env: {GOPROXY: https://proxy.corp.example}\nrun: {go: mod download}\nexpect: {exit: timeout}\n";
        let ctx = crate::scenario::LoadContext::default();
        crate::scenario::parse(std::path::Path::new("t.yaml"), source.into(), &ctx).unwrap()
    }

    #[test]
    fn regression_no_leads_when_the_traffic_is_unknown() {
        // A sealed child killed from outside, or a harness problem before go ran: no
        // record of what the world saw, so "saw no request at all" would be false.
        let record = RunRecord::failed_before_start("t", std::path::Path::new("t.yaml"), "killed".into());
        let report = judge(&scenario(), record);
        assert_eq!(report.status, Status::Failed);
        assert!(report.leads.is_empty(), "{:#?}", report.leads);
    }

    #[test]
    fn a_run_whose_world_saw_nothing_still_gets_its_leads() {
        let mut record = RunRecord::failed_before_start("t", std::path::Path::new("t.yaml"), "stopped".into());
        record.traffic.push(WorldTraffic::default());
        record.commands.push(CommandReport {
            phase: Phase::Run,
            command: "go mod download".into(),
            exit: Exit::Code { code: 1 },
            duration_ms: 1.0,
            pid: 1,
            start_ms: 0.0,
            stdout: Default::default(),
            stderr: Default::default(),
        });
        let report = judge(&scenario(), record);
        assert_eq!(report.leads.len(), 1, "{:#?}", report.leads);
        assert!(report.leads[0].contains("saw no request at all"), "{:#?}", report.leads);
    }
}
