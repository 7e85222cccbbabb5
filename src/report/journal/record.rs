//! The journal's line types: what `--json` writes and `modchaos report` reads, with their
//! JSON Schema (`modchaos schema --journal`) derived from these very types. They are the
//! journal's contract, kept apart from the internal report types so that those can
//! change without breaking a consumer: fields are only ever added (the journal version
//! says when), never renamed or removed.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The version of the journal format these types write. Version 1 (no
/// `journal_version` field) had the top-level summary fields only; version 2 added the
/// whole story (commands with output, requests, DNS, phases, recovery, verification);
/// version 3 added `leads` (faults that never fired in a failed scenario); version 4 the
/// last line of a run a signal stopped (`"status": "interrupted"`) and the recovery's
/// `failed_step`.
pub const JOURNAL_VERSION: u32 = 4;

/// One line of a journal: a scenario run, or a scenario file that did not load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
#[schemars(title = "modchaos journal line")]
pub enum JournalLine {
    /// A scenario run (passed, failed or skipped).
    Scenario(Box<ScenarioRecord>),
    /// A scenario file that did not load.
    Invalid(InvalidRecord),
    /// The run was stopped by a signal: the journal's last line (version 4).
    Interrupted(InterruptedRecord),
}

/// How a scenario run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Every expectation held.
    Passed,
    /// Some expectation did not hold, or the harness could not run it.
    Failed,
    /// Not run, with a reason (never counted as passed).
    Skipped,
}

/// The part of a scenario a command, request or failure belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PhaseName {
    /// The steady state: the same commands against the world without its faults.
    Steady,
    /// The scenario's own go commands.
    Run,
    /// The recovery's go steps and the rerun after it.
    Recover,
    /// Integrity checks (`go mod verify`).
    Verify,
}

impl PhaseName {
    /// Its name in the journal: `steady`, `run`, `recover`, `verify`.
    pub fn name(self) -> &'static str {
        match self {
            PhaseName::Steady => "steady",
            PhaseName::Run => "run",
            PhaseName::Recover => "recover",
            PhaseName::Verify => "verify",
        }
    }
}

/// The whole story of one scenario run. Times (`*_ms`) count from the scenario's start
/// unless a field says otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScenarioRecord {
    /// The journal format version ([`JOURNAL_VERSION`]); absent in version 1 journals.
    #[serde(default = "version_one")]
    pub journal_version: u32,
    /// Scenario name.
    pub name: String,
    /// Scenario file.
    pub file: String,
    /// How it ended.
    pub status: RunStatus,
    /// Why it was skipped, or what stopped the harness.
    pub reason: Option<String>,
    /// The run's diagnosis category id (`proxy.server_error`).
    pub diagnosis: Option<String>,
    /// The run's diagnosis in one line.
    pub diagnosis_summary: Option<String>,
    /// Whether the recovery met all its expectations (`null` without recovery).
    pub recovered: Option<bool>,
    /// The playbook the recovery used.
    pub playbook: Option<String>,
    /// Wall time of the whole scenario, in whole milliseconds.
    pub duration_ms: u64,
    /// The network mode it ran in (`open` / `sealed`; `null` when not run).
    pub network: Option<String>,
    /// The go version it ran with (`go1.26.8`).
    pub go_version: Option<String>,
    /// The seed its probabilistic faults were drawn from.
    pub seed: Option<u64>,
    /// Every go command line run, in order.
    pub commands: Vec<String>,
    /// Unmet expectations, one line each (`unmet` has them as fields).
    pub failures: Vec<String>,
    /// When it started, wall clock (RFC 3339, UTC).
    #[serde(default)]
    pub started_at: Option<String>,
    /// The declared hosts and where they listened.
    #[serde(default)]
    pub hosts: Vec<HostEntry>,
    /// Every go command run, in order, with its output.
    #[serde(default)]
    pub go_commands: Vec<GoCommandEntry>,
    /// Every request (and TLS handshake, TCP connection through toxics, CONNECT) the
    /// fakes saw, in every phase, in order of arrival per world.
    #[serde(default)]
    pub requests: Vec<RequestEntry>,
    /// Every query the sealed world's resolver saw.
    #[serde(default)]
    pub dns: Vec<DnsEntry>,
    /// The steady state, when the scenario asks for one.
    #[serde(default)]
    pub steady: Option<PhaseEntry>,
    /// The run (its last go command and the diagnosis).
    #[serde(default)]
    pub run: Option<PhaseEntry>,
    /// Integrity checks of the run, when its expectations ask for them.
    #[serde(default)]
    pub verification: Option<VerificationEntry>,
    /// The recovery and its rerun, when the scenario has one and it was applied.
    #[serde(default)]
    pub recovery: Option<RecoveryEntry>,
    /// Unmet expectations, in the order the run met them.
    #[serde(default)]
    pub unmet: Vec<UnmetEntry>,
    /// The declared faults (HTTP, DNS, TCP toxics) that never fired, one line each,
    /// naming the fault, its host and its `when`: of a failed scenario, leads; of a
    /// passed one, a note that it passed without them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub leads: Vec<String>,
    /// What was done to the module cache before the run (seeded versions, faults).
    #[serde(default)]
    pub cache: Vec<String>,
}

fn version_one() -> u32 {
    1
}

/// A declared host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HostEntry {
    /// Its name, as the scenario declares it.
    pub name: String,
    /// What it is (`goproxy`, `sumdb`, `git`, `forward_proxy`, `closed`, …).
    pub kind: String,
    /// Where it listened in this run (`127.0.0.10 :80 :443`, `127.0.0.1:41234`).
    pub listen: String,
}

/// One go command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GoCommandEntry {
    /// The phase it ran in.
    pub phase: PhaseName,
    /// The command line.
    pub command: String,
    /// When it started.
    pub start_ms: f64,
    /// How long it ran.
    pub duration_ms: f64,
    /// How it ended.
    pub exit: ExitEntry,
    /// go's process id (also its process group's).
    pub pid: u32,
    /// Its standard output.
    pub stdout: OutputEntry,
    /// Its standard error.
    pub stderr: OutputEntry,
}

/// How a go command ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ExitEntry {
    /// `code` (it exited), `signal` (a signal modchaos did not send ended it) or
    /// `timeout` (still running at the deadline, killed).
    pub kind: ExitKind,
    /// The exit status, for `code`.
    pub code: Option<i32>,
    /// The signal number, for `signal`.
    pub signal: Option<i32>,
    /// In words: `exit status 1`, `still running at the deadline (killed)`.
    pub text: String,
}

/// The ways a go command ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExitKind {
    /// It exited with a status.
    Code,
    /// A signal ended it.
    Signal,
    /// Killed at the deadline.
    Timeout,
}

/// An output stream, at most 64 KiB of it: when longer, its first and last 32 KiB around
/// a line saying how many bytes were cut.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OutputEntry {
    /// What was kept (host names as the scenario writes them).
    pub text: String,
    /// The stream's whole size in bytes.
    pub bytes: u64,
    /// Whether bytes were cut from the middle.
    pub cut: bool,
}

/// The two worlds a scenario may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WorldName {
    /// The steady state's world (the same hosts without their faults).
    Steady,
    /// The scenario's world, with its faults.
    Scenario,
}

/// One request a fake saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RequestEntry {
    /// The world that saw it.
    pub world: WorldName,
    /// Order of arrival in its world (shared with DNS queries), from 1.
    pub seq: u64,
    /// The phase it arrived in.
    pub phase: PhaseName,
    /// The declared host (or `<outside>`: an attempt to leave the sandbox).
    pub host: String,
    /// HTTP method; `TLS`, `TCP` and `CONNECT` for handshakes, connections through
    /// toxics and forward-proxy tunnels.
    pub method: String,
    /// URL path (for CONNECT: the authority asked for).
    pub path: String,
    /// Status sent; `null` when no response head was sent (hang, reset).
    pub status: Option<u16>,
    /// Body bytes sent.
    pub bytes: u64,
    /// Arrival.
    pub start_ms: f64,
    /// When the response ended (or was cut); `null` if never.
    pub end_ms: Option<f64>,
    /// The faults that fired on it (`#1 respond 500`), TCP toxics included.
    pub faults: Vec<String>,
    /// How the exchange ended when not normally.
    pub note: Option<String>,
}

/// One DNS query the sealed resolver saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DnsEntry {
    /// The world that saw it.
    pub world: WorldName,
    /// Order of arrival in its world (shared with requests), from 1.
    pub seq: u64,
    /// The phase it arrived in.
    pub phase: PhaseName,
    /// `udp` or `tcp`.
    pub transport: String,
    /// The name asked for.
    pub name: String,
    /// The query type (`A`, `AAAA`).
    pub qtype: String,
    /// The response code sent; `null` when dropped.
    pub rcode: Option<String>,
    /// Addresses answered.
    pub answers: Vec<String>,
    /// The answer had the TC bit set.
    pub truncated: bool,
    /// The faults that fired on it.
    pub faults: Vec<String>,
    /// Arrival.
    pub start_ms: f64,
    /// When the answer was sent; `null` if never.
    pub end_ms: Option<f64>,
    /// Anything unusual.
    pub note: Option<String>,
}

/// One phase: its last go command and the diagnosis of what it did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PhaseEntry {
    /// The last go command line.
    pub command: Option<String>,
    /// How it ended.
    pub exit: Option<ExitEntry>,
    /// How long it ran.
    pub duration_ms: Option<f64>,
    /// The diagnosis.
    pub diagnosis: DiagnosisEntry,
    /// The environment as the scenario configured it.
    pub env: Vec<EnvEntry>,
    /// How the configuration differs from the failed run's (the rerun).
    pub env_changes: Vec<String>,
}

/// A variable of the environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EnvEntry {
    /// Its name.
    pub name: String,
    /// Its value.
    pub value: String,
}

/// A diagnosis with what shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DiagnosisEntry {
    /// The category id.
    pub category: String,
    /// How sure: `low`, `medium`, `high`.
    pub confidence: String,
    /// The cause in one line.
    pub summary: String,
    /// The lines that show it.
    pub evidence: Vec<EvidenceEntry>,
    /// Playbooks that fix it.
    pub playbooks: Vec<String>,
    /// Other categories that also fit, most likely first.
    pub alternatives: Vec<AlternativeEntry>,
    /// The context it used besides go's output.
    pub context: Vec<String>,
}

/// A quoted evidence line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EvidenceEntry {
    /// Where it comes from: `stderr`, `json`, `trace`, `requests`, `dns`, `cache`, `env`,
    /// `exit`.
    pub source: String,
    /// The text, quoted as is.
    pub text: String,
}

/// Another category that fits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AlternativeEntry {
    /// The category id.
    pub category: String,
    /// How sure.
    pub confidence: String,
    /// Why it fits too.
    pub summary: String,
}

/// Integrity checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct VerificationEntry {
    /// Checks that passed.
    pub checks: Vec<String>,
    /// Checks that failed.
    pub problems: Vec<String>,
}

/// The recovery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RecoveryEntry {
    /// The playbook used.
    pub playbook: Option<String>,
    /// The steps applied, one line each.
    pub steps: Vec<String>,
    /// When the steps began being applied.
    pub start_ms: f64,
    /// When the last step was applied.
    pub end_ms: f64,
    /// Whether the rerun met every expectation of the recovery.
    pub recovered: bool,
    /// The rerun; or, when a go step of the recovery failed, that step (no rerun ran).
    pub rerun: PhaseEntry,
    /// The go step of the recovery that failed or hit its deadline, when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_step: Option<String>,
    /// Integrity checks of the rerun.
    pub verification: Option<VerificationEntry>,
}

/// An expectation that did not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UnmetEntry {
    /// The phase it concerns.
    pub phase: PhaseName,
    /// What was checked (`exit`, `diagnosis`, `requests to …`).
    pub what: String,
    /// What the scenario expected.
    pub expected: String,
    /// What happened.
    pub got: String,
}

/// A scenario file that did not load: it ran nowhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct InvalidRecord {
    /// The journal format version.
    #[serde(default = "version_one")]
    pub journal_version: u32,
    /// The file.
    pub file: String,
    /// Always `invalid`.
    pub status: InvalidStatus,
    /// Every problem, `file:line:col: message`.
    pub problems: Vec<String>,
}

/// The end of a run a signal stopped: the journal holds the scenarios that finished, and
/// this line says the run is incomplete, what stopped it and what was running.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct InterruptedRecord {
    /// The journal format version.
    pub journal_version: u32,
    /// Always `interrupted`.
    pub status: InterruptedStatus,
    /// What stopped it (`SIGINT`, `SIGTERM`, `SIGHUP`).
    pub signal: String,
    /// Scenario runs the suite was to make.
    pub planned: usize,
    /// Scenario runs that finished (each on a line of its own above).
    pub finished: usize,
    /// The scenarios that were running, stopped before they finished.
    pub in_flight: Vec<InFlightEntry>,
    /// Wall time until the signal.
    pub duration_ms: u64,
}

/// A scenario a signal stopped while it ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct InFlightEntry {
    /// Its name.
    pub name: String,
    /// Its file.
    pub file: String,
}

/// The status of a run a signal stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum InterruptedStatus {
    /// A signal stopped it.
    Interrupted,
}

/// The status of a file that did not load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvalidStatus {
    /// It did not load.
    Invalid,
}
