//! Field recipes: failures users meet that the scenarios do not produce, captured from
//! the real go against modchaos's fixtures (a `file://` module proxy tree, or the same
//! tree served over plain HTTP by a minimal server in this program), each labelled by
//! what was done to cause it:
//! - go run as an unprivileged user (`setpriv` to uid/gid 65534) against caches root
//!   populated: module cache, build cache, HOME, `go clean -modcache`;
//! - the work module's go.mod, go.work and go.sum broken, too new, untidy or missing;
//! - `go mod verify` and `go build` after the extracted module or its ziphash changed;
//! - runs killed by `timeout` (TERM → 124, KILL → 137) while a server never answers or
//!   another process holds the module's lock;
//! - addresses with no route (a fresh network namespace: `network is unreachable`, an
//!   `unreachable` route: `no route to host`), and GOVCS refusing git.
//!
//! A recipe is kept only when go's output shows the failure it was written to cause
//! (its `shows` pattern), so the label holds. Written as `field--<slug>.txt`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use modchaos::corpus::Case;
use modchaos::diagnose::Category;
use modchaos::fixture::ModuleSet;
use modchaos::fixture::fileproxy::write_file_proxy;
use modchaos::vocab::Exit;
use modchaos::world::sandbox::Sandbox;
use regex::Regex;

/// The unprivileged user go runs as in the `Nobody` recipes.
const NOBODY: &str = "65534";

/// Who runs go.
#[derive(Clone, Copy, PartialEq)]
enum User {
    Root,
    Nobody,
}

/// Where go downloads from.
#[derive(Clone, Copy, PartialEq)]
enum Proxy {
    /// `file://` tree.
    File,
    /// The same tree over plain HTTP (so `-x` traces the requests).
    Http,
    /// A server that accepts connections and never answers.
    Silent,
    /// An https URL on an address with no route (run in a fresh network namespace).
    NoRoute(&'static str),
}

/// What is done before go runs.
#[derive(Clone, Copy, PartialEq)]
enum Prep {
    None,
    /// Root downloads `corp.example/lib@v1.0.0` into the module cache first (read-only
    /// directories, as go leaves them without -modcacherw).
    RootCache,
    /// `go mod download` as the same user, then the extracted lib.go gets a line more.
    EditExtracted,
    /// Same, then the extracted lib.go is deleted.
    DeleteExtracted,
    /// Same, then the `.ziphash` says something else.
    ChangeZiphash,
    /// Same, then the `.ziphash` is deleted.
    DeleteZiphash,
    /// GOCACHE is an empty directory owned by root.
    RootGocache,
    /// HOME is owned by root, GOCACHE and XDG_CACHE_HOME unset.
    RootHome,
    /// Another process holds the lock of `corp.example/lib@v1.0.0`.
    HoldLock,
}

/// How go is started.
#[derive(Clone, Copy, PartialEq)]
enum Wrap {
    None,
    /// `timeout N go …` (SIGTERM: 124).
    Timeout(u32),
    /// `timeout -s KILL N go …` (137).
    TimeoutKill(u32),
}

struct Recipe {
    slug: &'static str,
    label: Category,
    user: User,
    proxy: Proxy,
    prep: Prep,
    wrap: Wrap,
    files: &'static [(&'static str, &'static str)],
    /// Variables set (an empty value unsets).
    env: &'static [(&'static str, &'static str)],
    args: &'static [&'static str],
    /// Go versions (minor, `go1.19`) it runs with; empty: all.
    versions: &'static [&'static str],
    /// A pattern go's output must show for the label to hold (empty: anything).
    shows: &'static str,
}

const MAIN: &str =
    "package main\n\nimport (\n\t\"fmt\"\n\n\t\"corp.example/lib\"\n)\n\nfunc main() { fmt.Println(lib.Hello()) }\n";
const REQUIRES_LIB: &str = "module example.com/app\n\ngo 1.21\n\nrequire corp.example/lib v1.0.0\n";
const GO_SUM: &str = "corp.example/lib v1.0.0 h1:8/guZEVOYfoUVLD/iOmqvVG5OtofcUr/xJuytvYZo2Q=\ncorp.example/lib v1.0.0/go.mod h1:3JNvhKeQ9sLXorxn/ABY8mfxQkLexSzU+RJ1uQmjo3M=\n";
const APP: &[(&str, &str)] = &[("go.mod", REQUIRES_LIB), ("go.sum", GO_SUM), ("main.go", MAIN)];
const APP_NO_SUM: &[(&str, &str)] = &[("go.mod", REQUIRES_LIB), ("main.go", MAIN)];
const PLAIN: &[(&str, &str)] = &[("go.mod", "module example.com/app\n\ngo 1.19\n")];

fn recipes() -> Vec<Recipe> {
    let r = |slug, label, args| Recipe {
        slug,
        label,
        user: User::Root,
        proxy: Proxy::File,
        prep: Prep::None,
        wrap: Wrap::None,
        files: APP,
        env: &[],
        args,
        versions: &[],
        shows: "",
    };
    vec![
        // An unprivileged user and caches root made.
        Recipe {
            user: User::Nobody,
            prep: Prep::RootCache,
            shows: "permission denied",
            ..r(
                "nobody-download-into-root-cache",
                Category::CachePermission,
                &["mod", "download", "corp.example/lib@v1.1.0"],
            )
        },
        Recipe {
            user: User::Nobody,
            prep: Prep::RootCache,
            shows: "permission denied",
            ..r("nobody-get-into-root-cache", Category::CachePermission, &["get", "corp.example/lib@v1.1.0"])
        },
        Recipe {
            user: User::Nobody,
            prep: Prep::RootCache,
            shows: "",
            ..r("nobody-build-from-root-cache", Category::None, &["build", "./..."])
        },
        Recipe {
            user: User::Nobody,
            prep: Prep::RootCache,
            shows: "permission denied",
            ..r("nobody-clean-root-cache", Category::CachePermission, &["clean", "-modcache"])
        },
        Recipe {
            user: User::Nobody,
            prep: Prep::RootGocache,
            shows: "build cache",
            ..r("nobody-root-gocache", Category::CachePermission, &["build", "./..."])
        },
        Recipe {
            user: User::Nobody,
            prep: Prep::RootHome,
            shows: "permission denied",
            ..r("nobody-root-home-no-gocache", Category::CachePermission, &["build", "./..."])
        },
        Recipe {
            env: &[("HOME", ""), ("GOPATH", ""), ("GOMODCACHE", "")],
            shows: "GOMODCACHE|GOPATH|HOME",
            ..r("no-home-no-gopath", Category::CachePermission, &["mod", "download", "corp.example/lib@v1.0.0"])
        },
        // The work module's own files.
        Recipe {
            files: &[("go.mod", "module example.com/app\n\ngo 1.21.x\n")],
            shows: "invalid go version",
            ..r("go-mod-bad-go-line", Category::ModuleGoMod, &["mod", "download"])
        },
        Recipe {
            files: &[("go.mod", "module example.com/app\n\nmodule example.com/other\n\ngo 1.19\n")],
            shows: "module",
            ..r("go-mod-repeated-module", Category::ModuleGoMod, &["build", "./..."])
        },
        Recipe {
            files: &[
                ("go.mod", "module example.com/app\n\ngo 1.21.0\n\ntoolchain go1.21.5\n"),
                ("main.go", "package main\n\nfunc main() {}\n"),
            ],
            versions: &["go1.19"],
            shows: "toolchain|invalid go version",
            ..r("go-mod-too-new-for-go", Category::ModuleGoMod, &["build", "./..."])
        },
        Recipe {
            files: &[
                ("go.work", "go 1.19\n\nuse (\n\t.\n\t./missing\n)\n"),
                ("go.mod", "module example.com/app\n\ngo 1.19\n"),
            ],
            env: &[("GOWORK", "")],
            shows: "go.work|go.mod",
            ..r("go-work-missing-module", Category::ModuleGoMod, &["list", "-m", "all"])
        },
        Recipe {
            files: &[("main.go", "package main\n\nfunc main() {}\n")],
            env: &[("GO111MODULE", "on")],
            shows: "go.mod file not found|cannot find main module",
            ..r("no-go-mod-tidy", Category::ModuleGoMod, &["mod", "tidy"])
        },
        Recipe {
            files: &[
                (
                    "go.mod",
                    "module example.com/app\n\ngo 1.21\n\nrequire corp.example/lib v1.0.0\n\nexclude corp.example/lib v1.0.0\n",
                ),
                ("main.go", MAIN),
            ],
            shows: "updates to go.mod needed|excluded",
            ..r("go-mod-needs-tidy-after-exclude", Category::ModuleGoMod, &["build", "-mod=readonly", "./..."])
        },
        Recipe {
            files: APP_NO_SUM,
            shows: "missing go.sum entry",
            ..r("go-sum-missing-build", Category::ModuleGoSumMissing, &["build", "./..."])
        },
        Recipe {
            files: APP_NO_SUM,
            shows: "missing go.sum entry",
            ..r("go-sum-missing-list", Category::ModuleGoSumMissing, &["list", "-m", "all"])
        },
        Recipe {
            files: APP_NO_SUM,
            shows: "missing go.sum entry",
            ..r("go-sum-missing-test", Category::ModuleGoSumMissing, &["test", "./..."])
        },
        Recipe {
            files: APP_NO_SUM,
            env: &[("GOFLAGS", "-mod=mod")],
            shows: "",
            ..r("go-sum-missing-mod-mod", Category::None, &["build", "./..."])
        },
        // The module cache changed after the download.
        Recipe {
            prep: Prep::EditExtracted,
            shows: "dir has been modified",
            ..r("verify-edited-file", Category::CacheCorrupt, &["mod", "verify"])
        },
        Recipe {
            prep: Prep::DeleteExtracted,
            shows: "dir has been modified",
            ..r("verify-deleted-file", Category::CacheCorrupt, &["mod", "verify"])
        },
        Recipe {
            prep: Prep::ChangeZiphash,
            shows: "has been modified",
            ..r("verify-changed-ziphash", Category::CacheCorrupt, &["mod", "verify"])
        },
        Recipe {
            prep: Prep::DeleteZiphash,
            shows: "missing ziphash",
            ..r("verify-deleted-ziphash", Category::CacheCorrupt, &["mod", "verify"])
        },
        Recipe {
            prep: Prep::EditExtracted,
            shows: "",
            ..r("build-edited-file-succeeds", Category::None, &["build", "./..."])
        },
        Recipe {
            prep: Prep::DeleteZiphash,
            files: PLAIN,
            shows: "all modules verified",
            ..r("verify-nothing-to-verify", Category::None, &["mod", "verify"])
        },
        // Killed while waiting.
        Recipe {
            proxy: Proxy::Silent,
            wrap: Wrap::Timeout(3),
            shows: "^$|# get",
            ..r("timeout-silent-proxy-x", Category::Hang, &["mod", "download", "-x", "corp.example/lib@v1.0.0"])
        },
        Recipe {
            proxy: Proxy::Silent,
            wrap: Wrap::TimeoutKill(3),
            shows: "^$|# get",
            ..r("timeout-kill-silent-proxy", Category::Hang, &["mod", "download", "corp.example/lib@v1.0.0"])
        },
        Recipe {
            proxy: Proxy::Silent,
            wrap: Wrap::Timeout(3),
            files: APP,
            shows: "^$|# get",
            ..r("timeout-silent-proxy-build", Category::Hang, &["build", "./..."])
        },
        Recipe {
            proxy: Proxy::Http,
            prep: Prep::HoldLock,
            wrap: Wrap::Timeout(3),
            shows: "# get",
            ..r("timeout-lock-held-x", Category::CacheLockStuck, &["mod", "download", "-x", "corp.example/lib@v1.0.0"])
        },
        Recipe {
            proxy: Proxy::Http,
            shows: "# get",
            ..r("download-x-over-http", Category::None, &["mod", "download", "-x", "corp.example/lib@v1.0.0"])
        },
        // No route, and GOVCS.
        Recipe {
            proxy: Proxy::NoRoute("10.4.4.9"),
            shows: "network is unreachable",
            ..r(
                "no-route-network-unreachable",
                Category::NetUnreachable,
                &["mod", "download", "corp.example/lib@v1.0.0"],
            )
        },
        Recipe {
            proxy: Proxy::NoRoute("10.5.5.9"),
            shows: "no route to host",
            ..r("unreachable-route-no-route-to-host", Category::NetUnreachable, &["build", "./..."])
        },
        Recipe {
            env: &[("GOPROXY", "direct"), ("GOVCS", "public:hg")],
            files: PLAIN,
            shows: "GOVCS disallows",
            ..r(
                "govcs-disallows-git",
                Category::VcsDisallowed,
                &["mod", "download", "corp.example/team/lib.git@v1.0.0"],
            )
        },
        Recipe {
            env: &[("GOPROXY", "direct"), ("GOVCS", "*:off"), ("GOPRIVATE", "corp.example")],
            files: PLAIN,
            shows: "GOVCS disallows",
            ..r("govcs-off-private", Category::VcsDisallowed, &["get", "corp.example/team/lib.git@v1.0.0"])
        },
    ]
}

/// Runs every field recipe with `go` (whose version is `version`) and writes the cases
/// under `out/<minor>/<label>/field--<slug>.txt`; returns how many were written.
pub fn capture(go: &Path, version: &str, out: &Path) -> usize {
    let minor: String = version.split('.').take(2).collect::<Vec<_>>().join(".");
    let modules = ModuleSet::load(&[PathBuf::from("fixtures/modules")]).expect("the fixtures load").set;
    let modules: Vec<_> = modules.iter().cloned().collect();
    let nobody_go = readable_go(go, &minor);
    let mut written = 0;
    for recipe in recipes() {
        if !recipe.versions.is_empty() && !recipe.versions.contains(&minor.as_str()) {
            continue;
        }
        let go = if recipe.user == User::Nobody { &nobody_go } else { go };
        match run(&recipe, go, &modules) {
            Ok((exit, stderr, stdout, command, env)) => {
                let failed = exit != Exit::Code { code: 0 };
                let shows = Regex::new(&format!("(?m){}", recipe.shows)).expect("shows compiles");
                let output = format!("{stderr}{stdout}");
                if failed != (recipe.label != Category::None) || !shows.is_match(&output) {
                    eprintln!(
                        "  field recipe {}: go {} without showing /{}/, left out:\n{}",
                        recipe.slug,
                        if failed { "failed" } else { "succeeded" },
                        recipe.shows,
                        output.trim()
                    );
                    continue;
                }
                let case = Case {
                    label: recipe.label,
                    go: Some(version.to_string()),
                    origin: format!("examples/capture_corpus (field recipe {})", recipe.slug),
                    command: Some(command),
                    exit: Some(exit),
                    env,
                    stderr,
                    stdout,
                    cache: None,
                };
                let dir = out.join(&minor).join(recipe.label.id());
                std::fs::create_dir_all(&dir).expect("the corpus directory is writable");
                std::fs::write(dir.join(format!("field--{}.txt", recipe.slug)), case.to_text()).expect("written");
                written += 1;
            }
            Err(e) => eprintln!("  field recipe {}: {e}, left out", recipe.slug),
        }
    }
    written
}

/// A go the unprivileged user can run: `go` itself, or a world-readable copy of its
/// GOROOT when `go` lives under a directory that user cannot enter (`/root`).
fn readable_go(go: &Path, minor: &str) -> PathBuf {
    let probe = Command::new("setpriv")
        .args(["--reuid", NOBODY, "--regid", NOBODY, "--clear-groups", "--"])
        .arg(go)
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if probe.is_ok_and(|s| s.success()) {
        return go.to_path_buf();
    }
    let goroot = go.parent().and_then(Path::parent).expect("go is GOROOT/bin/go");
    let copy = PathBuf::from(format!("/tmp/modchaos-goroot-{minor}"));
    if !copy.join("bin/go").exists() {
        let ok = Command::new("cp").arg("-a").arg(goroot).arg(&copy).status().is_ok_and(|s| s.success())
            && Command::new("chmod").args(["-R", "a+rX"]).arg(&copy).status().is_ok_and(|s| s.success());
        assert!(ok, "cannot copy {} for the unprivileged user", goroot.display());
    }
    copy.join("bin/go")
}

type Ran = (Exit, String, String, String, Vec<(String, String)>);

/// Runs one recipe in a fresh sandbox.
fn run(recipe: &Recipe, go: &Path, modules: &[modchaos::fixture::Module]) -> Result<Ran, String> {
    let parent = PathBuf::from("/tmp");
    let sandbox = Sandbox::create_in(&parent).map_err(|e| e.to_string())?;
    let p = &sandbox.paths;
    let root = p.root.display().to_string();
    let tree = p.root.join("proxy");
    write_file_proxy(&tree, modules).map_err(|e| e.to_string())?;
    let files: Vec<(String, String)> = recipe.files.iter().map(|(n, c)| (n.to_string(), c.to_string())).collect();
    sandbox.write_work_files(&files).map_err(|e| e.to_string())?;
    if !recipe.files.iter().any(|(n, _)| *n == "go.mod") {
        let _ = std::fs::remove_file(p.work.join("go.mod"));
    }
    let mut env = sandbox.base_env();
    env.insert("GOFLAGS".into(), String::new());
    env.insert("GOPROXY".into(), format!("file://{}", tree.display()));
    let server = match recipe.proxy {
        Proxy::File => None,
        Proxy::Http | Proxy::Silent => {
            let (port, handle) = serve(tree.clone(), recipe.proxy == Proxy::Silent);
            env.insert("GOPROXY".into(), format!("http://127.0.0.1:{port}"));
            Some(handle)
        }
        Proxy::NoRoute(address) => {
            env.insert("GOPROXY".into(), format!("https://{address}"));
            None
        }
    };
    let as_go = |args: &[&str]| -> std::io::Result<std::process::Output> {
        Command::new(go).args(args).env_clear().envs(&env).current_dir(&p.work).output()
    };
    let extracted = p.modcache.join("corp.example/lib@v1.0.0");
    let download_dir = p.modcache.join("cache/download/corp.example/lib/@v");
    match recipe.prep {
        Prep::None | Prep::RootGocache | Prep::RootHome => {}
        Prep::RootCache => {
            let out = as_go(&["mod", "download", "corp.example/lib@v1.0.0"]).map_err(|e| e.to_string())?;
            if !out.status.success() {
                return Err(format!("populating the cache failed: {}", String::from_utf8_lossy(&out.stderr)));
            }
        }
        Prep::EditExtracted | Prep::DeleteExtracted | Prep::ChangeZiphash | Prep::DeleteZiphash => {
            let out =
                as_go(&["mod", "download", "-modcacherw", "corp.example/lib@v1.0.0"]).map_err(|e| e.to_string())?;
            if !out.status.success() {
                return Err(format!("populating the cache failed: {}", String::from_utf8_lossy(&out.stderr)));
            }
            let done = match recipe.prep {
                Prep::EditExtracted => std::fs::OpenOptions::new()
                    .append(true)
                    .open(extracted.join("lib.go"))
                    .and_then(|mut f| f.write_all(b"\n// edited in the cache\n")),
                Prep::DeleteExtracted => std::fs::remove_file(extracted.join("lib.go")),
                Prep::ChangeZiphash => std::fs::write(
                    download_dir.join("v1.0.0.ziphash"),
                    "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                ),
                _ => std::fs::remove_file(download_dir.join("v1.0.0.ziphash")),
            };
            done.map_err(|e| format!("damaging the cache: {e}"))?;
        }
        Prep::HoldLock => {
            std::fs::create_dir_all(&download_dir).map_err(|e| e.to_string())?;
        }
    }
    if recipe.user == User::Nobody {
        let chown = Command::new("chown").args(["-R", &format!("{NOBODY}:{NOBODY}")]).arg(&p.root).status();
        if !chown.is_ok_and(|s| s.success()) {
            return Err("chown failed".into());
        }
        // What root made stays root's.
        let mut roots = Vec::new();
        match recipe.prep {
            Prep::RootCache => roots.push(p.gopath.clone()),
            Prep::RootGocache => roots.push(p.gocache.clone()),
            Prep::RootHome => roots.push(p.home.clone()),
            _ => {}
        }
        for dir in roots {
            let _ = Command::new("chown").args(["-R", "0:0"]).arg(&dir).status();
        }
        let _ = Command::new("chmod").arg("755").arg(&p.root).status();
    }
    if recipe.prep == Prep::RootHome {
        env.remove("GOCACHE");
        env.remove("XDG_CACHE_HOME");
    }
    for (k, v) in recipe.env {
        if v.is_empty() {
            env.remove(*k);
        } else {
            env.insert(k.to_string(), v.to_string());
        }
    }
    let _holder = match recipe.prep {
        Prep::HoldLock => Some(
            Command::new("flock")
                .arg(download_dir.join("v1.0.0.lock"))
                .args(["sleep", "30"])
                .spawn()
                .map_err(|e| format!("flock: {e}"))?,
        ),
        _ => None,
    };
    std::thread::sleep(Duration::from_millis(if recipe.prep == Prep::HoldLock { 300 } else { 0 }));
    // The command line: [setpriv …] [unshare …] [timeout …] go args
    let mut argv: Vec<String> = Vec::new();
    if let Proxy::NoRoute(_) = recipe.proxy {
        argv.extend(
            [
                "unshare",
                "--net",
                "--",
                "sh",
                "-c",
                "ip link set lo up; ip route add unreachable 10.5.5.0/24; exec \"$@\"",
                "sh",
            ]
            .map(String::from),
        );
    }
    if recipe.user == User::Nobody {
        argv.extend(["setpriv", "--reuid", NOBODY, "--regid", NOBODY, "--clear-groups", "--"].map(String::from));
    }
    let shown_wrap: Vec<String> = match recipe.wrap {
        Wrap::None => Vec::new(),
        Wrap::Timeout(n) => vec!["timeout".into(), n.to_string()],
        Wrap::TimeoutKill(n) => vec!["timeout".into(), "-s".into(), "KILL".into(), n.to_string()],
    };
    argv.extend(shown_wrap.iter().cloned());
    argv.push(go.display().to_string());
    argv.extend(recipe.args.iter().map(|a| a.to_string()));
    let output = Command::new(&argv[0])
        .args(&argv[1..])
        .env_clear()
        .envs(&env)
        .current_dir(&p.work)
        .output()
        .map_err(|e| format!("{}: {e}", argv[0]))?;
    if let Some(mut holder) = _holder {
        let _ = holder.kill();
        let _ = holder.wait();
    }
    drop(server);
    // As a shell or a CI system prints it: a command dead of signal N exits 128 + N
    // (`timeout -s KILL` kills itself with go).
    let exit = match output.status.code() {
        Some(code) => Exit::Code { code },
        None => Exit::Code { code: 128 + std::os::unix::process::ExitStatusExt::signal(&output.status).unwrap_or(0) },
    };
    let hide = |bytes: &[u8]| String::from_utf8_lossy(bytes).replace(&root, "$WORK");
    let command = shown_wrap
        .into_iter()
        .chain(["go".to_string()])
        .chain(recipe.args.iter().map(|a| a.to_string()))
        .collect::<Vec<_>>()
        .join(" ");
    // The configuration a user would show: what the recipe chose, the proxy.
    let mut shown: Vec<(String, String)> =
        vec![("GOPROXY".into(), hide(env.get("GOPROXY").map(String::as_bytes).unwrap_or_default()))];
    shown.extend(recipe.env.iter().filter(|(k, _)| *k != "GOPROXY").map(|(k, v)| (k.to_string(), v.to_string())));
    let result = (exit, hide(&output.stderr), hide(&output.stdout), command, shown);
    let _ = Command::new("chown").args(["-R", "0:0"]).arg(&p.root).status();
    let _ = Command::new("chmod").args(["-R", "u+w"]).arg(&p.root).status();
    drop(sandbox);
    Ok(result)
}

/// A minimal HTTP server for `tree` on a loopback port: files as they are, 404 for the
/// rest; or, `silent`, one that accepts connections and never answers. It runs until
/// the process ends; the handle keeps its port.
fn serve(tree: PathBuf, silent: bool) -> (u16, TcpListener) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let port = listener.local_addr().expect("an address").port();
    let accepting = listener.try_clone().expect("a listener clone");
    std::thread::spawn(move || {
        let mut held: Vec<TcpStream> = Vec::new();
        for stream in accepting.incoming().flatten() {
            if silent {
                held.push(stream);
                continue;
            }
            let tree = tree.clone();
            std::thread::spawn(move || answer(stream, &tree));
        }
    });
    (port, listener)
}

fn answer(mut stream: TcpStream, tree: &Path) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    let file = tree.join(path.trim_start_matches('/'));
    let (status, body) = match std::fs::read(&file) {
        Ok(body) if !path.contains("..") && file.is_file() => ("200 OK", body),
        _ => ("404 Not Found", b"not found\n".to_vec()),
    };
    let _ = write!(stream, "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    let _ = stream.write_all(&body);
}
