//! What a scenario run did, as plain serialisable data: every go command with its exit,
//! the last command's output in each phase with the requests and DNS queries the fakes
//! saw, the configuration go had, the recovery steps applied, the integrity checks, and
//! what stopped the harness if something did. The runner only records; judging the
//! record against the scenario's expectations happens above it (`judge`), so a sealed
//! child sends its record back and the parent judges it.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::gocmd::GoOutcome;
use super::verify::Verification;
use crate::gooutput::{ModuleRecord, parse_json_records};
use crate::vocab::{DnsRecord, Exit, NetworkMode, Phase, RequestRecord};
use crate::world::HostMap;

/// One go command of a scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CommandReport {
    /// Run, recovery or verification.
    pub phase: Phase,
    /// The command line.
    pub command: String,
    /// How it ended.
    pub exit: Exit,
    /// How long it took.
    pub duration_ms: f64,
    /// go's process id, which is also its process group id.
    pub pid: u32,
}

/// One phase of a run (the run, or the rerun after recovery): what its last go command
/// did and what the world saw meanwhile.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhaseRecord {
    /// The last go command of the phase, its output as go printed it (open mode:
    /// addresses, not names; see `hosts`).
    pub outcome: GoOutcome,
    /// Where the hosts listened, to read go's output in the scenario's names.
    pub hosts: HostMap,
    /// Requests the fakes saw during the phase.
    pub requests: Vec<RequestRecord>,
    /// Queries the sealed resolver saw during the phase.
    pub dns: Vec<DnsRecord>,
    /// The environment as the scenario configured it (scenario terms).
    pub env: Vec<(String, String)>,
    /// The go version that ran.
    pub go_version: Option<String>,
    /// How the configuration differs from the failed run's (a recovery's rerun).
    pub env_changes: Vec<String>,
}

impl PhaseRecord {
    /// go's standard output with host addresses turned back into the scenario's names.
    pub fn stdout(&self) -> String {
        self.hosts.from_go(&self.outcome.stdout)
    }

    /// go's standard error, likewise.
    pub fn stderr(&self) -> String {
        self.hosts.from_go(&self.outcome.stderr)
    }

    /// The `-json` records go printed.
    pub fn module_records(&self) -> Vec<ModuleRecord> {
        parse_json_records(&self.stdout())
    }
}

/// The recovery part of a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecoveryRecord {
    /// The playbook used.
    pub playbook: Option<String>,
    /// Steps applied, one line each.
    pub steps: Vec<String>,
    /// The rerun.
    pub rerun: PhaseRecord,
    /// Integrity checks of the rerun, when its expectations ask for them and it succeeded.
    pub verification: Option<Verification>,
}

/// Everything one scenario run did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    /// Scenario name.
    pub name: String,
    /// Scenario file.
    pub file: PathBuf,
    /// Why the scenario was not run at all (never counted as passed).
    pub skipped: Option<String>,
    /// What stopped the harness before the run ended, if anything did.
    pub reason: Option<String>,
    /// Total wall time.
    pub duration_ms: f64,
    /// Every go command run.
    pub commands: Vec<CommandReport>,
    /// The steady state, when the scenario asks for it.
    #[serde(default)]
    pub steady: Option<PhaseRecord>,
    /// The run.
    pub run: Option<PhaseRecord>,
    /// Integrity checks of the run, when its expectations ask for them and it succeeded.
    pub verification: Option<Verification>,
    /// The recovery, when the scenario has one and it was applied.
    pub recovery: Option<RecoveryRecord>,
    /// Where hosts listened, one line each.
    pub hosts: Vec<String>,
    /// The sandbox directory (removed at the end).
    pub sandbox: Option<String>,
    /// Whether the sandbox was removed.
    pub sandbox_removed: bool,
    /// What was done to the module cache before the run (seeded versions, faults).
    pub cache: Vec<String>,
    /// The network mode it ran in (`None` when it did not run).
    pub network: Option<NetworkMode>,
    /// CPU time and peak memory of the process that ran it, when that process ran
    /// nothing else (a sealed child); `None` in open mode, where scenarios share one.
    #[serde(default)]
    pub usage: Option<super::usage::Usage>,
}

impl RunRecord {
    /// A record of a scenario that has not run (yet).
    pub fn new(name: &str, file: &std::path::Path) -> RunRecord {
        RunRecord {
            name: name.to_string(),
            file: file.to_path_buf(),
            skipped: None,
            reason: None,
            duration_ms: 0.0,
            commands: Vec::new(),
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
        }
    }

    /// A scenario the harness could not run, and why.
    pub fn failed_before_start(name: &str, file: &std::path::Path, reason: String) -> RunRecord {
        RunRecord { reason: Some(reason), ..RunRecord::new(name, file) }
    }

    /// A scenario not run on purpose, and why.
    pub fn skipped(name: &str, file: &std::path::Path, reason: String) -> RunRecord {
        RunRecord { skipped: Some(reason), ..RunRecord::new(name, file) }
    }
}
