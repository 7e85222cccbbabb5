//! Scenarios as `cargo test` tests in any crate.
//!
//! A team keeps its scenarios and playbooks in its own repository and runs them with
//! `cargo test` (or `cargo nextest run`) by adding a test target without libtest's
//! harness:
//!
//! ```toml
//! [[test]]
//! name = "scenarios"
//! harness = false
//! ```
//!
//! ```no_run
//! // tests/scenarios.rs
//! fn main() {
//!     modchaos::testing::main("scenarios");
//! }
//! ```
//!
//! Every scenario file below `scenarios/` (relative to the crate) becomes one test per
//! network mode it runs in (`sealed/<path>`, `open/<path>`), and, with several go
//! commands, per go (`go1.27.3/sealed/<path>`). Filters, `--exact`, `--ignored`,
//! `--list` and `--test-threads` work as with any test, and so does `cargo nextest run`
//! (with `--partition`). Scenarios that cannot run here — an older go than their
//! `min_go`, sealed networking unavailable, files owned by root while this is not root —
//! are ignored tests, each named with its reason on stderr; one that is then run anyway
//! with `--ignored` fails with that reason rather than pretending to pass. A scenario
//! file that does not validate is a failing test showing every problem with its
//! `file:line:col`.
//!
//! The go commands come from [`Harness::go`], else from `MODCHAOS_GO` (one path, or
//! several separated by `:` for a version matrix), else `go` on `PATH`.
//!
//! Sealed scenarios run in child processes that re-execute the test binary itself:
//! [`main`] (and [`Harness::main`]) first checks whether this process is such a child.
//!
//! Teams that prefer code to YAML write scenarios with [`ScenarioBuilder`] in ordinary
//! `#[tokio::test]` functions and run them with [`run`]; see its documentation.

mod builder;
mod trials;

pub use builder::{Expect, Fault, Host, Recover, Request, Run, ScenarioBuilder};
/// For the settings the builder has no method for (`Fault::action("reset", json!({"after_bytes": 100}))`).
pub use serde_json::{Value, json};

use std::path::{Path, PathBuf};

use crate::gobin::GoBinary;
use crate::judge::{ScenarioReport, Status};
use crate::runner::{NoEvents, RunOptions};
use crate::scenario::Scenario;
use crate::suite::schedule::Parallelism;

/// Runs every scenario file below `dir` (relative to the crate being tested) as tests,
/// with the command-line arguments cargo gave, and exits with libtest's status.
pub fn main(dir: impl Into<PathBuf>) -> ! {
    Harness::new(dir).main()
}

/// The scenario directories, go commands and playbook directories of a test binary.
#[derive(Debug, Clone, Default)]
pub struct Harness {
    dirs: Vec<PathBuf>,
    gos: Vec<PathBuf>,
    playbook_dirs: Vec<PathBuf>,
}

impl Harness {
    /// Scenarios below `dir` (relative to the crate being tested, or absolute).
    pub fn new(dir: impl Into<PathBuf>) -> Harness {
        Harness { dirs: vec![dir.into()], ..Harness::default() }
    }

    /// Scenarios below another directory too.
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Harness {
        self.dirs.push(dir.into());
        self
    }

    /// Runs every scenario with this go command too (call it once per version of a
    /// matrix). Without it: `MODCHAOS_GO`, else `go` on `PATH`.
    pub fn go(mut self, path: impl Into<PathBuf>) -> Harness {
        self.gos.push(path.into());
        self
    }

    /// Looks for playbooks in `dir` after the `playbooks/` directories beside and above
    /// each scenario.
    pub fn playbooks(mut self, dir: impl Into<PathBuf>) -> Harness {
        self.playbook_dirs.push(dir.into());
        self
    }

    /// The tests, for a binary that adds its own to them (`libtest_mimic::run`), longest
    /// first; each waits until the CPU it needs is free (see [`Harness::main`]). A binary
    /// that does must call [`crate::runner::dispatch`] first thing in `main`.
    pub fn trials(&self) -> Vec<libtest_mimic::Trial> {
        let schedule = trials::Schedule::new(Parallelism::for_this_machine(), history_file());
        let (trials, ignored) = trials::build(self, std::sync::Arc::new(schedule));
        trials::say_ignored(&ignored, &trials, None);
        trials
    }

    /// Handles a sealed child if this process is one, then runs the tests with the
    /// command-line arguments cargo gave, and exits with libtest's status.
    ///
    /// Scenarios are scheduled as `modchaos run` schedules them: longest first (how long
    /// each took is remembered in `$MODCHAOS_CACHE_DIR`, else in the cargo target
    /// directory's `tmp/modchaos-cache/`), and, unless `--test-threads` is given, as many
    /// at once as the CPUs serve, the ones that mostly wait (hangs, timeouts, slow links)
    /// holding no CPU.
    pub fn main(self) -> ! {
        crate::runner::dispatch();
        let mut args = libtest_mimic::Arguments::from_args();
        let parallelism = args.test_threads.map_or_else(Parallelism::for_this_machine, Parallelism::Fixed);
        args.test_threads = Some(parallelism.most());
        let schedule = trials::Schedule::new(parallelism, history_file());
        let (trials, ignored) = trials::build(&self, std::sync::Arc::new(schedule));
        trials::say_ignored(&ignored, &trials, Some(&args));
        libtest_mimic::run(&args, trials).exit()
    }
}

/// Where a test binary remembers how long its scenarios took: `$MODCHAOS_CACHE_DIR`,
/// else `tmp/modchaos-cache/` in the cargo target directory the binary was built in
/// (`<target>/<profile>/deps/<binary>`), else nowhere.
fn history_file() -> Option<PathBuf> {
    let dir = match std::env::var_os("MODCHAOS_CACHE_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => crate::fsutil::cargo_target_tmp()?.join("modchaos-cache"),
    };
    Some(dir.join(crate::suite::history::FILE_NAME))
}

/// The directory relative paths are resolved against: the crate being tested (cargo
/// sets `CARGO_MANIFEST_DIR` for test binaries), else the current directory.
pub fn crate_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."))
}

/// The go commands to run scenarios with: `explicit`, else those `MODCHAOS_GO` lists
/// (separated by `:`), else `go` on `PATH`.
pub fn go_commands(explicit: &[PathBuf]) -> Result<Vec<GoBinary>, crate::gobin::GoBinaryError> {
    GoBinary::find_all(explicit)
}

/// A program that can be re-executed as a sealed child, for tests that do not run
/// through [`main`]: `MODCHAOS_BIN`, else `modchaos` on `PATH` (`cargo install`).
pub fn sealed_helper() -> Option<PathBuf> {
    if let Some(bin) = std::env::var_os("MODCHAOS_BIN").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(bin));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join("modchaos")).find(|p| p.is_file())
}

/// Runs `scenario` with the first go of [`go_commands`], sealed where a
/// [`sealed_helper`] can enter namespaces here, else open (a scenario that needs sealed
/// networking is then skipped, with the reason), and judges it.
///
/// ```no_run
/// use modchaos::testing::{Expect, Fault, Host, Recover, Run, ScenarioBuilder};
///
/// #[tokio::test]
/// async fn a_500_stops_a_comma_list() {
///     let scenario = ScenarioBuilder::new("500 stops a comma list")
///         .modules("fixtures/modules")
///         .host("proxy.corp.example", Host::goproxy().fault(Fault::respond(500).path("/corp.example/lib/@v/*")))
///         .host("mirror.corp.example", Host::goproxy())
///         .env("GOPROXY", "https://proxy.corp.example,https://mirror.corp.example")
///         .run(Run::modules(["corp.example/lib@v1.0.0"]))
///         .expect(Expect::failure().diagnosis("proxy.server_error"))
///         .recover(Recover::playbook("pipe-separated-goproxy"))
///         .build()
///         .unwrap();
///     modchaos::testing::assert_passed(&modchaos::testing::run(&scenario).await);
/// }
/// ```
pub async fn run(scenario: &Scenario) -> ScenarioReport {
    let go = match go_commands(&[]) {
        Ok(mut gos) => gos.remove(0),
        Err(e) => return ScenarioReport::skipped(&scenario.name, &scenario.file, e.to_string()),
    };
    let options = match sealed_helper() {
        Some(helper) => RunOptions::auto(go, &helper).0,
        None => RunOptions::open(
            go,
            "no program to run sealed children: run scenarios through modchaos::testing::main (a harness = false \
             test), or install modchaos (cargo install) or set MODCHAOS_BIN",
        ),
    };
    crate::judge::run_scenario(scenario, &options, &NoEvents).await
}

/// Panics with the whole failure story unless `report` passed; a skipped scenario is
/// said loudly on stderr (a `#[test]` cannot become ignored once it runs). The skip is
/// written to the process's stderr itself, which libtest does not capture (it captures
/// only `eprintln!`): without `--nocapture` the test still shows `ok`, but the line
/// saying it ran nothing is in the output.
pub fn assert_passed(report: &ScenarioReport) {
    match report.status {
        Status::Passed if report.sandbox_removed => {}
        Status::Passed => {
            panic!("passed, but the sandbox {} was left behind", report.sandbox.clone().unwrap_or_default())
        }
        Status::Skipped => {
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "\n*** modchaos scenario `{}` was SKIPPED: {} ***\n",
                report.name,
                report.reason.as_deref().unwrap_or("no reason given")
            );
        }
        _ => panic!("{}", crate::report::text::failure_details(report)),
    }
}

/// `path` relative to the crate being tested, unless it is absolute.
fn in_crate(path: &Path) -> PathBuf {
    if path.is_absolute() { path.to_path_buf() } else { crate_dir().join(path) }
}
