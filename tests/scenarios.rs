//! Every scenario file under `scenarios/` is its own test, once per network mode it can
//! run in: `sealed/…` in a child process with its own namespaces, real names and ports
//! and the fake resolver; `open/…` in this process on 127.0.0.1 ports. Each runs the
//! real go against the scenario's fakes and passes only if the diagnosis, recovery and
//! integrity expectations all hold. Without a go toolchain, or for sealed trials
//! without namespaces, trials are ignored, loudly.
//!
//! Trials are scheduled as `modchaos run` schedules scenarios: longest first (durations
//! of earlier runs are remembered under `target/tmp/`), and — unless `--test-threads`
//! is given — as many at once as the CPUs serve, the ones that mostly wait (hangs,
//! timeouts, slow links) holding no CPU.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use libtest_mimic::{Arguments, Failed, Trial};
use modchaos::gobin::GoBinary;
use modchaos::judge::{Status, run_scenario};
use modchaos::report::text::failure_details;
use modchaos::runner::{NoEvents, RunOptions};
use modchaos::scenario::{LoadContext, NetworkNeed, discover, load};
use modchaos::suite::history::{self, FILE_NAME, History, Observed};
use modchaos::suite::schedule::{self, Estimate, Limiter, Parallelism};

/// What every trial shares: when it may start, and what the suite learns.
struct Shared {
    limiter: Limiter,
    history: Mutex<History>,
}

fn main() {
    let mut args = Arguments::from_args();
    let parallelism = args.test_threads.map_or_else(Parallelism::for_this_machine, Parallelism::Fixed);
    args.test_threads = Some(parallelism.most());
    let history_file = Path::new(env!("CARGO_TARGET_TMPDIR")).join("modchaos-cache").join(FILE_NAME);
    let known = History::load(&history_file);
    let shared = Arc::new(Shared { limiter: Limiter::new(parallelism), history: Mutex::new(known.clone()) });
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
        let loaded = load(&file, &ctx).ok();
        let need = loaded.as_ref().map(|s| s.network.clone()).unwrap_or_default();
        let open = go.as_ref().ok().map(|go| RunOptions::open(go.clone(), "this is the open-mode trial"));
        let estimate = |trial: &str| match &loaded {
            Some(scenario) => schedule::estimate(scenario, known.get(&history::key(Path::new(trial), ""))),
            None => Estimate { wall: Default::default(), cpu_share: 1.0, measured: false },
        };
        if !matches!(need, NetworkNeed::Open(_)) {
            let options = sealed.as_ref().and_then(|s| s.as_ref().ok()).cloned();
            let name = format!("sealed/{name}");
            trials.push((estimate(&name), trial(name, file.clone(), options, &shared)));
        }
        if !matches!(need, NetworkNeed::Sealed(_)) {
            let name = format!("open/{name}");
            trials.push((estimate(&name), trial(name, file, open, &shared)));
        }
    }
    // Longest first (libtest-mimic hands trials to its threads in this order).
    let estimates: Vec<Estimate> = trials.iter().map(|(e, _)| *e).collect();
    let mut slots: Vec<Option<Trial>> = trials.into_iter().map(|(_, t)| Some(t)).collect();
    let ordered: Vec<Trial> = schedule::order(&estimates).into_iter().filter_map(|i| slots[i].take()).collect();
    let conclusion = libtest_mimic::run(&args, ordered);
    let learnt = shared.history.lock().unwrap_or_else(|e| e.into_inner());
    if let Err(e) = learnt.save(&history_file) {
        eprintln!("{e}");
    }
    conclusion.exit();
}

fn trial(name: String, file: PathBuf, options: Option<RunOptions>, shared: &Arc<Shared>) -> Trial {
    let ignored = options.is_none();
    let shared = shared.clone();
    let key = history::key(Path::new(&name), "");
    Trial::test(name, move || run_file(&file, options.expect("ignored without options"), &shared, key))
        .with_kind("scenario")
        .with_ignored_flag(ignored)
}

fn run_file(file: &Path, options: RunOptions, shared: &Shared, key: String) -> Result<(), Failed> {
    let relative = file.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap_or(file);
    let ctx = LoadContext::new(Some(options.go.clone()));
    let scenario = load(relative, &ctx)
        .or_else(|_| load(file, &ctx))
        .map_err(|e| Failed::from(format!("invalid scenario file:\n{e}")))?;
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| Failed::from(e.to_string()))?;
    let known = shared.history.lock().unwrap_or_else(|e| e.into_inner()).get(&key);
    let estimate = schedule::estimate(&scenario, known);
    let (report, wall_ms) = runtime.block_on(async {
        let _admission = shared.limiter.admit(&estimate).await;
        let started = Instant::now();
        let report = run_scenario(&scenario, &options, &NoEvents).await;
        (report, started.elapsed().as_secs_f64() * 1000.0)
    });
    if report.status != Status::Skipped {
        let cpu_ms = report.usage.map(|u| u.total_cpu_ms());
        shared.history.lock().unwrap_or_else(|e| e.into_inner()).learn(key, Observed { wall_ms, cpu_ms });
    }
    match report.status {
        Status::Passed if report.sandbox_removed => Ok(()),
        Status::Passed => {
            Err(format!("passed, but the sandbox {} was left behind", report.sandbox.unwrap_or_default()).into())
        }
        _ => Err(failure_details(&report).into()),
    }
}
