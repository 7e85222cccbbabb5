//! Captures the labelled corpus of real go outputs under `tests/corpus/fakes/<go version>/`,
//! which `tests/diagnosis_corpus.rs` measures the diagnosis against.
//!
//!     cargo run --example capture_corpus -- [--go PATH]... [--out tests/corpus/fakes]
//!
//! Every case is a real go run against modchaos's fakes on loopback (nothing else is
//! reached), labelled with the category the injected fault truly belongs to:
//! - each scenario's run (labelled with the scenario's expected diagnosis) and its
//!   recovery rerun (labelled `none` when the scenario expects success);
//! - the same faults met by other commands (`go get`, `go list -m`, `go build`,
//!   `go mod tidy`), kept only when go failed with the scenario's own error pattern, so
//!   the label still holds;
//! - recipes for what scenarios do not cover: a toolchain switch that cannot download
//!   (the only place go runs without GOTOOLCHAIN=local), and go failures that have
//!   nothing to do with downloads (compile errors, failing tests, a broken go.mod: the
//!   `unknown` set), and successes (the `none` set).
//!
//! - field recipes (`field.rs`): what users meet and the scenarios do not produce — go
//!   as an unprivileged user against root's caches, the work module's go.mod/go.sum
//!   broken or missing, `go mod verify` after the cache changed, runs killed by
//!   `timeout`, addresses without a route, GOVCS.
//!
//! Run it with each go version to cover (the machine's go, e.g. go1.27.3 from
//! `GOTOOLCHAIN=go1.27.3 go version`'s download, and `/usr/lib/go-1.19/bin/go` from
//! `apt-get install golang-1.19`); as root (the field recipes switch to uid 65534 with
//! `setpriv` and enter network namespaces with `unshare`). `--only field` runs the field
//! recipes alone and replaces only their cases. Sandbox paths are written as `$WORK`.

mod field;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use modchaos::corpus::Case;
use modchaos::diagnose::Category;
use modchaos::gobin::GoBinary;
use modchaos::judge::PhaseReport;
use modchaos::judge::{ScenarioReport, run_scenario};
use modchaos::runner::gocmd::{Exit, GoInvocation};
use modchaos::runner::{NoEvents, RunOptions};
use modchaos::scenario::{GoStep, NetworkNeed, Scenario, discover, load};
use modchaos::vocab::ExitExpectation;
use modchaos::world::sandbox::Sandbox;

fn main() {
    modchaos::runner::dispatch();
    let mut gos = Vec::new();
    let mut out = PathBuf::from("tests/corpus/fakes");
    let mut only_field = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--go" => gos.push(PathBuf::from(args.next().expect("--go needs a path"))),
            "--out" => out = PathBuf::from(args.next().expect("--out needs a directory")),
            "--only" => {
                only_field = args.next().as_deref() == Some("field");
                assert!(only_field, "--only takes `field`");
            }
            other => panic!("unknown argument {other}"),
        }
    }
    let gos: Vec<GoBinary> = if gos.is_empty() {
        vec![GoBinary::find(None).expect("a go toolchain")]
    } else {
        gos.iter().map(|g| GoBinary::find(Some(g)).expect("a usable go")).collect()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    for go in gos {
        let version = go.version().expect("go version");
        if only_field {
            remove_field_cases(&out.join(minor(&version)));
            let n = field::capture(&go.path, &version, &out);
            eprintln!("captured {n} field cases with {version}");
            continue;
        }
        let dir = out.join(minor(&version));
        let _ = std::fs::remove_dir_all(&dir);
        let mut capture = Capture { dir, version: version.clone(), written: BTreeMap::new() };
        eprintln!("capturing with {version} ({})", go.path.display());
        runtime.block_on(capture.scenarios(&go));
        runtime.block_on(capture.recipes(&go));
        let n = field::capture(&go.path, &version, &out);
        eprintln!("  field recipes           {n}");
        for (label, n) in &capture.written {
            eprintln!("  {label:<24} {n}");
        }
    }
    if !only_field {
        other_tools(&out.join("other"));
    }
}

/// Removes the field recipes' cases under `dir` (`*/field--*.txt`), before they are
/// captured again.
fn remove_field_cases(dir: &std::path::Path) {
    for label in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        for case in std::fs::read_dir(label.path()).into_iter().flatten().flatten() {
            if case.file_name().to_string_lossy().starts_with("field--") {
                let _ = std::fs::remove_file(case.path());
            }
        }
    }
}

/// Other tools failing on the network, as they sit next to go in CI logs: their words
/// ("connection refused", "Could not resolve host") must never be taken for go's.
fn other_tools(dir: &std::path::Path) {
    let _ = std::fs::remove_dir_all(dir);
    let home = tempfile::tempdir().expect("a temp HOME");
    let commands: [(&str, &[&str]); 4] = [
        ("git-ls-remote-refused", &["git", "ls-remote", "http://127.0.0.1:9/corp/lib.git"]),
        ("git-clone-no-host", &["git", "clone", "https://nowhere.invalid/corp/lib.git", "lib"]),
        ("curl-refused", &["curl", "-sS", "--max-time", "5", "https://127.0.0.1:9/corp.example/lib/@v/list"]),
        ("wget-refused", &["wget", "-q", "-O", "-", "--tries=1", "http://127.0.0.1:9/index.html"]),
    ];
    for (slug, argv) in commands {
        let output = std::process::Command::new(argv[0])
            .args(&argv[1..])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("LC_ALL", "C")
            .current_dir(home.path())
            .output();
        let Ok(output) = output else {
            eprintln!("  {} is not installed: {slug} left out", argv[0]);
            continue;
        };
        let case = Case {
            label: Category::Unknown,
            go: Some("none".into()),
            origin: format!("examples/capture_corpus.rs (other tool: {})", argv.join(" ")),
            command: Some(argv.join(" ")),
            exit: output.status.code().map(|code| Exit::Code { code }),
            env: Vec::new(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            cache: None,
        };
        let dir = dir.join("unknown");
        std::fs::create_dir_all(&dir).expect("the corpus directory is writable");
        std::fs::write(dir.join(format!("{slug}.txt")), case.to_text()).expect("the case is written");
    }
}

/// `go1.26.8` → `go1.26`.
fn minor(version: &str) -> String {
    version.split('.').take(2).collect::<Vec<_>>().join(".")
}

struct Capture {
    dir: PathBuf,
    version: String,
    written: BTreeMap<String, usize>,
}

impl Capture {
    fn write(&mut self, slug: &str, case: Case) {
        let dir = self.dir.join(case.label.id());
        std::fs::create_dir_all(&dir).expect("the corpus directory is writable");
        std::fs::write(dir.join(format!("{slug}.txt")), case.to_text()).expect("the case is written");
        *self.written.entry(case.label.id().to_string()).or_default() += 1;
    }

    fn case(&self, label: Category, origin: String, phase: &PhaseReport, work: Option<&str>) -> Case {
        let e = &phase.evidence;
        let hide = |text: &str| match work {
            Some(root) if !root.is_empty() => text.replace(root, "$WORK"),
            _ => text.to_string(),
        };
        let cache = e.cache.clone().filter(|c| !c.locks.is_empty() || c.has_findings());
        let cache = cache.map(|c| {
            let json = hide(&serde_json::to_string(&c).expect("cache states serialise"));
            serde_json::from_str(&json).expect("still a cache state")
        });
        Case {
            label,
            go: Some(self.version.clone()),
            origin,
            command: e.command.clone(),
            exit: e.exit,
            env: e.env.clone(),
            stderr: hide(&e.stderr),
            stdout: hide(&e.stdout),
            cache,
        }
    }

    /// Every scenario's run and recovery, then the other commands' variants.
    async fn scenarios(&mut self, go: &GoBinary) {
        let ctx = modchaos::scenario::LoadContext::new(Some(go.clone()));
        let files = discover(&[PathBuf::from("scenarios")]).expect("run from the repository root");
        let helper = std::env::current_exe().expect("this program's path");
        let (options, fallback) = RunOptions::auto(go.clone(), &helper);
        if let Some(why) = fallback {
            eprintln!("  {why}: sealed-only scenarios are left out");
        }
        for file in files {
            let Ok(scenario) = load(&file, &ctx) else { continue };
            let slug = file.strip_prefix("scenarios").unwrap_or(&file).with_extension("").display().to_string();
            let slug = slug.trim_start_matches('/').replace('/', "--");
            let report = run_scenario(&scenario, &options, &NoEvents).await;
            self.record_report(&scenario, &report, &slug);
            if scenario.network == NetworkNeed::Any {
                self.variants(&scenario, go, &slug).await;
            }
        }
    }

    fn record_report(&mut self, scenario: &Scenario, report: &ScenarioReport, slug: &str) {
        let work = report.sandbox.clone().unwrap_or_default();
        let origin = |phase: &str| format!("{} ({phase})", scenario.file.display());
        if let (Some(run), Some(label)) = (&report.run, scenario.expect.diagnosis) {
            let exit_ok = scenario
                .expect
                .exit
                .is_none_or(|want| run.evidence.exit.map(modchaos::vocab::Exit::kind) == Some(want));
            if exit_ok {
                let case = self.case(label, origin("run"), run, Some(&work));
                self.write(&format!("{slug}--run"), case);
            }
        }
        if let (Some(recovery), Some(rec)) = (&scenario.recover, &report.recovery) {
            let label = recovery
                .expect
                .diagnosis
                .or((recovery.expect.exit == Some(ExitExpectation::Success)).then_some(Category::None));
            let ok = rec.rerun.evidence.exit.map(modchaos::vocab::Exit::kind) == recovery.expect.exit;
            if let (Some(label), true) = (label, ok) {
                let case = self.case(label, origin("recovery"), &rec.rerun, Some(&work));
                self.write(&format!("{slug}--recovery"), case);
            }
        }
    }

    /// The scenario's fault met by other go commands, kept when go fails with the
    /// scenario's own error pattern (so the label still holds).
    async fn variants(&mut self, scenario: &Scenario, go: &GoBinary, slug: &str) {
        let (Some(label), Some(pattern)) = (scenario.expect.diagnosis, scenario.expect.error.as_ref()) else { return };
        if scenario.expect.exit != Some(ExitExpectation::Failure) {
            return;
        }
        let Some(target) = first_module(scenario) else { return };
        let (path, version) = target.split_once('@').expect("path@version");
        let import_main = format!("package main\n\nimport _ \"{path}\"\n\nfunc main() {{}}\n");
        let go_mod = format!("module corp.example/app\n\ngo 1.21\n\nrequire {path} {version}\n");
        let files = vec![("go.mod".to_string(), go_mod), ("main.go".to_string(), import_main)];
        let variants = [
            Variant { name: "get", args: vec!["get".into(), target.clone()], files: Vec::new() },
            Variant {
                name: "list",
                args: vec!["list".into(), "-m".into(), "-json".into(), target.clone()],
                files: Vec::new(),
            },
            Variant {
                name: "build",
                args: vec!["build".into(), "-mod=mod".into(), "./...".into()],
                files: files.clone(),
            },
            Variant { name: "tidy", args: vec!["mod".into(), "tidy".into()], files },
        ];
        let options = RunOptions::open(go.clone(), "corpus variants run in this process");
        for Variant { name, args, files } in variants {
            let mut variant = scenario.clone();
            variant.run = vec![GoStep { args, timeout: Duration::from_secs(60) }];
            variant.files = files;
            variant.recover = None;
            variant.expect = Default::default();
            let report = run_scenario(&variant, &options, &NoEvents).await;
            let Some(run) = &report.run else { continue };
            let failed = run.evidence.exit.is_some_and(|e| !e.success());
            if failed && run.evidence.errors().iter().any(|e| pattern.is_match(&e.text)) {
                let work = report.sandbox.clone().unwrap_or_default();
                let origin = format!("{} (run, as `go {name}`)", scenario.file.display());
                let case = self.case(label, origin, run, Some(&work));
                self.write(&format!("{slug}--{name}"), case);
            }
        }
    }

    /// Cases no scenario produces: a toolchain download that fails, failures that are not
    /// about downloads (`unknown`), and successes (`none`).
    async fn recipes(&mut self, go: &GoBinary) {
        let compile_error = [
            ("go.mod", "module corp.example/app\n\ngo 1.21\n"),
            ("main.go", "package main\n\nfunc main() { undefined() }\n"),
        ];
        let test_failure = [
            ("go.mod", "module corp.example/app\n\ngo 1.21\n"),
            (
                "app_test.go",
                "package app\n\nimport \"testing\"\n\nfunc TestSum(t *testing.T) { t.Fatal(\"1 + 1 = 3\") }\n",
            ),
        ];
        let vet_failure = [
            ("go.mod", "module corp.example/app\n\ngo 1.21\n"),
            ("main.go", "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Printf(\"%d\\n\", \"not a number\") }\n"),
        ];
        let bad_go_mod = [("go.mod", "module corp.example/app\n\ngo 1.21\n\nrequre corp.example/lib v1.0.0\n")];
        let fine =
            [("go.mod", "module corp.example/app\n\ngo 1.21\n"), ("main.go", "package main\n\nfunc main() {}\n")];
        let missing_local = [
            ("go.mod", "module corp.example/app\n\ngo 1.21\n"),
            ("main.go", "package main\n\nimport _ \"corp.example/app/internal/gone\"\n\nfunc main() {}\n"),
        ];
        let recipes: Vec<Recipe> = vec![
            Recipe {
                slug: "toolchain-not-available",
                label: Category::ToolchainDownload,
                args: &["version"],
                files: &fine,
                env: &[("GOTOOLCHAIN", "go1.99.0"), ("GOPROXY", "off")],
            },
            Recipe {
                slug: "toolchain-proxy-refused",
                label: Category::ToolchainDownload,
                args: &["version"],
                files: &fine,
                env: &[("GOTOOLCHAIN", "go1.99.0"), ("GOPROXY", "https://127.0.0.1:9")],
            },
            Recipe {
                slug: "compile-error",
                label: Category::Unknown,
                args: &["build", "./..."],
                files: &compile_error,
                env: &[],
            },
            Recipe {
                slug: "test-failure",
                label: Category::Unknown,
                args: &["test", "./..."],
                files: &test_failure,
                env: &[],
            },
            Recipe {
                slug: "vet-failure",
                label: Category::Unknown,
                args: &["vet", "./..."],
                files: &vet_failure,
                env: &[],
            },
            Recipe {
                slug: "go-mod-syntax-error",
                label: Category::ModuleGoMod,
                args: &["mod", "download"],
                files: &bad_go_mod,
                env: &[],
            },
            Recipe { slug: "no-go-mod", label: Category::ModuleGoMod, args: &["build", "./..."], files: &[], env: &[] },
            Recipe {
                slug: "missing-local-package",
                label: Category::Unknown,
                args: &["build", "./..."],
                files: &missing_local,
                env: &[("GOPROXY", "off")],
            },
            Recipe {
                slug: "build-succeeds",
                label: Category::None,
                args: &["build", "-x", "./..."],
                files: &fine,
                env: &[],
            },
            Recipe { slug: "version", label: Category::None, args: &["version"], files: &[], env: &[] },
            Recipe {
                slug: "list-all",
                label: Category::None,
                args: &["list", "-m", "-json", "all"],
                files: &fine,
                env: &[],
            },
            Recipe {
                slug: "mod-download-nothing",
                label: Category::None,
                args: &["mod", "download", "-json", "-x"],
                files: &fine,
                env: &[],
            },
        ];
        for Recipe { slug, label, args, files, env } in recipes {
            let sandbox = Sandbox::create().expect("a sandbox");
            let root = sandbox.paths.root.display().to_string();
            for (name, content) in files {
                std::fs::write(sandbox.paths.work.join(name), content).expect("work files");
            }
            let mut go_env = sandbox.base_env();
            go_env.insert("GOSUMDB".into(), "off".into());
            go_env.insert("GOPROXY".into(), "off".into());
            for (k, v) in env {
                go_env.insert(k.to_string(), v.to_string());
            }
            let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            let inv = GoInvocation {
                go: &go.path,
                args: &args,
                env: &go_env,
                cwd: &sandbox.paths.work,
                timeout: Duration::from_secs(120),
                inspect_cache: None,
                user: None,
            };
            let outcome = modchaos::runner::gocmd::run(&inv).await.expect("go runs");
            let failed = !outcome.exit.success();
            if failed != (label != Category::None) {
                eprintln!(
                    "  recipe {slug}: go {} unexpectedly ({}), left out",
                    if failed { "failed" } else { "succeeded" },
                    outcome.stderr.trim()
                );
                continue;
            }
            let shown: Vec<(String, String)> = env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .filter(|(k, _)| k != "GOTOOLCHAIN" || label == Category::ToolchainDownload)
                .collect();
            let case = Case {
                label,
                go: Some(self.version.clone()),
                origin: format!("examples/capture_corpus.rs (recipe {slug})"),
                command: Some(outcome.command.clone()),
                exit: Some(outcome.exit),
                env: shown,
                stderr: outcome.stderr.replace(&root, "$WORK"),
                stdout: outcome.stdout.replace(&root, "$WORK"),
                cache: None,
            };
            self.write(&format!("recipe--{slug}"), case);
            let _ = sandbox.remove();
        }
    }
}

/// Another go command meeting a scenario's fault.
struct Variant {
    name: &'static str,
    args: Vec<String>,
    files: Vec<(String, String)>,
}

/// A go run no scenario makes.
struct Recipe<'a> {
    slug: &'a str,
    label: Category,
    args: &'a [&'a str],
    files: &'a [(&'a str, &'a str)],
    env: &'a [(&'a str, &'a str)],
}

fn first_module(scenario: &Scenario) -> Option<String> {
    let args = &scenario.run.first()?.args;
    args.iter().find(|a| a.contains('@') && !a.starts_with('-')).cloned()
}
