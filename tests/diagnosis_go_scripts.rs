//! Diagnosis on go's own script tests: the installed go's `cmd/go` script tests
//! (`$GOROOT/src/cmd/go/testdata/script/`) run the real go against go's own test servers
//! (a module proxy serving `testdata/mod`, a checksum database, a server replaying
//! `testdata/vcstest` repositories) and make it fail on purpose. None of it is
//! modchaos's: not the servers, not the faults, not the wording. This test builds
//! `cmd/go`'s test binary, runs the scripts that hold a labelled failure (in `-short`
//! mode, which skips the ones that need the internet; as an unprivileged user, as go runs
//! on a user's machine: as root the scripts skip their permission checks), reads every go
//! command's output from `go tool test2json`'s events (`modchaos::corpus::go_scripts`),
//! and diagnoses
//! - every failure two labellers named the same cause for (`tests/go_scripts/labels.tsv`,
//!   made as `tests/go_scripts/README.md` says): once with the context a user has (go's
//!   exit status and configuration), once from the log alone;
//! - every success that printed something (go's progress lines, warnings): the verdict
//!   from the log alone must not be a failure read with confidence.
//!
//! Half of the scripts are held out ([`go_scripts::held_out`]): the rules were never
//! written from them, and this test prints only their aggregate figures. It measures the
//! go it finds and, when `MODCHAOS_SECOND_GO` and `MODCHAOS_OLD_GO` name others
//! (`.ci/run` gives go 1.27 and Debian's go 1.19), those too: their scripts are their
//! own, and a label counts only in a script whose text is the one labelled; an old go
//! words some errors as it did then, and a go that was itself switched to runs from the
//! module cache, which shows in its errors. Each release's figures are held to their last
//! measurement ([`FLOORS`]), as counts; a release without floors is printed and said so.
//!
//! `MODCHAOS_GO_SCRIPTS_DUMP=FILE` runs every script of the labelled families and writes
//! every go command they ran, as JSON lines, to `FILE.<go version>.jsonl`, for a
//! labelling round; `MODCHAOS_GO_SCRIPTS_SUCCESSES=1` lists the dev half's successes
//! that were not read as `none`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use modchaos::corpus::go_scripts::{ScriptCommand, held_out, parse_test2json, sets_configuration_conditionally};
use modchaos::corpus::{Case, Reliability, confident_wrong};
use modchaos::diagnose::{Category, Confidence, Diagnosis, diagnose};
use modchaos::gobin::GoBinary;
use modchaos::vocab::{Account, Exit};

/// Floors as counts, by go release and the number of its labelled scripts scored, from
/// the last measurement with each release the test has run under: each half's right answers with context and from the log alone, ceilings on its
/// confident wrong answers (in either reading) and on its successes read as a confident
/// failure, and its successes read as `none`. The labels were made with go 1.26's
/// scripts, and another release's are scored only where a script's text is the same
/// (`tests/go_scripts/scripts.tsv`): go 1.27's keep 236 of the 250 labelled scripts (605
/// labelled failures; `.ci/run` gives it as `MODCHAOS_SECOND_GO`), Debian's go 1.19's 115
/// (300; `MODCHAOS_OLD_GO`). All were measured with go unprivileged, as this test runs it
/// (as root, it runs go as uid 1000 where that user can). A release without floors, or
/// a run as root, is printed and said so.
const FLOORS: &[((u32, u32), usize, [Half; 2])] = &[
    (
        (1, 26),
        250,
        [
            Half {
                with_context: 315,
                log_alone: 303,
                confident_wrong: 5,
                successes_read_as_failure: 3,
                successes_read_as_none: 148,
            },
            Half {
                with_context: 265,
                log_alone: 262,
                confident_wrong: 13,
                successes_read_as_failure: 14,
                successes_read_as_none: 130,
            },
        ],
    ),
    (
        (1, 27),
        236,
        [
            Half {
                with_context: 263,
                log_alone: 257,
                confident_wrong: 4,
                successes_read_as_failure: 3,
                successes_read_as_none: 142,
            },
            Half {
                with_context: 248,
                log_alone: 245,
                confident_wrong: 13,
                successes_read_as_failure: 14,
                successes_read_as_none: 127,
            },
        ],
    ),
    (
        (1, 19),
        115,
        [
            Half {
                with_context: 136,
                log_alone: 127,
                confident_wrong: 3,
                successes_read_as_failure: 0,
                successes_read_as_none: 37,
            },
            Half {
                with_context: 110,
                log_alone: 110,
                confident_wrong: 3,
                successes_read_as_failure: 1,
                successes_read_as_none: 36,
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
    let mut labels = BTreeMap::new();
    for (i, l) in text.lines().enumerate().filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty()) {
        let f: Vec<&str> = l.split('\t').collect();
        assert_eq!(f.len(), 5, "{}:{}: script, occurrence, command, two labels", file.display(), i + 1);
        let occurrence = f[1].parse().unwrap_or_else(|_| panic!("{}:{}: occurrence", file.display(), i + 1));
        let label = Label { labellers: [category(i + 1, f[3]), category(i + 1, f[4])] };
        let key = (f[0].to_string(), f[2].to_string(), occurrence);
        assert!(labels.insert(key, label).is_none(), "{}:{}: labelled twice", file.display(), i + 1);
    }
    labels
}

/// The script families the labels were drawn from (`tests/go_scripts/README.md`): what a
/// dump for a labelling round runs.
const FAMILIES: &str = "mod_|get_|govcs|work_|gotoolchain|reuse_|build_|list_|test_|env_|version|gopath_|vet_|install_|run_|generate_|clean_|fmt_|cgo_|embed|tool_|doc";

/// `tests/go_scripts/scripts.tsv`: by script, the FNV-1a hash of the text it had when its
/// failures were labelled. A label names the cause a script's text sets up: another
/// release's script is scored only if its text is the same.
fn labelled_texts() -> BTreeMap<String, u64> {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/go_scripts/scripts.tsv");
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty())
        .map(|(i, l)| {
            let parsed = l.split_once('\t').and_then(|(name, hash)| Some((name, u64::from_str_radix(hash, 16).ok()?)));
            let (name, hash) = parsed.unwrap_or_else(|| panic!("{}:{}: script, hash in hex", file.display(), i + 1));
            (name.to_string(), hash)
        })
        .collect()
}

/// Builds `cmd/go`'s test binary and runs the scripts `pattern` matches with it under
/// `go tool test2json`, as `user` when given: the events and what the run printed on
/// stderr, or why it could not be done.
fn run_scripts(
    go: &GoBinary,
    goroot: &Path,
    pattern: &str,
    work: &Path,
    user: Option<Account>,
) -> Result<(String, String), String> {
    // go's build cache lives beside cargo's build, not in the user's: for cmd/go's build,
    // and for every script (cmd/go's harness hands its own GOCACHE to them).
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("go-scripts-build-cache");
    let hermetic = |cmd: &mut Command| {
        // Nothing of the caller's environment but PATH (the C compiler cgo scripts use):
        // a stray GOROOT, GOARCH or GOFLAGS would build or run another go.
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("GOCACHE", &cache)
            .env("GOENV", "off")
            .env("GOFLAGS", "")
            .env("GOTOOLCHAIN", "local")
            .env("GOPATH", work.join("gopath"))
            .env("GOMODCACHE", work.join("gopath/pkg/mod"))
            .env("HOME", work.join("home"))
            .env("XDG_CONFIG_HOME", work.join("home/.config"))
            .env("TMPDIR", work.join("tmp"));
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
    // `-test.v=test2json` frames the events exactly (go 1.20 on); before it, test2json
    // reads the plain verbose output.
    let verbose = if go.release().is_some_and(|r| r < (1, 20)) { "-test.v" } else { "-test.v=test2json" };
    let mut run = Command::new(&go.path);
    hermetic(&mut run);
    if let Some(user) = user {
        use std::os::unix::process::CommandExt as _;
        // The scripts' build cache is that user's own (root's is shared with cmd/go's build),
        // kept beside root's where that user can reach it: only that user writes in it.
        let scripts_cache = if reachable_by_others(&cache) {
            cache.with_file_name(format!("go-scripts-build-cache-uid{}", user.uid))
        } else {
            work.join("scripts-build-cache")
        };
        std::fs::create_dir_all(&scripts_cache).map_err(|e| e.to_string())?;
        std::os::unix::fs::chown(&scripts_cache, Some(user.uid), Some(user.gid)).map_err(|e| e.to_string())?;
        modchaos::fsutil::chown_tree(work, user).map_err(|e| format!("{}: {e}", work.display()))?;
        run.env("GOCACHE", &scripts_cache).uid(user.uid).gid(user.gid);
    }
    run.args(["tool", "test2json", "-p", "cmd/go"])
        .arg(&binary)
        // (A test binary run by hand has no deadline of its own.)
        .args(["-test.short", "-test.timeout=20m", verbose, "-test.run", pattern])
        .current_dir(goroot.join("src/cmd/go"));
    // A failing script fails the run; its output is left out by the parser.
    let ran = run.output().map_err(|e| format!("go tool test2json: {e}"))?;
    Ok((String::from_utf8_lossy(&ran.stdout).into_owned(), String::from_utf8_lossy(&ran.stderr).into_owned()))
}

/// The account go's scripts run as when this test runs as root: an unprivileged one, if
/// `go` and the work directory `work` are usable by it (else root, said loudly). `None`
/// when this test is not root.
fn unprivileged(go: &GoBinary, work: &Path) -> Option<Account> {
    if !Account::current().is_root() {
        return None;
    }
    if !reachable_by_others(work) {
        eprintln!(
            "*** go's scripts run as ROOT, which skips their permission checks: other users cannot reach {} ***",
            work.display()
        );
        return None;
    }
    match go.check_usable_by(Account::UNPRIVILEGED) {
        Ok(()) => Some(Account::UNPRIVILEGED),
        Err(e) => {
            eprintln!("*** go's scripts run as ROOT, which skips their permission checks: {e} ***");
            None
        }
    }
}

/// Whether every directory above `path` lets other users through (a checkout under a
/// closed home directory does not).
fn reachable_by_others(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    path.ancestors().skip(1).all(|dir| std::fs::metadata(dir).is_ok_and(|m| m.permissions().mode() & 0o001 != 0))
}

/// Right answers and confident wrong ones in a group of failures.
#[derive(Default)]
struct Tally {
    cases: usize,
    right: usize,
    confident_wrong: usize,
    unknown: usize,
    /// The verdicts other than `unknown` by their confidence.
    reliability: Reliability,
}

impl Tally {
    fn add(&mut self, label: Category, got: &Diagnosis) {
        self.cases += 1;
        self.reliability.add(label, got);
        if got.category == label {
            self.right += 1;
        } else if confident_wrong(label, got) {
            self.confident_wrong += 1;
        }
        if got.category == Category::Unknown {
            self.unknown += 1;
        }
    }

    /// How often a verdict other than `unknown` is right, by its confidence.
    fn reliability(&self) -> String {
        let [high, medium, low] =
            [Confidence::High, Confidence::Medium, Confidence::Low].map(|c| self.reliability.at(c));
        format!("high {}/{}, medium {}/{}, low {}/{}", high.0, high.1, medium.0, medium.1, low.0, low.1)
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
    let mut measured = vec![go];
    for (var, which) in [("MODCHAOS_SECOND_GO", "a newer go (go 1.27)"), ("MODCHAOS_OLD_GO", "an old go (go 1.19)")] {
        match std::env::var_os(var) {
            Some(path) => match GoBinary::find(Some(Path::new(&path))) {
                Ok(other) if measured.iter().any(|go| same_go(go, &other)) => {
                    eprintln!("*** {var} is a go measured already: measured once ***")
                }
                Ok(other) => {
                    failures.extend(measure(&other));
                    measured.push(other);
                }
                Err(e) => failures.push(format!("{var}: {e}")),
            },
            None => eprintln!("*** {which} is NOT measured: set {var} (.ci/run does) ***"),
        }
    }
    assert!(failures.is_empty(), "below the last measurement:\n{}", failures.join("\n"));
}

/// Whether two go commands are the same file.
fn same_go(a: &GoBinary, b: &GoBinary) -> bool {
    matches!((a.path.canonicalize(), b.path.canonicalize()), (Ok(a), Ok(b)) if a == b)
}

/// Runs the scripts with `go` and diagnoses them: what fell below its release's floors.
fn measure(go: &GoBinary) -> Vec<String> {
    let (goroot, go_version) = match (go.goroot(), go.version()) {
        (Ok(goroot), Ok(version)) => (goroot, version),
        (Err(e), _) | (_, Err(e)) => return vec![format!("{}: {e}", go.path.display())],
    };
    let script_dir = goroot.join("src/cmd/go/testdata/script");
    if !script_dir.is_dir() {
        eprintln!("*** SKIPPED: {} has no cmd/go script tests (a go without its sources) ***", goroot.display());
        return Vec::new();
    }
    let dump = std::env::var_os("MODCHAOS_GO_SCRIPTS_DUMP");
    // Only the scripts whose text is the one labelled are scored.
    let texts = labelled_texts();
    let all_labels = labels();
    let scripts: BTreeSet<&str> = all_labels.keys().map(|(s, _, _)| s.as_str()).collect();
    for script in &scripts {
        assert!(texts.contains_key(*script), "tests/go_scripts/scripts.tsv lacks the labelled script {script}");
    }
    for script in texts.keys() {
        assert!(scripts.contains(script.as_str()), "tests/go_scripts/scripts.tsv: {script} has no label");
    }
    // go 1.19's engine does not say whether a condition held: a script that sets go's
    // configuration on a conditional `env` line cannot be read there.
    let old_engine = go.release().is_some_and(|r| r < (1, 20));
    // (Read as bytes: a script may hold text that is not UTF-8 on purpose.)
    let scorable = |script: &str| {
        std::fs::read(script_dir.join(format!("{script}.txt"))).is_ok_and(|source| {
            texts.get(script) == Some(&modchaos::corpus::fnv1a(&source))
                && !(old_engine && sets_configuration_conditionally(&String::from_utf8_lossy(&source)))
        })
    };
    let scored: BTreeSet<&str> = scripts.iter().copied().filter(|s| scorable(s)).collect();
    let labels: BTreeMap<_, _> = all_labels.iter().filter(|((s, _, _), _)| scored.contains(s.as_str())).collect();
    if scored.is_empty() && dump.is_none() {
        eprintln!(
            "*** {go_version}: none of the labelled scripts has the text it was labelled with: nothing scored ***"
        );
        return Vec::new();
    }
    // A dump runs unlabelled scripts too: their successes would count against the floors.
    let dumping = dump.is_some();
    let pattern = if dumping {
        format!("^TestScript$/^({FAMILIES})")
    } else {
        format!("^TestScript$/^({})$", scored.iter().copied().collect::<Vec<_>>().join("|"))
    };
    // go runs as a user's go does, unprivileged: as root, the scripts that check what a
    // permission denies skip those checks (`[root] skip`) or never meet the failure.
    let work = tempfile::tempdir().expect("temp dir");
    let user = unprivileged(go, work.path());
    let as_root = Account::current().is_root() && user.is_none();
    let ran = run_scripts(go, &goroot, &pattern, work.path(), user);
    // A script the harness could not clean up leaves go's read-only module cache behind.
    modchaos::fsutil::make_writable(work.path());
    let (events, run_stderr) = match ran {
        Ok(ran) => ran,
        Err(e) => return vec![format!("{go_version}: {e}")],
    };
    let commands =
        parse_test2json(&events, |name| std::fs::read_to_string(script_dir.join(format!("{name}.txt"))).ok());
    if commands.is_empty() {
        let tail: Vec<&str> = run_stderr.lines().rev().take(20).collect();
        return vec![format!(
            "{go_version}: no script passed; the run said:\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        )];
    }
    if let Some(dump) = dump {
        let dump = PathBuf::from(format!("{}.{go_version}.jsonl", dump.to_string_lossy()));
        let lines: Vec<String> = commands
            .iter()
            .map(|c| {
                serde_json::json!({"script": c.script, "command": c.command, "occurrence": c.occurrence,
                    "comment": c.comment, "env": c.env, "exit": c.exit, "stderr": c.stderr, "stdout": c.stdout})
                .to_string()
            })
            .collect();
        std::fs::write(&dump, lines.join("\n") + "\n").expect("dump");
        eprintln!("every go command the scripts ran is in {}", dump.display());
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
            let read_as_failure = confident_wrong(Category::None, &got);
            if got.category == Category::None {
                *successes_as_none.entry(held).or_default() += 1;
            } else if !held && !read_as_failure && std::env::var_os("MODCHAOS_GO_SCRIPTS_SUCCESSES").is_some() {
                dev_misses.push(format!(
                    "  success read as {} ({:?}): {} `{}`: {:?}",
                    got.category,
                    got.confidence,
                    command.script,
                    command.command,
                    command.stderr.lines().next()
                ));
            }
            if read_as_failure {
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
        "go's own script tests ({go_version}): {} of {} labelled scripts have the text they were labelled with (the \
         others are not scored); {found} of their {} labelled failures run, {disputed} of them disputed by the \
         labellers (not scored)",
        scored.len(),
        scripts.len(),
        labels.len()
    );
    // The floors were measured with go unprivileged, on a release's scripts as they are
    // counted (another patch release may have changed one).
    let floors = FLOORS
        .iter()
        .find(|(release, scripts, _)| {
            Some(*release) == go.release() && *scripts == scored.len() && !dumping && !as_root
        })
        .map(|(_, _, halves)| halves);
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
        eprintln!("  {:<20} verdicts other than unknown right, with context: {}", "", printed.reliability());
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
            "*** NO FLOORS for {go_version}: a dump runs unlabelled scripts too, the scripts ran as root (the \
             floors are measured unprivileged), or this release has no figures of its own for these {} scripts \
             ***",
            scored.len()
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
