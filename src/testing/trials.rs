//! One libtest trial per scenario file, network mode and go command, ignored (with the
//! reason said once on stderr) where it cannot run here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use libtest_mimic::{Failed, Trial};

use super::{Harness, go_commands, in_crate};
use crate::judge::Status;
use crate::runner::{NoEvents, RunOptions};
use crate::scenario::{LoadContext, NetworkNeed, discover, load};
use crate::vocab::Account;

/// The trials of `harness`.
pub(super) fn build(harness: &Harness) -> Vec<Trial> {
    let mut ignored: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let dirs: Vec<PathBuf> = harness.dirs.iter().map(|d| in_crate(d)).collect();
    let playbook_dirs: Vec<PathBuf> = harness.playbook_dirs.iter().map(|d| in_crate(d)).collect();
    let files = match discover(&dirs) {
        Ok(files) => files,
        Err(e) => {
            let message = format!("cannot read the scenario directories: {e}");
            return vec![Trial::test("scenarios", move || Err(Failed::from(message.clone())))];
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
            let trials = files.iter().map(|f| Trial::test(name_of(f), || Ok(())).with_ignored_flag(true)).collect();
            say_ignored(&BTreeMap::from([(reason, files.iter().map(|f| name_of(f)).collect())]));
            return trials;
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
                    trials.push(Trial::test(name, move || Err(Failed::from(message.clone()))));
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
                let (file, ctx, is_ignored) = (file.clone(), ctx.clone(), reason.is_some());
                let trial = Trial::test(trial_name, move || match (&options, &reason) {
                    (Ok(options), None) => run_file(&file, &ctx, options),
                    (_, Some(why)) | (Err(why), None) => Err(Failed::from(format!("cannot run here: {why}"))),
                });
                trials.push(trial.with_ignored_flag(is_ignored));
            }
        }
    }
    say_ignored(&ignored);
    trials
}

/// Names every ignored trial with its reason, once, on stderr.
fn say_ignored(ignored: &BTreeMap<String, Vec<String>>) {
    for (reason, names) in ignored {
        eprintln!("\n*** {} modchaos scenario test(s) IGNORED: {reason} ***", names.len());
        for name in names {
            eprintln!("***   {name}");
        }
    }
}

/// Runs one scenario file to a test result.
fn run_file(file: &Path, ctx: &LoadContext, options: &RunOptions) -> Result<(), Failed> {
    let scenario = load(file, ctx).map_err(|e| Failed::from(format!("invalid scenario file:\n{e}")))?;
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| Failed::from(e.to_string()))?;
    let report = runtime.block_on(crate::judge::run_scenario(&scenario, options, &NoEvents));
    match report.status {
        Status::Passed if report.sandbox_removed => Ok(()),
        Status::Passed => {
            Err(format!("passed, but the sandbox {} was left behind", report.sandbox.unwrap_or_default()).into())
        }
        Status::Skipped => Err(format!("skipped: {}", report.reason.unwrap_or_default()).into()),
        _ => Err(crate::report::text::failure_details(&report).into()),
    }
}
