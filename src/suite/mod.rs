//! Running many scenarios: load and validate every file first (so a typo fails fast),
//! select by `--filter`, then run them — longest first, as many at once as the CPUs
//! allow ([`schedule`], learning from earlier runs: [`history`]) — judge each, and tell
//! the reporters through [`events`].

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use regex::Regex;
use tokio::task::JoinSet;

pub mod events;
pub mod history;
pub mod schedule;

use serde::{Deserialize, Serialize};

pub use events::{Event, EventSink, Forward};
pub use history::{History, Observed};
pub use schedule::{Estimate, Limiter, Parallelism};

use crate::judge::{ScenarioReport, Status};
use crate::runner::RunOptions;
use crate::scenario::{LoadContext, LoadError, Scenario, load};

/// How to run a suite.
#[derive(Debug, Clone)]
pub struct SuiteOptions {
    /// How many scenarios run at once.
    pub parallelism: Parallelism,
    /// The file remembering how long scenarios took (see [`history`]); `None`: neither
    /// read nor written.
    pub history: Option<PathBuf>,
    /// Only scenarios whose name or file matches.
    pub filter: Option<Regex>,
    /// Per-scenario options.
    pub run: RunOptions,
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

/// Runs `scenarios` (already loaded and selected) as `options.parallelism` allows,
/// longest first (see [`schedule`]), and remembers how long each took in
/// `options.history` when one is given.
pub async fn run_suite(
    scenarios: Vec<Scenario>,
    invalid: Vec<(PathBuf, LoadError)>,
    options: &SuiteOptions,
    sink: Arc<dyn EventSink>,
) -> SuiteResult {
    let started = Instant::now();
    sink.emit(&Event::SuiteStarted {
        scenarios: scenarios.len(),
        jobs: options.parallelism.most(),
        go: options.run.go.path.display().to_string(),
        go_version: options.run.go.version().unwrap_or_else(|e| e.to_string()),
        network: options.run.describe_network(),
        schedule: options.parallelism.describe(),
    });
    let mut history = options.history.as_deref().map(History::load).unwrap_or_default();
    let keys: Vec<String> = scenarios.iter().map(|s| history::key(&s.file, &s.name)).collect();
    let estimates: Vec<Estimate> =
        scenarios.iter().zip(&keys).map(|(s, k)| schedule::estimate(s, history.get(k))).collect();
    let limiter = Limiter::new(options.parallelism);
    let mut slots: Vec<Option<Scenario>> = scenarios.into_iter().map(Some).collect();
    let mut tasks = JoinSet::new();
    for index in schedule::order(&estimates) {
        let admission = limiter.admit(&estimates[index]).await;
        let Some(scenario) = slots[index].take() else { continue };
        let sink = sink.clone();
        let run = options.run.clone();
        tasks.spawn(async move {
            let _admission = admission;
            let began = Instant::now();
            let report = crate::judge::run_scenario(&scenario, &run, &Forward(sink.as_ref())).await;
            let wall_ms = began.elapsed().as_secs_f64() * 1000.0;
            sink.emit(&Event::ScenarioFinished { report: Box::new(report.clone()) });
            (index, wall_ms, report)
        });
    }
    let mut reports = Vec::new();
    let mut longest_ms: f64 = 0.0;
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((index, wall_ms, report)) => {
                if report.status != Status::Skipped {
                    longest_ms = longest_ms.max(wall_ms);
                }
                if report.status != Status::Skipped && report.network.is_some() {
                    let cpu_ms = report.usage.map(|u| u.total_cpu_ms());
                    history.learn(keys[index].clone(), Observed { wall_ms, cpu_ms });
                }
                reports.push((index, report));
            }
            Err(e) => reports.push((usize::MAX, crashed(e))),
        }
    }
    if let Some(file) = &options.history
        && let Err(e) = history.save(file)
    {
        // Only a hint for the next run's order: say so, and go on.
        eprintln!("modchaos: {e}");
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
        longest_ms: longest_ms.round() as u64,
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
    /// Wall time of the longest scenario run (0 when none ran): the least the suite
    /// could take.
    #[serde(default)]
    pub longest_ms: u64,
}
