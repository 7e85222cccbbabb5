//! JUnit XML for nightly CI dashboards: one test suite per go version of the matrix, one
//! test case per scenario run (class name = the scenario file; the go version joins the
//! name when several run), with when and where it ran, its properties (go version,
//! network mode, seed, diagnosis, playbook) and, for a failure, expected vs got, the
//! whole story and go's stderr. Scenario files that did not load are error cases of
//! their own suite: a dashboard must not stay green while the run exits 2.

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::text::{failure_details, run_name};
use crate::judge::{ScenarioReport, Status};
use crate::suite::{Event, EventSink};

/// The suite name of scenario files that did not load.
pub const INVALID_SUITE: &str = "modchaos scenario files";

/// The suite name of the scenarios a signal stopped while they ran.
pub const INTERRUPTED_SUITE: &str = "modchaos interrupted";

/// Collects scenario results and writes the XML when the suite ends, or when a signal
/// stops it (with what finished, and the scenarios it stopped as errors).
pub struct Junit {
    out: Mutex<Option<Box<dyn std::io::Write + Send>>>,
    state: Mutex<State>,
    /// Why the XML could not be written, if it could not.
    failed: Mutex<Option<String>>,
}

#[derive(Default)]
struct State {
    started: Option<DateTime<Utc>>,
    matrix: bool,
    /// Test cases by go version, in the order versions run.
    suites: Vec<(String, Vec<TestCase>)>,
    invalid: Vec<TestCase>,
}

impl Junit {
    /// A reporter that writes to `out` at the end of the suite.
    pub fn new(out: Box<dyn std::io::Write + Send>) -> Junit {
        Junit { out: Mutex::new(Some(out)), state: Mutex::new(State::default()), failed: Mutex::new(None) }
    }
}

/// The test case of one scenario run, with its secrets masked; `matrix` adds the go
/// version to its name.
pub fn test_case(report: &ScenarioReport, matrix: bool) -> TestCase {
    let redactor = report.redactor();
    let redact = |text: &str| redactor.text(text);
    let status = match report.status {
        Status::Passed => TestCaseStatus::success(),
        Status::Skipped => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(redact(report.reason.as_deref().unwrap_or_default()));
            s
        }
        Status::Failed => {
            let mut s = TestCaseStatus::non_success(if report.reason.is_some() {
                NonSuccessKind::Error
            } else {
                NonSuccessKind::Failure
            });
            let message = match (report.reason.as_deref(), report.failures.first()) {
                (Some(reason), _) => reason.to_string(),
                (None, Some(f)) => format!("[{}] {}: expected {}, got {}", f.phase, f.what, f.expected, f.got),
                (None, None) => "failed".to_string(),
            };
            s.set_message(redact(&message));
            s.set_description(failure_details(report));
            s
        }
    };
    let mut case = TestCase::new(redact(&run_name(report, matrix)), status);
    case.set_classname(redact(&report.file));
    let took = Duration::from_secs_f64(report.duration_ms.max(0.0) / 1000.0);
    case.set_time(took);
    case.set_timestamp(Utc::now() - chrono::Duration::from_std(took).unwrap_or_default());
    let diagnosis = report.diagnosis();
    let properties = [
        ("go_version", report.go_version.clone()),
        ("network", report.network.map(|n| n.name().to_string())),
        ("seed", report.seed.map(|s| s.to_string())),
        ("diagnosis", diagnosis.map(|d| d.category.id().to_string())),
        ("playbook", report.recovery.as_ref().and_then(|r| r.playbook.clone())),
        ("recovered", report.recovered().map(|r| r.to_string())),
    ];
    for (name, value) in properties {
        if let Some(value) = value {
            case.add_property((name.to_string(), redact(&value)));
        }
    }
    if let Some(d) = diagnosis {
        case.set_system_out(redact(&format!("diagnosis: {} ({})\n", d.category, d.summary)));
    }
    if report.status == Status::Failed {
        let stderr: Vec<String> = [report.run.as_ref(), report.recovery.as_ref().map(|r| &r.rerun)]
            .into_iter()
            .flatten()
            .filter(|phase| !phase.evidence.stderr.is_empty())
            .map(|phase| format!("$ {}\n{}", phase.evidence.command.as_deref().unwrap_or("go"), phase.evidence.stderr))
            .collect();
        if !stderr.is_empty() {
            case.set_system_err(redact(&stderr.join("\n")));
        }
    }
    case
}

/// The error case of a scenario file that did not load.
pub fn invalid_case(file: &str, problems: &[String]) -> TestCase {
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
    status.set_message(problems.first().cloned().unwrap_or_else(|| "invalid scenario file".into()));
    status.set_type("invalid scenario file");
    status.set_description(problems.join("\n"));
    let mut case = TestCase::new(file.to_string(), status);
    case.set_classname(file.to_string());
    case.set_timestamp(Utc::now());
    case
}

impl Junit {
    /// Writes the XML of what `state` holds, with `interrupted` cases in a suite of their own.
    fn write(&self, state: &mut State, duration_ms: u64, interrupted: Vec<TestCase>) {
        let started = state.started.unwrap_or_else(Utc::now);
        let hostname = nix::unistd::gethostname().ok().map(|h| h.to_string_lossy().into_owned());
        let mut report = Report::new("modchaos");
        report.set_timestamp(started);
        report.set_time(Duration::from_millis(duration_ms));
        let suites = std::mem::take(&mut state.suites);
        let invalid = std::mem::take(&mut state.invalid);
        let mut all: Vec<(String, Vec<TestCase>)> = suites
            .into_iter()
            .map(|(version, cases)| (format!("modchaos scenarios {version}").trim_end().to_string(), cases))
            .collect();
        if !invalid.is_empty() {
            all.push((INVALID_SUITE.to_string(), invalid));
        }
        if !interrupted.is_empty() {
            all.push((INTERRUPTED_SUITE.to_string(), interrupted));
        }
        for (name, cases) in all {
            let mut suite = TestSuite::new(name);
            suite.set_timestamp(started);
            // A suite's time: its cases' (they may run side by side, so not wall time).
            suite.set_time(cases.iter().filter_map(|c| c.time).sum());
            if let Some(host) = &hostname {
                suite.extra.insert("hostname".into(), host.clone().into());
            }
            suite.add_test_cases(cases);
            report.add_test_suite(suite);
        }
        if let Some(mut out) = self.out.lock().unwrap_or_else(|e| e.into_inner()).take()
            && let Err(e) = report.serialize(&mut out).map_err(std::io::Error::other).and_then(|_| out.flush())
        {
            // Said by the run, which asks every sink for its failure when the suite ends.
            *self.failed.lock().unwrap_or_else(|e| e.into_inner()) =
                Some(format!("cannot write the JUnit report: {e}"));
        }
    }
}

/// The error case of a scenario `signal` stopped while it ran; `never` more never started.
fn interrupted_case(name: &str, file: &str, signal: &str, never: usize) -> TestCase {
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
    status.set_message(format!("interrupted by {signal} before it finished"));
    status.set_type("interrupted");
    status.set_description(format!(
        "{signal} stopped the run while this scenario ran: its go commands were killed and its sandbox removed; \
         {never} more scenario run(s) never started"
    ));
    let mut case = TestCase::new(crate::redact::text(name), status);
    case.set_classname(crate::redact::text(file));
    case.set_timestamp(Utc::now());
    case
}

impl EventSink for Junit {
    fn emit(&self, event: &Event) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            Event::SuiteStarted { go_version, go_versions, .. } => {
                state.started = Some(Utc::now());
                state.matrix = go_versions.len() > 1;
                let versions = if go_versions.is_empty() { vec![go_version.clone()] } else { go_versions.clone() };
                state.suites = versions.into_iter().map(|v| (v, Vec::new())).collect();
            }
            Event::InvalidFile { file, problems } => {
                let case = invalid_case(file, problems);
                state.invalid.push(case);
            }
            Event::ScenarioFinished { report } => {
                let case = test_case(report, state.matrix);
                let version = report.go_version.clone().unwrap_or_default();
                match state.suites.iter_mut().find(|(v, _)| *v == version) {
                    Some((_, cases)) => cases.push(case),
                    None => state.suites.push((version, vec![case])),
                }
            }
            Event::SuiteFinished { summary } => self.write(&mut state, summary.duration_ms, Vec::new()),
            Event::Interrupted { signal, planned, finished, in_flight, duration_ms } => {
                let never = crate::suite::events::never_started(*planned, *finished, in_flight.len());
                let cases = in_flight.iter().map(|(name, file)| interrupted_case(name, file, signal, never)).collect();
                self.write(&mut state, *duration_ms, cases);
            }
            _ => {}
        }
    }

    fn failure(&self) -> Option<String> {
        self.failed.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
