//! What a run tells the outside world while it goes: a scenario started, a go command
//! started and ended. The runner only emits these; the suite turns them into its own
//! events for the reporters — and a sealed child sends them back over a pipe, so they
//! are serialisable.

use serde::{Deserialize, Serialize};

use crate::vocab::{Exit, Phase};

/// One step of a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Progress {
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
}

/// Receives a run's progress. Implementations must be cheap: the runner calls them inline.
pub trait ProgressSink: Send + Sync {
    /// Handles one step.
    fn progress(&self, progress: &Progress);
}

/// Discards everything (library use without reporting).
pub struct NoEvents;

impl ProgressSink for NoEvents {
    fn progress(&self, _: &Progress) {}
}
