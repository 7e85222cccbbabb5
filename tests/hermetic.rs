//! Hermeticity: a hang scenario leaves no process and no temp directory behind (in open
//! and in sealed mode), go sees only the sandbox's directories and settings, and an
//! attempt to reach a host the scenario does not declare is refused and recorded (open
//! mode's guard) or cannot even resolve (sealed mode).

use std::path::Path;

use modchaos::gobin::GoBinary;
use modchaos::judge::{ScenarioReport, run_scenario};
use modchaos::runner::gocmd::{Exit, live_group_members};
use modchaos::runner::{NoEvents, RunOptions};
use modchaos::scenario::{LoadContext, parse};

fn run(yaml: &str) -> Option<ScenarioReport> {
    let go = GoBinary::find(None).map_err(|e| eprintln!("*** SKIPPED: {e} ***")).ok()?;
    run_with(yaml, RunOptions::open(go, "this test is about open mode"))
}

/// Runs `yaml` sealed; `None` (after saying so loudly) where namespaces are unavailable.
fn run_sealed(yaml: &str) -> Option<ScenarioReport> {
    let go = GoBinary::find(None).map_err(|e| eprintln!("*** SKIPPED: {e} ***")).ok()?;
    match RunOptions::sealed(go, Path::new(env!("CARGO_BIN_EXE_modchaos"))) {
        Ok(options) => run_with(yaml, options),
        Err(why) => {
            eprintln!("*** SKIPPED: sealed networking is unavailable here: {why} ***");
            None
        }
    }
}

fn run_with(yaml: &str, options: RunOptions) -> Option<ScenarioReport> {
    let go = options.go.clone();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/modules");
    let yaml = yaml.replace("FIXTURES", &fixtures.display().to_string());
    let ctx = LoadContext::new(Some(go.clone()));
    let scenario = parse(Path::new("inline.yaml"), yaml, &ctx).unwrap_or_else(|e| panic!("{e}"));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    Some(runtime.block_on(run_scenario(&scenario, &options, &NoEvents)))
}

#[test]
fn a_hang_scenario_leaves_no_process_and_no_temp_dir() {
    let Some(report) = run(
        "name: hang\nmodules: [FIXTURES]\nhosts:\n  proxy.corp.example:\n    goproxy: {}\n    faults: [{when: {path: '*.zip'}, hang: {}}]\nrun: {modules: [corp.example/lib@v1.0.0], timeout: 1500ms}\nexpect: {exit: timeout, diagnosis: hang}\n",
    ) else {
        return;
    };
    assert!(report.failures.is_empty(), "{}", modchaos::report::text::failure_details(&report));
    let command = &report.commands[0];
    assert_eq!(command.exit, Exit::Timeout);
    let survivors = live_group_members(command.pid as i32);
    assert!(survivors.is_empty(), "processes of go's group {} survived: {survivors:?}", command.pid);
    assert!(
        std::fs::metadata(format!("/proc/{}", command.pid)).is_err()
            || std::fs::read_to_string(format!("/proc/{}/stat", command.pid)).is_ok_and(|s| s.contains(") Z ")),
        "go itself is still alive"
    );
    let sandbox = report.sandbox.expect("a sandbox was made");
    assert!(report.sandbox_removed);
    assert!(!Path::new(&sandbox).exists(), "{sandbox} was left behind");
}

#[test]
fn go_sees_only_the_sandbox() {
    let Some(report) = run(
        "name: env\nmodules: [FIXTURES]\nhosts:\n  proxy.corp.example:\n    goproxy: {}\nenv: {GOFLAGS: -mod=mod, GONOSUMDB: corp.example}\nrun: {go: env -json}\nexpect: {exit: success}\n",
    ) else {
        return;
    };
    let run = report.run.as_ref().unwrap();
    let env: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&run.evidence.stdout).expect("go env -json prints an object");
    let get = |k: &str| env.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let sandbox = report.sandbox.clone().unwrap();
    for var in ["GOPATH", "GOMODCACHE", "GOCACHE"] {
        let value = get(var);
        assert!(value.starts_with(&sandbox), "{var}={value} is outside the sandbox {sandbox}");
    }
    assert!(matches!(get("GOENV").as_str(), "" | "off"), "GOENV={}: go must not read a go.env file", get("GOENV"));
    assert_eq!(get("GOTOOLCHAIN"), "local");
    // The scenario's own GOFLAGS, nothing added: -modcacherw is a scenario's choice.
    assert_eq!(get("GOFLAGS"), "-mod=mod");
    assert_eq!(get("GONOSUMDB"), "corp.example");
    assert_eq!(get("GOPRIVATE"), "");
    assert_eq!(get("GOSUMDB"), "off");
    // go was given the loopback address; its output is rewritten back to the declared name.
    assert_eq!(get("GOPROXY"), "https://proxy.corp.example");
    assert!(!run.evidence.stdout.contains("127.0.0.1"), "addresses leak into the rewritten output");
    if let Some(home) = std::env::var_os("HOME").filter(|h| h != "/") {
        let home = home.to_string_lossy().to_string();
        let leaked: Vec<_> = env
            .iter()
            .filter(|(_, v)| v.as_str().is_some_and(|s| s.starts_with(&home) && !s.starts_with(&sandbox)))
            .collect();
        assert!(leaked.is_empty(), "the user's HOME leaks into go env: {leaked:?}");
    }
}

#[test]
fn reaching_an_undeclared_host_is_refused_and_recorded() {
    // No GOPROXY and no proxy host: go uses its default, proxy.golang.org.
    let Some(report) =
        run("name: escape\nmodules: [FIXTURES]\nrun: {modules: [corp.example/lib@v1.0.0]}\nexpect: {exit: failure}\n")
    else {
        return;
    };
    assert!(report.failures.is_empty(), "{}", modchaos::report::text::failure_details(&report));
    let requests = &report.run.as_ref().unwrap().evidence.requests;
    let escapes: Vec<_> = requests.iter().filter(|r| r.host == modchaos::world::OUTSIDE).collect();
    assert!(escapes.iter().any(|r| r.path.contains("proxy.golang.org")), "no attempt recorded: {requests:?}");
    assert!(escapes.iter().all(|r| r.status == Some(403)));
    eprintln!(
        "go said: {}",
        report.run.as_ref().unwrap().evidence.errors().iter().map(|e| e.text.clone()).collect::<Vec<_>>().join(" | ")
    );
}

/// Processes whose working directory is inside `root`: go and git run in the sandbox,
/// so any survivor of a run shows up here (whatever pid namespace it lives in).
fn processes_inside(root: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_str().is_some_and(|n| n.chars().all(|c| c.is_ascii_digit())))
        .filter_map(|e| {
            let cwd = std::fs::read_link(e.path().join("cwd")).ok()?;
            cwd.starts_with(root).then(|| format!("{} (cwd {})", e.file_name().to_string_lossy(), cwd.display()))
        })
        .collect()
}

#[test]
fn a_sealed_hang_leaves_no_process_and_no_temp_dir() {
    let Some(report) = run_sealed(
        "name: hang\nmodules: [FIXTURES]\nhosts:\n  proxy.corp.example:\n    goproxy: {}\n    faults: [{when: {path: '*.zip'}, hang: {}}]\nrun: {modules: [corp.example/lib@v1.0.0], timeout: 1500ms}\nexpect: {exit: timeout, diagnosis: hang}\n",
    ) else {
        return;
    };
    assert!(
        report.failures.is_empty() && report.reason.is_none(),
        "{}",
        modchaos::report::text::failure_details(&report)
    );
    assert_eq!(report.network, Some(modchaos::vocab::NetworkMode::Sealed));
    assert_eq!(report.commands[0].exit, Exit::Timeout);
    let sandbox = report.sandbox.clone().expect("a sandbox was made");
    assert!(report.sandbox_removed && !Path::new(&sandbox).exists(), "{sandbox} was left behind");
    let survivors = processes_inside(&sandbox);
    assert!(survivors.is_empty(), "processes survived the sealed run: {survivors:?}");
}

#[test]
fn sealed_go_uses_the_names_the_scenario_writes() {
    let Some(report) = run_sealed(
        "name: names\nmodules: [FIXTURES]\nhosts:\n  proxy.corp.example:\n    goproxy: {}\nrun: {modules: [corp.example/lib@v1.0.0]}\nexpect: {exit: success}\n",
    ) else {
        return;
    };
    assert!(
        report.failures.is_empty() && report.reason.is_none(),
        "{}",
        modchaos::report::text::failure_details(&report)
    );
    let evidence = &report.run.as_ref().expect("it ran").evidence;
    // -x shows the very URL go fetched: the name, on the default port, not an address.
    assert!(
        evidence.trace.iter().any(|g| g.url.starts_with("https://proxy.corp.example/corp.example/lib/@v/")),
        "{:?}",
        evidence.trace
    );
    assert!(!evidence.stderr.contains("127.0.0."), "an address shows in go's output:\n{}", evidence.stderr);
    assert!(
        report.hosts.iter().any(|h| h.starts_with("proxy.corp.example → 127.0.0.10 :80 :443")),
        "{:?}",
        report.hosts
    );
}

/// A recovery's go step has the run's deadline, not a minute of its own, and one that
/// hits it is a recovery that failed (recorded, with the step's output), not a harness
/// problem.
#[test]
fn regression_a_recovery_go_step_that_hangs_is_a_failed_recovery_at_the_runs_deadline() {
    let started = std::time::Instant::now();
    let Some(report) = run(
        "name: hang\nmodules: [FIXTURES]\nhosts:\n  proxy.corp.example:\n    goproxy: {}\n    faults: [{when: {path: '*.zip'}, hang: {}}]\nenv: {GOPROXY: https://proxy.corp.example}\nrun: {modules: [corp.example/lib@v1.0.0], timeout: 1500ms}\nexpect: {exit: timeout}\nrecover: {steps: [{go: mod download corp.example/lib@v1.0.0}]}\n",
    ) else {
        return;
    };
    let story = modchaos::report::text::failure_details(&report);
    assert!(started.elapsed() < std::time::Duration::from_secs(30), "took {:?}:\n{story}", started.elapsed());
    assert_eq!(report.reason, None, "{story}");
    let recovery = report.recovery.as_ref().expect("the recovery is recorded");
    assert!(!recovery.recovered, "{story}");
    assert_eq!(recovery.failed_step.as_deref(), Some("go mod download corp.example/lib@v1.0.0"), "{story}");
    let failure = report.failures.iter().find(|f| f.what.starts_with("recovery step")).expect(&story);
    assert!(failure.got.starts_with("still running at the deadline (killed); it printed"), "{story}");
    assert!(story.contains("recovery step `go mod download corp.example/lib@v1.0.0` failed (no rerun)"), "{story}");
    let journal = serde_json::to_value(modchaos::report::journal::scenario_record(&report)).unwrap();
    assert_eq!(journal["recovery"]["recovered"], false, "{journal}");
    assert!(journal["unmet"].as_array().is_some_and(|u| u.iter().any(|f| f["phase"] == "recover")), "{journal}");
}
