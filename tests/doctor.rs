//! `modchaos doctor` as a user runs it: the real `modchaos` binary runs the real go in
//! an environment that looks like a user's (their own HOME, GOPATH, module cache and
//! build cache in a temp dir, GOPROXY at a fake proxy on 127.0.0.1, nothing inherited
//! from whoever runs the tests), against modchaos worlds started in this process. Never
//! the real internet. Each test checks that go's process group is gone afterwards and
//! removes its temp dir.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use modchaos::fault::cache::CacheFault;
use modchaos::gobin::GoBinary;
use modchaos::runner::gocmd::live_group_members;
use modchaos::scenario::{LoadContext, parse};
use modchaos::vocab::NetworkMode;
use modchaos::world::World;

/// A user's machine in a temp dir.
struct User {
    dir: tempfile::TempDir,
    go: PathBuf,
}

impl User {
    /// `None` (said loudly) without a go toolchain.
    fn new() -> Option<User> {
        let go = GoBinary::find(None).map_err(|e| eprintln!("*** SKIPPED: {e} ***")).ok()?.path;
        let dir = tempfile::Builder::new().prefix("modchaos-doctor-test-").tempdir().unwrap();
        for sub in ["home", "gopath", "modcache", "gocache", "work"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        // go's telemetry would write (and start a helper that outlives the test) in HOME.
        modchaos::fsutil::disable_go_telemetry(&dir.path().join("home/.config")).unwrap();
        Some(User { dir, go })
    }

    fn path(&self, sub: &str) -> PathBuf {
        self.dir.path().join(sub)
    }

    fn modcache(&self) -> PathBuf {
        self.path("modcache")
    }

    /// `modchaos doctor <flags> -- go <args>` with the user's environment and GOPROXY.
    fn doctor(&self, flags: &[&str], go_args: &[&str], goproxy: &str, extra: &[(&str, &str)]) -> Command {
        let mut cmd = Command::cargo_bin("modchaos").unwrap();
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path("home"))
            .env("GOPATH", self.path("gopath"))
            .env("GOMODCACHE", self.modcache())
            .env("GOCACHE", self.path("gocache"))
            .env("GOPROXY", goproxy)
            .env("GOSUMDB", "off")
            .env("GOFLAGS", "-modcacherw")
            .env("GOTOOLCHAIN", "local")
            .envs(extra.iter().copied())
            .current_dir(self.path("work"))
            .timeout(Duration::from_secs(180))
            .arg("doctor")
            .args(flags)
            .arg("--")
            .arg(&self.go)
            .args(go_args);
        cmd
    }

    /// Removes the temp dir, failing the test if anything is left.
    fn finish(self) {
        let root = self.dir.path().to_path_buf();
        self.dir.close().unwrap_or_else(|e| panic!("cannot remove {}: {e}", root.display()));
        assert!(!root.exists(), "{} was left behind", root.display());
    }
}

/// A world from scenario text (`FIXTURES` stands for the shipped fixtures), running on a
/// runtime of its own while the binary runs. Only its hosts matter: doctor runs go, not
/// the scenario (whose `expect` is there because a scenario must have one).
fn world(yaml: &str) -> (tokio::runtime::Runtime, World) {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/modules");
    let yaml = yaml.replace("FIXTURES", &fixtures.display().to_string()) + "expect: {exit: failure}\n";
    let scenario = parse(Path::new("doctor.yaml"), yaml, &LoadContext::new(None)).unwrap_or_else(|e| panic!("{e}"));
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let world = runtime.block_on(World::start(&scenario, NetworkMode::Open)).unwrap();
    (runtime, world)
}

fn url(world: &World, host: &str) -> String {
    format!("http://{}", world.map.get(host).unwrap().addr)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The pid doctor reports for go (`ended: … ; pid N`).
fn reported_pid(stdout: &str) -> i32 {
    let caps = regex::Regex::new(r"(?m)^ended: .*; pid ([0-9]+)$").unwrap().captures(stdout);
    caps.unwrap_or_else(|| panic!("no `ended:` line with a pid in:\n{stdout}"))[1].parse().unwrap()
}

fn assert_group_gone(pid: i32) {
    let survivors = live_group_members(pid);
    assert!(survivors.is_empty(), "processes of go's group {pid} survived: {survivors:?}");
}

#[test]
fn a_500_behind_a_comma_list_is_proxy_server_error() {
    let Some(user) = User::new() else { return };
    let (_runtime, world) = world(
        "name: doctor 500\nmodules: [FIXTURES]\nhosts:\n  proxy.corp.example:\n    goproxy: {}\n    faults:\n      - when: {path: \"/corp.example/lib/@v/*\"}\n        respond: {status: 500, body: \"upstream exploded\"}\n  mirror.corp.example:\n    goproxy: {}\nenv: {GOPROXY: 'https://proxy.corp.example,https://mirror.corp.example'}\n",
    );
    let goproxy = format!("{},{}", url(&world, "proxy.corp.example"), url(&world, "mirror.corp.example"));
    let out = user
        .doctor(&["--timeout", "60s"], &["mod", "download", "-json", "corp.example/lib@v1.0.0"], &goproxy, &[])
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    let story = format!("status {:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}", out.status.code());
    assert_eq!(out.status.code(), Some(1), "go failed, so doctor exits 1\n{story}");
    // go's own output streamed through: its -json record on stdout, its -x trace on stderr.
    assert!(stdout.contains("\"Error\": \"corp.example/lib@v1.0.0: reading http://127.0.0.1:"), "{story}");
    assert!(stderr.contains("/corp.example/lib/@v/v1.0.0.info: 500 Internal Server Error"), "no -x trace:\n{story}");
    assert!(stdout.contains("diagnosis: proxy.server_error (high confidence)"), "{story}");
    assert!(stdout.contains("with ',', which falls through only on 404/410"), "the ',' trap is not named:\n{story}");
    assert!(stdout.contains("playbook pipe-separated-goproxy"), "{story}");
    assert!(stdout.contains(&format!("command: {} mod download -x -json", user.go.display())), "{story}");
    assert!(stdout.contains(&format!("  GOPROXY={goproxy}  (changed)")), "configuration:\n{story}");
    assert!(stdout.contains(&format!("module cache {}: ", user.modcache().display())), "{story}");
    let requests = world.log.snapshot();
    assert!(requests.iter().any(|r| r.host == "proxy.corp.example" && r.status == Some(500)), "{requests:?}");
    assert!(requests.iter().all(|r| r.host != "mirror.corp.example"), "go fell through: {requests:?}");
    assert_group_gone(reported_pid(&stdout));
    drop(world);
    user.finish();
}

#[test]
fn a_success_is_none_and_json_carries_the_evidence() {
    let Some(user) = User::new() else { return };
    let (_runtime, world) =
        world("name: doctor ok\nmodules: [FIXTURES]\nhosts:\n  proxy.corp.example:\n    goproxy: {}\n");
    let goproxy = url(&world, "proxy.corp.example");
    let out = user
        .doctor(
            &["--json"],
            &["mod", "download", "-json", "corp.example/lib@v1.0.0"],
            &goproxy,
            &[("GODEBUG", "http2client=0"), ("HTTPS_PROXY", "http://alice:s3cret@forward.example:3128")],
        )
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    let story = format!("status {:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}", out.status.code());
    assert_eq!(out.status.code(), Some(0), "{story}");
    // With --json, stdout is the report alone; go's stdout went to stderr.
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}\n{story}"));
    assert!(stderr.contains("\"Path\": \"corp.example/lib\""), "go's stdout was not shown:\n{story}");
    assert_eq!(report["diagnosis"]["category"], "none", "{story}");
    assert_eq!(report["trace_flag"], serde_json::json!({"kind": "added", "after": "mod download"}));
    assert_eq!(report["godebug"], "http2client=0,netdns=go+2", "the user's GODEBUG is kept");
    assert!(report["go_version"].as_str().is_some_and(|v| v.starts_with("go version go1.")), "{story}");
    let evidence = &report["evidence"];
    assert_eq!(evidence["exit"], serde_json::json!({"kind": "code", "code": 0}));
    assert_eq!(evidence["records"][0]["Path"], "corp.example/lib");
    assert!(evidence["records"][0]["Sum"].as_str().is_some_and(|s| s.starts_with("h1:")), "{story}");
    let zip_get = evidence["trace"].as_array().unwrap().iter().find(|g| g["url"].as_str().unwrap().ends_with(".zip"));
    assert!(zip_get.is_some_and(|g| g["result"].as_str().unwrap().starts_with("200 OK")), "{story}");
    assert_eq!(evidence["go_env"]["GOMODCACHE"], user.modcache().display().to_string());
    assert_eq!(evidence["go_env"]["GOPROXY"], goproxy);
    let env: BTreeMap<String, String> = evidence["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_str().unwrap().to_string(), p[1].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(env["GODEBUG"], "http2client=0,netdns=go+2", "the evidence holds the environment go got");
    assert_eq!(env["HTTPS_PROXY"], "http://alice:xxxxx@forward.example:3128", "passwords are masked");
    assert!(!stdout.contains("s3cret"), "a password leaked into the report");
    assert!(report["go_env_changed"]["GOPROXY"].is_string(), "{story}");
    let cache = &evidence["cache"];
    assert_eq!((cache["zips"].as_u64(), cache["extracted"].as_u64()), (Some(1), Some(1)), "{story}");
    // The download went into the user's own module cache.
    assert!(user.modcache().join("corp.example/lib@v1.0.0/go.mod").is_file());
    assert_group_gone(evidence["pid"].as_i64().unwrap() as i32);
    drop(world);
    user.finish();
}

#[test]
fn a_stuck_lock_names_its_holder() {
    let Some(user) = User::new() else { return };
    let (_runtime, world) =
        world("name: doctor lock\nmodules: [FIXTURES]\nhosts:\n  proxy.corp.example:\n    goproxy: {}\n");
    let fault = CacheFault::LockHeld {
        module: "corp.example/lib".into(),
        version: "v1.0.0".into(),
        hold: Duration::from_secs(300),
    };
    let applied = match fault.apply(&user.modcache(), modchaos::vocab::Account::current()) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("*** SKIPPED: cannot hold a lock here: {e} ***");
            return;
        }
    };
    let holder = applied.holder().expect("lock_held starts a holder").pid;
    let holder_command = modchaos::modcache::procfs::cmdline(holder).expect("the holder runs").join(" ");
    let out = user
        .doctor(
            &["--timeout", "3s"],
            &["mod", "download", "-json", "corp.example/lib@v1.0.0"],
            &url(&world, "proxy.corp.example"),
            &[],
        )
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    let story = format!("status {:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}", out.status.code());
    assert_eq!(out.status.code(), Some(124), "killed at the deadline\n{story}");
    assert!(stdout.contains("diagnosis: cache.lock_stuck (high confidence)"), "{story}");
    let go = reported_pid(&stdout);
    // The holder by pid and command line, and go as the waiter: the cache was inspected
    // before go was killed.
    assert!(
        stdout.contains(&format!(
            "cache/download/corp.example/lib/@v/v1.0.0.lock, held by pid {holder} ({holder_command}) (waiting: pid {go} ("
        )),
        "{story}"
    );
    assert!(stdout.contains(&format!("lock held: cache/download/corp.example/lib/@v/v1.0.0.lock by pid {holder} (")));
    assert!(stdout.contains("playbook kill-lock-holder"), "{story}");
    assert!(stdout.contains("ended:   still running at the deadline (killed) after"), "{story}");
    assert_group_gone(go);
    applied.release();
    assert_group_gone(holder);
    drop(world);
    user.finish();
}

#[test]
fn a_go_program_that_cannot_start_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("modchaos")
        .unwrap()
        .env_clear()
        .env("HOME", dir.path())
        .current_dir(dir.path())
        .args(["doctor", "--", "mod", "download"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("cannot run `mod`") && stderr.contains("modchaos doctor -- go mod download"), "{stderr}");
}

#[test]
fn a_zero_timeout_is_a_bad_argument_and_go_never_starts() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("modchaos")
        .unwrap()
        .current_dir(dir.path())
        .args(["doctor", "--timeout", "0s", "--", "go", "version"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("a zero timeout kills go before it can start"), "{stderr}");
    // Refused before go ran: no version printed, no hang verdict.
    let stdout = text(&out.stdout);
    assert!(!stdout.contains("go version") && !stdout.contains("hang"), "{stdout}");
    let out = Command::cargo_bin("modchaos")
        .unwrap()
        .current_dir(dir.path())
        .args(["doctor", "--timeout", "soon", "--", "go", "version"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(text(&out.stderr).contains("write a duration like 90s"), "{}", text(&out.stderr));
}
