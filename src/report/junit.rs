//! JUnit XML for nightly CI dashboards: one test suite, one test case per scenario
//! (class name = the scenario file), failures with expected vs got and the full story.

use std::sync::Mutex;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::text::failure_details;
use crate::judge::{ScenarioReport, Status};
use crate::suite::{Event, EventSink};

/// Collects scenario results and writes the XML when the suite ends.
pub struct Junit {
    out: Mutex<Option<Box<dyn std::io::Write + Send>>>,
    cases: Mutex<Vec<TestCase>>,
}

impl Junit {
    /// A reporter that writes to `out` at the end of the suite.
    pub fn new(out: Box<dyn std::io::Write + Send>) -> Junit {
        Junit { out: Mutex::new(Some(out)), cases: Mutex::new(Vec::new()) }
    }
}

/// The test case of one scenario, with its secrets masked.
pub fn test_case(report: &ScenarioReport) -> TestCase {
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
                (None, Some(f)) => format!("{}: expected {}, got {}", f.what, f.expected, f.got),
                (None, None) => "failed".to_string(),
            };
            s.set_message(redact(&message));
            s.set_description(failure_details(report));
            s
        }
    };
    let mut case = TestCase::new(redact(&report.name), status);
    case.set_classname(redact(&report.file));
    case.set_time(Duration::from_secs_f64(report.duration_ms / 1000.0));
    if let Some(d) = report.diagnosis() {
        case.set_system_out(redact(&format!("diagnosis: {} ({})\n", d.category, d.summary)));
    }
    case
}

impl EventSink for Junit {
    fn emit(&self, event: &Event) {
        match event {
            Event::ScenarioFinished { report } => {
                self.cases.lock().unwrap_or_else(|e| e.into_inner()).push(test_case(report))
            }
            Event::SuiteFinished { summary } => {
                let mut suite = TestSuite::new("modchaos scenarios");
                suite.add_test_cases(std::mem::take(&mut *self.cases.lock().unwrap_or_else(|e| e.into_inner())));
                suite.set_time(Duration::from_millis(summary.duration_ms));
                let mut report = Report::new("modchaos");
                report.add_test_suite(suite);
                if let Some(mut out) = self.out.lock().unwrap_or_else(|e| e.into_inner()).take()
                    && let Err(e) = report.serialize(&mut out).map_err(std::io::Error::other).and_then(|_| out.flush())
                {
                    eprintln!("modchaos: cannot write the JUnit report: {e}");
                }
            }
            _ => {}
        }
    }
}
