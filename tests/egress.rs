//! Open mode's egress guard, proved with canaries: go is given every known way around a
//! proxy — NO_PROXY/no_proxy, empty or lower-case proxy variables, ALL_PROXY, proxy
//! values without a scheme or naming public addresses, GOPROXY=direct with public names,
//! GONOPROXY/GOPRIVATE/GOINSECURE, a GOSUMDB URL, git configuration (`http.proxy`,
//! `insteadOf`) and ssh commands in the environment, REQUEST_METHOD (CGI mode), a local
//! service on a loopback port — and asked for modules on a public name (example.com,
//! github.com) and on public IP literals (93.184.216.34, 1.1.1.1). The scenario's
//! environment is set after validation (which refuses these in open mode), so this is
//! the runner's guard alone at work. Git configuration files that empty `http.proxy` or
//! rewrite URLs to `git://` and `ssh://` (as a scenario's HOME may hold) are tried too.
//!
//! Nothing may be dialed but the fakes. The canaries run in a network namespace of
//! their own (`unshare --net`, only `lo` up), so even a broken guard reaches nothing;
//! there, any dial out fails with "network is unreachable", so go's errors show whether
//! it tried; `strace`, where installed, lists every `connect` go and git made; and the
//! guard's log must show each canary refused.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use modchaos::gobin::GoBinary;
use modchaos::judge::{ScenarioReport, run_scenario};
use modchaos::runner::{NoEvents, RunOptions};
use modchaos::scenario::{LoadContext, parse};

/// Set in the re-executed test process that runs the canaries inside the namespace.
const INSIDE: &str = "MODCHAOS_EGRESS_CANARIES_INSIDE";

struct Canary {
    /// What the variant is about.
    what: &'static str,
    /// The go command.
    go: &'static str,
    /// The environment set behind validation's back.
    env: Vec<(&'static str, String)>,
    /// Strings the guard's log must show (hosts go tried to reach through it).
    refused: &'static [&'static str],
}

fn canaries(local_service: &str, gitconfig: &Path) -> Vec<Canary> {
    let s = |v: &str| v.to_string();
    let config = |name: &str| gitconfig.join(name).display().to_string();
    vec![
        Canary {
            what: "a git configuration file that empties http.proxy",
            go: "mod download -json github.com/canary/x@v1.0.0",
            env: vec![
                ("GOPROXY", s("direct")),
                ("GOPRIVATE", s("github.com")),
                ("GIT_CONFIG_GLOBAL", config("no-proxy.gitconfig")),
            ],
            refused: &["github.com"],
        },
        Canary {
            what: "a git configuration file rewriting URLs to git:// and ssh:// on public IP literals",
            go: "mod download -json github.com/canary/x@v1.0.0 example.com/canary@v1.0.0",
            env: vec![
                ("GOPROXY", s("direct")),
                ("GOPRIVATE", s("*")),
                ("GIT_CONFIG_GLOBAL", config("insteadof.gitconfig")),
            ],
            refused: &[],
        },
        Canary {
            what: "NO_PROXY=* and no_proxy=*, GOPROXY naming a public name and public IP literals",
            go: "mod download -json example.com/canary@v1.0.0",
            env: vec![
                ("NO_PROXY", s("*")),
                ("no_proxy", s("*")),
                ("GOPROXY", s("https://example.com|https://93.184.216.34|https://1.1.1.1|direct")),
            ],
            refused: &["example.com", "93.184.216.34", "1.1.1.1"],
        },
        Canary {
            what: "every proxy variable empty, GOPROXY=direct with a public name",
            go: "mod download -json example.com/canary@v1.0.0",
            env: vec![
                ("HTTPS_PROXY", s("")),
                ("https_proxy", s("")),
                ("HTTP_PROXY", s("")),
                ("http_proxy", s("")),
                ("ALL_PROXY", s("")),
                ("all_proxy", s("")),
                ("GOPROXY", s("direct")),
            ],
            refused: &["example.com"],
        },
        Canary {
            what: "proxy variables naming public addresses, without a scheme, lower case only, socks5",
            go: "mod download -json example.com/canary@v1.0.0",
            env: vec![
                ("https_proxy", s("1.1.1.1:80")),
                ("http_proxy", s("http://93.184.216.34:3128")),
                ("ALL_PROXY", s("socks5://1.1.1.1:1080")),
                ("GOPROXY", s("https://example.com")),
            ],
            refused: &["example.com"],
        },
        Canary {
            what: "GOPRIVATE, GONOPROXY and GOINSECURE send a public IP literal's module direct, over http",
            go: "mod download -json 93.184.216.34/canary@v1.0.0",
            env: vec![
                ("GOPRIVATE", s("*")),
                ("GONOPROXY", s("*")),
                ("GOINSECURE", s("*")),
                ("GOPROXY", s("https://proxy.corp.example")),
            ],
            refused: &["93.184.216.34"],
        },
        Canary {
            what: "a GOSUMDB URL on a public IP literal",
            go: "mod download -json corp.example/lib@v1.0.0",
            env: vec![("GOSUMDB", s("sum.golang.org https://1.1.1.1")), ("GOPROXY", s("https://proxy.corp.example"))],
            refused: &["1.1.1.1"],
        },
        Canary {
            what: "git configuration in the environment (http.proxy emptied, insteadOf to an IP), an ssh command",
            go: "mod download -json github.com/canary/x@v1.0.0",
            env: vec![
                ("GOPROXY", s("direct")),
                ("GOPRIVATE", s("github.com")),
                ("GIT_CONFIG_COUNT", s("2")),
                ("GIT_CONFIG_KEY_0", s("http.proxy")),
                ("GIT_CONFIG_VALUE_0", s("")),
                ("GIT_CONFIG_KEY_1", s("url.https://1.1.1.1/.insteadOf")),
                ("GIT_CONFIG_VALUE_1", s("https://github.com/")),
                ("GIT_CONFIG_PARAMETERS", s("'http.proxy'=''")),
                ("GIT_SSH_COMMAND", s("ssh -o ProxyCommand=none")),
            ],
            refused: &["github.com"],
        },
        Canary {
            what: "REQUEST_METHOD (CGI mode ignores HTTP_PROXY) with an http GOPROXY on a public IP literal",
            go: "mod download -json example.com/canary@v1.0.0",
            env: vec![("REQUEST_METHOD", s("GET")), ("GOPROXY", s("http://93.184.216.34"))],
            refused: &["93.184.216.34"],
        },
        Canary {
            what: "a local service on a loopback port that is not a fake",
            go: "mod download -json example.com/canary@v1.0.0",
            env: vec![("GOPROXY", format!("http://{local_service}|https://localhost:1"))],
            refused: &["modchaos"],
        },
    ]
}

const BASE: &str = "name: egress canary\nnetwork: open\nmodules: [FIXTURES]\nhosts:\n  proxy.corp.example:\n    goproxy: {}\nrun: {go: GO, timeout: 30s}\nexpect: {exit: failure}\n";

fn run_canary(go: &GoBinary, canary: &Canary) -> ScenarioReport {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/modules");
    let yaml = BASE.replace("FIXTURES", &fixtures.display().to_string()).replace("GO", canary.go);
    let mut scenario =
        parse(Path::new("canary.yaml"), yaml, &LoadContext::new(Some(go.clone()))).unwrap_or_else(|e| panic!("{e}"));
    // Behind validation's back: only the runner's guard stands between go and the network.
    scenario.env.retain(|(k, _)| !canary.env.iter().any(|(c, _)| c == k));
    scenario.env.extend(canary.env.iter().map(|(k, v)| (k.to_string(), v.clone())));
    let options = RunOptions::open(go.clone(), "this test is about open mode");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(run_scenario(&scenario, &options, &NoEvents))
}

/// Runs every canary here and checks what go said and what the guard saw.
fn canaries_inside() {
    let Ok(go) = GoBinary::find(None) else {
        eprintln!("*** SKIPPED: no go toolchain ***");
        return;
    };
    // A local service that is not a fake: nothing may connect to it.
    let service = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    service.set_nonblocking(true).unwrap();
    let address = service.local_addr().unwrap().to_string();
    // Git configuration files as a scenario's HOME could hold them.
    let gitconfig = tempfile::tempdir().unwrap();
    std::fs::write(gitconfig.path().join("no-proxy.gitconfig"), "[http]\n\tproxy =\n").unwrap();
    std::fs::write(
        gitconfig.path().join("insteadof.gitconfig"),
        "[url \"git://1.1.1.1/\"]\n\tinsteadOf = https://github.com/\n[url \"ssh://git@93.184.216.34/\"]\n\tinsteadOf = https://example.com/\n[http]\n\tproxy =\n",
    )
    .unwrap();
    let mut problems = Vec::new();
    for canary in canaries(&address, gitconfig.path()) {
        let report = run_canary(&go, &canary);
        let Some(run) = report.run.as_ref() else {
            problems.push(format!("{}: did not run: {:?}", canary.what, report.reason));
            continue;
        };
        let said = format!("{}\n{}", run.evidence.stderr, run.evidence.stdout);
        let refused: Vec<String> = run
            .evidence
            .requests
            .iter()
            .filter(|r| r.host == modchaos::world::OUTSIDE)
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        eprintln!("--- {}\nguard refused: {refused:?}\ngo said: {}", canary.what, said.trim());
        if run.evidence.exit.is_none_or(|e| e.success()) {
            problems.push(format!("{}: go did not fail", canary.what));
        }
        for escape in ["network is unreachable", "lookup ", "no such host", "i/o timeout"] {
            if said.contains(escape) {
                problems.push(format!("{}: go tried the network itself (`{escape}`):\n{said}", canary.what));
            }
        }
        for target in canary.refused.iter().filter(|t| **t != "modchaos") {
            if !refused.iter().any(|r| r.contains(target)) {
                problems.push(format!("{}: the guard never saw {target}: {refused:?}\n{said}", canary.what));
            }
        }
        if canary.refused.contains(&"modchaos") && !said.contains("outside the sandbox") && refused.is_empty() {
            problems.push(format!("{}: the guard did not answer:\n{said}", canary.what));
        }
    }
    if let Ok((mut stream, from)) = service.accept() {
        let mut got = String::new();
        let _ = stream.read_to_string(&mut got);
        problems.push(format!("the local service {address} was reached from {from}: {got:?}"));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// `connect` calls in an strace log to anything but loopback addresses.
fn outside_connects(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| l.contains("connect(") && (l.contains("AF_INET") || l.contains("AF_INET6")))
        .filter(|l| {
            let loopback = l.contains("inet_addr(\"127.")
                || l.contains("\"::1\"")
                || l.contains("\"::ffff:127.")
                || l.contains("inet_addr(\"0.0.0.0\")");
            !loopback
        })
        .collect()
}

fn available(program: &str) -> bool {
    Command::new(program).arg("--version").output().is_ok_and(|o| o.status.success())
}

#[test]
fn open_mode_reaches_nothing_but_the_fakes_whatever_the_environment_says() {
    if std::env::var_os(INSIDE).is_some() {
        return canaries_inside();
    }
    // A network namespace alone where this user may make one (root: go's own user and
    // every uid stay as they are), else inside a user namespace of its own.
    let works = |flags: &[&str]| {
        Command::new("unshare")
            .args(flags)
            .args(["sh", "-c", "ip link set lo up"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let Some(flags) = [&["--net"][..], &["--user", "--map-root-user", "--net"][..]]
        .into_iter()
        .find(|flags| available("unshare") && works(flags))
    else {
        eprintln!("*** NOT ISOLATED: unshare --net (and ip) are unavailable: the canaries run in this network ***");
        return canaries_inside();
    };
    let dir = tempfile::tempdir().unwrap();
    let log: PathBuf = dir.path().join("strace.log");
    let traced = available("strace");
    let test = std::env::current_exe().unwrap();
    let mut inner = vec![test.display().to_string()];
    inner.extend(
        ["--exact", "open_mode_reaches_nothing_but_the_fakes_whatever_the_environment_says", "--nocapture"]
            .map(String::from),
    );
    if traced {
        let trace = ["strace", "-f", "-qq", "-e", "trace=connect", "-o"].map(String::from);
        inner.splice(0..0, trace.into_iter().chain([log.display().to_string()]));
    } else {
        eprintln!(
            "*** strace is not installed: connects are not traced (go's errors and the guard's log still are) ***"
        );
    }
    let output = Command::new("unshare")
        .args(flags)
        .args(["sh", "-c", "ip link set lo up && exec \"$@\"", "sh"])
        .args(&inner)
        .env(INSIDE, "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    eprintln!("{stdout}\n{stderr}");
    assert!(output.status.success() && stdout.contains("1 passed"), "the canaries failed inside the namespace");
    if traced {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(text.contains("connect("), "strace saw no connect at all: the trace is not working:\n{text}");
        let outside = outside_connects(&text);
        assert!(outside.is_empty(), "connections to the outside were attempted:\n{}", outside.join("\n"));
    }
}

#[test]
fn the_strace_check_sees_outside_connects() {
    // A check that matches nothing would pass forever.
    let log = "12 connect(3, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr(\"1.1.1.1\")}, 16) = -1 ENETUNREACH\n\
               12 connect(3, {sa_family=AF_INET, sin_port=htons(4000), sin_addr=inet_addr(\"127.0.0.1\")}, 16) = 0\n\
               13 connect(7, {sa_family=AF_INET6, sin6_port=htons(53), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, \"2001:4860::8888\", &sin6_addr), sin6_scope_id=0}, 28) = -1\n\
               13 connect(7, {sa_family=AF_UNIX, sun_path=\"/var/run/nscd/socket\"}, 110) = -1 ENOENT\n";
    assert_eq!(outside_connects(log).len(), 2, "{:?}", outside_connects(log));
}
