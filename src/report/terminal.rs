//! Progress and results on the terminal: on a TTY, a live bar for the suite and a spinner
//! per running scenario with its elapsed time; everywhere, a line per finished scenario
//! naming its file, the full story of each failure, and a summary that names every
//! failed, skipped and invalid one again.

use std::sync::Mutex;
use std::time::Duration;

use console::style;
use indicatif::{ProgressBar, ProgressStyle};

use super::console::Console;
use super::text::{failure_details, run_name};
use crate::judge::{ScenarioReport, Status};
use crate::redact;
use crate::suite::{Event, EventSink};

/// How much the terminal says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verbosity {
    /// Failures, invalid files and the summary only.
    Quiet,
    /// A line per scenario, the story of each failure.
    #[default]
    Normal,
    /// Also every go command as it ends.
    Verbose,
}

/// The terminal reporter.
pub struct Terminal {
    console: Console,
    verbosity: Verbosity,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    matrix: bool,
    name_width: usize,
    overall: Option<ProgressBar>,
    running: Vec<(String, ProgressBar)>,
    counts: [usize; 3],
    failed: Vec<String>,
    skipped: Vec<String>,
    invalid: Vec<String>,
}

impl Terminal {
    /// A reporter writing to stderr, plainly.
    pub fn stderr(verbose: bool) -> Terminal {
        Terminal::new(Console::plain(), if verbose { Verbosity::Verbose } else { Verbosity::Normal })
    }

    /// A reporter printing through `console`.
    pub fn new(console: Console, verbosity: Verbosity) -> Terminal {
        Terminal { console, verbosity, state: Mutex::new(State::default()) }
    }

    fn label(&self, status: Status) -> String {
        let (text, styled) = match status {
            Status::Passed => ("PASS", style("PASS").green()),
            Status::Failed => ("FAIL", style("FAIL").red().bold()),
            Status::Skipped => ("SKIP", style("SKIP").yellow()),
        };
        if self.console.colored() { styled.force_styling(true).to_string() } else { text.to_string() }
    }

    fn overall_message(counts: &[usize; 3]) -> String {
        format!("{} passed, {} failed, {} skipped", counts[0], counts[1], counts[2])
    }
}

/// The one-line verdict after a scenario's name: its diagnosis and recovery when it
/// passed; the first unmet expectation (and how the recovery went) when it failed.
fn verdict(report: &ScenarioReport) -> String {
    let diagnosis = report.diagnosis().map_or("-".to_string(), |d| d.category.to_string());
    let rerun_succeeded = report.recovery.as_ref().and_then(|r| r.rerun.evidence.exit).is_some_and(|e| e.success());
    let how = report.recovery.as_ref().and_then(|r| r.playbook.clone()).map(|p| format!(" ({p})")).unwrap_or_default();
    let recovery = match (report.recovered(), rerun_succeeded) {
        (Some(true), true) => format!(" → recovered{how}"),
        // A recovery that is expected to fail: the scenario shows a non-fix.
        (Some(true), false) => format!(" → rerun failed as expected{how}"),
        (Some(false), _) => " → NOT recovered".into(),
        (None, _) => String::new(),
    };
    match (report.status, &report.reason, report.failures.first()) {
        (Status::Failed, Some(reason), _) => {
            format!("harness problem: {}", reason.lines().next().unwrap_or_default())
        }
        (Status::Failed, None, Some(first)) => {
            let more = match report.failures.len() {
                1 => String::new(),
                n => format!(" (+{} more)", n - 1),
            };
            let recovered = match report.recovered() {
                Some(true) => format!("; the recovery itself worked{how}"),
                Some(false) => "; NOT recovered".to_string(),
                None => String::new(),
            };
            format!("[{}] {}: expected {}, got {}{more}{recovered}", first.phase, first.what, first.expected, first.got)
        }
        (Status::Skipped, _, _) => "-".to_string(),
        _ => format!("{diagnosis}{recovery}"),
    }
}

impl EventSink for Terminal {
    fn emit(&self, event: &Event) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            Event::SuiteStarted { scenarios, jobs, go, go_version, go_versions, network, name_width, schedule } => {
                state.matrix = go_versions.len() > 1;
                state.name_width = (*name_width).clamp(20, 60);
                let go = if state.matrix { go_versions.join(", ") } else { format!("{go_version} ({go})") };
                let schedule = if schedule.is_empty() { format!("{jobs} at a time") } else { schedule.clone() };
                let text = format!("modchaos: {scenarios} scenario run(s), {schedule}, {go}\nnetwork: {network}");
                self.console.print(&redact::text(&text));
                if let Some(bars) = self.console.bars() {
                    let bar = bars.add(ProgressBar::new(*scenarios as u64));
                    bar.set_style(
                        ProgressStyle::with_template("{elapsed_precise:.dim} [{bar:30}] {pos}/{len}  {msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_bar())
                            .progress_chars("=> "),
                    );
                    bar.set_message(Terminal::overall_message(&state.counts));
                    bar.enable_steady_tick(Duration::from_millis(250));
                    state.overall = Some(bar);
                }
            }
            Event::InvalidFile { file, problems } => {
                let file = redact::text(file);
                state.invalid.push(file.clone());
                let label = if self.console.colored() {
                    style("INVALID").magenta().bold().force_styling(true).to_string()
                } else {
                    "INVALID".to_string()
                };
                self.console.print(&format!("{label}  {file}: {} problem(s), not run", problems.len()));
            }
            Event::ScenarioStarted { name, .. } => {
                if let (Some(bars), Some(overall)) = (self.console.bars(), &state.overall) {
                    let spinner = bars.insert_before(overall, ProgressBar::new_spinner());
                    spinner.set_style(
                        ProgressStyle::with_template("  {spinner} {msg} {elapsed:.dim}")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    spinner.set_message(redact::text(name));
                    spinner.enable_steady_tick(Duration::from_millis(120));
                    state.running.push((name.clone(), spinner));
                }
            }
            Event::CommandFinished { scenario, phase, command, exit, duration_ms }
                if self.verbosity == Verbosity::Verbose =>
            {
                let text = format!("      {scenario} [{phase}] {command} → {} ({duration_ms:.0} ms)", exit.describe());
                self.console.print(&redact::text(&text));
            }
            Event::ScenarioFinished { report } => {
                if let Some(i) = state.running.iter().position(|(n, _)| *n == report.name) {
                    let (_, spinner) = state.running.remove(i);
                    spinner.finish_and_clear();
                }
                let redactor = report.redactor();
                let name = run_name(report, state.matrix);
                match report.status {
                    Status::Passed => state.counts[0] += 1,
                    Status::Failed => {
                        state.counts[1] += 1;
                        state.failed.push(redactor.text(&format!("{name} ({})", report.file)));
                    }
                    Status::Skipped => {
                        state.counts[2] += 1;
                        let reason = report.reason.as_deref().unwrap_or("no reason given");
                        // Masked apart: joined first, a name ending in "token" would
                        // make the reason's first word look like one.
                        state.skipped.push(format!("{}: {}", redactor.text(&name), redactor.text(reason)));
                    }
                }
                if let Some(overall) = &state.overall {
                    overall.inc(1);
                    overall.set_message(Terminal::overall_message(&state.counts));
                }
                if self.verbosity == Verbosity::Quiet && report.status != Status::Failed {
                    return;
                }
                let width = state.name_width;
                let mut text = format!(
                    "{}  {name:<width$} {:>7.2}s  {}  {}\n",
                    self.label(report.status),
                    report.duration_ms / 1000.0,
                    verdict(report),
                    report.file
                );
                if report.status == Status::Passed {
                    for lead in &report.leads {
                        text += &format!("      note: passed, but {}\n", redactor.text(lead));
                    }
                }
                if report.status == Status::Failed {
                    for line in failure_details(report).lines() {
                        text += &format!("      {line}\n");
                    }
                    if let Some(kept) = report.sandbox.as_deref().filter(|s| std::path::Path::new(s).exists()) {
                        let script = std::path::Path::new(kept).join(crate::runner::run::RERUN_SCRIPT);
                        text += &format!(
                            "      sandbox kept: {kept}\n      `. {}` sets go's environment and goes to the work module; \
                             the scenario's world is stopped (`modchaos up {}` serves it again)\n",
                            script.display(),
                            report.file
                        );
                    }
                }
                if let (Status::Skipped, Some(reason)) = (report.status, &report.reason) {
                    text += &format!("      skipped: {reason}\n");
                }
                self.console.print(&redactor.text(&text));
            }
            Event::SuiteFinished { summary } => {
                if let Some(overall) = state.overall.take() {
                    overall.finish_and_clear();
                }
                for (_, spinner) in state.running.drain(..) {
                    spinner.finish_and_clear();
                }
                let longest = match summary.longest_ms {
                    0 => String::new(),
                    // (Hundredths below a second: a 40 ms scenario is not "0.0s".)
                    ms => format!(
                        " (longest scenario {:.*}s: the suite took {:.2}x as long)",
                        if ms < 1000 { 2 } else { 1 },
                        ms as f64 / 1000.0,
                        summary.duration_ms as f64 / ms as f64
                    ),
                };
                let mut text = format!(
                    "summary: {} passed, {} failed, {} skipped, {} invalid in {:.1}s{longest}\n",
                    summary.passed,
                    summary.failed,
                    summary.skipped,
                    summary.invalid,
                    summary.duration_ms as f64 / 1000.0
                );
                for (what, list) in
                    [("failed", &state.failed), ("skipped", &state.skipped), ("invalid", &state.invalid)]
                {
                    if !list.is_empty() {
                        text += &format!("{what}:\n");
                        for entry in list {
                            text += &format!("    {entry}\n");
                        }
                    }
                }
                self.console.print(&text);
            }
            _ => {}
        }
    }
}
