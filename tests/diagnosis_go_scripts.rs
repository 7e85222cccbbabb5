//! Diagnosis on go's own script tests: the installed go's `cmd/go` script tests
//! (`$GOROOT/src/cmd/go/testdata/script/`) run the real go against go's own test servers
//! (a module proxy serving `testdata/mod`, a checksum database, a server replaying
//! `testdata/vcstest` repositories) and make it fail on purpose. None of it is
//! modchaos's: not the servers, not the faults, not the wording. This test builds
//! `cmd/go`'s test binary, runs the scripts that hold a labelled failure (in `-short`
//! mode, which skips the ones that need the internet), reads every go command's output
//! from `go tool test2json`'s events (`modchaos::corpus::go_scripts`), and diagnoses
//! - every failure two labellers named the same cause for (`tests/go_scripts/labels.tsv`,
//!   made as `tests/go_scripts/README.md` says): once with the context a user has (go's
//!   exit status and configuration), once from the log alone;
//! - every success that printed something (go's progress lines, warnings): the verdict
//!   from the log alone must not be a failure read with confidence.
//!
//! Half of the scripts are held out ([`go_scripts::held_out`]): the rules were never
//! written from them, and this test prints only their aggregate figures. It measures the
//! go it finds and, when `MODCHAOS_SECOND_GO` names one (`.ci/run` does: go 1.27), that
//! go too: its scripts are its own, and a go that was itself switched to runs from the
//! module cache, which shows in its errors. Each release's figures are held to their last
//! measurement ([`FLOORS`]), as counts; a release without floors is printed and said so.
//!
//! `MODCHAOS_GO_SCRIPTS_DUMP=FILE` writes every go command the scripts ran, as JSON lines,
//! for a labelling round; `MODCHAOS_GO_SCRIPTS_SUCCESSES=1` lists the dev half's successes
//! that were not read as `none`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use modchaos::corpus::Case;
use modchaos::corpus::go_scripts::{ScriptCommand, held_out, parse_test2json};
use modchaos::diagnose::{Category, Confidence, Diagnosis, diagnose};
use modchaos::gobin::GoBinary;
use modchaos::vocab::Exit;

/// Floors as counts, from the last measurement with each go release the test has run
/// under: each half's right answers with context and from the log alone, ceilings on its
/// confident wrong answers (in either reading) and on its successes read as a confident
/// failure, and its successes read as `none`. The labels were made with go 1.26's
/// scripts; go 1.27 runs 478 of the 480 labelled commands unchanged (`.ci/run` gives it
/// as `MODCHAOS_SECOND_GO`). Another release's scripts differ: its figures are printed and
/// its floors said to be missing.
const FLOORS: &[((u32, u32), [Half; 2])] = &[
    (
        (1, 26),
        [
            Half {
                with_context: 200,
                log_alone: 188,
                confident_wrong: 4,
                successes_read_as_failure: 3,
                successes_read_as_none: 121,
            },
            Half {
                with_context: 174,
                log_alone: 173,
                confident_wrong: 11,
                successes_read_as_failure: 13,
                successes_read_as_none: 119,
            },
        ],
    ),
    (
        (1, 27),
        [
            Half {
                with_context: 199,
                log_alone: 187,
                confident_wrong: 4,
                successes_read_as_failure: 3,
                successes_read_as_none: 121,
            },
            Half {
                with_context: 174,
                log_alone: 173,
                confident_wrong: 11,
                successes_read_as_failure: 13,
                successes_read_as_none: 119,
            },
        ],
    ),
];

/// One half's figures, measured or floors.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Half {
    with_context: usize,
    log_alone: usize,
    confident_wrong: usize,
    successes_read_as_failure: usize,
    successes_read_as_none: usize,
}

/// A labelled failure: the cause each of the two labellers named.
struct Label {
    labellers: [Category; 2],
}

/// `tests/go_scripts/labels.tsv`: by (script, command, occurrence), the two labellers'
/// categories.
fn labels() -> BTreeMap<(String, String, usize), Label> {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/go_scripts/labels.tsv");
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let category = |line: usize, id: &str| {
        Category::from_id(id).unwrap_or_else(|| panic!("{}:{line}: `{id}` is no category", file.display()))
    };
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty())
        .map(|(i, l)| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 5, "{}:{}: script, occurrence, command, two labels", file.display(), i + 1);
            let occurrence = f[1].parse().unwrap_or_else(|_| panic!("{}:{}: occurrence", file.display(), i + 1));
            let label = Label { labellers: [category(i + 1, f[3]), category(i + 1, f[4])] };
            ((f[0].to_string(), f[2].to_string(), occurrence), label)
        })
        .collect()
}

/// Builds `cmd/go`'s test binary and runs `scripts` with it under `go tool test2json`:
/// the events, or why it could not be done.
fn run_scripts(go: &GoBinary, goroot: &Path, scripts: &[&str], work: &Path) -> Result<String, String> {
    // go's build cache for cmd/go lives beside cargo's build, not in the user's.
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("go-scripts-build-cache");
    let hermetic = |cmd: &mut Command| {
        cmd.env("GOCACHE", &cache)
            .env("GOENV", "off")
            .env("GOFLAGS", "")
            .env("GOTOOLCHAIN", "local")
            .env("GOPATH", work.join("gopath"))
            .env("GOMODCACHE", work.join("gopath/pkg/mod"))
            .env("HOME", work.join("home"))
            .env("XDG_CONFIG_HOME", work.join("home/.config"))
            .env("TMPDIR", work.join("tmp"))
            .env_remove("GOPROXY")
            .env_remove("GOSUMDB")
            .env_remove("GOPRIVATE")
            .env_remove("GONOPROXY")
            .env_remove("GONOSUMDB");
    };
    for dir in ["home", "tmp", "gopath"] {
        std::fs::create_dir_all(work.join(dir)).map_err(|e| e.to_string())?;
    }
    // Left on, go's telemetry starts a helper that can outlive the test and recreate HOME.
    modchaos::fsutil::disable_go_telemetry(&work.join("home/.config")).map_err(|e| e.to_string())?;
    let binary = work.join("cmdgo.test");
    let mut build = Command::new(&go.path);
    build.args(["test", "-c", "-o"]).arg(&binary).arg("cmd/go").current_dir(goroot.join("src/cmd/go"));
    hermetic(&mut build);
    let built = build.output().map_err(|e| format!("go test -c cmd/go: {e}"))?;
    if !built.status.success() {
        return Err(format!("go test -c cmd/go: {}", String::from_utf8_lossy(&built.stderr)));
    }
    let pattern = format!("^TestScript$/^({})$", scripts.join("|"));
    let mut run = Command::new(&go.path);
    run.args(["tool", "test2json", "-p", "cmd/go"])
        .arg(&binary)
        .args(["-test.short", "-test.v=test2json", "-test.run", &pattern])
        .current_dir(goroot.join("src/cmd/go"));
    hermetic(&mut run);
    // A failing script fails the run; its output is left out by the parser.
    let ran = run.output().map_err(|e| format!("go tool test2json: {e}"))?;
    Ok(String::from_utf8_lossy(&ran.stdout).into_owned())
}

/// Right answers and confident wrong ones in a group of failures.
#[derive(Default)]
struct Tally {
    cases: usize,
    right: usize,
    confident_wrong: usize,
    unknown: usize,
}

impl Tally {
    fn add(&mut self, label: Category, got: &Diagnosis) {
        self.cases += 1;
        if got.category == label {
            self.right += 1;
        } else if got.category != Category::Unknown && got.confidence >= Confidence::Medium {
            self.confident_wrong += 1;
        }
        if got.category == Category::Unknown {
            self.unknown += 1;
        }
    }

    fn cells(&self) -> String {
        format!(
            "{:>3}/{:<3} {:>5.1}% ({} confident wrong, {} unknown)",
            self.right,
            self.cases,
            100.0 * self.right as f64 / self.cases.max(1) as f64,
            self.confident_wrong,
            self.unknown
        )
    }
}

/// The case a script's go command makes: what a user of that go would have.
fn case_of(command: &ScriptCommand, label: Category, go_version: &str) -> Case {
    Case {
        label,
        go: Some(go_version.to_string()),
        origin: format!("go-script:{}", command.script),
        command: Some(command.command.clone()),
        exit: Some(Exit::Code { code: command.exit }),
        env: command.env.clone(),
        stderr: command.stderr.clone(),
        stdout: command.stdout.clone(),
        cache: None,
    }
}

#[test]
fn go_s_own_script_tests_are_diagnosed() {
    let Ok(go) = GoBinary::find(None) else {
        eprintln!("*** SKIPPED: no go toolchain found, so go's own script tests cannot be run ***");
        return;
    };
    let mut failures = measure(&go);
    match std::env::var_os("MODCHAOS_SECOND_GO") {
        Some(second) => match GoBinary::find(Some(Path::new(&second))) {
            Ok(second) => failures.extend(measure(&second)),
            Err(e) => failures.push(format!("MODCHAOS_SECOND_GO: {e}")),
        },
        None => eprintln!("*** the second go is NOT measured: set MODCHAOS_SECOND_GO (.ci/run does) ***"),
    }
    assert!(failures.is_empty(), "below the last measurement:\n{}", failures.join("\n"));
}

/// Runs the scripts with `go` and diagnoses them: what fell below its release's floors.
fn measure(go: &GoBinary) -> Vec<String> {
    let goroot = go.goroot().expect("go env GOROOT");
    let go_version = go.version().expect("go version");
    if !goroot.join("src/cmd/go/testdata/script").is_dir() {
        eprintln!("*** SKIPPED: {} has no cmd/go script tests (a go without its sources) ***", goroot.display());
        return Vec::new();
    }
    let labels = labels();
    let mut scripts: Vec<&str> = labels.keys().map(|(s, _, _)| s.as_str()).collect();
    scripts.dedup();
    let work = tempfile::tempdir().expect("temp dir");
    let events = run_scripts(go, &goroot, &scripts, work.path()).unwrap_or_else(|e| panic!("{e}"));
    let commands = parse_test2json(&events);
    if let Ok(dump) = std::env::var("MODCHAOS_GO_SCRIPTS_DUMP") {
        let lines: Vec<String> = commands
            .iter()
            .map(|c| {
                serde_json::json!({"script": c.script, "command": c.command, "occurrence": c.occurrence,
                    "comment": c.comment, "env": c.env, "exit": c.exit, "stderr": c.stderr, "stdout": c.stdout})
                .to_string()
            })
            .collect();
        std::fs::write(&dump, lines.join("\n") + "\n").expect("dump");
    }

    let mut with_context: BTreeMap<bool, Tally> = BTreeMap::new();
    let mut log_alone: BTreeMap<bool, Tally> = BTreeMap::new();
    let mut disputed = 0;
    let mut found = 0;
    let mut dev_misses = Vec::new();
    let mut successes: BTreeMap<bool, usize> = BTreeMap::new();
    let mut successes_as_failure: BTreeMap<bool, usize> = BTreeMap::new();
    let mut successes_as_none: BTreeMap<bool, usize> = BTreeMap::new();
    for command in &commands {
        let held = held_out(&command.script);
        let key = (command.script.clone(), command.command.clone(), command.occurrence);
        if command.exit == 0 {
            // What go says on stderr while it succeeds (progress, warnings) is what a
            // paste of a success holds; a listing on stdout alone says nothing of how go ended.
            if command.stderr.trim().is_empty() {
                continue;
            }
            *successes.entry(held).or_default() += 1;
            let case = case_of(command, Category::None, &go_version);
            let got = diagnose(&modchaos::evidence::Evidence::from_log(&case.log()));
            if got.category == Category::None {
                *successes_as_none.entry(held).or_default() += 1;
            } else if !held && std::env::var_os("MODCHAOS_GO_SCRIPTS_SUCCESSES").is_some() {
                dev_misses.push(format!(
                    "  success read as {} ({:?}): {} `{}`: {:?}",
                    got.category,
                    got.confidence,
                    command.script,
                    command.command,
                    command.stderr.lines().next()
                ));
            }
            if got.category != Category::None
                && got.category != Category::Unknown
                && got.confidence >= Confidence::Medium
            {
                *successes_as_failure.entry(held).or_default() += 1;
                if !held {
                    dev_misses.push(format!(
                        "  success read as {} ({:?}): {} `{}`",
                        got.category, got.confidence, command.script, command.command
                    ));
                }
            }
            continue;
        }
        let Some(label) = labels.get(&key) else { continue };
        found += 1;
        let [label, other] = label.labellers;
        if label != other {
            disputed += 1;
            continue;
        }
        let case = case_of(command, label, &go_version);
        let printed = diagnose(&case.evidence(&case.log()));
        let alone = diagnose(&modchaos::evidence::Evidence::from_log(&case.log()));
        with_context.entry(held).or_default().add(label, &printed);
        log_alone.entry(held).or_default().add(label, &alone);
        if !held && (printed.category != label || alone.category != label) {
            dev_misses.push(format!(
                "  {} `{}` #{}: label {}, with context {} ({:?}), log alone {} ({:?})",
                command.script,
                command.command,
                command.occurrence,
                label,
                printed.category,
                printed.confidence,
                alone.category,
                alone.confidence
            ));
        }
    }

    eprintln!(
        "go's own script tests ({go_version}): {found} of {} labelled failures run, {disputed} of them disputed by \
         the labellers (not scored)",
        labels.len()
    );
    let floors = FLOORS.iter().find(|(release, _)| Some(*release) == go.release()).map(|(_, halves)| halves);
    let mut failures = Vec::new();
    for held in [false, true] {
        let name = if held { "held-out half" } else { "dev half (tuned on)" };
        let printed = with_context.remove(&held).unwrap_or_default();
        let alone = log_alone.remove(&held).unwrap_or_default();
        let as_failure = successes_as_failure.get(&held).copied().unwrap_or_default();
        eprintln!(
            "  {name:<20} with context {}   log alone {}   successes read as a confident failure {as_failure}",
            printed.cells(),
            alone.cells()
        );
        let measured = Half {
            with_context: printed.right,
            log_alone: alone.right,
            confident_wrong: printed.confident_wrong.max(alone.confident_wrong),
            successes_read_as_failure: as_failure,
            successes_read_as_none: successes_as_none.get(&held).copied().unwrap_or_default(),
        };
        let Some(floor) = floors.map(|f| f[usize::from(held)]) else { continue };
        if measured.with_context < floor.with_context
            || measured.log_alone < floor.log_alone
            || measured.confident_wrong > floor.confident_wrong
            || measured.successes_read_as_failure > floor.successes_read_as_failure
            || measured.successes_read_as_none < floor.successes_read_as_none
        {
            failures.push(format!("{go_version}, {name}: measured {measured:?}, last measurement {floor:?}"));
        }
    }
    eprintln!(
        "  successes that printed on stderr, read as none from the log alone: dev {}/{}, held out {}/{}",
        successes_as_none.get(&false).unwrap_or(&0),
        successes.get(&false).unwrap_or(&0),
        successes_as_none.get(&true).unwrap_or(&0),
        successes.get(&true).unwrap_or(&0)
    );
    if !dev_misses.is_empty() {
        eprintln!("dev-half misses:\n{}", dev_misses.join("\n"));
    }
    if floors.is_none() {
        eprintln!(
            "*** NO FLOORS for {go_version}: the labels were made with go 1.26's scripts; this release's differ ***"
        );
        return failures;
    }
    if found * 10 < labels.len() * 9 {
        failures.push(format!(
            "{go_version}: only {found} of {} labelled failures ran: did the scripts change?",
            labels.len()
        ));
    }
    failures
}
