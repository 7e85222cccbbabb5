//! The result of a scenario: everything a person needs to see why it passed or failed,
//! and what the JSON journal records.

use serde::{Deserialize, Serialize};

use super::expect::Failure;
use crate::diagnose::Diagnosis;
use crate::evidence::Evidence;
pub use crate::runner::CommandReport;
pub use crate::runner::record::{KeptOutput, WorldTraffic};
use crate::runner::verify::Verification;

/// How a scenario ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every expectation held.
    Passed,
    /// Some expectation did not hold, or the harness could not run it.
    Failed,
    /// Not run, with a reason (never counted as passed).
    Skipped,
}

/// One phase (the run, or the rerun after recovery).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhaseReport {
    /// What was observed (last command's output, this phase's requests).
    pub evidence: Evidence,
    /// The diagnosis of it.
    pub diagnosis: Diagnosis,
}

/// The recovery part of a scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecoveryReport {
    /// The playbook used.
    pub playbook: Option<String>,
    /// Steps applied, one line each.
    pub steps: Vec<String>,
    /// The rerun; or, when a go step of the recovery failed, that step (no rerun ran).
    pub rerun: PhaseReport,
    /// The go step of the recovery that failed or hit its deadline, when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_step: Option<String>,
    /// Integrity checks, when asked for.
    pub verification: Option<Verification>,
    /// True when the rerun met every expectation of the recovery (integrity included).
    pub recovered: bool,
    /// When the steps began being applied, in ms since the scenario started.
    #[serde(default)]
    pub start_ms: f64,
    /// When the last step was applied, likewise.
    #[serde(default)]
    pub end_ms: f64,
}

/// Everything about one scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioReport {
    /// Scenario name.
    pub name: String,
    /// Scenario file.
    pub file: String,
    /// Outcome.
    pub status: Status,
    /// Why it was skipped, or what stopped the harness.
    pub reason: Option<String>,
    /// Total wall time.
    pub duration_ms: f64,
    /// Every go command run.
    pub commands: Vec<CommandReport>,
    /// Unmet expectations.
    pub failures: Vec<Failure>,
    /// The declared faults that never fired ("fault #1 (respond 500) on proxy.example
    /// never fired …: check its `when`"): of a failed scenario, leads to why; of a passed
    /// one, a note that it passed without them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub leads: Vec<String>,
    /// The steady state: the same commands against the world without its faults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steady: Option<PhaseReport>,
    /// The run.
    pub run: Option<PhaseReport>,
    /// Integrity checks of the run, when its expectations ask for them.
    pub verification: Option<Verification>,
    /// The recovery, if the scenario has one.
    pub recovery: Option<RecoveryReport>,
    /// Where hosts listened.
    pub hosts: Vec<String>,
    /// The sandbox directory (removed at the end).
    pub sandbox: Option<String>,
    /// Whether the sandbox was removed.
    pub sandbox_removed: bool,
    /// What was done to the module cache before the run (seeded versions, faults).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cache: Vec<String>,
    /// The network mode it ran in (`None` when it did not run).
    #[serde(default)]
    pub network: Option<crate::vocab::NetworkMode>,
    /// CPU time and peak memory of the sealed child that ran it (`None` in open mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<crate::runner::Usage>,
    /// The version of the go command it ran with (`go1.26.8`), when known.
    #[serde(default)]
    pub go_version: Option<String>,
    /// The seed its probabilistic faults were drawn from.
    #[serde(default)]
    pub seed: Option<u64>,
    /// When it started, wall clock (RFC 3339, UTC), when it ran.
    #[serde(default)]
    pub started_at: Option<String>,
    /// What each world saw over the whole scenario (the steady state's world, then the
    /// scenario's), every phase included, on the scenario's timeline.
    #[serde(default)]
    pub traffic: Vec<WorldTraffic>,
    /// The scenario's secrets (passwords, credentials in URLs), which every reporter
    /// masks wherever they show; never written out.
    #[serde(skip)]
    pub secrets: Vec<String>,
}

impl ScenarioReport {
    /// A report of a scenario that has not run (yet): failed, with nothing observed.
    pub fn empty(name: &str, file: &std::path::Path) -> ScenarioReport {
        ScenarioReport {
            name: name.to_string(),
            file: file.display().to_string(),
            status: Status::Failed,
            reason: None,
            duration_ms: 0.0,
            commands: Vec::new(),
            failures: Vec::new(),
            leads: Vec::new(),
            steady: None,
            run: None,
            verification: None,
            recovery: None,
            hosts: Vec::new(),
            sandbox: None,
            sandbox_removed: false,
            cache: Vec::new(),
            network: None,
            usage: None,
            go_version: None,
            seed: None,
            started_at: None,
            traffic: Vec::new(),
            secrets: Vec::new(),
        }
    }

    /// The redaction every reporter applies to what it writes of this report.
    pub fn redactor(&self) -> crate::redact::Redactor {
        crate::redact::Redactor::new(self.secrets.iter().cloned())
    }

    /// This report with its secrets masked in every text it holds (go's output, requests,
    /// recovery steps, configuration diffs, failures, …): what the suite hands to
    /// reporters, so that a reporter showing a field no other reporter shows cannot leak
    /// it either. The secrets themselves stay, for reporters that mask again.
    pub fn redacted(self) -> ScenarioReport {
        let redactor = self.redactor();
        let Ok(mut value) = serde_json::to_value(&self) else { return self };
        redactor.json(&mut value);
        match serde_json::from_value::<ScenarioReport>(value) {
            Ok(masked) => ScenarioReport { secrets: self.secrets, ..masked },
            Err(_) => self,
        }
    }

    /// A scenario the harness could not run, and why.
    pub fn failed_before_start(name: &str, file: &std::path::Path, reason: String) -> ScenarioReport {
        ScenarioReport { reason: Some(reason), ..ScenarioReport::empty(name, file) }
    }

    /// A scenario not run on purpose, and why (never counted as passed).
    pub fn skipped(name: &str, file: &std::path::Path, reason: String) -> ScenarioReport {
        ScenarioReport { status: Status::Skipped, reason: Some(reason), ..ScenarioReport::empty(name, file) }
    }

    /// The run's diagnosis, if there was a run.
    pub fn diagnosis(&self) -> Option<&Diagnosis> {
        self.run.as_ref().map(|r| &r.diagnosis)
    }

    /// `Some(true)` when the recovery met all its expectations, `None` without recovery.
    pub fn recovered(&self) -> Option<bool> {
        self.recovery.as_ref().map(|r| r.recovered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redacted_report_masks_every_text_and_keeps_the_rest() {
        let mut report = ScenarioReport::failed_before_start(
            "secrets",
            std::path::Path::new("s.yaml"),
            "cannot reach https://ci:hunter22@proxy.corp.example".into(),
        );
        report.secrets = vec!["s3cret-token".into()];
        report.hosts = vec!["proxy.corp.example → 127.0.0.1:1 (auth ci/s3cret-token)".into()];
        report.cache = vec!["machine proxy login ci password hunter22".into()];
        report.duration_ms = 12.5;
        let masked = report.clone().redacted();
        let text = serde_json::to_string(&masked).unwrap();
        assert!(!text.contains("hunter22") && !text.contains("s3cret-token"), "{text}");
        assert_eq!(masked.reason.as_deref(), Some("cannot reach https://ci:xxxxx@proxy.corp.example"));
        assert_eq!(masked.hosts, ["proxy.corp.example → 127.0.0.1:1 (auth ci/xxxxx)"]);
        assert_eq!((masked.name.as_str(), masked.status, masked.duration_ms), ("secrets", Status::Failed, 12.5));
        assert_eq!(masked.secrets, report.secrets);
    }
}
