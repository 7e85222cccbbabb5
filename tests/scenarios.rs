//! Every scenario file under `scenarios/` is its own test: it runs the real go against
//! the scenario's fakes and passes only if the diagnosis, recovery and integrity
//! expectations all hold. Without a go toolchain every trial is ignored, loudly.

use std::path::Path;

use libtest_mimic::{Arguments, Failed, Trial};
use modchaos::gobin::GoBinary;
use modchaos::report::text::failure_details;
use modchaos::runner::{NoEvents, RunOptions, Status, run_scenario};
use modchaos::scenario::{LoadContext, discover, load};

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("scenarios");
    let files = discover(std::slice::from_ref(&dir)).expect("the scenarios directory is readable");
    let go = GoBinary::find(None);
    if let Err(e) = &go {
        eprintln!("\n*** modchaos scenario tests are IGNORED: {e} ***\n");
    }
    let trials = files
        .into_iter()
        .map(|file| {
            let name = file.strip_prefix(&dir).unwrap_or(&file).with_extension("").display().to_string();
            let go = go.as_ref().ok().cloned();
            let ignored = go.is_none();
            Trial::test(name, move || run_file(&file, go.expect("ignored without go")))
                .with_kind("scenario")
                .with_ignored_flag(ignored)
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

fn run_file(file: &Path, go: GoBinary) -> Result<(), Failed> {
    let relative = file.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap_or(file);
    let ctx = LoadContext::new(Some(go.clone()));
    let scenario = load(relative, &ctx)
        .or_else(|_| load(file, &ctx))
        .map_err(|e| Failed::from(format!("invalid scenario file:\n{e}")))?;
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| Failed::from(e.to_string()))?;
    let report = runtime.block_on(run_scenario(&scenario, &RunOptions { go }, &NoEvents));
    match report.status {
        Status::Passed if report.sandbox_removed => Ok(()),
        Status::Passed => {
            Err(format!("passed, but the sandbox {} was left behind", report.sandbox.unwrap_or_default()).into())
        }
        _ => Err(failure_details(&report).into()),
    }
}
