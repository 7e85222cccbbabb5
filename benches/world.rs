//! How long a typical scenario's world takes to start. In one run, alternating:
//!   - the certificate authorities alone (`Pki::generate`: four CAs) and one leaf;
//!   - `World::start` in open mode (CAs, every host's certificate, servers on 127.0.0.1
//!     ports, the guard), stopped again, for a typical scenario of the suite: two module
//!     proxies over https with an HTTP fault (`scenarios/goproxy-list/500-stops-comma-list`),
//!     and one with a checksum database (`scenarios/sumdb/tampered-zip-on-one-proxy`);
//!   - sealed, where this machine allows it: from asking for the scenario to run to go's
//!     first command starting — the child process, its namespaces, loading the scenario
//!     again, the sandbox and the world —, read from the runner's progress events;
//!   - the baseline, measured the same way in the same run: `go version`, the least a
//!     scenario's go command costs, spawn to exit.
//!
//! It prints the medians (goal: the world starts in at most 20 ms).
//!
//! `cargo bench --bench world [-- ROUNDS]` (default 30 rounds).

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use modchaos::gobin::GoBinary;
use modchaos::pki::Pki;
use modchaos::runner::{Progress, ProgressSink, RunOptions};
use modchaos::scenario::{LoadContext, Scenario, load};
use modchaos::vocab::NetworkMode;
use modchaos::world::World;

/// Goal for a world's start, in ms.
const GOAL_MS: f64 = 20.0;
/// The typical scenarios.
const SCENARIOS: [&str; 2] =
    ["scenarios/goproxy-list/500-stops-comma-list.yaml", "scenarios/sumdb/tampered-zip-on-one-proxy.yaml"];

fn main() {
    // This benchmark is its own sealed helper, as `modchaos` is.
    modchaos::runner::dispatch();
    let rounds: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(30);
    let Ok(go) = GoBinary::find(None) else {
        println!("world: SKIPPED, no go toolchain found");
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ctx = LoadContext::new(Some(go.clone()));
    let scenarios: Vec<Scenario> =
        SCENARIOS.iter().map(|file| load(&root.join(file), &ctx).unwrap_or_else(|e| panic!("{file}: {e}"))).collect();
    let helper = std::env::current_exe().expect("the benchmark's own path");
    let sealed = RunOptions::sealed(go.clone(), &helper).map_err(|e| e.to_string());
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");

    let mut pki_times = Vec::new();
    let mut leaf_times = Vec::new();
    let mut open_times: Vec<Vec<Duration>> = vec![Vec::new(); scenarios.len()];
    let mut sealed_times: Vec<Vec<Duration>> = vec![Vec::new(); scenarios.len()];
    let mut go_times = Vec::new();
    for round in 0..rounds + 2 {
        let counted = round >= 2; // two warm-up rounds
        let started = Instant::now();
        let pki = Pki::generate().expect("certificates");
        let pki_took = started.elapsed();
        let started = Instant::now();
        pki.leaf("proxy.corp.example", &["127.0.0.10".parse().expect("an address")]).expect("a leaf");
        let leaf_took = started.elapsed();
        let go_took = go_version(&go);
        let mut open = Vec::new();
        let mut shut = Vec::new();
        for scenario in &scenarios {
            open.push(runtime.block_on(open_world(scenario)));
            shut.push(match &sealed {
                Ok(options) => Some(runtime.block_on(sealed_start(scenario, options))),
                Err(_) => None,
            });
        }
        if counted {
            pki_times.push(pki_took);
            leaf_times.push(leaf_took);
            go_times.push(go_took);
            for (i, took) in open.into_iter().enumerate() {
                open_times[i].push(took);
            }
            for (i, took) in shut.into_iter().enumerate() {
                sealed_times[i].extend(took.flatten());
            }
        }
    }

    println!("world start, {rounds} alternating rounds, {}", go.version().unwrap_or_default());
    println!("  certificate authorities (4 CAs)        median {:>7.2} ms", ms(median(&mut pki_times)));
    println!("  one host certificate                   median {:>7.2} ms", ms(median(&mut leaf_times)));
    let go_median = median(&mut go_times);
    println!("  baseline: `go version`, spawn to exit  median {:>7.2} ms", ms(go_median));
    for (i, file) in SCENARIOS.iter().enumerate() {
        let name = Path::new(file).file_stem().unwrap_or_default().to_string_lossy();
        let open = median(&mut open_times[i]);
        println!(
            "  {name}: open-mode World::start median {:>7.2} ms ({:.2}x go version; goal <= {GOAL_MS} ms: {})",
            ms(open),
            open.as_secs_f64() / go_median.as_secs_f64(),
            if ms(open) <= GOAL_MS { "met" } else { "NOT met" }
        );
        match &sealed {
            Ok(_) if !sealed_times[i].is_empty() => {
                let sealed = median(&mut sealed_times[i]);
                println!(
                    "  {name}: sealed, request to go's first command median {:>7.2} ms ({:.2}x go version: child process, namespaces, loading, sandbox and world; goal <= {GOAL_MS} ms: {})",
                    ms(sealed),
                    sealed.as_secs_f64() / go_median.as_secs_f64(),
                    if ms(sealed) <= GOAL_MS { "met" } else { "NOT met" }
                );
            }
            Ok(_) => println!("  {name}: sealed: no go command started"),
            Err(why) => println!("  {name}: sealed: SKIPPED ({why})"),
        }
    }
}

/// `World::start` in open mode, timed, then stopped.
async fn open_world(scenario: &Scenario) -> Duration {
    let started = Instant::now();
    let mut world = World::start(scenario, NetworkMode::Open).await.expect("the world starts");
    let took = started.elapsed();
    world.stop().await;
    took
}

/// Notes when the first go command starts.
struct FirstCommand(Mutex<Option<Instant>>);

impl ProgressSink for FirstCommand {
    fn progress(&self, progress: &Progress) {
        if let Progress::CommandStarted { .. } = progress {
            self.0.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert_with(Instant::now);
        }
    }
}

/// Runs `scenario` in a sealed child; the time from asking to go's first command.
async fn sealed_start(scenario: &Scenario, options: &RunOptions) -> Option<Duration> {
    let sink = FirstCommand(Mutex::new(None));
    let started = Instant::now();
    let _ = modchaos::runner::run_scenario(scenario, options, &sink).await;
    let first = sink.0.lock().unwrap_or_else(|e| e.into_inner()).take();
    first.map(|at| at - started)
}

/// `go version`, spawn to exit.
fn go_version(go: &GoBinary) -> Duration {
    let started = Instant::now();
    let status = std::process::Command::new(&go.path)
        .arg("version")
        .env("GOTOOLCHAIN", "local")
        .stdout(std::process::Stdio::null())
        .status()
        .expect("go runs");
    assert!(status.success(), "go version failed");
    started.elapsed()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}
