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
    /// A signal stopped the suite before it ended: the scenarios in flight were stopped
    /// (their go commands killed, their sandboxes removed) and the rest never ran.
    /// Reporters write what finished and say that the run is incomplete.
    Interrupted {
        /// What stopped it (`SIGINT`, `SIGTERM`, …).
        signal: String,
        /// Scenario runs the suite was to make.
        planned: usize,
        /// Scenario runs that finished (each reported by its own event).
        finished: usize,
        /// The scenarios that were running, `(name, file)`.
        in_flight: Vec<(String, String)>,
        /// Wall time until the signal.
        duration_ms: u64,
    },
}

/// Of `planned` scenario runs, how many a signal left unstarted: neither `finished` nor
/// among the `in_flight` it stopped (said by the JUnit and the HTML reports alike).
pub fn never_started(planned: usize, finished: usize, in_flight: usize) -> usize {
    planned.saturating_sub(finished + in_flight)
}

/// Receives events. Implementations must be cheap: the runner calls them inline.
pub trait EventSink: Send + Sync {
    /// Handles one event.
    fn emit(&self, event: &Event);

    /// What went wrong writing this sink's output (a full disk, a closed pipe), if
    /// anything: a report that could not be written must not pass for one that was.
    fn failure(&self) -> Option<String> {
        None
    }
}

/// Follows which scenarios a suite has started and finished, so that an interruption
/// can say what was running and how much was done ([`Event::Interrupted`]).
#[derive(Default)]
pub struct Tracker {
    state: std::sync::Mutex<Tracked>,
}

#[derive(Default)]
struct Tracked {
    planned: usize,
    finished: usize,
    running: Vec<(String, String)>,
    started: Option<std::time::Instant>,
}

impl Tracker {
    /// The event telling that `signal` stopped the suite now.
    pub fn interrupted(&self, signal: &str) -> Event {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        Event::Interrupted {
            signal: signal.to_string(),
            planned: state.planned,
            finished: state.finished,
            in_flight: state.running.clone(),
            duration_ms: state.started.map_or(0, |s| s.elapsed().as_millis() as u64),
        }
    }
}

impl EventSink for Tracker {
    fn emit(&self, event: &Event) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            Event::SuiteStarted { scenarios, .. } => {
                state.planned = *scenarios;
                state.started = Some(std::time::Instant::now());
            }
            Event::ScenarioStarted { name, file } => state.running.push((name.clone(), file.clone())),
            Event::ScenarioFinished { report } => {
                state.finished += 1;
                // A matrix runs one file under one name per go version: any of them will do.
                let same = |(n, f): &(String, String)| *f == report.file && *n == report.name;
                if let Some(i) = state
                    .running
                    .iter()
                    .position(same)
                    .or_else(|| state.running.iter().position(|(_, f)| *f == report.file))
                {
                    state.running.remove(i);
                }
            }
            _ => {}
        }
    }
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
