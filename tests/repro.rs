//! `modchaos repro` round trip, one trial per category it supports: a real go log from
//! the labelled corpus (`tests/corpus/fakes/`, as a user would paste it: the configuration
//! lines a CI log shows, then go's output; for a hang or a stuck lock, where go prints
//! nothing telling, the JSON evidence of `modchaos doctor --json`) becomes a scenario,
//! the scenario runs against the real go in a sealed world, and its run must be
//! diagnosed with the log's category.

use std::path::Path;

use libtest_mimic::{Arguments, Failed, Trial};
use modchaos::corpus::Case;
use modchaos::diagnose::Category;
use modchaos::gobin::GoBinary;
use modchaos::judge::{Status, run_scenario};
use modchaos::report::text::failure_details;
use modchaos::runner::{NoEvents, RunOptions};
use modchaos::scenario::{LoadContext, parse};

fn main() {
    let args = Arguments::from_args();
    let go = GoBinary::find(None).ok();
    let options = go.as_ref().map(|go| RunOptions::sealed(go.clone(), Path::new(env!("CARGO_BIN_EXE_modchaos"))));
    match &options {
        None => eprintln!("\n*** repro round trips are IGNORED: no go toolchain found ***\n"),
        Some(Err(why)) => {
            eprintln!("\n*** repro round trips are IGNORED: sealed networking is unavailable: {why} ***\n")
        }
        Some(Ok(_)) => {}
    }
    let options = options.and_then(Result::ok);
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/fakes/go1.26");
    let mut trials = Vec::new();
    for &category in modchaos::repro::SUPPORTED {
        let dir = corpus.join(category.id());
        let mut files: Vec<_> =
            std::fs::read_dir(&dir).map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default();
        files.sort();
        let options = options.clone();
        let ignored = options.is_none();
        trials.push(
            Trial::test(category.id().to_string(), move || round_trip(category, &files, options.expect("not ignored")))
                .with_ignored_flag(ignored),
        );
    }
    libtest_mimic::run(&args, trials).exit();
}

/// What a user hands in: the log they paste (the configuration as `go env` prints it,
/// then go's output) — or, when go printed nothing that says what went wrong (a hang, a
/// stuck lock), the JSON evidence `modchaos doctor --json` gives them.
fn pasted_log(case: &Case) -> String {
    let mut log: String = case.env.iter().map(|(k, v)| format!("{k}='{v}'\n")).collect();
    log.push_str(&case.log());
    if modchaos::repro::repro(&log, "probe").is_ok() {
        return log;
    }
    let evidence = case.evidence(&case.log());
    serde_json::json!({ "evidence": evidence }).to_string()
}

fn round_trip(category: Category, files: &[std::path::PathBuf], options: RunOptions) -> Result<(), Failed> {
    // The first case of the category that reproduces as itself.
    let case = files
        .iter()
        .filter_map(|f| Case::parse(&std::fs::read_to_string(f).ok()?).ok().map(|c| (f, c)))
        .find(|(_, c)| modchaos::repro::repro(&pasted_log(c), "test").is_ok_and(|r| r.diagnosis.category == category));
    let Some((file, case)) = case else {
        return Err(format!(
            "no corpus case of {category} in tests/corpus/fakes/go1.26 is diagnosed as {category} by repro"
        )
        .into());
    };
    let repro = modchaos::repro::repro(&pasted_log(&case), &file.display().to_string())
        .map_err(|e| Failed::from(format!("{}: {e}", file.display())))?;
    let ctx = LoadContext::new(Some(options.go.clone()));
    let scenario = parse(Path::new("repro.yaml"), repro.yaml.clone(), &ctx)
        .map_err(|e| Failed::from(format!("the generated scenario does not load:\n{e}\n{}", repro.yaml)))?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    let report = runtime.block_on(run_scenario(&scenario, &options, &NoEvents));
    let got = report.diagnosis().map(|d| d.category);
    if got != Some(category) || report.status != Status::Passed {
        return Err(format!(
            "from {}: the generated scenario ran as {got:?}, not {category}\n{}\n{}",
            file.display(),
            repro.yaml,
            failure_details(&report)
        )
        .into());
    }
    Ok(())
}
