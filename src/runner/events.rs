//! What a run tells the outside world. The runner only emits these; reporters (terminal,
//! JSON journal, …) only consume them — and a scenario run in a child process (sealed
//! mode) sends the same events back over a pipe, so they are all serialisable.

use serde::{Deserialize, Serialize};

use super::report::{ScenarioReport, Summary};
use crate::fake::Phase;
use crate::vocab::Exit;

/// One thing that happened.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A suite is starting.
    SuiteStarted {
        /// Number of scenarios selected.
        scenarios: usize,
        /// Concurrent scenarios.
        jobs: usize,
        /// The go binary.
        go: String,
        /// Its version.
        go_version: String,
        /// How scenarios get their network.
        #[serde(default)]
        network: String,
    },
    /// A scenario is starting.
    ScenarioStarted {
        /// Its name.
        name: String,
        /// Its file.
        file: String,
    },
    /// A go command is starting.
    CommandStarted {
        /// The scenario.
        scenario: String,
        /// Run, recovery or verification.
        phase: Phase,
        /// The command line.
        command: String,
    },
    /// A go command ended.
    CommandFinished {
        /// The scenario.
        scenario: String,
        /// Run, recovery or verification.
        phase: Phase,
        /// The command line.
        command: String,
        /// How it ended.
        exit: Exit,
        /// How long it took.
        duration_ms: f64,
    },
    /// A scenario ended.
    ScenarioFinished {
        /// Its full report.
        report: Box<ScenarioReport>,
    },
    /// The suite ended.
    SuiteFinished {
        /// Totals.
        summary: Summary,
    },
}

/// Receives events. Implementations must be cheap: the runner calls them inline.
pub trait EventSink: Send + Sync {
    /// Handles one event.
    fn emit(&self, event: &Event);
}

/// Discards everything (library use without reporting).
pub struct NoEvents;

impl EventSink for NoEvents {
    fn emit(&self, _: &Event) {}
}

impl<F: Fn(&Event) + Send + Sync> EventSink for F {
    fn emit(&self, event: &Event) {
        self(event)
    }
}
