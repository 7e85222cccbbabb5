//! How much does modchaos add to a plain download? In one run, alternating, this times
//! `go mod download` of the same 50 modules (from Go's own testdata) three ways:
//!   fileserver: go against Go's own `net/http.FileServer` over a GOPROXY tree of the very
//!               same .info/.mod/.zip files (built here, skipped if it cannot be);
//!   http:       go against modchaos's fake proxy started alone (no sandbox, no evidence);
//!   modchaos:   a no-fault scenario (sandbox, world, fake proxy over HTTP, evidence,
//!               diagnosis, cleanup) running the same go command — the only go command
//!               it runs (no steady state, no verification; go's version is asked once
//!               per process, before the rounds). Timed until its report is back: the
//!               sandbox's files are then deleted in the background, which each round
//!               waits for off the clock (printed as "background removal").
//! All use plain HTTP: with https every connection also pays a TLS handshake, which is
//! go's cost, not the harness's.
//! It prints the medians and two regression figures: the harness's overhead, modchaos /
//! http (goal ≤ 1.05×), and the fake proxy against Go's own file server, http /
//! fileserver (goal ≤ 1.0×).
//!
//! It also prints where the scenario's time goes, phase by phase (median over the rounds,
//! from the `modchaos::phase` tracing spans the runner opens), beside the bare go command's
//! own spawn-to-reaped time measured in the same rounds.
//!
//! `cargo bench --bench overhead [-- ROUNDS]` (default 12 rounds after 2 warm-ups).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use modchaos::fixture::{Module, ModuleSet};
use modchaos::gobin::GoBinary;
use modchaos::judge::{Status, run_scenario};
use modchaos::runner::gocmd::{GoInvocation, run};
use modchaos::runner::{NoEvents, RunOptions};
use modchaos::scenario::{LoadContext, parse};
use modchaos::world::sandbox::Sandbox;

const MODULES: usize = 50;

fn main() {
    let rounds: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(12);
    let Ok(go) = GoBinary::find(None) else {
        eprintln!("overhead: SKIPPED, no go toolchain found");
        return;
    };
    let goroot = go.goroot().expect("go env GOROOT");
    let dir = goroot.join("src/cmd/go/testdata/mod");
    let all = ModuleSet::load(std::slice::from_ref(&dir)).expect("Go's testdata loads").set;
    let candidates: Vec<Module> = all
        .iter()
        .filter(|m| m.zip_violations.is_empty() && m.go_mod.is_some() && !m.path.starts_with("golang.org/toolchain"))
        .cloned()
        .collect();
    let phases = PhaseTimes::default();
    {
        use tracing_subscriber::layer::SubscriberExt as _;
        let subscriber = tracing_subscriber::registry().with(phases.clone());
        tracing::subscriber::set_global_default(subscriber).expect("no other subscriber");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    // Some of Go's fixtures are broken on purpose (wrong major version, bad go.mod…): ask
    // the fake proxy for all of them once and keep the first 50 that go downloads cleanly.
    let probe_scenario = scenario_for(&candidates, &go);
    let probe_world =
        runtime.block_on(modchaos::world::World::start(&probe_scenario, modchaos::vocab::NetworkMode::Open)).unwrap();
    let probe_url = format!("http://{}", probe_world.map.get("proxy.bench.example").unwrap().addr);
    let probe = download_bare(&runtime, &go, &probe_url, &candidates.iter().map(|m| m.id()).collect::<Vec<_>>()).1;
    drop(probe_world);
    let good: Vec<(String, String)> = modchaos::evidence::parse_json_records(&probe.stdout)
        .into_iter()
        .filter(|r| r.error.is_none())
        .map(|r| (r.path, r.version))
        .collect();
    let chosen: Vec<Module> =
        candidates.into_iter().filter(|m| good.contains(&(m.path.clone(), m.version.clone()))).take(MODULES).collect();
    assert_eq!(chosen.len(), MODULES, "Go's testdata has {MODULES} modules go downloads cleanly");
    let ids: Vec<String> = chosen.iter().map(|m| m.id()).collect();

    let ctx = LoadContext::new(Some(go.clone()));
    let yaml = scenario_text(&chosen);
    let load_started = Instant::now();
    let scenario = parse(Path::new("overhead.yaml"), yaml.clone(), &ctx).unwrap_or_else(|e| panic!("{e}"));
    let first_load = load_started.elapsed();
    let reload_started = Instant::now();
    let _ = parse(Path::new("overhead.yaml"), yaml, &ctx).unwrap();
    let reload = reload_started.elapsed();

    // The same files as a GOPROXY tree, for Go's own file server.
    let tree = tempfile::Builder::new().prefix("modchaos-bench-proxy-").tempdir().unwrap();
    modchaos::fixture::fileproxy::write_file_proxy(tree.path(), &chosen).unwrap();
    let fileserver = FileServer::start(&go, tree.path());
    if let Err(why) = &fileserver {
        eprintln!("overhead: the net/http.FileServer reference is left out: {why}");
    }
    let fileserver = fileserver.ok();
    let served = |_: ()| -> Option<Duration> {
        let server = fileserver.as_ref()?;
        let (took, outcome) = download_bare(&runtime, &go, &server.url, &ids);
        assert!(outcome.exit.success(), "download from net/http.FileServer failed: {}", outcome.stderr);
        Some(took)
    };
    // Reference: bare go against the same fake proxy, started alone (no sandbox, no
    // evidence): the difference to the scenario is the harness.
    let world = runtime.block_on(modchaos::world::World::start(&scenario, modchaos::vocab::NetworkMode::Open)).unwrap();
    let fake_url = format!("http://{}", world.map.get("proxy.bench.example").unwrap().addr);
    let bare_http = |_: ()| -> Duration {
        let (took, outcome) = download_bare(&runtime, &go, &fake_url, &ids);
        assert!(outcome.exit.success(), "bare download over HTTP failed: {}", outcome.stderr);
        took
    };
    let go_inside = std::cell::RefCell::new(Vec::new());
    let deleted_after = std::cell::RefCell::new(Vec::new());
    let chaos = |_: ()| -> Duration {
        phases.clear();
        let started = Instant::now();
        let report = runtime.block_on(run_scenario(
            &scenario,
            &RunOptions::open(go.clone(), "the benchmark measures open mode"),
            &NoEvents,
        ));
        let took = started.elapsed();
        // The sandbox's files are deleted in the background once its path is gone: wait
        // for that outside the clock, so that it does not slow the next measurement.
        let deleting = Instant::now();
        assert!(modchaos::cleanup::finish_removals(Duration::from_secs(60)), "the sandbox could not be removed");
        deleted_after.borrow_mut().push(deleting.elapsed());
        assert_eq!(report.status, Status::Passed, "{}", modchaos::report::text::failure_details(&report));
        go_inside.borrow_mut().push(Duration::from_secs_f64(report.commands[0].duration_ms / 1000.0));
        phases.round_done(took);
        took
    };
    for _ in 0..2 {
        served(());
        bare_http(());
        chaos(());
    }
    phases.forget_rounds();
    deleted_after.borrow_mut().clear();
    let (mut served_times, mut http_times, mut chaos_times, mut pair_ratios) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        // Rotate the order, so drift on a shared machine hits all alike.
        let mut times = [Duration::ZERO; 2];
        for k in 0..3 {
            match (round + k) % 3 {
                0 => times[0] = bare_http(()),
                1 => times[1] = chaos(()),
                _ => served_times.extend(served(())),
            }
        }
        pair_ratios.push(times[1].as_secs_f64() / times[0].as_secs_f64());
        http_times.push(times[0]);
        chaos_times.push(times[1]);
    }
    drop(world);
    let median_h = median(&mut http_times);
    let median_c = median(&mut chaos_times);
    pair_ratios.sort_by(f64::total_cmp);
    let ratio = median_c.as_secs_f64() / median_h.as_secs_f64();
    println!(
        "overhead: go mod download of {MODULES} modules from Go's testdata, {rounds} alternating rounds, {}",
        go.version().unwrap_or_default()
    );
    let median_s = (!served_times.is_empty()).then(|| median(&mut served_times));
    if let Some(median_s) = median_s {
        println!(
            "  bare go, net/http.FileServer  median {:>8.1} ms  (Go's own server over the same files)",
            ms(median_s)
        );
    }
    println!(
        "  bare go, the fake proxy alone median {:>8.1} ms  (same go command over HTTP, nothing else)",
        ms(median_h)
    );
    println!(
        "  modchaos no-fault scenario    median {:>8.1} ms  (sandbox + fake proxy + go + evidence + diagnosis + cleanup)",
        ms(median_c)
    );
    println!("    of which the go command     median {:>8.1} ms", ms(median(&mut go_inside.borrow_mut())));
    println!(
        "  harness overhead: modchaos / the fake proxy alone  {ratio:.3}x (goal <= 1.05x: {})",
        verdict(ratio <= 1.05)
    );
    if let Some(median_s) = median_s {
        let fake = median_h.as_secs_f64() / median_s.as_secs_f64();
        println!(
            "  the fake proxy / net/http.FileServer               {fake:.3}x (goal <= 1.0x: {})",
            verdict(fake <= 1.0)
        );
    }
    println!(
        "  per-round harness ratios      min {:.3}x  median {:.3}x  max {:.3}x",
        pair_ratios[0],
        pair_ratios[pair_ratios.len() / 2],
        pair_ratios[pair_ratios.len() - 1]
    );
    println!("  scenario load (fixtures built) {:.1} ms first time, {:.1} ms cached", ms(first_load), ms(reload));
    phases.print(median_h);
    println!(
        "    {:<28} {:>8.2}  (after the report, off the clock: the sandbox's files deleted in the background)",
        "background removal",
        ms(median(&mut deleted_after.borrow_mut()))
    );
}

/// Wall time of every `modchaos::phase` span, summed per phase within one scenario run
/// (a round), kept per round.
#[derive(Clone, Default)]
struct PhaseTimes(std::sync::Arc<std::sync::Mutex<PhaseState>>);

#[derive(Default)]
struct PhaseState {
    /// This round's sums, by phase (span name, and its `step` field if any).
    current: BTreeMap<String, Duration>,
    /// Each finished round's sums, and its total.
    rounds: Vec<(BTreeMap<String, Duration>, Duration)>,
}

/// When a span was opened, kept in its extensions.
struct Opened(Instant);

/// A span's name with its `step` field, e.g. `prepare.world_start`.
struct Label(String);

impl tracing::field::Visit for Label {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "step" {
            self.0 = format!("{}.{}", self.0, format!("{value:?}").trim_matches('"'));
        }
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "step" {
            self.0 = format!("{}.{value}", self.0);
        }
    }
}

impl<S> tracing_subscriber::Layer<S> for PhaseTimes
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        if attrs.metadata().target() != "modchaos::phase" {
            return;
        }
        let mut label = Label(attrs.metadata().name().to_string());
        attrs.record(&mut label);
        if let Some(span) = ctx.span(id) {
            let mut ext = span.extensions_mut();
            ext.insert(Opened(Instant::now()));
            ext.insert(label);
        }
    }

    fn on_close(&self, id: tracing::span::Id, ctx: tracing_subscriber::layer::Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let ext = span.extensions();
        if let (Some(Opened(at)), Some(Label(label))) = (ext.get::<Opened>(), ext.get::<Label>()) {
            let mut state = self.0.lock().unwrap();
            *state.current.entry(label.clone()).or_default() += at.elapsed();
        }
    }
}

impl PhaseTimes {
    fn clear(&self) {
        self.0.lock().unwrap().current.clear();
    }

    fn round_done(&self, total: Duration) {
        let mut state = self.0.lock().unwrap();
        let round = std::mem::take(&mut state.current);
        state.rounds.push((round, total));
    }

    fn forget_rounds(&self) {
        self.0.lock().unwrap().rounds.clear();
    }

    /// The median of each phase over the rounds, the scenario's total, what no phase
    /// covers, and the bare go command (`bare`) for comparison.
    fn print(&self, bare: Duration) {
        let state = self.0.lock().unwrap();
        let names: std::collections::BTreeSet<&String> = state.rounds.iter().flat_map(|(r, _)| r.keys()).collect();
        let of = |name: &str| -> Duration {
            let mut times: Vec<Duration> =
                state.rounds.iter().map(|(r, _)| r.get(name).copied().unwrap_or_default()).collect();
            median(&mut times)
        };
        let mut totals: Vec<Duration> = state.rounds.iter().map(|(_, t)| *t).collect();
        let mut unaccounted: Vec<Duration> = state
            .rounds
            .iter()
            .map(|(r, t)| {
                let covered: Duration = r.iter().filter(|(n, _)| is_top_level(n)).map(|(_, d)| *d).sum();
                t.saturating_sub(covered)
            })
            .collect();
        println!("  where the scenario's time goes (median ms per round; nested phases indented):");
        for name in names {
            let indent = if is_top_level(name) { "    " } else { "        " };
            println!("{indent}{name:<28} {:>8.2}", ms(of(name)));
        }
        println!("    {:<28} {:>8.2}", "(no phase)", ms(median(&mut unaccounted)));
        println!("    {:<28} {:>8.2}", "scenario total", ms(median(&mut totals)));
        println!("    {:<28} {:>8.2}  (the same go command's spawn to reaped, alone)", "bare go", ms(bare));
    }
}

/// Phases that no other phase contains (the go command's own steps are inside `go`).
fn is_top_level(name: &str) -> bool {
    !name.starts_with("go_")
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT met" }
}

/// A no-fault scenario downloading `modules` from one proxy over plain HTTP.
fn scenario_text(modules: &[Module]) -> String {
    format!(
        "name: overhead\nmodules:\n{}hosts:\n  proxy.bench.example:\n    goproxy: {{}}\nenv:\n  GOPROXY: http://proxy.bench.example\nrun:\n  go: mod download -json {}\nexpect: {{exit: success}}\n",
        modules.iter().map(|m| format!("  - {}\n", m.source.display())).collect::<String>(),
        modules.iter().map(|m| m.id()).collect::<Vec<_>>().join(" ")
    )
}

/// [`scenario_text`] parsed.
fn scenario_for(modules: &[Module], go: &GoBinary) -> modchaos::scenario::Scenario {
    let ctx = LoadContext::new(Some(go.clone()));
    parse(Path::new("overhead.yaml"), scenario_text(modules), &ctx).unwrap_or_else(|e| panic!("{e}"))
}

/// Go's own `net/http.FileServer` over a directory, built with the go under test into a
/// temporary directory (its own build cache) and killed when dropped.
struct FileServer {
    url: String,
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

impl FileServer {
    fn start(go: &GoBinary, root: &Path) -> Result<FileServer, String> {
        use std::io::BufRead as _;
        let dir = tempfile::Builder::new().prefix("modchaos-bench-fileserver-").tempdir().map_err(|e| e.to_string())?;
        let source = "package main\n\nimport (\n\t\"fmt\"\n\t\"net\"\n\t\"net/http\"\n\t\"os\"\n)\n\n\
            func main() {\n\tl, err := net.Listen(\"tcp\", \"127.0.0.1:0\")\n\tif err != nil {\n\t\tpanic(err)\n\t}\n\t\
            fmt.Println(l.Addr())\n\tpanic(http.Serve(l, http.FileServer(http.Dir(os.Args[1]))))\n}\n";
        std::fs::write(dir.path().join("main.go"), source).map_err(|e| e.to_string())?;
        std::fs::write(dir.path().join("go.mod"), "module fileserver\n\ngo 1.21\n").map_err(|e| e.to_string())?;
        modchaos::fsutil::disable_go_telemetry(&dir.path().join("config")).map_err(|e| e.to_string())?;
        let built = std::process::Command::new(&go.path)
            .args(["build", "-o", "fileserver", "."])
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", dir.path())
            .env("XDG_CONFIG_HOME", dir.path().join("config"))
            .env("GOCACHE", dir.path().join("cache"))
            .env("GOPATH", dir.path().join("gopath"))
            .env("GOTOOLCHAIN", "local")
            .env("GOENV", "off")
            .env("GOFLAGS", "-modcacherw")
            .output()
            .map_err(|e| e.to_string())?;
        if !built.status.success() {
            return Err(String::from_utf8_lossy(&built.stderr).into_owned());
        }
        let mut child = std::process::Command::new(dir.path().join("fileserver"))
            .arg(root)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| e.to_string())?;
        let mut line = String::new();
        let stdout = child.stdout.take().ok_or("no stdout")?;
        std::io::BufReader::new(stdout).read_line(&mut line).map_err(|e| e.to_string())?;
        Ok(FileServer { url: format!("http://{}", line.trim()), child, _dir: dir })
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `go mod download -json <ids>` in a fresh sandbox against `goproxy`, timed from spawn
/// to exit (the sandbox is made before and removed after the clock).
fn download_bare(
    runtime: &tokio::runtime::Runtime,
    go: &GoBinary,
    goproxy: &str,
    ids: &[String],
) -> (Duration, modchaos::runner::gocmd::GoOutcome) {
    let args: Vec<String> =
        ["mod", "download", "-json"].iter().map(|s| s.to_string()).chain(ids.iter().cloned()).collect();
    let sandbox = Sandbox::create().unwrap();
    let mut env: BTreeMap<String, String> = sandbox.base_env();
    env.insert("GOPROXY".into(), goproxy.to_string());
    let started = Instant::now();
    let outcome = runtime
        .block_on(run(&GoInvocation {
            go: &go.path,
            args: &args,
            env: &env,
            cwd: &sandbox.paths.work,
            timeout: Duration::from_secs(120),
            inspect_cache: None,
            user: None,
        }))
        .unwrap();
    let took = started.elapsed();
    sandbox.remove().unwrap();
    (took, outcome)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}
