//! What a suite tells the outside world: the suite's start and end, each run's progress
//! (from the runner), and each scenario's judged report. The suite only emits these;
//! reporters (terminal, JSON journal, …) only consume them.

use serde::{Deserialize, Serialize};

use super::Summary;
use crate::judge::ScenarioReport;
use crate::runner::events::{NoEvents, Progress, ProgressSink};
use crate::vocab::{Exit, Phase};

/// One thing that happened.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A suite is starting.
    SuiteStarted {
        /// Number of scenarios selected.
        scenarios: usize,
        /// Most scenarios at once.
        jobs: usize,
        /// The go binary.
        go: String,
        /// Its version.
        go_version: String,
        /// Every go version of the matrix, in the order they run (`go_version` first).
        #[serde(default)]
        go_versions: Vec<String>,
        /// How scenarios get their network.
        #[serde(default)]
        network: String,
        /// How scenarios are scheduled ("up to 8 at a time on 2 CPU(s)…").
        #[serde(default)]
        schedule: String,
        /// The longest name a report will show (scenario name, and go version in a
        /// matrix), for reporters that align columns.
        #[serde(default)]
        name_width: usize,
    },
    /// A scenario file did not load: it runs nowhere, and reports must say so.
    InvalidFile {
        /// The file.
        file: String,
        /// Every problem, `file:line:col: message` (and a help line).
        problems: Vec<String>,
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

impl EventSink for NoEvents {
    fn emit(&self, _: &Event) {}
}

impl From<Progress> for Event {
    fn from(progress: Progress) -> Event {
        match progress {
            Progress::ScenarioStarted { name, file } => Event::ScenarioStarted { name, file },
            Progress::CommandStarted { scenario, phase, command } => Event::CommandStarted { scenario, phase, command },
            Progress::CommandFinished { scenario, phase, command, exit, duration_ms } => {
                Event::CommandFinished { scenario, phase, command, exit, duration_ms }
            }
        }
    }
}

/// A run's progress passed on to an event sink.
pub struct Forward<'a>(pub &'a dyn EventSink);

impl ProgressSink for Forward<'_> {
    fn progress(&self, progress: &Progress) {
        self.0.emit(&Event::from(progress.clone()));
    }
}

impl<F: Fn(&Event) + Send + Sync> EventSink for F {
    fn emit(&self, event: &Event) {
        self(event)
    }
}
