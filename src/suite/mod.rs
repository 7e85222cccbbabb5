//! Running many scenarios: load and validate every file first (so a typo fails fast),
//! select by `--filter`, then run up to `jobs` scenarios at once, judge each, and tell
//! the reporters through [`events`].

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use regex::Regex;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

pub mod events;

use serde::{Deserialize, Serialize};

pub use events::{Event, EventSink, Forward};

use crate::judge::{ScenarioReport, Status};
use crate::runner::RunOptions;
use crate::scenario::{LoadContext, LoadError, Scenario, load};

pub mod partition;

pub use partition::Partition;

/// How to run a suite.
#[derive(Debug, Clone)]
pub struct SuiteOptions {
    /// Scenarios run at once.
    pub jobs: usize,
    /// Only scenarios whose name or file matches.
    pub filter: Option<Regex>,
    /// Per-scenario options, one per go command of the matrix (at least one): every
    /// scenario runs with each.
    pub runs: Vec<RunOptions>,
}

/// Everything a suite produced.
#[derive(Debug)]
pub struct SuiteResult {
    /// Reports of the scenarios run, in file order.
    pub reports: Vec<ScenarioReport>,
    /// Files that did not load.
    pub invalid: Vec<(PathBuf, LoadError)>,
    /// Totals.
    pub summary: Summary,
}

/// Loads every file; returns the valid scenarios and the failures.
pub fn load_all(files: &[PathBuf], ctx: &LoadContext) -> (Vec<Scenario>, Vec<(PathBuf, LoadError)>) {
    let mut scenarios = Vec::new();
    let mut invalid = Vec::new();
    for file in files {
        match load(file, ctx) {
            Ok(s) => scenarios.push(s),
            Err(e) => invalid.push((file.clone(), e)),
        }
    }
    (scenarios, invalid)
}

/// Whether `scenario` is selected by `filter`.
pub fn selected(scenario: &Scenario, filter: Option<&Regex>) -> bool {
    filter.is_none_or(|f| f.is_match(&scenario.name) || f.is_match(&scenario.file.display().to_string()))
}

/// Runs `scenarios` (already loaded and selected) `jobs` at a time.
pub async fn run_suite(
    scenarios: Vec<Scenario>,
    invalid: Vec<(PathBuf, LoadError)>,
    options: &SuiteOptions,
    sink: Arc<dyn EventSink>,
) -> SuiteResult {
    let started = Instant::now();
    let jobs = options.jobs.max(1);
    let first = options.runs.first().expect("a suite runs with at least one go command");
    let version = |run: &RunOptions| run.go.version().unwrap_or_else(|e| e.to_string());
    sink.emit(&Event::SuiteStarted {
        scenarios: scenarios.len() * options.runs.len(),
        jobs,
        go: first.go.path.display().to_string(),
        go_version: version(first),
        go_versions: options.runs.iter().map(version).collect(),
        network: first.describe_network(),
    });
    for (file, error) in &invalid {
        sink.emit(&Event::InvalidFile {
            file: file.display().to_string(),
            problems: error.problems().iter().map(|p| p.plain()).collect(),
        });
    }
    let permits = Arc::new(Semaphore::new(jobs));
    let mut tasks = JoinSet::new();
    let scenarios: Vec<Arc<Scenario>> = scenarios.into_iter().map(Arc::new).collect();
    // Go by go, so that a matrix's first version finishes first; each scenario once per go.
    let runs = options.runs.iter().flat_map(|run| scenarios.iter().map(move |s| (run.clone(), s.clone())));
    for (index, (run, scenario)) in runs.enumerate() {
        let permits = permits.clone();
        let sink = sink.clone();
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await.expect("the semaphore is never closed");
            let report = crate::judge::run_scenario(&scenario, &run, &Forward(sink.as_ref())).await;
            sink.emit(&Event::ScenarioFinished { report: Box::new(report.clone()) });
            (index, report)
        });
    }
    let mut reports = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(done) => reports.push(done),
            Err(e) => reports.push((usize::MAX, crashed(e))),
        }
    }
    reports.sort_by_key(|(i, _)| *i);
    let reports: Vec<ScenarioReport> = reports.into_iter().map(|(_, r)| r).collect();
    let count = |s: Status| reports.iter().filter(|r| r.status == s).count();
    let summary = Summary {
        passed: count(Status::Passed),
        failed: count(Status::Failed),
        skipped: count(Status::Skipped),
        invalid: invalid.len(),
        duration_ms: started.elapsed().as_millis() as u64,
    };
    sink.emit(&Event::SuiteFinished { summary });
    SuiteResult { reports, invalid, summary }
}

/// A report for a scenario task that panicked: a bug in modchaos, reported, not hidden.
fn crashed(error: tokio::task::JoinError) -> ScenarioReport {
    ScenarioReport::failed_before_start(
        "<crashed scenario>",
        std::path::Path::new(""),
        format!("the scenario task failed: {error} (this is a modchaos bug)"),
    )
}

/// Totals of a suite.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Passed.
    pub passed: usize,
    /// Failed.
    pub failed: usize,
    /// Skipped.
    pub skipped: usize,
    /// Scenario files that did not load.
    pub invalid: usize,
    /// Wall time.
    pub duration_ms: u64,
}
