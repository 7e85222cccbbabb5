//! Every scenario file under `scenarios/` is its own test, once per network mode it can
//! run in: `sealed/…` in a child process with its own namespaces, real names and ports
//! and the fake resolver; `open/…` in this process on 127.0.0.1 ports. Each runs the
//! real go against the scenario's fakes and passes only if the diagnosis, recovery and
//! integrity expectations all hold. Without a go toolchain, or for sealed trials
//! without namespaces, trials are ignored, loudly.

use std::path::{Path, PathBuf};

use libtest_mimic::{Arguments, Failed, Trial};
use modchaos::gobin::GoBinary;
use modchaos::judge::{Status, run_scenario};
use modchaos::report::text::failure_details;
use modchaos::runner::{NoEvents, RunOptions};
use modchaos::scenario::{LoadContext, NetworkNeed, discover, load};

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("scenarios");
    let files = discover(std::slice::from_ref(&dir)).expect("the scenarios directory is readable");
    let go = GoBinary::find(None);
    if let Err(e) = &go {
        eprintln!("\n*** modchaos scenario tests are IGNORED: {e} ***\n");
    }
    let sealed = go.as_ref().ok().map(|go| RunOptions::sealed(go.clone(), Path::new(env!("CARGO_BIN_EXE_modchaos"))));
    if let Some(Err(why)) = &sealed {
        eprintln!("\n*** sealed scenario trials are IGNORED: sealed networking is unavailable here: {why} ***\n");
    }
    let ctx = LoadContext::new(go.as_ref().ok().cloned());
    let mut trials = Vec::new();
    for file in files {
        let name = file.strip_prefix(&dir).unwrap_or(&file).with_extension("").display().to_string();
        let need = load(&file, &ctx).map(|s| s.network).unwrap_or_default();
        let open = go.as_ref().ok().map(|go| RunOptions::open(go.clone(), "this is the open-mode trial"));
        if !matches!(need, NetworkNeed::Open(_)) {
            let options = sealed.as_ref().and_then(|s| s.as_ref().ok()).cloned();
            trials.push(trial(format!("sealed/{name}"), file.clone(), options));
        }
        if !matches!(need, NetworkNeed::Sealed(_)) {
            trials.push(trial(format!("open/{name}"), file, open));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}

fn trial(name: String, file: PathBuf, options: Option<RunOptions>) -> Trial {
    let ignored = options.is_none();
    Trial::test(name, move || run_file(&file, options.expect("ignored without options")))
        .with_kind("scenario")
        .with_ignored_flag(ignored)
}

fn run_file(file: &Path, options: RunOptions) -> Result<(), Failed> {
    let relative = file.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap_or(file);
    let ctx = LoadContext::new(Some(options.go.clone()));
    let scenario = load(relative, &ctx)
        .or_else(|_| load(file, &ctx))
        .map_err(|e| Failed::from(format!("invalid scenario file:\n{e}")))?;
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| Failed::from(e.to_string()))?;
    let report = runtime.block_on(run_scenario(&scenario, &options, &NoEvents));
    match report.status {
        Status::Passed if report.sandbox_removed => Ok(()),
        Status::Passed => {
            Err(format!("passed, but the sandbox {} was left behind", report.sandbox.unwrap_or_default()).into())
        }
        _ => Err(failure_details(&report).into()),
    }
}
