//! The cache against the real go: seeding must leave exactly what `go mod download`
//! leaves, and every fault must make go fail (or hang, or recover) the way it is
//! documented to. go is reached through a `file://` GOPROXY holding the same fixtures,
//! so nothing needs a network; without a go command these tests say so loudly and pass.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use modchaos::fake::modcache::{SeedOptions, seed};
use modchaos::fault::cache::holder::{HolderProgram, LockHolder};
use modchaos::fault::cache::mount;
use modchaos::fault::cache::{AppliedFault, CacheFault, Corruption, FaultError, PartialStage, ReadOnlyScope};
use modchaos::fixture::txtar::Archive;
use modchaos::fixture::{Module, ModuleFixture};
use modchaos::modcache::{CacheState, VersionPaths, inspect};
use modchaos::runner::gocmd::{GoInvocation, GoOutcome};
use modchaos::vocab::Exit;
use modchaos::world::sandbox::Sandbox;

fn go() -> Option<PathBuf> {
    match modchaos::gobin::GoBinary::find(None) {
        Ok(go) => Some(go.path),
        Err(e) => {
            eprintln!("*** SKIPPED: {e} ***");
            None
        }
    }
}

fn module(path: &str, version: &str, txtar: &str) -> Module {
    Arc::new(
        ModuleFixture::from_archive(path, version, Path::new("test.txt"), &Archive::parse(txtar.as_bytes())).unwrap(),
    )
}

const LIB: &str = "corp.example/Lib";

/// corp.example/Lib v1.0.0, with a nested package.
fn lib_v1() -> Module {
    module(
        LIB,
        "v1.0.0",
        "-- .mod --\nmodule corp.example/Lib\n\ngo 1.21\n-- .info --\n{\"Version\":\"v1.0.0\",\"Time\":\"2019-01-01T00:00:00Z\"}\n-- go.mod --\nmodule corp.example/Lib\n\ngo 1.21\n-- lib.go --\npackage lib\n-- sub/sub.go --\npackage sub\n",
    )
}

/// Versions that exercise escaping, the `list` rules and go's `.info` re-encoding.
fn fixtures() -> Vec<Module> {
    vec![
        lib_v1(),
        module(
            LIB,
            "v1.2.0-RC.1",
            "-- .mod --\nmodule corp.example/Lib\n-- .info --\n{\"Version\":\"v1.2.0-RC.1\",\"Time\":\"2019-03-04T05:06:07.123456789123-07:30\"}\n-- go.mod --\nmodule corp.example/Lib\n-- lib.go --\npackage lib\n",
        ),
        module(
            LIB,
            "v1.10.0",
            "-- .mod --\nmodule corp.example/Lib\n-- .info --\n{\"Version\":\"v1.10.0\",\"Name\":\"abc\",\"Time\":\"2019-03-04T05:06:07.500+00:00\",\"Origin\":{\"VCS\":\"git\",\"URL\":\"https://x.example/a?b=<c>&d\",\"Hash\":\"abc\",\"TagSum\":\"t1:x\",\"Ref\":\"refs/tags/v1.10.0\"}}\n-- go.mod --\nmodule corp.example/Lib\n-- lib.go --\npackage lib\n-- a/b/c/deep.go --\npackage c\n",
        ),
        module(
            "example.com/inc",
            "v2.0.0+incompatible",
            "-- .mod --\nmodule example.com/inc\n-- .info --\n{\"Version\":\"v2.0.0+incompatible\"}\n-- inc.go --\npackage inc\n",
        ),
    ]
}

/// A sandbox whose GOPROXY is a `file://` directory serving `modules`.
struct World {
    go: PathBuf,
    sandbox: Sandbox,
    proxy: tempfile::TempDir,
    env: BTreeMap<String, String>,
}

impl World {
    fn new(go: &Path, modules: &[Module]) -> World {
        let sandbox = Sandbox::create().unwrap();
        sandbox.write_work_files(&[]).unwrap();
        let proxy =
            tempfile::Builder::new().prefix("modchaos-fileproxy-").tempdir_in(modchaos::fsutil::base_dir()).unwrap();
        modchaos::fixture::fileproxy::write_file_proxy(proxy.path(), modules).unwrap();
        let mut env = sandbox.base_env();
        env.insert("GOPROXY".into(), format!("file://{}", proxy.path().display()));
        World { go: go.to_path_buf(), sandbox, proxy, env }
    }

    fn modcache(&self) -> &Path {
        &self.sandbox.paths.modcache
    }

    async fn go(&self, args: &[&str], timeout: Duration) -> GoOutcome {
        self.go_with(&self.go, args, timeout).await
    }

    async fn go_with(&self, program: &Path, args: &[&str], timeout: Duration) -> GoOutcome {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let inv = GoInvocation {
            go: program,
            args: &args,
            env: &self.env,
            cwd: &self.sandbox.paths.work,
            timeout,
            inspect_cache: None,
            user: None,
        };
        modchaos::runner::gocmd::run(&inv).await.unwrap()
    }

    /// go's output with the cache and proxy locations written as `$GOMODCACHE` and
    /// `$PROXY`, and the random digits of go's temp files as `N`.
    fn plain(&self, text: &str) -> String {
        let text = text
            .replace(&self.modcache().display().to_string(), "$GOMODCACHE")
            .replace(&self.proxy.path().display().to_string(), "$PROXY");
        regex::Regex::new(r"\.(zip|info|mod)[0-9]+\.tmp").unwrap().replace_all(&text, ".${1}N.tmp").into_owned()
    }
}

const LONG: Duration = Duration::from_secs(60);

fn ids(modules: &[Module]) -> Vec<String> {
    modules.iter().map(|m| m.id()).collect()
}

/// Every path below `root` with its kind, permission bits and (for files) content.
fn tree(root: &Path) -> BTreeMap<String, (char, u32, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, (char, u32, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let meta = entry.metadata().unwrap();
            let rel = entry.path().strip_prefix(root).unwrap().display().to_string();
            let mode = meta.permissions().mode() & 0o7777;
            if meta.is_dir() {
                out.insert(rel, ('d', mode, Vec::new()));
                walk(root, &entry.path(), out);
            } else {
                out.insert(rel, ('f', mode, std::fs::read(entry.path()).unwrap()));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn tree_differences(
    go: &BTreeMap<String, (char, u32, Vec<u8>)>,
    ours: &BTreeMap<String, (char, u32, Vec<u8>)>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (path, (kind, mode, content)) in go {
        match ours.get(path) {
            None => out.push(format!("only go wrote {path}")),
            Some((k, m, c)) if (k, m) != (kind, mode) => {
                out.push(format!("{path}: go {kind} {mode:o}, seeded {k} {m:o}"))
            }
            Some((_, _, c)) if c != content => out.push(format!(
                "{path}: content differs\n  go:     {:?}\n  seeded: {:?}",
                String::from_utf8_lossy(content),
                String::from_utf8_lossy(c)
            )),
            _ => {}
        }
    }
    out.extend(ours.keys().filter(|p| !go.contains_key(*p)).map(|p| format!("only seeding wrote {p}")));
    out
}

async fn seeding_matches_go(modcacherw: bool) {
    let Some(go) = go() else { return };
    let modules = fixtures();
    let mut real = World::new(&go, &modules);
    let mut seeded = World::new(&go, &modules);
    // A scenario decides on -modcacherw; both runs say it, or neither.
    let flags = if modcacherw { "-modcacherw" } else { "" };
    real.env.insert("GOFLAGS".into(), flags.into());
    seeded.env.insert("GOFLAGS".into(), flags.into());
    let mut args = vec!["mod", "download", "-json"];
    let ids = ids(&modules);
    args.extend(ids.iter().map(String::as_str));
    let downloaded = real.go(&args, LONG).await;
    assert!(downloaded.exit.success(), "go mod download failed: {}\n{}", downloaded.stderr, downloaded.stdout);

    seed(seeded.modcache(), &modules, SeedOptions { modcacherw }).unwrap();
    let differences = tree_differences(&tree(real.modcache()), &tree(seeded.modcache()));
    assert!(differences.is_empty(), "seeded cache differs from go's:\n{}", differences.join("\n"));

    // go accepts the seeded cache as its own: without any proxy it answers exactly as
    // from the cache it filled itself. (Not as during the download: there `-json`
    // shows the proxy's Origin before go cleaned it for the cache.)
    let mut answers = Vec::new();
    for world in [&mut real, &mut seeded] {
        world.env.insert("GOPROXY".into(), "off".into());
        let offline = world.go(&args, LONG).await;
        assert!(offline.exit.success(), "go rejected the cache: {}\n{}", offline.stderr, offline.stdout);
        assert_eq!(offline.stderr, "");
        answers.push(world.plain(&offline.stdout));
    }
    assert_eq!(answers[0], answers[1]);
    assert!(answers[1].contains("\"Dir\": \"$GOMODCACHE/corp.example/!lib@v1.2.0-!r!c.1\""), "{}", answers[1]);
}

#[tokio::test]
async fn seeding_leaves_exactly_what_go_mod_download_leaves() {
    seeding_matches_go(true).await;
}

#[tokio::test]
async fn seeding_without_modcacherw_leaves_read_only_trees_like_go() {
    seeding_matches_go(false).await;
}

// ---- faults ----------------------------------------------------------------------

const V1: &str = "corp.example/Lib@v1.0.0";
const V1_DIR: &str = "cache/download/corp.example/!lib/@v";

/// A world serving lib v1.0.0 and v1.10.0 whose cache holds v1.0.0, as go left it.
fn seeded_world(go: &Path) -> World {
    let modules = fixtures();
    let world = World::new(go, &modules);
    seed(world.modcache(), &modules[..1], SeedOptions::default()).unwrap();
    world
}

fn apply(world: &World, fault: CacheFault) -> AppliedFault {
    fault
        .apply(world.modcache(), modchaos::vocab::Account::current())
        .unwrap_or_else(|e| panic!("{}: {e}", fault.name()))
}

fn lib_fault(make: impl Fn(String, String) -> CacheFault) -> CacheFault {
    make(LIB.to_string(), "v1.0.0".to_string())
}

fn json_error(outcome: &GoOutcome) -> Option<String> {
    modchaos::evidence::parse_json_records(&outcome.stdout).into_iter().find_map(|r| r.error)
}

#[tokio::test]
async fn lock_held_makes_go_wait_silently_and_inspection_names_holder_and_waiter() {
    let Some(go) = go() else { return };
    let world = World::new(&go, &fixtures());
    let fault = apply(
        &world,
        CacheFault::LockHeld { module: LIB.into(), version: "v1.0.0".into(), hold: Duration::from_secs(120) },
    );
    let holder_pid = fault.holder().expect("lock_held has a holder").pid;

    let run = world.go(&["mod", "download", "-json", V1], Duration::from_secs(2));
    let watch = async {
        // While go runs, the cache must show it blocked behind the holder.
        loop {
            let state = CacheState::inspect(world.modcache());
            if state.locks.iter().any(|l| !l.waiters.is_empty()) {
                return state;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let (outcome, during) = tokio::join!(run, async { tokio::time::timeout(Duration::from_secs(2), watch).await });
    assert_eq!(outcome.exit, Exit::Timeout, "{outcome:?}");
    assert_eq!((outcome.stdout.as_str(), outcome.stderr.as_str()), ("", ""), "go printed something while waiting");
    let during = during.expect("inspection never saw go waiting for the lock");
    let lock = &during.locks[0];
    assert_eq!(lock.path, format!("{V1_DIR}/v1.0.0.lock"));
    assert_eq!(lock.holders.len(), 1);
    assert_eq!(lock.holders[0].pid, holder_pid);
    assert_eq!((lock.holders[0].kind.as_str(), lock.holders[0].access.as_str()), ("FLOCK", "WRITE"));
    assert_eq!(lock.waiters.len(), 1);
    assert_eq!(lock.waiters[0].pid as u32, outcome.pid, "the waiter is the go command");
    let waiter = lock.waiters[0].argv.clone().unwrap_or_default();
    assert_eq!(waiter[1..], ["mod", "download", "-json", V1]);
    let line = during.lines().into_iter().find(|l| l.starts_with("lock held:")).unwrap();
    assert_eq!(
        line,
        format!(
            "lock held: {V1_DIR}/v1.0.0.lock by pid {holder_pid} ({}), 1 waiter: pid {} (go mod download -json {V1})",
            lock.holders[0]
                .argv
                .as_ref()
                .unwrap()
                .join(" ")
                .replace(&world.modcache().display().to_string(), "$GOMODCACHE"),
            outcome.pid
        )
    );

    // Once go is gone the holder still holds; once the fault is dropped nothing does.
    let after = CacheState::inspect(world.modcache());
    assert!(after.locks.iter().all(|l| l.waiters.is_empty() && l.holders.len() == 1), "{:?}", after.locks);
    fault.release();
    assert!(modchaos::runner::gocmd::live_group_members(holder_pid).is_empty(), "the holder's group survived");
    assert!(CacheState::inspect(world.modcache()).locks.is_empty());
}

#[tokio::test]
async fn a_lock_on_a_fully_extracted_version_does_not_stop_go() {
    let Some(go) = go() else { return };
    let world = seeded_world(&go);
    let _fault = apply(&world, lib_fault(|module, version| CacheFault::LockHeld { module, version, hold: LONG }));
    let outcome = world.go(&["mod", "download", "-json", V1], LONG).await;
    assert!(outcome.exit.success(), "{outcome:?}");
}

#[tokio::test]
async fn corrupt_zip_fails_extraction_with_the_zip_path() {
    let Some(go) = go() else { return };
    for (how, error) in [
        (Corruption::Truncate, "zip: not a valid zip file"),
        (Corruption::Garbage, "zip: not a valid zip file"),
        (Corruption::Checksum, "zip: checksum error"),
    ] {
        let world = seeded_world(&go);
        apply(&world, lib_fault(|module, version| CacheFault::CorruptZip { module, version, how }));
        let outcome = world.go(&["mod", "download", "-json", V1], LONG).await;
        let expected = format!("unzip $GOMODCACHE/{V1_DIR}/v1.0.0.zip: {error}");
        assert_eq!(outcome.exit, Exit::Code { code: 1 }, "{how:?}: {outcome:?}");
        assert_eq!(json_error(&outcome).map(|e| world.plain(&e)), Some(expected.clone()), "{how:?}");
        assert_eq!(world.plain(&outcome.stderr), format!("-> {expected}\n"), "{how:?}");
        // go cleaned up after itself: no directory, no marker.
        let state = CacheState::inspect(world.modcache());
        assert_eq!((state.extracted, state.partial.len()), (0, 0), "{how:?}: {:?}", state.lines());
    }
}

#[tokio::test]
async fn ziphash_faults_alone_are_repaired_by_go_without_a_network() {
    let Some(go) = go() else { return };
    for make in [
        (|module, version| CacheFault::EmptyZiphash { module, version }) as fn(String, String) -> CacheFault,
        |module, version| CacheFault::MissingZiphash { module, version },
    ] {
        let mut world = seeded_world(&go);
        let fault = lib_fault(make);
        apply(&world, fault.clone());
        let state = CacheState::inspect(world.modcache());
        assert!(state.has_findings(), "{}: {:?}", fault.name(), state.lines());
        world.env.insert("GOPROXY".into(), "off".into());
        let outcome = world.go(&["mod", "download", "-json", V1], LONG).await;
        assert!(outcome.exit.success(), "{}: {outcome:?}", fault.name());
        let ziphash = VersionPaths::new(world.modcache(), LIB, "v1.0.0").ziphash;
        assert_eq!(std::fs::read_to_string(ziphash).unwrap(), fixtures()[0].sum, "{}", fault.name());
    }
}

#[tokio::test]
async fn ziphash_faults_with_a_corrupt_zip_fail_in_two_different_ways() {
    let Some(go) = go() else { return };
    let corrupt = lib_fault(|module, version| CacheFault::CorruptZip { module, version, how: Corruption::Truncate });

    // Empty ziphash: go re-hashes the zip while verifying and dies (no -json at all).
    let world = seeded_world(&go);
    apply(&world, corrupt.clone());
    apply(&world, lib_fault(|module, version| CacheFault::EmptyZiphash { module, version }));
    let outcome = world.go(&["mod", "download", "-json", V1], LONG).await;
    assert_eq!(outcome.exit, Exit::Code { code: 1 }, "{outcome:?}");
    assert_eq!(outcome.stdout, "");
    assert_eq!(outcome.stderr, format!("verifying {V1}: zip: not a valid zip file\n"));

    // Missing ziphash: the -json Error is a bare zip error; stderr stays empty.
    let world = seeded_world(&go);
    apply(&world, corrupt);
    apply(&world, lib_fault(|module, version| CacheFault::MissingZiphash { module, version }));
    let outcome = world.go(&["mod", "download", "-json", V1], LONG).await;
    assert_eq!(outcome.exit, Exit::Code { code: 1 }, "{outcome:?}");
    assert_eq!(json_error(&outcome).as_deref(), Some("zip: not a valid zip file"));
    assert_eq!(outcome.stderr, "");
}

#[tokio::test]
async fn an_interrupted_extraction_is_redone_from_the_cached_zip() {
    let Some(go) = go() else { return };
    let mut world = seeded_world(&go);
    apply(
        &world,
        lib_fault(|module, version| CacheFault::Partial { module, version, stage: PartialStage::Extraction }),
    );
    let before = CacheState::inspect(world.modcache());
    assert_eq!(
        before.partial,
        [inspect::PartialMarker {
            marker: format!("{V1_DIR}/v1.0.0.partial"),
            extracted: "corp.example/!lib@v1.0.0".into(),
            extracted_exists: true,
        }]
    );
    world.env.insert("GOPROXY".into(), "off".into());
    let outcome = world.go(&["mod", "download", "-json", V1], LONG).await;
    assert!(outcome.exit.success(), "{outcome:?}");
    let extracted = VersionPaths::new(world.modcache(), LIB, "v1.0.0").extracted;
    assert_eq!(std::fs::read_to_string(extracted.join("sub/sub.go")).unwrap(), "package sub\n");
    assert!(!CacheState::inspect(world.modcache()).has_findings());
}

#[tokio::test]
async fn an_interrupted_download_needs_the_proxy_again() {
    let Some(go) = go() else { return };
    let mut world = seeded_world(&go);
    apply(&world, lib_fault(|module, version| CacheFault::Partial { module, version, stage: PartialStage::Download }));
    let before = CacheState::inspect(world.modcache());
    assert_eq!(before.temp_files.len(), 1, "{:?}", before.lines());
    assert!(before.temp_files[0].path.starts_with(&format!("{V1_DIR}/v1.0.0.zip")));
    assert_eq!(before.zips, 0);

    world.env.insert("GOPROXY".into(), "off".into());
    let offline = world.go(&["mod", "download", "-json", V1], LONG).await;
    assert_eq!(offline.exit, Exit::Code { code: 1 }, "{offline:?}");
    assert_eq!(json_error(&offline).as_deref(), Some("module lookup disabled by GOPROXY=off"));

    world.env.insert("GOPROXY".into(), format!("file://{}", world.proxy.path().display()));
    let online = world.go(&["mod", "download", "-json", V1], LONG).await;
    assert!(online.exit.success(), "{online:?}");
    let after = CacheState::inspect(world.modcache());
    assert!(!after.has_findings(), "go left {:?}", after.lines());
}

/// A go that runs as root without the capabilities that ignore permission bits, so a
/// chmod-ed cache stops it as it stops an ordinary user.
fn go_without_dac_override(go: &Path, dir: &Path) -> Option<PathBuf> {
    let found =
        std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("setpriv").is_file()));
    if !found {
        eprintln!(
            "*** SKIPPED: running as root and util-linux setpriv is missing: cannot run go without CAP_DAC_OVERRIDE ***"
        );
        return None;
    }
    let script = dir.join("go-without-dac-override");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nexec setpriv --bounding-set=-dac_override,-dac_read_search,-fowner --inh-caps=-all {} \"$@\"\n",
            go.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    Some(script)
}

#[tokio::test]
async fn read_only_cache_gives_permission_denied_or_refuses_when_we_ignore_permissions() {
    let Some(go) = go() else { return };
    for (scope, seeded, target, error, stderr) in [
        (
            ReadOnlyScope::Cache,
            false,
            V1,
            "mkdir $GOMODCACHE/cache: permission denied",
            "go: writing stat cache: mkdir $GOMODCACHE/cache: permission denied\ngo: writing go.mod cache: mkdir $GOMODCACHE/cache: permission denied\n",
        ),
        (
            ReadOnlyScope::Download,
            true,
            "corp.example/Lib@v1.10.0",
            "open $GOMODCACHE/cache/download/corp.example/!lib/@v/v1.10.0.lock: permission denied",
            "go: writing stat cache: open $GOMODCACHE/cache/download/corp.example/!lib/@v/v1.10.0.infoN.tmp: permission denied\n\
             go: writing go.mod cache: open $GOMODCACHE/cache/download/corp.example/!lib/@v/v1.10.0.modN.tmp: permission denied\n",
        ),
    ] {
        let world = if seeded { seeded_world(&go) } else { World::new(&go, &fixtures()) };
        let fault = CacheFault::ReadOnly { scope };
        let program = match fault.apply(world.modcache(), modchaos::vocab::Account::current()) {
            Ok(_) => go.clone(),
            Err(FaultError::Ineffective(why)) => {
                assert!(nix::unistd::geteuid().is_root(), "refused although not root: {why}");
                assert!(why.contains("read-only bind mount"), "{why}");
                match go_without_dac_override(&go, &world.sandbox.paths.tmp) {
                    Some(p) => p,
                    None => return,
                }
            }
            Err(e) => panic!("{e}"),
        };
        let state = CacheState::inspect(world.modcache());
        assert!(state.not_writable.items.iter().any(|n| n.mode & 0o222 == 0), "{:?}", state.lines());
        let outcome = world.go_with(&program, &["mod", "download", "-json", target], LONG).await;
        assert_eq!(outcome.exit, Exit::Code { code: 1 }, "{scope:?}: {outcome:?}");
        assert_eq!(json_error(&outcome).map(|e| world.plain(&e)).as_deref(), Some(error), "{scope:?}");
        assert_eq!(world.plain(&outcome.stderr), stderr, "{scope:?}");
    }
}

// ---- mount faults, inside `unshare -Urm` ------------------------------------------

/// Environment variable naming the case [`namespace_child`] runs.
const NS_CHILD: &str = "MODCHAOS_CACHE_NS_CHILD";

/// Runs [`namespace_child`] for `case` in new user and mount namespaces, as the sealed
/// child would be, and returns its output; `None` (said loudly) where that is impossible.
fn in_namespace(case: &str) -> Option<String> {
    let probe = std::process::Command::new("unshare").args(["-Urm", "true"]).output();
    if !probe.as_ref().is_ok_and(|o| o.status.success()) {
        eprintln!("*** SKIPPED: `unshare -Urm` does not work here, so mount faults cannot be tried: {probe:?} ***");
        return None;
    }
    let exe = std::env::current_exe().unwrap();
    let output = std::process::Command::new("unshare")
        .arg("-Urm")
        .arg(exe)
        .args(["--exact", "namespace_child", "--ignored", "--nocapture", "--test-threads=1"])
        .env(NS_CHILD, case)
        .output()
        .unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "the namespace child for {case} failed:\n{said}");
    assert!(said.contains(&format!("namespace child done: {case}")), "the child did not run {case}:\n{said}");
    Some(said)
}

#[test]
fn disk_full_is_a_tiny_tmpfs_and_go_reports_no_space_left() {
    in_namespace("disk_full");
}

#[test]
fn a_read_only_mount_stops_even_root() {
    in_namespace("read_only");
}

#[test]
fn mounts_are_refused_outside_a_private_namespace() {
    if mount::in_private_namespace() {
        return; // Already inside one (a sealed test run): nothing to refuse.
    }
    let dir = tempfile::tempdir().unwrap();
    for result in [mount::tmpfs(dir.path(), 8192, modchaos::vocab::Account::current()), mount::read_only(dir.path())] {
        assert!(matches!(result, Err(mount::MountError::NeedsNamespace(_))), "{result:?}");
    }
}

#[tokio::test]
#[ignore = "runs inside `unshare -Urm`, started by the mount fault tests"]
async fn namespace_child() {
    let Ok(case) = std::env::var(NS_CHILD) else { return };
    assert!(mount::in_private_namespace(), "not in a private user namespace");
    let go = go().expect("the parent found go");
    let world = World::new(&go, &fixtures());
    let outcome = match case.as_str() {
        "disk_full" => {
            // Two pages: .info and .mod fit, the zip does not.
            mount::tmpfs(world.modcache(), 8192, modchaos::vocab::Account::current()).unwrap();
            let outcome = world.go(&["mod", "download", "-json", V1], LONG).await;
            assert_eq!(outcome.exit, Exit::Code { code: 1 }, "{outcome:?}");
            assert_eq!(
                json_error(&outcome).map(|e| world.plain(&e)).as_deref(),
                Some(
                    format!(
                        "{V1}: read \"file://$PROXY/corp.example/%21lib/@v/v1.0.0.zip\": write $GOMODCACHE/{V1_DIR}/v1.0.0.zipN.tmp: no space left on device"
                    )
                    .as_str()
                )
            );
            assert!(outcome.stderr.lines().all(|l| l.ends_with("no space left on device")), "{}", outcome.stderr);
            let state = CacheState::inspect(world.modcache());
            let fs = state.filesystem.clone().unwrap();
            assert_eq!((fs.mount.unwrap().fs_type.as_str(), fs.free_bytes, fs.size_bytes), ("tmpfs", 0, 8192));
            assert!(state.lines()[1].starts_with("filesystem full: tmpfs on "), "{:?}", state.lines());
            outcome
        }
        "read_only" => {
            mount::read_only(world.modcache()).unwrap();
            let outcome = world.go(&["mod", "download", "-json", V1], LONG).await;
            assert_eq!(outcome.exit, Exit::Code { code: 1 }, "{outcome:?}");
            assert_eq!(
                json_error(&outcome).map(|e| world.plain(&e)).as_deref(),
                Some("mkdir $GOMODCACHE/cache: read-only file system")
            );
            assert_eq!(
                world.plain(&outcome.stderr),
                "go: writing stat cache: mkdir $GOMODCACHE/cache: read-only file system\n\
                 go: writing go.mod cache: mkdir $GOMODCACHE/cache: read-only file system\n"
            );
            let state = CacheState::inspect(world.modcache());
            assert!(state.filesystem.as_ref().unwrap().read_only);
            assert_eq!(state.not_writable.items[0].path, ".");
            assert_eq!(state.not_writable.items[0].denied.as_deref(), Some("read-only file system"));
            outcome
        }
        other => panic!("unknown case {other}"),
    };
    println!("go said:\n{}{}", world.plain(&outcome.stdout), world.plain(&outcome.stderr));
    println!("inspection:\n{}", CacheState::inspect(world.modcache()).lines().join("\n"));
    mount::unmount(world.modcache()).unwrap();
    let root = world.sandbox.paths.root.clone();
    drop(world);
    assert!(!root.exists(), "the sandbox could not be removed after unmounting");
    println!("namespace child done: {case}");
}

// ---- inspection of hand-made caches -------------------------------------------------

/// A cache with one of every finding: a partial extraction, a zip (and a directory)
/// without ziphash, an invalid and an empty ziphash, leftover temporary files, and a
/// directory without write permission.
fn damaged_cache() -> tempfile::TempDir {
    let dir = tempfile::Builder::new().prefix("modchaos-inspect-").tempdir_in(modchaos::fsutil::base_dir()).unwrap();
    let root = dir.path();
    let modules = fixtures();
    seed(root, &modules, SeedOptions::default()).unwrap();
    let lib = |v: &str| VersionPaths::new(root, LIB, v);
    CacheFault::Partial { module: LIB.into(), version: "v1.0.0".into(), stage: PartialStage::Extraction }
        .apply(root, modchaos::vocab::Account::current())
        .unwrap();
    std::fs::remove_file(lib("v1.2.0-RC.1").ziphash).unwrap();
    std::fs::write(lib("v1.10.0").ziphash, "xyz\n").unwrap();
    std::fs::write(VersionPaths::new(root, "example.com/inc", "v2.0.0+incompatible").ziphash, "").unwrap();
    std::fs::write(root.join(V1_DIR).join("v1.10.0.zip42.tmp"), "PK\x03").unwrap();
    std::fs::create_dir(root.join("corp.example/!lib@v1.0.0.tmp-77")).unwrap();
    std::fs::set_permissions(root.join("cache/download/example.com"), std::fs::Permissions::from_mode(0o555)).unwrap();
    dir
}

#[test]
fn inspection_finds_every_kind_of_damage_in_a_hand_made_cache() {
    let dir = damaged_cache();
    let root = dir.path();
    let state = CacheState::inspect(root);
    modchaos::fsutil::make_writable(root);

    let files: Vec<_> = tree(root).into_values().filter(|(kind, _, _)| *kind == 'f').collect();
    assert_eq!(state.files, files.len() as u64);
    assert_eq!(state.size_bytes, files.iter().map(|(_, _, c)| c.len() as u64).sum::<u64>());
    assert!(state.size_complete && state.exists);
    assert_eq!((state.zips, state.extracted), (4, 4));
    assert!(state.locks.is_empty());
    assert!(state.problems.is_empty(), "{:?}", state.problems);
    let mut lines = state.lines();
    let summary = lines.remove(0);
    assert!(summary.starts_with(&format!("module cache {}: 4 versions downloaded, 4 extracted, ", root.display())));
    assert!(lines.remove(0).starts_with("filesystem "));
    let root_writable = nix::unistd::geteuid().is_root();
    let denied = if root_writable { "this process can write it anyway (root)" } else { "permission denied" };
    assert_eq!(
        lines,
        [
            format!("partial extraction: corp.example/!lib@v1.0.0 ({V1_DIR}/v1.0.0.partial exists)"),
            format!("temporary file left behind: {V1_DIR}/v1.10.0.zip42.tmp (3 B)"),
            "temporary file left behind: corp.example/!lib@v1.0.0.tmp-77 (0 B)".to_string(),
            format!("zip without ziphash: {V1_DIR}/v1.2.0-!r!c.1.zip"),
            "extracted without ziphash: corp.example/!lib@v1.2.0-!r!c.1".to_string(),
            format!("invalid ziphash: {V1_DIR}/v1.10.0.ziphash: \"xyz\""),
            "empty ziphash: cache/download/example.com/inc/@v/v2.0.0+incompatible.ziphash".to_string(),
            format!("not writable: cache/download/example.com (mode 0555; {denied})"),
        ]
    );
    assert!(state.has_findings());
    let back: CacheState = serde_json::from_str(&serde_json::to_string(&state).unwrap()).unwrap();
    assert_eq!(back, state);
}

#[test]
fn a_healthy_cache_has_no_findings_and_a_missing_one_says_so() {
    let dir = tempfile::tempdir().unwrap();
    seed(dir.path(), &fixtures(), SeedOptions::default()).unwrap();
    let state = CacheState::inspect(dir.path());
    assert!(!state.has_findings(), "{:?}", state.lines());
    assert_eq!(state.lines().len(), 2, "{:?}", state.lines());

    let missing = dir.path().join("nowhere/pkg/mod");
    let state = CacheState::inspect(&missing);
    assert!(!state.exists);
    assert!(state.filesystem.is_some(), "free space is that of the nearest existing parent");
    assert_eq!(state.lines()[0], format!("module cache {} does not exist", missing.display()));
}

/// Mode, size, mtime (s, ns), ctime (s, ns) and content of one path.
type Snapshot = (u32, u64, i64, i64, i64, i64, Vec<u8>);

/// Everything about every path that a write (content, mode, size, mtime, ctime)
/// would change.
fn snapshot(root: &Path) -> BTreeMap<String, Snapshot> {
    use std::os::unix::fs::MetadataExt as _;
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let m = std::fs::symlink_metadata(&path).unwrap();
            let content = if m.is_file() { std::fs::read(&path).unwrap() } else { Vec::new() };
            if m.is_dir() {
                stack.push(path.clone());
            }
            let key = path.strip_prefix(root).unwrap().display().to_string();
            out.insert(key, (m.mode(), m.len(), m.mtime(), m.mtime_nsec(), m.ctime(), m.ctime_nsec(), content));
        }
    }
    out
}

#[test]
fn inspection_never_writes() {
    let dir = damaged_cache();
    let held = CacheFault::LockHeld { module: LIB.into(), version: "v1.10.0".into(), hold: LONG }
        .apply(dir.path(), modchaos::vocab::Account::current());
    let before = snapshot(dir.path());
    let state = CacheState::inspect(dir.path());
    assert!(state.has_findings());
    assert_eq!(snapshot(dir.path()), before);
    drop(held);
    modchaos::fsutil::make_writable(dir.path());
}

#[test]
fn every_holder_program_shows_up_with_its_waiters() {
    let Some(_) = HolderProgram::available() else {
        eprintln!("*** SKIPPED: neither util-linux flock nor perl is on PATH ***");
        return;
    };
    let has = |name: &str| {
        std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
    };
    for (program, name) in [(HolderProgram::Flock, "flock"), (HolderProgram::Perl, "perl")] {
        if !has(name) {
            eprintln!("*** SKIPPED: {name} is not on PATH ***");
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let lock = dir.path().join("cache/download/m.example/@v/v1.0.0.lock");
        std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
        let holder = LockHolder::start(&lock, LONG, program).unwrap();
        // A second process waiting for the same lock, as go would.
        let waiter = has("flock").then(|| {
            std::process::Command::new("flock").arg("-x").arg(&lock).arg("true").process_group(0).spawn().unwrap()
        });
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let state = loop {
            let state = CacheState::inspect(dir.path());
            let waiting = state.locks.first().is_some_and(|l| !l.waiters.is_empty());
            if waiting || waiter.is_none() || std::time::Instant::now() > deadline {
                break state;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        assert_eq!(state.locks.len(), 1, "{name}: {:?}", state.lines());
        let found = &state.locks[0];
        assert_eq!(found.path, "cache/download/m.example/@v/v1.0.0.lock");
        assert_eq!(found.holders[0].pid, holder.pid);
        assert_eq!(found.holders[0].argv.as_ref().unwrap()[0], name);
        if let Some(mut waiter) = waiter {
            assert_eq!(found.waiters.len(), 1, "{name}: {:?}", state.lines());
            assert_eq!(found.waiters[0].pid as u32, waiter.id());
            assert!(
                state.lines().iter().any(|l| l.contains(&format!(
                    "1 waiter: pid {} (flock -x $GOMODCACHE/cache/download/m.example/@v/v1.0.0.lock true)",
                    waiter.id()
                ))),
                "{:?}",
                state.lines()
            );
            holder.release();
            // The waiter gets the lock and finishes.
            assert!(waiter.wait().unwrap().success());
        } else {
            holder.release();
        }
        assert!(CacheState::inspect(dir.path()).locks.is_empty(), "{name}: the lock outlived its holder");
    }
}
