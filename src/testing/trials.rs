//! One libtest trial per scenario file, network mode and go command, ignored (with the
//! reason said once on stderr) where it cannot run here; run anyway (`--ignored`), such a
//! trial says it was ignored and why, since it cannot pass or fail here. Trials come longest first and
//! each waits for the CPU it needs before it runs, as `modchaos run` schedules
//! scenarios (`crate::suite::schedule`); how long each took is remembered between runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use libtest_mimic::{Arguments, Completion, Failed, Trial};

use super::{Harness, go_commands, in_crate};
use crate::judge::Status;
use crate::runner::{NoEvents, RunOptions};
use crate::scenario::{LoadContext, NetworkNeed, discover, load};
use crate::suite::history::{self, History, Observed};
use crate::suite::schedule::{self, Estimate, Limiter, Parallelism};
use crate::vocab::Account;

/// What every trial of a test binary shares: when it may start, and what was learnt.
pub(super) struct Schedule {
    limiter: Limiter,
    history: Mutex<History>,
    /// Where the history is kept (`None`: nowhere).
    file: Option<PathBuf>,
}

impl Schedule {
    /// A schedule for `parallelism`, remembering durations in `file`.
    pub(super) fn new(parallelism: Parallelism, file: Option<PathBuf>) -> Schedule {
        let history = file.as_deref().map(History::load).unwrap_or_default();
        Schedule { limiter: Limiter::new(parallelism), history: Mutex::new(history), file }
    }

    fn known(&self, key: &str) -> Option<Observed> {
        self.history.lock().unwrap_or_else(|e| e.into_inner()).get(key)
    }

    /// Learns one trial's figures and writes the history at once (trials end in any
    /// order and a test binary may be killed: each run is kept as it ends).
    fn learn(&self, key: String, run: Observed) {
        let mut history = self.history.lock().unwrap_or_else(|e| e.into_inner());
        history.learn(key, run);
        if let Some(file) = &self.file {
            // Only a hint for the next run's order.
            let _ = history.save(file);
        }
    }
}

/// The trials that cannot run here, by reason.
pub(super) type Ignored = BTreeMap<String, Vec<String>>;

/// The trials of `harness`, longest first, and those that cannot run here.
pub(super) fn build(harness: &Harness, schedule: Arc<Schedule>) -> (Vec<Trial>, Ignored) {
    let (mut estimated, ignored) = build_unordered(harness, &schedule);
    let estimates: Vec<Estimate> = estimated.iter().map(|(e, _)| *e).collect();
    let mut slots: Vec<Option<Trial>> = estimated.drain(..).map(|(_, t)| Some(t)).collect();
    (schedule::order(&estimates).into_iter().filter_map(|i| slots[i].take()).collect(), ignored)
}

/// A trial that cannot run here: ignored, and if run anyway, ignored at run time with
/// its reason (never a pass, never a failure of the scenario).
fn cannot_run(name: String, why: String) -> Trial {
    Trial::ignorable_test(name, move || Ok(Completion::ignored_with(format!("cannot run here: {why}"))))
        .with_ignored_flag(true)
}

/// The trials of `harness` with their estimates, in file order, and those ignored.
fn build_unordered(harness: &Harness, schedule: &Arc<Schedule>) -> (Vec<(Estimate, Trial)>, Ignored) {
    let unknown = Estimate { wall: Default::default(), cpu_share: 1.0, measured: false };
    let mut ignored: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let dirs: Vec<PathBuf> = harness.dirs.iter().map(|d| in_crate(d)).collect();
    let playbook_dirs: Vec<PathBuf> = harness.playbook_dirs.iter().map(|d| in_crate(d)).collect();
    let files = match discover(&dirs) {
        Ok(files) => files,
        Err(e) => {
            let message = format!("cannot read the scenario directories: {e}");
            return (
                vec![(unknown, Trial::test("scenarios", move || Err(Failed::from(message.clone()))))],
                Ignored::new(),
            );
        }
    };
    let name_of = |file: &Path| {
        let dir = dirs.iter().find(|d| file.starts_with(d));
        let relative = dir.and_then(|d| file.strip_prefix(d).ok()).unwrap_or(file);
        relative.with_extension("").display().to_string()
    };
    let gos = match go_commands(&harness.gos) {
        Ok(gos) => gos,
        Err(e) => {
            let reason = format!("no usable go command: {e}");
            let trials = files.iter().map(|f| (unknown, cannot_run(name_of(f), reason.clone()))).collect();
            return (trials, Ignored::from([(reason, files.iter().map(|f| name_of(f)).collect())]));
        }
    };
    let helper = std::env::current_exe();
    let mut trials = Vec::new();
    for go in &gos {
        let version = go.version().unwrap_or_else(|_| "go".to_string());
        let prefix = if gos.len() > 1 { format!("{version}/") } else { String::new() };
        let sealed = match &helper {
            Ok(helper) => RunOptions::sealed(go.clone(), helper).map_err(|e| e.to_string()),
            Err(e) => Err(format!("the test binary's own path is unknown: {e}")),
        };
        let open = RunOptions::open(go.clone(), "this is the open-mode trial");
        let unusable = go.check_usable_by(Account::UNPRIVILEGED).err().map(|e| e.to_string());
        let mut ctx = LoadContext::new(Some(go.clone()));
        ctx.playbook_dirs = playbook_dirs.clone();
        for file in &files {
            let scenario = match load(file, &ctx) {
                Ok(s) => s,
                Err(e) => {
                    let message = format!("invalid scenario file:\n{e}");
                    let name = format!("{prefix}{}", name_of(file));
                    trials.push((unknown, Trial::test(name, move || Err(Failed::from(message.clone())))));
                    continue;
                }
            };
            let mut cannot = None;
            if let (Some(min), Some(have)) = (scenario.min_go, go.release())
                && have < min
            {
                cannot = Some(format!("needs go {}.{} or newer (this is {version})", min.0, min.1));
            }
            if let (Some(what), false) = (scenario.needs_second_user(), Account::current().is_root()) {
                cannot.get_or_insert(format!(
                    "needs files owned by root while go runs unprivileged ({what}): run as root"
                ));
            }
            let mut modes = Vec::new();
            if !matches!(scenario.network, NetworkNeed::Open(_)) {
                let options = sealed.clone().map_err(|why| format!("sealed networking is unavailable here: {why}"));
                modes.push(("sealed", options));
            }
            if !matches!(scenario.network, NetworkNeed::Sealed(_)) {
                modes.push(("open", Ok(open.clone())));
            }
            for (mode, options) in modes {
                let trial_name = format!("{prefix}{mode}/{}", name_of(file));
                let reason = match (&unusable, &cannot, &options) {
                    (Some(e), _, _) => Some(e.clone()),
                    (_, Some(why), _) => Some(why.clone()),
                    (_, _, Err(why)) => Some(why.clone()),
                    _ => None,
                };
                if let Some(reason) = &reason {
                    ignored.entry(reason.clone()).or_default().push(trial_name.clone());
                }
                let key = history::key(Path::new(&trial_name), "");
                let estimate = schedule::estimate(&scenario, schedule.known(&key));
                let trial = match (options, reason) {
                    (Ok(options), None) => {
                        let (file, ctx, schedule) = (file.clone(), ctx.clone(), schedule.clone());
                        Trial::test(trial_name, move || run_file(&file, &ctx, &options, &schedule, key.clone()))
                    }
                    (_, Some(why)) | (Err(why), None) => cannot_run(trial_name, why),
                };
                trials.push((estimate, trial));
            }
        }
    }
    (trials, ignored)
}

/// Names every ignored trial with its reason, once, on stderr. With the test binary's
/// `arguments`, only the trials they select, and nothing when they ask for the list: a
/// runner that starts the binary once per trial (nextest) shows each reason with its
/// trial, not every reason in every process.
pub(super) fn say_ignored(ignored: &Ignored, trials: &[Trial], arguments: Option<&Arguments>) {
    eprint!("{}", ignored_banner(ignored, trials, arguments));
}

/// The text [`say_ignored`] writes.
fn ignored_banner(ignored: &Ignored, trials: &[Trial], arguments: Option<&Arguments>) -> String {
    if arguments.is_some_and(|a| a.list) {
        return String::new();
    }
    let selected: std::collections::BTreeSet<&str> =
        trials.iter().filter(|t| arguments.is_none_or(|a| !a.is_filtered_out(t))).map(Trial::name).collect();
    let mut banner = String::new();
    for (reason, names) in ignored {
        let names: Vec<&String> = names.iter().filter(|n| selected.contains(n.as_str())).collect();
        if names.is_empty() {
            continue;
        }
        banner.push_str(&format!("\n*** {} modchaos scenario test(s) IGNORED: {reason} ***\n", names.len()));
        for name in names {
            banner.push_str(&format!("***   {name}\n"));
        }
    }
    banner
}

/// Runs one scenario file to a test result, once the CPU it needs is free.
fn run_file(
    file: &Path,
    ctx: &LoadContext,
    options: &RunOptions,
    schedule: &Schedule,
    key: String,
) -> Result<(), Failed> {
    let scenario = load(file, ctx).map_err(|e| Failed::from(format!("invalid scenario file:\n{e}")))?;
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| Failed::from(e.to_string()))?;
    let estimate = schedule::estimate(&scenario, schedule.known(&key));
    let (report, wall_ms) = runtime.block_on(async {
        let _admission = schedule.limiter.admit(&estimate).await;
        let started = Instant::now();
        let report = crate::judge::run_scenario(&scenario, options, &NoEvents).await;
        (report, started.elapsed().as_secs_f64() * 1000.0)
    });
    if report.status != Status::Skipped {
        schedule.learn(key, Observed { wall_ms, cpu_ms: report.usage.map(|u| u.total_cpu_ms()) });
    }
    match report.status {
        Status::Passed if report.sandbox_removed => Ok(()),
        Status::Passed => {
            Err(format!("passed, but the sandbox {} was left behind", report.sandbox.unwrap_or_default()).into())
        }
        Status::Skipped => Err(format!("skipped: {}", report.reason.unwrap_or_default()).into()),
        _ => Err(crate::report::text::failure_details(&report).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arguments(args: &[&str]) -> Arguments {
        Arguments::from_iter(std::iter::once("scenarios").chain(args.iter().copied()))
    }

    #[test]
    fn a_trial_that_cannot_run_here_is_ignored_even_when_ignored_trials_are_run() {
        // (libtest-mimic's own report goes to a file: on stdout it would read as another
        // test binary's summary in the log of this one.)
        let log = tempfile::NamedTempFile::new().unwrap();
        for args in [&[][..], &["--ignored"][..], &["--include-ignored"][..]] {
            let trial = cannot_run("sealed/x".into(), "no user namespaces".into());
            let mut arguments = arguments(args);
            arguments.test_threads = Some(1);
            arguments.logfile = Some(log.path().display().to_string());
            let conclusion = libtest_mimic::run(&arguments, vec![trial]);
            assert_eq!(
                (conclusion.num_passed, conclusion.num_failed, conclusion.num_ignored),
                (0, 0, 1),
                "with {args:?}"
            );
        }
    }

    #[test]
    fn the_ignored_banner_names_only_the_selected_trials_and_nothing_for_a_list() {
        let trials = vec![cannot_run("sealed/a".into(), "why".into()), cannot_run("sealed/b".into(), "why".into())];
        let ignored = Ignored::from([("why".to_string(), vec!["sealed/a".to_string(), "sealed/b".to_string()])]);
        let all = ignored_banner(&ignored, &trials, None);
        assert!(all.contains("2 modchaos scenario test(s) IGNORED: why") && all.contains("sealed/b"), "{all}");
        let one = ignored_banner(&ignored, &trials, Some(&arguments(&["--exact", "sealed/a"])));
        assert!(one.contains("1 modchaos scenario test(s) IGNORED: why"), "{one}");
        assert!(one.contains("sealed/a") && !one.contains("sealed/b"), "{one}");
        assert_eq!(ignored_banner(&ignored, &trials, Some(&arguments(&["--exact", "sealed/c"]))), "");
        assert_eq!(ignored_banner(&ignored, &trials, Some(&arguments(&["--list"]))), "");
    }
}
