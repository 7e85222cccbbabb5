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

pub mod partition;

pub use partition::Partition;

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
    let first = options.runs.first().expect("a suite runs with at least one go command");
    let version = |run: &RunOptions| run.go.version().unwrap_or_else(|e| e.to_string());
    let go_versions: Vec<String> = options.runs.iter().map(version).collect();
    sink.emit(&Event::SuiteStarted {
        scenarios: scenarios.len() * options.runs.len(),
        jobs: options.parallelism.most(),
        go: first.go.path.display().to_string(),
        go_version: version(first),
        go_versions: go_versions.clone(),
        network: {
            // Scenarios that ask for open mode run open whatever the machine offers: a
            // header saying "sealed" over them all would not be true.
            let pinned_open = scenarios.iter().filter(|s| matches!(s.network, crate::scenario::NetworkNeed::Open(_)));
            match (pinned_open.count(), scenarios.len()) {
                (0, _) => first.describe_network(),
                (n, all) if n == all => "open (every scenario asks for it)".to_string(),
                (n, _) => format!("{} ({n} scenario(s) ask for open mode)", first.describe_network()),
            }
        },
        schedule: options.parallelism.describe(),
        name_width: {
            let suffix = if options.runs.len() > 1 { " [go1.NN.N]".len() } else { 0 };
            scenarios.iter().map(|s| s.name.chars().count() + suffix).max().unwrap_or(0)
        },
    });
    for (file, error) in &invalid {
        sink.emit(&Event::InvalidFile {
            file: file.display().to_string(),
            problems: error.problems().iter().map(|p| p.plain()).collect(),
        });
    }
    let mut history = options.history.as_deref().map(History::load).unwrap_or_default();
    let scenarios: Vec<Arc<Scenario>> = scenarios.into_iter().map(Arc::new).collect();
    // Each scenario once per go of the matrix; a matrix remembers each go's runs apart.
    let runs: Vec<(RunOptions, Arc<Scenario>, String)> = options
        .runs
        .iter()
        .zip(&go_versions)
        .flat_map(|(run, go)| {
            let matrix = options.runs.len() > 1;
            scenarios.iter().map(move |s| {
                let name = if matrix { format!("{} [{go}]", s.name) } else { s.name.clone() };
                (run.clone(), s.clone(), history::key(&s.file, &name))
            })
        })
        .collect();
    let estimates: Vec<Estimate> =
        runs.iter().map(|(_, scenario, key)| schedule::estimate(scenario, history.get(key))).collect();
    let keys: Vec<String> = runs.iter().map(|(_, _, key)| key.clone()).collect();
    let limiter = Limiter::new(options.parallelism);
    let mut slots: Vec<Option<(RunOptions, Arc<Scenario>)>> = runs.into_iter().map(|(r, s, _)| Some((r, s))).collect();
    let mut tasks = JoinSet::new();
    // Longest first; equal estimates (unknown ones) go by go, then file order, so that a
    // matrix's first version finishes first.
    let shares = Arc::new(schedule::RunShares::default());
    for index in schedule::order(&estimates) {
        let learns = schedule::RunShares::is_busy_guess(&estimates[index]);
        let admission = limiter.admit(&shares.refine(estimates[index])).await;
        let Some((run, scenario)) = slots[index].take() else { continue };
        let sink = sink.clone();
        let shares = shares.clone();
        tasks.spawn(async move {
            let _admission = admission;
            let began = Instant::now();
            let (name, file) = (scenario.name.clone(), scenario.file.clone());
            let progress = sink.clone();
            let keep = run.keep_sandbox;
            let mut report = guarded(&name, &file, async move {
                crate::judge::run_scenario(&scenario, &run, &Forward(progress.as_ref())).await
            })
            .await;
            let wall_ms = began.elapsed().as_secs_f64() * 1000.0;
            // What every report says a scenario took is what it cost the suite: the sealed
            // child's start and the sandbox's removal included (the summary's "longest
            // scenario" is this time too, so the two agree).
            report.duration_ms = report.duration_ms.max(wall_ms);
            if let Some(cpu_ms) = report.usage.map(|u| u.total_cpu_ms()).filter(|_| learns) {
                shares.learn(wall_ms, cpu_ms);
            }
            if keep && report.status != Status::Failed {
                discard_kept(&mut report);
            }
            // One place masks every report's secrets for every reporter.
            let report = report.redacted();
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
            Err(e) => reports.push((usize::MAX, crashed("<crashed scenario>", std::path::Path::new(""), e))),
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

/// Runs one scenario's `run` as a task of its own, so that a panic in it (a modchaos
/// bug) becomes this scenario's failed report, with the panic's message, which every
/// reporter then shows; dropping the returned future aborts the run.
pub async fn guarded(
    name: &str,
    file: &std::path::Path,
    run: impl std::future::Future<Output = ScenarioReport> + Send + 'static,
) -> ScenarioReport {
    let mut running = AbortOnDrop(tokio::spawn(run));
    match (&mut running.0).await {
        Ok(report) => report,
        Err(e) => crashed(name, file, e),
    }
}

/// Removes the sandbox `--keep` left of a scenario that did not fail (and the sealed
/// run's directory around it), so that only failures stay for a person to look at.
fn discard_kept(report: &mut ScenarioReport) {
    let Some(sandbox) = report.sandbox.as_deref().map(std::path::PathBuf::from) else { return };
    let sealed_dir = sandbox
        .parent()
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("modchaos-sealed-")))
        .map(std::path::Path::to_path_buf);
    let _ = crate::fsutil::remove_tree(&sealed_dir.unwrap_or_else(|| sandbox.clone()));
    report.sandbox_removed = !sandbox.exists();
}

/// A report for a scenario task that panicked: a bug in modchaos, reported (with the
/// panic's message) as the scenario's failure, not hidden.
fn crashed(name: &str, file: &std::path::Path, error: tokio::task::JoinError) -> ScenarioReport {
    let what = if error.is_panic() {
        let payload = error.into_panic();
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into());
        format!("modchaos panicked while running the scenario: {message}")
    } else {
        format!("the scenario task failed: {error}")
    };
    ScenarioReport::failed_before_start(name, file, format!("{what} (this is a modchaos bug)"))
}

/// A task aborted when its handle is dropped: an interrupted suite stops its runs.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::events::{Event, EventSink};

    #[tokio::test]
    async fn regression_a_panicking_run_is_a_failed_result_every_reporter_shows() {
        // A panic in a scenario (a duration overflow in the sealed watchdog) used to leave
        // the JSON journal and JUnit empty: "nothing failed".
        let report = guarded("overflowing", std::path::Path::new("s/overflow.yaml"), async {
            panic!("overflow when multiplying duration by scalar")
        })
        .await;
        assert_eq!(report.status, Status::Failed);
        assert_eq!(report.name, "overflowing");
        let reason = report.reason.clone().unwrap_or_default();
        assert!(reason.contains("overflow when multiplying duration by scalar"), "{reason}");

        let journal_out = SharedBuf::default();
        let junit_out = SharedBuf::default();
        let journal = crate::report::journal::Journal::new(Box::new(journal_out.clone()), "journal.jsonl");
        let junit = crate::report::junit::Junit::new(Box::new(junit_out.clone()));
        let finished = Event::ScenarioFinished { report: Box::new(report) };
        let summary = Event::SuiteFinished { summary: Summary { failed: 1, ..Summary::default() } };
        for sink in [&journal as &dyn EventSink, &junit] {
            sink.emit(&finished);
            sink.emit(&summary);
        }
        let journal = journal_out.text();
        assert!(
            journal.contains("\"status\":\"failed\"") && journal.contains("overflow when multiplying"),
            "{journal}"
        );
        let junit = junit_out.text();
        assert!(junit.contains("errors=\"1\""), "{junit}");
        assert!(junit.contains("overflow when multiplying"), "{junit}");
    }

    /// A writer whose bytes the test can read afterwards.
    #[derive(Clone, Default)]
    struct SharedBuf(Arc<std::sync::Mutex<Vec<u8>>>);

    impl SharedBuf {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
        }
    }

    impl std::io::Write for SharedBuf {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
}
