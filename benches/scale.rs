//! How does a scenario scale with its modules? For N small modules (4 KiB of Go source
//! each, generated as txtar fixtures in a temporary directory), one scenario — a module
//! proxy over https and a checksum database, `go mod download -json -x` of all N
//! modules, then verification (the harness re-hashes every cached zip and extracted
//! directory, and runs `go mod verify`) — runs the way `modchaos run` runs it: sealed
//! where this machine allows it, else open. Each run happens in a fresh process of this
//! benchmark (so that its peak memory is that run's alone), which prints
//!   - wall time, and the time go's own commands took inside it (the baseline: the rest
//!     is the harness);
//!   - peak RSS (VmHWM) of the modchaos process that loaded, routed and judged the
//!     scenario, of the sealed child that ran the world and go, and of go itself (the
//!     largest child the sealed child waited for).
//!
//! Time baseline, measured in the same run: the same `go mod download -json -x` of the N
//! modules by go alone, from a `file://` GOPROXY holding the same files (no server, no
//! checksum database, no harness). go itself is far from linear in N, so the time goal
//! (10,000 modules in at most 12× the time of 1,000) is judged for the scenario and set
//! beside go's own ratio.
//!
//! Memory baseline: the same scenario with one module, run in the same benchmark; the
//! growth per module above it shows whether memory is linear. Every size runs twice,
//! from two fixture directories whose paths differ in length (allocation patterns
//! change with them), to show the figures are stable.
//!
//! `cargo bench --bench scale [-- N...]` (default: 100 1000 10000).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use modchaos::fixture::ModuleSet;
use modchaos::fixture::fileproxy::write_file_proxy;
use modchaos::gobin::GoBinary;
use modchaos::judge::{Status, run_scenario};
use modchaos::runner::gocmd::{self, GoInvocation};
use modchaos::runner::{NoEvents, RunOptions, Usage};
use modchaos::scenario::{LoadContext, load};
use modchaos::world::sandbox::Sandbox;
use serde::{Deserialize, Serialize};

/// Goal: peak RSS of every modchaos process for 1,000 modules, in MiB.
const GOAL_1000_MIB: f64 = 100.0;
/// Goal: peak RSS of every modchaos process for 10,000 modules, in MiB.
const GOAL_10000_MIB: f64 = 500.0;
/// Goal: time of 10,000 modules over time of 1,000.
const GOAL_TIME_RATIO: f64 = 12.0;
/// Bytes of Go source in each module.
const MODULE_SIZE: usize = 4096;

/// What one measured run reports back, as one JSON line.
#[derive(Debug, Serialize, Deserialize)]
struct Measured {
    /// Whether the scenario passed, and if not why.
    outcome: String,
    /// Whole run, loading included, in ms.
    wall_ms: f64,
    /// Loading and validating the scenario (fixtures built), in ms.
    load_ms: f64,
    /// go's commands (download and `go mod verify`), in ms.
    go_ms: f64,
    /// Peak RSS of this process (the one `modchaos run` would be), in KiB.
    parent_peak_kib: u64,
    /// The sealed child's usage (`None` in open mode).
    child: Option<Usage>,
    /// The network mode it ran in.
    network: String,
}

fn main() {
    // This benchmark is its own sealed helper, as `modchaos` is.
    modchaos::runner::dispatch();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--measure-one") {
        let Some(file) = args.get(i + 1) else {
            eprintln!("scale: --measure-one needs a scenario file");
            std::process::exit(2);
        };
        std::process::exit(measure_one(Path::new(file)));
    }
    let mut sizes: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    if sizes.is_empty() {
        sizes = vec![100, 1000, 10_000];
    }
    let Ok(go) = GoBinary::find(None) else {
        println!("scale: SKIPPED, no go toolchain found");
        return;
    };
    println!(
        "scale: one scenario downloading N modules of {} KiB (proxy over https, checksum database, verification), {}",
        MODULE_SIZE / 1024,
        go.version().unwrap_or_default()
    );
    // Two fixture directories whose paths differ in length and first letter.
    let roots = [
        tempfile::Builder::new().prefix("modchaos-scale-a-").tempdir().expect("a temporary directory"),
        tempfile::Builder::new()
            .prefix("modchaos-scale-s-a-much-longer-directory-name-than-the-other-")
            .tempdir()
            .expect("a temporary directory"),
    ];
    let mut rows: Vec<Row> = Vec::new();
    for n in std::iter::once(1).chain(sizes.iter().copied()) {
        let mut runs = Vec::new();
        let mut bare = None;
        for (i, root) in roots.iter().enumerate() {
            let file = write_scenario(root.path(), n).expect("the fixtures are written");
            if i == 0 {
                match bare_go(&go, &root.path().join(format!("n{n}")).join("modules")) {
                    Ok(took) => bare = Some(took),
                    Err(why) => println!("  N={n}: go alone failed: {why}"),
                }
            }
            let measured = measure_in_child(&file);
            let _ = std::fs::remove_dir_all(root.path().join(format!("n{n}")));
            match measured {
                Ok(m) => runs.push(m),
                Err(why) => println!("  N={n}: the run failed: {why}"),
            }
        }
        print_row(n, &runs, bare);
        rows.push(Row { n, runs, bare });
    }
    summarise(&rows);
}

/// One size: its measured runs and go's own time alone.
struct Row {
    n: usize,
    runs: Vec<Measured>,
    bare: Option<Duration>,
}

/// `go mod download -json -x` of every module in `fixtures` by go alone, from a
/// `file://` GOPROXY of the same files, in a fresh sandbox: spawn to exit.
fn bare_go(go: &GoBinary, fixtures: &Path) -> Result<Duration, String> {
    let loaded = ModuleSet::load(&[fixtures.to_path_buf()]).map_err(|e| e.to_string())?;
    let modules: Vec<_> = loaded.set.iter().cloned().collect();
    let proxy = tempfile::Builder::new().prefix("modchaos-scale-proxy-").tempdir().map_err(|e| e.to_string())?;
    write_file_proxy(proxy.path(), &modules).map_err(|e| e.to_string())?;
    let args: Vec<String> = ["mod", "download", "-json", "-x"]
        .iter()
        .map(|s| s.to_string())
        .chain(modules.iter().map(|m| m.id()))
        .collect();
    let sandbox = Sandbox::create().map_err(|e| e.to_string())?;
    let mut env = sandbox.base_env();
    env.insert("GOPROXY".into(), format!("file://{}", proxy.path().display()));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    let started = Instant::now();
    let outcome = runtime
        .block_on(gocmd::run(&GoInvocation {
            go: &go.path,
            args: &args,
            env: &env,
            cwd: &sandbox.paths.work,
            timeout: std::time::Duration::from_secs(900),
            inspect_cache: None,
            user: None,
        }))
        .map_err(|e| e.to_string())?;
    let took = started.elapsed();
    let _ = sandbox.remove();
    if outcome.exit.success() { Ok(took) } else { Err(outcome.stderr) }
}

/// Writes N module fixtures and a scenario downloading them all under `root/nN/`;
/// returns the scenario file.
fn write_scenario(root: &Path, n: usize) -> std::io::Result<PathBuf> {
    let dir = root.join(format!("n{n}"));
    let fixtures = dir.join("modules");
    std::fs::create_dir_all(&fixtures)?;
    let mut filler = String::new();
    let mut line = 0;
    while filler.len() < MODULE_SIZE {
        let _ = writeln!(filler, "// Line {line} of filler so that the module weighs about four kilobytes.");
        line += 1;
    }
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let path = format!("corp.example/scale/m{i:05}");
        let text = format!(
            "{path}@v1.0.0\n\n-- .mod --\nmodule {path}\n\ngo 1.21\n-- .info --\n{{\"Version\":\"v1.0.0\",\"Time\":\"2026-01-01T00:00:00Z\"}}\n-- go.mod --\nmodule {path}\n\ngo 1.21\n-- m.go --\n// Package m{i} is filler.\npackage m{i}\n\n{filler}"
        );
        std::fs::write(fixtures.join(format!("corp.example_scale_m{i:05}_v1.0.0.txt")), text)?;
        ids.push(format!("{path}@v1.0.0"));
    }
    let mut yaml = format!(
        "name: {n} modules\nmodules: [modules]\nhosts:\n  proxy.corp.example:\n    goproxy: {{}}\n  sum.corp.example:\n    sumdb: {{name: sum.corp.example}}\nenv:\n  GOPROXY: https://proxy.corp.example\nrun:\n  timeout: 900s\n  modules:\n"
    );
    for id in &ids {
        let _ = writeln!(yaml, "    - {id}");
    }
    yaml += "expect:\n  exit: success\n  verified: true\n";
    let file = dir.join("scale.yaml");
    std::fs::write(&file, yaml)?;
    Ok(file)
}

/// Runs this benchmark again as `--measure-one FILE` and reads its report.
fn measure_in_child(file: &Path) -> Result<Measured, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let output = Command::new(exe).arg("--measure-one").arg(file).output().map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().rev().find(|l| l.starts_with('{')).ok_or_else(|| {
        format!("no report ({}); it said:\n{}", output.status, String::from_utf8_lossy(&output.stderr))
    })?;
    serde_json::from_str(line).map_err(|e| format!("bad report {line:?}: {e}"))
}

/// The measured run: load, run and judge `file` as `modchaos run` does, print a report.
fn measure_one(file: &Path) -> i32 {
    let Ok(go) = GoBinary::find(None) else {
        eprintln!("scale: no go toolchain");
        return 2;
    };
    let started = Instant::now();
    let scenario = match load(file, &LoadContext::new(Some(go.clone()))) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("scale: {e}");
            return 2;
        }
    };
    let load_ms = started.elapsed().as_secs_f64() * 1000.0;
    let helper = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("/proc/self/exe"));
    let (options, _) = RunOptions::auto(go, &helper);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    let report = runtime.block_on(run_scenario(&scenario, &options, &NoEvents));
    let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
    let outcome = match report.status {
        Status::Passed => "passed".to_string(),
        _ => format!("{:?}: {}", report.status, modchaos::report::text::failure_details(&report)),
    };
    drop(runtime);
    let measured = Measured {
        outcome,
        wall_ms,
        load_ms,
        go_ms: report.commands.iter().map(|c| c.duration_ms).sum(),
        parent_peak_kib: modchaos::runner::usage::peak_rss_kib().unwrap_or(0),
        child: report.usage,
        network: report.network.map_or("-".into(), |n| format!("{n:?}").to_lowercase()),
    };
    println!("{}", serde_json::to_string(&measured).expect("serialisable"));
    0
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The largest of the modchaos processes' peaks of a run, in KiB.
fn harness_peak(m: &Measured) -> u64 {
    m.parent_peak_kib.max(m.child.map_or(0, |c| c.peak_rss_kib))
}

fn print_row(n: usize, runs: &[Measured], bare: Option<Duration>) {
    if n == 1 {
        println!(
            "{:>7} {:>9} {:>9} {:>9} {:>9} {:>8} {:>13} {:>11} {:>8}  network / outcome",
            "modules", "go alone", "scenario", "its go", "harness", "load", "modchaos MiB", "sealed MiB", "go MiB",
        );
    }
    let bare = bare.map_or("-".to_string(), |b| format!("{:.2} s", b.as_secs_f64()));
    for m in runs {
        println!(
            "{:>7} {:>9} {:>7.2} s {:>7.2} s {:>7.2} s {:>6.0}ms {:>13.1} {:>11} {:>8}  {} {}",
            n,
            bare,
            m.wall_ms / 1000.0,
            m.go_ms / 1000.0,
            (m.wall_ms - m.go_ms) / 1000.0,
            m.load_ms,
            mib(m.parent_peak_kib),
            m.child.map_or("-".into(), |c| format!("{:.1}", mib(c.peak_rss_kib))),
            m.child.map_or("-".into(), |c| format!("{:.1}", mib(c.children_peak_rss_kib))),
            m.network,
            if m.outcome == "passed" { "passed".to_string() } else { format!("\n{}", m.outcome) }
        );
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn summarise(rows: &[Row]) {
    let find = |n: usize| rows.iter().find(|r| r.n == n && !r.runs.is_empty());
    let Some(base) = find(1) else { return };
    let base_peak = base.runs.iter().map(harness_peak).min().unwrap_or(0);
    println!(
        "\nbaseline: the same scenario with 1 module peaks at {:.1} MiB (largest modchaos process)",
        mib(base_peak)
    );
    for row in rows.iter().filter(|r| r.n > 1 && !r.runs.is_empty()) {
        let n = row.n;
        let peaks: Vec<u64> = row.runs.iter().map(harness_peak).collect();
        let (lo, hi) = (peaks.iter().min().copied().unwrap_or(0), peaks.iter().max().copied().unwrap_or(0));
        let per_module = (hi.saturating_sub(base_peak)) as f64 / n as f64;
        let goal = match n {
            1000 => format!(" (goal <= {GOAL_1000_MIB} MiB: {})", verdict(mib(hi) <= GOAL_1000_MIB)),
            10_000 => format!(" (goal <= {GOAL_10000_MIB} MiB: {})", verdict(mib(hi) <= GOAL_10000_MIB)),
            _ => String::new(),
        };
        println!(
            "N={n:>6}: largest modchaos process peaks at {:.1}–{:.1} MiB across runs and fixture paths{goal}; {per_module:.1} KiB per module above the baseline",
            mib(lo),
            mib(hi)
        );
    }
    if let (Some(small), Some(large)) = (find(1000), find(10_000)) {
        let wall = |r: &Row| median(r.runs.iter().map(|m| m.wall_ms).collect());
        let harness = |r: &Row| median(r.runs.iter().map(|m| m.wall_ms - m.go_ms).collect());
        let ratio = wall(large) / wall(small);
        println!(
            "time of 10,000 modules / time of 1,000: scenario {ratio:.2}x (goal <= {GOAL_TIME_RATIO}x: {}); the harness's own part {:.2}x",
            verdict(ratio <= GOAL_TIME_RATIO),
            harness(large) / harness(small)
        );
        if let (Some(b_small), Some(b_large)) = (small.bare, large.bare) {
            let go_ratio = b_large.as_secs_f64() / b_small.as_secs_f64();
            println!(
                "  go alone from file:// in the same run: {go_ratio:.2}x ({:.1} s / {:.1} s){}",
                b_large.as_secs_f64(),
                b_small.as_secs_f64(),
                if go_ratio > 11.0 { ": go's own download grows faster than N" } else { "" }
            );
        }
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT met" }
}
