//! What a signal leaves behind: the real `modchaos run` binary against real scenarios,
//! killed or interrupted with real signals at the moment go (and a lock holder, or a
//! git host) is running.
//!
//! - SIGKILL, open and sealed: no process of the run survives (go, the lock holder's
//!   `flock` and its `sleep`): they die with the harness; the sandbox it could not
//!   remove is removed by the next run, which finds its owner gone.
//! - SIGINT and SIGTERM during a git scenario: exit 130, SIGHUP (a closed terminal, a
//!   dropped SSH session): exit 129; and no `modchaos-*` directory (sandbox, git
//!   repositories) is left.
//! - After SIGINT no child of the harness is left unreaped: this test process is a child
//!   subreaper, so any child modchaos leaves behind becomes its child, and is counted.
//!
//! Each test runs modchaos with its own `MODCHAOS_TMPDIR`, `TMPDIR` and working
//! directory, so that its processes and directories are told apart from anything else
//! running on the machine; they run one at a time.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// One test at a time: they look at the process table.
static SERIAL: Mutex<()> = Mutex::new(());

const LOCK: &str = "name: lock held for long
modules: [FIXTURES]
hosts:
  proxy.corp.example:
    goproxy: {}
    faults: [{when: {path: '*.zip'}, hang: {}}]
cache:
  faults:
    - lock_held: {module: corp.example/lib@v1.1.0}
run: {modules: [corp.example/lib@v1.0.0], timeout: 120s}
expect: {exit: timeout}
";

const GIT: &str = "name: git host hangs
modules: [FIXTURES]
hosts:
  corp.example:
    git: {}
    faults: [{when: {path: '/lib.git/**'}, hang: {}}]
env:
  GOPROXY: direct
  GOPRIVATE: corp.example
run: {modules: [corp.example/lib@v1.0.0], timeout: 120s}
expect: {exit: timeout}
";

const QUICK: &str = "name: quick
modules: [FIXTURES]
hosts:
  proxy.corp.example:
    goproxy: {}
run: {modules: [corp.example/lib@v1.0.0]}
expect: {exit: success}
";

/// A place of its own for one test's runs.
struct Place {
    root: tempfile::TempDir,
}

impl Place {
    fn new() -> Place {
        let root = tempfile::Builder::new().prefix("modchaos-signals-test-").tempdir().unwrap();
        for sub in ["base", "tmp", "cwd"] {
            std::fs::create_dir(root.path().join(sub)).unwrap();
        }
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/modules");
        for (name, yaml) in [("lock.yaml", LOCK), ("git.yaml", GIT), ("quick.yaml", QUICK)] {
            std::fs::write(root.path().join(name), yaml.replace("FIXTURES", &fixtures.display().to_string())).unwrap();
        }
        Place { root }
    }

    fn path(&self, sub: &str) -> PathBuf {
        self.root.path().join(sub)
    }

    fn modchaos(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_modchaos"));
        command
            .args(args)
            .env("MODCHAOS_TMPDIR", self.path("base"))
            .env("TMPDIR", self.path("tmp"))
            .current_dir(self.path("cwd"))
            .stdin(Stdio::null());
        command
    }

    fn start(&self, args: &[&str]) -> Child {
        self.modchaos(args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap()
    }

    /// Live processes of this place's runs: working directory or command line inside it.
    fn processes(&self) -> Vec<(i32, String)> {
        let root = self.root.path();
        let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
        entries
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
            .filter(|pid| *pid != std::process::id() as i32)
            .filter(|pid| {
                let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
                stat.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z'))
            })
            .filter_map(|pid| {
                let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
                let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
                let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).ok();
                let inside = cwd.as_deref().is_some_and(|c| c.starts_with(root))
                    || cmdline.contains(&root.display().to_string());
                inside.then_some((pid, cmdline))
            })
            .collect()
    }

    /// `modchaos-*` directories in the temp directories the runs use, at any depth.
    fn leftovers(&self) -> Vec<PathBuf> {
        let mut found = Vec::new();
        let mut stack = vec![self.path("base"), self.path("tmp")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    if entry.file_name().to_string_lossy().starts_with("modchaos-") {
                        found.push(entry.path());
                    } else {
                        stack.push(entry.path());
                    }
                }
            }
        }
        found
    }

    fn wait_for(&self, what: &str, limit: Duration, mut ready: impl FnMut(&Place) -> bool) {
        let deadline = Instant::now() + limit;
        while !ready(self) {
            assert!(Instant::now() < deadline, "{what} never happened; processes: {:?}", self.processes());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until no process of this place's runs is alive; the survivors otherwise.
    fn survivors_after(&self, limit: Duration) -> Vec<(i32, String)> {
        let deadline = Instant::now() + limit;
        loop {
            let alive = self.processes();
            if alive.is_empty() || Instant::now() >= deadline {
                return alive;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills whatever of this place's runs survived (so a failing test leaves nothing).
    fn kill_all(&self) {
        for (pid, _) in self.processes() {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        self.kill_all();
        modchaos::cleanup::remove_tree_patiently(self.root.path(), Duration::from_secs(5));
    }
}

fn running(place: &Place, what: &str) -> bool {
    place.processes().iter().any(|(_, cmdline)| cmdline.contains(what))
}

fn go_available() -> bool {
    modchaos::gobin::GoBinary::find(None).map_err(|e| eprintln!("*** SKIPPED: {e} ***")).is_ok()
}

fn sealed_available() -> bool {
    match modchaos::sealed::probe(Path::new(env!("CARGO_BIN_EXE_modchaos"))) {
        Ok(_) => true,
        Err(why) => {
            eprintln!("*** SKIPPED: sealed networking is unavailable here: {why} ***");
            false
        }
    }
}

/// Waits for `child` to exit, at most `limit`.
fn exit_code(child: &mut Child, limit: Duration) -> Option<i32> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("modchaos did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// SIGKILL in the middle of a run whose go waits on a held lock (and, sealed, on a
/// hanging proxy): nothing may survive, and the next run sweeps what was left.
fn sigkill_leaves_no_process_and_the_next_run_sweeps(network: &str) {
    let place = Place::new();
    let mut run = place.start(&["run", "--network", network, "../lock.yaml"]);
    place.wait_for("go and the lock holder running", Duration::from_secs(60), |p| {
        running(p, "go mod download") && running(p, "sleep")
    });
    kill(Pid::from_raw(run.id() as i32), Signal::SIGKILL).unwrap();
    let _ = run.wait();
    let survivors = place.survivors_after(Duration::from_secs(10));
    assert!(survivors.is_empty(), "processes outlived the killed harness ({network}): {survivors:#?}");
    let left = place.leftovers();
    assert!(!left.is_empty(), "the kill left no sandbox: the sweep below would prove nothing");

    let output = place.modchaos(&["run", "--network", "open", "../quick.yaml"]).output().unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{said}");
    assert!(said.contains("left by killed runs"), "{said}");
    assert!(place.leftovers().is_empty(), "the next run did not sweep {:?}:\n{said}", place.leftovers());
}

#[test]
fn regression_sigkill_in_open_mode_leaves_no_process_and_the_next_run_sweeps() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if go_available() {
        sigkill_leaves_no_process_and_the_next_run_sweeps("open");
    }
}

#[test]
fn regression_sigkill_in_sealed_mode_leaves_no_process_and_the_next_run_sweeps() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if go_available() && sealed_available() {
        sigkill_leaves_no_process_and_the_next_run_sweeps("sealed");
    }
}

#[test]
fn regression_sigint_sigterm_and_sighup_during_a_git_scenario_leave_nothing_behind() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !go_available() || !sealed_available() {
        return;
    }
    for (signal, status) in [(Signal::SIGINT, 130), (Signal::SIGTERM, 130), (Signal::SIGHUP, 129)] {
        let place = Place::new();
        let mut run = place.start(&["run", "--network", "sealed", "../git.yaml"]);
        place.wait_for("go talking to the git host", Duration::from_secs(60), |p| {
            running(p, "go mod download")
                && p.leftovers().iter().any(|d| d.to_string_lossy().contains("modchaos-sealed-"))
        });
        // The repositories exist by now (the world is up before go starts).
        std::thread::sleep(Duration::from_millis(300));
        kill(Pid::from_raw(run.id() as i32), signal).unwrap();
        let code = exit_code(&mut run, Duration::from_secs(30));
        let mut said = String::new();
        use std::io::Read as _;
        let _ = run.stderr.take().unwrap().read_to_string(&mut said);
        assert_eq!(code, Some(status), "{signal}: {said}");
        let survivors = place.survivors_after(Duration::from_secs(5));
        assert!(survivors.is_empty(), "{signal}: processes survived: {survivors:#?}");
        let left = place.leftovers();
        assert!(left.is_empty(), "{signal} left directories behind: {left:#?}\n{said}");
    }
}

/// Children of this process that are not `known`.
fn my_children(known: &[i32]) -> Vec<(i32, String)> {
    let me = std::process::id() as i32;
    modchaos::cleanup::children_of(me)
        .into_iter()
        .filter(|pid| !known.contains(pid))
        .map(|pid| (pid, std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default()))
        .collect()
}

#[test]
fn regression_after_sigint_no_child_is_left_unreaped() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !go_available() || !sealed_available() {
        return;
    }
    // Orphans modchaos leaves come to this process instead of PID 1 (which, in many
    // containers, reaps nothing): here they can be counted.
    modchaos::cleanup::become_subreaper().unwrap();
    let before: Vec<i32> = modchaos::cleanup::children_of(std::process::id() as i32);
    let place = Place::new();
    let mut run = place.start(&["run", "--network", "sealed", "../lock.yaml"]);
    place.wait_for("go and the lock holder running", Duration::from_secs(60), |p| {
        running(p, "go mod download") && running(p, "sleep")
    });
    kill(Pid::from_raw(run.id() as i32), Signal::SIGINT).unwrap();
    assert_eq!(exit_code(&mut run, Duration::from_secs(30)), Some(130));
    // Give orphans the time to be reparented here.
    std::thread::sleep(Duration::from_millis(500));
    let orphans = my_children(&before);
    for (pid, _) in &orphans {
        let _ = kill(Pid::from_raw(*pid), Signal::SIGKILL);
        let _ = nix::sys::wait::waitpid(Pid::from_raw(*pid), None);
    }
    assert!(orphans.is_empty(), "modchaos exited leaving children unreaped: {orphans:#?}");
    assert!(place.survivors_after(Duration::from_secs(5)).is_empty());
}

/// An interrupted run still writes its reports: JUnit with what finished and the
/// scenario the signal stopped as an error, the journal's last line saying so, the HTML
/// report's banner, and `report` reading that journal back.
#[test]
fn regression_an_interrupted_run_writes_reports_that_say_so() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !go_available() {
        return;
    }
    let place = Place::new();
    let out = |name: &str| place.path("cwd").join(name).display().to_string();
    let (journal, junit, html) = (out("j.jsonl"), out("r.xml"), out("r.html"));
    let mut run = place.start(&[
        "run",
        "--network",
        "open",
        "--jobs",
        "2",
        "../quick.yaml",
        "../lock.yaml",
        "--json",
        &journal,
        "--junit",
        &junit,
        "--html",
        &html,
    ]);
    place.wait_for("the quick scenario done and go waiting on the lock", Duration::from_secs(60), |p| {
        running(p, "go mod download")
            && running(p, "sleep")
            && std::fs::read_to_string(&journal).is_ok_and(|j| !j.is_empty())
    });
    kill(Pid::from_raw(run.id() as i32), Signal::SIGINT).unwrap();
    let code = exit_code(&mut run, Duration::from_secs(30));
    let mut said = String::new();
    use std::io::Read as _;
    let _ = run.stderr.take().unwrap().read_to_string(&mut said);
    assert_eq!(code, Some(130), "{said}");
    assert!(said.contains("interrupted by SIGINT"), "{said}");

    let lines: Vec<serde_json::Value> =
        std::fs::read_to_string(&journal).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert_eq!((lines[0]["name"].as_str(), lines[0]["status"].as_str()), (Some("quick"), Some("passed")));
    let last = &lines[1];
    assert_eq!(last["status"], "interrupted", "{last}");
    assert_eq!(
        (last["signal"].as_str(), last["planned"].as_u64(), last["finished"].as_u64()),
        (Some("SIGINT"), Some(2), Some(1))
    );
    assert_eq!(last["in_flight"][0]["name"], "lock held for long", "{last}");

    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("name=\"quick\""), "{xml}");
    assert!(xml.contains("modchaos interrupted") && xml.contains("interrupted by SIGINT before it finished"), "{xml}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("INTERRUPTED by SIGINT after 1 of 2 planned run(s)"), "{}", &page[..page.len().min(3000)]);

    let again = out("again.html");
    let report = place.modchaos(&["report", &journal, "--html", &again]).output().unwrap();
    assert!(report.status.success(), "{}", String::from_utf8_lossy(&report.stderr));
    assert!(std::fs::read_to_string(&again).unwrap().contains("lock held for long"));
}
