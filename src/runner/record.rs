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

/// Most of each output stream a [`CommandReport`] keeps: the phase's evidence has the last
/// command's whole output; this is for telling the story of every command (the journal).
pub const KEPT_OUTPUT: usize = 64 << 10;

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
    /// When it started, in ms since the scenario started (to place it on a timeline
    /// against the requests it made).
    #[serde(default)]
    pub start_ms: f64,
    /// Its standard output, host names as the scenario writes them, cut to
    /// [`KEPT_OUTPUT`].
    #[serde(default)]
    pub stdout: KeptOutput,
    /// Its standard error, likewise.
    #[serde(default)]
    pub stderr: KeptOutput,
}

/// An output stream kept up to a size: its beginning and its end (go's errors come
/// last, its `-x` trace first), with a line in the middle saying how much was cut.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptOutput {
    /// What was kept (the whole stream when it was not cut).
    pub text: String,
    /// The stream's whole size in bytes.
    pub bytes: u64,
    /// Whether bytes were cut from the middle.
    pub cut: bool,
}

impl KeptOutput {
    /// `text`, whole when it is at most `max` bytes long, else its first and last
    /// `max / 2` bytes (at character boundaries) around a line saying what was cut.
    pub fn keep(text: &str, max: usize) -> KeptOutput {
        let bytes = text.len() as u64;
        if text.len() <= max {
            return KeptOutput { text: text.to_string(), bytes, cut: false };
        }
        let mut head = max / 2;
        while !text.is_char_boundary(head) {
            head -= 1;
        }
        let mut tail = text.len() - max / 2;
        while !text.is_char_boundary(tail) {
            tail += 1;
        }
        let cut = tail - head;
        let text = format!("{}\n[… {cut} bytes cut by modchaos …]\n{}", &text[..head], &text[tail..]);
        KeptOutput { text, bytes, cut: true }
    }
}

/// What one world's fakes saw over a whole scenario (every phase, verification
/// included), with where the world's clock starts on the scenario's: request and query
/// times count from the world's start, the scenario's timeline from its own.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WorldTraffic {
    /// The steady state's world (the scenario's hosts without their faults), not the
    /// scenario's.
    #[serde(default)]
    pub steady: bool,
    /// When the world started, in ms since the scenario started.
    pub start_ms: f64,
    /// Every request, in order of arrival.
    pub requests: Vec<RequestRecord>,
    /// Every DNS query, in order of arrival.
    pub dns: Vec<DnsRecord>,
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
    /// The rerun; or, when a go step of the recovery failed, that step (no rerun ran).
    pub rerun: PhaseRecord,
    /// The go step of the recovery that failed or hit its deadline, when one did: the
    /// recovery stopped there, and `rerun` holds that step.
    #[serde(default)]
    pub failed_step: Option<String>,
    /// Integrity checks of the rerun, when its expectations ask for them and it succeeded.
    pub verification: Option<Verification>,
    /// When the steps began being applied, in ms since the scenario started.
    #[serde(default)]
    pub start_ms: f64,
    /// When the last step was applied, likewise.
    #[serde(default)]
    pub end_ms: f64,
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
    /// When it started, wall clock (RFC 3339, UTC), when it ran.
    #[serde(default)]
    pub started_at: Option<String>,
    /// What each world saw (the steady state's, then the scenario's), on the scenario's
    /// timeline.
    #[serde(default)]
    pub traffic: Vec<WorldTraffic>,
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
            started_at: None,
            traffic: Vec::new(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_output_is_kept_whole() {
        let kept = KeptOutput::keep("go: downloading corp.example/lib v1.0.0\n", 64);
        assert_eq!(
            kept,
            KeptOutput { text: "go: downloading corp.example/lib v1.0.0\n".into(), bytes: 40, cut: false }
        );
    }

    #[test]
    fn long_output_keeps_its_start_and_end_and_says_what_was_cut() {
        let text = format!("# get https://proxy/\n{}go: error at the end\n", "x".repeat(1000));
        let kept = KeptOutput::keep(&text, 100);
        assert!(kept.cut);
        assert_eq!(kept.bytes, text.len() as u64);
        assert!(kept.text.starts_with("# get https://proxy/"), "{}", kept.text);
        assert!(kept.text.ends_with("go: error at the end\n"), "{}", kept.text);
        assert!(kept.text.contains(&format!("[… {} bytes cut by modchaos …]", text.len() - 100)), "{}", kept.text);
    }

    #[test]
    fn cutting_never_splits_a_character() {
        let text = "é".repeat(100);
        for max in 1..20 {
            let kept = KeptOutput::keep(&text, max);
            assert!(kept.cut && kept.text.contains("bytes cut"));
        }
    }
}
